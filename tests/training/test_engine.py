import json
import math
import pickle

import numpy as np
import pytest
import torch

from heplearn.errors import FormatError, InputFileError
from heplearn.evaluation.metrics import auc
from heplearn.training import TrainConfig, load_tagger, predict, split_indices, train
from heplearn.training.config import InvalidConfigError
from heplearn.training.engine import evaluate, export_onnx, subset, train_on_arrays
from heplearn.training.inputs import build_inputs, required_inputs
from heplearn.training.losses import weighted_cross_entropy
from heplearn.training.module import (
    TrainingDivergedError,
    recalibrate_batch_norm,
    warmup_cosine,
)

FAST = {"epochs": 2, "batch_size": 64, "max_particles": 16, "progress": False}


def test_splits_are_disjoint_complete_and_reproducible():
    s = split_indices(1000, 0.2, 0.1, seed=3)
    assert (len(s["train"]), len(s["val"]), len(s["test"])) == (700, 200, 100)
    everything = np.concatenate(list(s.values()))
    assert np.array_equal(np.sort(everything), np.arange(1000))
    again = split_indices(1000, 0.2, 0.1, seed=3)
    assert all(np.array_equal(s[k], again[k]) for k in s)
    assert not np.array_equal(s["test"], split_indices(1000, 0.2, 0.1, seed=4)["test"])


def test_max_train_jets_draws_a_random_nested_subset_of_both_classes(tmp_path, toy_table):
    from heplearn.training.engine import random_subset

    idx = np.arange(100, 400)
    small, large = random_subset(idx, 20, 5), random_subset(idx, 60, 5)
    assert np.all(np.diff(small) > 0) and set(small) <= set(large) <= set(idx)
    assert np.array_equal(small, random_subset(idx, 20, 5))
    assert not np.array_equal(small, random_subset(idx, 20, 6))
    # a dataset stores its samples one after the other: all background, then all signal
    blocked = toy_table[np.argsort(np.asarray(toy_table["label"]), kind="stable")]
    train(blocked, tmp_path, model="logreg", max_train_jets=40, progress=False)
    # a leading slice of the sorted indices would hold background only and fail to fit
    assert json.loads((tmp_path / "config.json").read_text())["n_train"] == 40
    cfg = TrainConfig.cast()
    splits = split_indices(len(blocked), cfg.val_fraction, cfg.test_fraction, cfg.split_seed)
    train_idx = random_subset(splits["train"], 40, cfg.split_seed)
    assert len(np.unique(np.asarray(blocked["label"])[train_idx])) == 2


def test_config_errors_name_the_field():
    with pytest.raises(InvalidConfigError, match="lr"):
        TrainConfig.cast({"lr": -1})
    with pytest.raises(InvalidConfigError, match="val_fraction \\+ test_fraction"):
        TrainConfig.cast(val_fraction=0.6, test_fraction=0.5)
    with pytest.raises(InvalidConfigError, match="optimizer"):
        TrainConfig.cast(optimizer="adam9")


def test_particle_features_named_sets_custom_names_and_errors(toy_table):
    from heplearn.representations import (
        DEFAULT_FEATURES,
        KINPID_FEATURES,
        TOPODNN_FEATURES,
        particle_cloud,
    )

    assert TrainConfig.cast().particle_features == KINPID_FEATURES
    assert TrainConfig.cast(particle_features="topodnn").particle_features == TOPODNN_FEATURES
    kin = TrainConfig.cast(particle_features="kinematic", max_particles=8)
    assert kin.particle_features == DEFAULT_FEATURES
    assert TrainConfig.cast(kin.model_dump()).particle_features == DEFAULT_FEATURES
    arrays = build_inputs(toy_table, {"features", "points"}, kin)
    assert arrays["features"].shape[-1] == len(DEFAULT_FEATURES)
    # a custom set without the angles first: the features are exactly those, the points
    # stay (Δη, Δφ)
    custom = TrainConfig.cast(particle_features=["log_pt", "charge"], max_particles=8)
    got = build_inputs(toy_table, {"features", "points"}, custom)
    want, mask = particle_cloud(toy_table, max_particles=8, features=("log_pt", "charge"))
    assert np.array_equal(got["features"], want) and np.array_equal(got["mask"], mask)
    assert np.array_equal(got["points"], arrays["points"])
    with pytest.raises(InvalidConfigError, match="particle_features.*kinematic, kinpid, topodnn"):
        TrainConfig.cast(particle_features="kinematics")


def test_weighted_cross_entropy_hand_value_and_duplication():
    logits = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    labels = torch.tensor([1, 0])
    expected = (np.log(2) + np.log(1 + np.exp(-2))) / 2
    assert weighted_cross_entropy(logits, labels).item() == pytest.approx(expected)
    w = torch.tensor([2.0, 1.0])
    dup = weighted_cross_entropy(logits[[0, 0, 1]], labels[[0, 0, 1]])
    assert weighted_cross_entropy(logits, labels, w).item() == pytest.approx(dup.item())


def test_one_cycle_warms_up_for_the_configured_fraction():
    from heplearn.training.module import one_cycle

    for fraction, peak in ((0.2, 19), (0.05, 4), (0.0, 1)):
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        sched = one_cycle(opt, 1.0, 100, fraction)
        lrs = []
        for _ in range(100):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        assert int(np.argmax(lrs)) == peak and max(lrs) == pytest.approx(1.0)
        assert lrs[-1] < 1e-3
    for total in (1, 2, 3):  # tiny runs still get a schedule
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        sched = one_cycle(opt, 1.0, total, 0.05)
        for _ in range(total):
            opt.step()
            sched.step()


def test_warmup_cosine_schedule():
    assert warmup_cosine(0, 100, 10) == pytest.approx(0.1)
    assert warmup_cosine(9, 100, 10) == pytest.approx(1.0)
    assert warmup_cosine(10, 100, 10) == pytest.approx(1.0)
    assert warmup_cosine(55, 100, 10) == pytest.approx(0.5)
    assert warmup_cosine(100, 100, 10) == pytest.approx(0.0)


def _arrays(table, model, **kw):
    config = TrainConfig.cast(model=model, **{**FAST, **kw})
    arrays = build_inputs(table, required_inputs(model), config)
    s = split_indices(len(table), 0.2, 0.2, 1)
    return config, subset(arrays, s["train"]), subset(arrays, s["val"]), subset(arrays, s["test"])


@pytest.mark.parametrize("model", ["pfn", "dnn"])  # dnn has dropout: RNG state must resume
def test_resume_gives_the_weights_of_an_uninterrupted_run(tmp_path, toy_table, model):
    config, tr, va, _ = _arrays(toy_table, model, epochs=3, early_stopping_patience=None)
    train_on_arrays(tr, va, config, tmp_path / "full")
    train_on_arrays(tr, va, config, tmp_path / "cut", max_epochs=1)
    train_on_arrays(
        tr, va, config, tmp_path / "cut", resume=tmp_path / "cut" / "checkpoints" / "last.ckpt"
    )
    a = torch.load(tmp_path / "full/checkpoints/last.ckpt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "cut/checkpoints/last.ckpt", weights_only=True)["state_dict"]
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    # the history of the resumed run is the uninterrupted run's, epoch by epoch
    full = json.loads((tmp_path / "full" / "history.json").read_text())
    cut = json.loads((tmp_path / "cut" / "history.json").read_text())
    assert [r["epoch"] for r in full] == [0, 1, 2]
    assert cut == full


def test_history_records_every_epoch(tmp_path, toy_table):
    """history.json: one row per epoch; the validation loss is the one the best checkpoint
    was chosen by, the training loss the mean over the epoch; a new training in the same
    directory starts a new history."""
    config, tr, va, _ = _arrays(toy_table, "pfn", epochs=3, early_stopping_patience=None)
    result = train_on_arrays(tr, va, config, tmp_path / "run")
    rows = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [r["epoch"] for r in rows] == [0, 1, 2]
    assert min(r["val_loss"] for r in rows) == pytest.approx(result.best_val_loss)
    assert all(np.isfinite(r["train_loss"]) and r["train_loss"] > 0 for r in rows)
    assert rows[-1]["lr"] < rows[0]["lr"]  # the cosine schedule decays
    short = config.model_copy(update={"epochs": 1})
    train_on_arrays(tr, va, short, tmp_path / "run")
    assert len(json.loads((tmp_path / "run" / "history.json").read_text())) == 1


def test_training_learns_and_the_run_directory_is_complete(tmp_path, toy_table):
    result = train(toy_table, tmp_path / "run", model="pfn", lr=3e-3, **{**FAST, "epochs": 4})
    assert result.parameters > 0 and result.best_val_loss < np.log(2)
    files = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"config.json", "scaler.json", "checkpoints"} <= files
    tagger = load_tagger(tmp_path / "run")
    test = subset(result.extra["arrays"], result.extra["test_index"])
    scores = predict(tagger, test)
    assert scores.shape == (len(result.extra["test_index"]),)
    assert np.all((scores >= 0) & (scores <= 1))
    metrics = evaluate(tmp_path / "run", toy_table, bootstrap=5)
    assert metrics["auc"] > 0.8
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["auc"] == pytest.approx(metrics["auc"])
    assert (tmp_path / "run" / "report.md").is_file()


def test_a_finished_training_releases_its_arrays(tmp_path, toy_table):
    """Lightning's trainer and module form a reference cycle: without a collection at the
    end of training, every training's data loaders (and the arrays they hold) outlive it."""
    import gc
    import weakref

    cfg = TrainConfig.cast(None, model="pfn", **FAST)
    arrays = build_inputs(toy_table, required_inputs("pfn"), cfg)
    index = split_indices(len(arrays["label"]), 0.25, 0.0, 0)
    train_arrays, val_arrays = subset(arrays, index["train"]), subset(arrays, index["val"])
    alive = [weakref.ref(train_arrays["features"]), weakref.ref(val_arrays["features"])]
    gc.disable()  # only train_on_arrays' own collection may free them
    try:
        train_on_arrays(train_arrays, val_arrays, cfg, tmp_path / "run")
        del train_arrays, val_arrays
        assert [ref() is None for ref in alive] == [True, True]
    finally:
        gc.enable()


def test_a_run_evaluates_with_the_particle_features_it_was_trained_on(tmp_path, toy_table):
    run = tmp_path / "kin"
    result = train(toy_table, run, model="pfn", particle_features="kinematic", **FAST)
    assert result.extra["arrays"]["features"].shape[-1] == 7
    # evaluate rebuilds the inputs from the run's config: 7 features, not the default 13
    metrics = evaluate(run, toy_table, bootstrap=0)
    test = subset(result.extra["arrays"], result.extra["test_index"])
    assert metrics["auc"] == pytest.approx(auc(predict(load_tagger(run), test), test["label"]))


def test_inputs_that_do_not_fit_the_tagger_are_refused_by_name(tmp_path, toy_table):
    """Mismatched feature dimensions (inputs built with other particle features, another
    number of kNN coordinates, jet observables of another width) or a missing input get
    an error naming the array and both counts, not a shape error deep inside a layer."""
    from heplearn.errors import HeplearnError

    result = train(
        toy_table, tmp_path / "pn", model="particlenet", particle_features="kinematic", **FAST
    )
    tagger = load_tagger(tmp_path / "pn")
    test = subset(result.extra["arrays"], result.extra["test_index"])
    assert predict(tagger, test).shape == test["label"].shape
    kinpid = build_inputs(
        toy_table[:10], required_inputs("particlenet"), TrainConfig(model="particlenet")
    )
    assert kinpid["features"].shape[-1] == 13  # the default set: kinematics, charge, type
    with pytest.raises(
        HeplearnError, match="'features' has 13 columns, the tagger was trained on 7"
    ):
        predict(tagger, kinpid)
    points = np.zeros((*test["points"].shape[:2], 3), np.float32)
    with pytest.raises(HeplearnError, match="'points' has 3 columns, the tagger was trained on 2"):
        predict(tagger, {**test, "points": points})
    with pytest.raises(HeplearnError, match=r"the input arrays lack \['points'\]"):
        predict(tagger, {k: v for k, v in test.items() if k != "points"})
    result = train(toy_table, tmp_path / "bdt", model="bdt", **FAST)
    test = subset(result.extra["arrays"], result.extra["test_index"])
    width = test["jet_features"].shape[1]
    with pytest.raises(
        HeplearnError, match=f"'jet_features' has 10 columns, .* trained on {width}"
    ):
        predict(load_tagger(tmp_path / "bdt"), {"jet_features": test["jet_features"][:, :10]})


def test_onnx_export_agrees_with_torch(tmp_path, toy_table):
    ort = pytest.importorskip("onnxruntime")
    result = train(toy_table, tmp_path / "run", model="pfn", **{**FAST, "epochs": 1})
    path = export_onnx(tmp_path / "run")
    tagger = load_tagger(tmp_path / "run")
    test = subset(result.extra["arrays"], result.extra["test_index"][:32])
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    onnx_logits = session.run(None, {n: test[n] for n in names})[0]
    with torch.no_grad():
        torch_logits = tagger({n: torch.from_numpy(test[n]) for n in names}).numpy()
    np.testing.assert_allclose(onnx_logits, torch_logits, atol=1e-5, rtol=1e-5)


def test_tabular_model_round_trip(tmp_path, toy_table):
    result = train(toy_table, tmp_path / "bdt", model="bdt", **FAST)
    est = load_tagger(tmp_path / "bdt")
    test = subset(result.extra["arrays"], result.extra["test_index"])
    s1, s2 = predict(est, test), predict(load_tagger(tmp_path / "bdt"), test)
    assert np.array_equal(s1, s2)
    # the training seed seeds the trees' row subsampling (subsample = 0.8), as for networks
    again = train(toy_table, tmp_path / "same", model="bdt", **FAST)
    other = train(toy_table, tmp_path / "other", model="bdt", **{**FAST, "seed": 2})
    assert np.array_equal(predict(load_tagger(again.run_dir), test), s1)
    assert not np.array_equal(predict(load_tagger(other.run_dir), test), s1)
    fixed = {"model_overrides": {"random_state": 0}}
    a = train(toy_table, tmp_path / "fixed-a", model="bdt", **FAST, **fixed)
    b = train(toy_table, tmp_path / "fixed-b", model="bdt", **{**FAST, "seed": 2}, **fixed)
    assert np.array_equal(
        predict(load_tagger(a.run_dir), test), predict(load_tagger(b.run_dir), test)
    )


class _Evil:
    def __reduce__(self):
        return (open, ("/tmp/heplearn-pwned", "w"))


def test_a_checkpoint_that_would_run_code_is_refused(tmp_path, toy_table):
    train(toy_table, tmp_path / "run", model="pfn", **{**FAST, "epochs": 1})
    ckpt = tmp_path / "run" / "checkpoints" / "best.ckpt"
    ckpt.write_bytes(pickle.dumps({"state_dict": _Evil()}))
    with pytest.raises(FormatError, match="not a loadable heplearn checkpoint"):
        load_tagger(tmp_path / "run")
    import os

    assert not os.path.exists("/tmp/heplearn-pwned")


def test_corrupted_and_incompatible_checkpoints(tmp_path, toy_table):
    train(toy_table, tmp_path / "pfn", model="pfn", **{**FAST, "epochs": 1})
    train(toy_table, tmp_path / "dnn", model="dnn", **{**FAST, "epochs": 1})
    good = tmp_path / "pfn" / "checkpoints" / "best.ckpt"
    (tmp_path / "dnn" / "checkpoints" / "best.ckpt").write_bytes(good.read_bytes())
    with pytest.raises(FormatError, match="does not fit model 'dnn'"):
        load_tagger(tmp_path / "dnn")
    good.write_bytes(good.read_bytes()[:100])
    with pytest.raises(FormatError, match="best.ckpt"):
        load_tagger(tmp_path / "pfn")
    with pytest.raises(InputFileError, match="not a heplearn run directory"):
        load_tagger(tmp_path)


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(
    tmp_path, toy_table
):
    config, tr, va, _ = _arrays(toy_table, "pfn", early_stopping_patience=None)
    train_on_arrays(tr, va, config, tmp_path / "run", max_epochs=1)
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    before = last.read_bytes()
    bad = dict(tr)
    bad["features"] = tr["features"].copy()
    bad["features"][:, 0, 0] = np.nan
    with pytest.raises(TrainingDivergedError, match="last good checkpoint is kept"):
        train_on_arrays(bad, va, config, tmp_path / "run", resume=last)
    assert last.read_bytes() == before


def test_lorentz_scalars_from_the_particle_features_reach_the_model(tmp_path, toy_table):
    """LorentzNet's ``scalar_features`` reads columns of ``features`` (here the charge):
    the engine must build, standardise and feed them, and a reloaded run must too."""
    from heplearn.representations import KINPID_FEATURES

    charge = KINPID_FEATURES.index("charge")
    over = {"model_overrides": {"scalar_features": [charge]}}
    res = train(toy_table, tmp_path / "ln", model="lorentznet", **FAST, **over)
    assert "features" in json.loads((tmp_path / "ln" / "scaler.json").read_text())
    tagger = load_tagger(tmp_path / "ln")
    assert tagger.network.inputs == ("vectors", "features")
    test = subset(res.extra["arrays"], res.extra["test_index"])
    scores = predict(tagger, test)
    assert np.all(np.isfinite(scores)) and evaluate(tmp_path / "ln", toy_table, bootstrap=0)


def test_early_stopping_ends_the_run_and_keeps_the_epoch_of_lowest_validation_loss(
    tmp_path, toy_table
):
    """With patience 2 (and a learning rate of 3e-3) the DNN overfits the toy jets and
    stops well before its 30 epochs, after two epochs without a new lowest validation
    loss; best.ckpt holds that lowest epoch, last.ckpt the final one."""
    run = tmp_path / "dnn"
    train(toy_table, run, model="dnn", **{**FAST, "epochs": 30}, lr=3e-3, early_stopping_patience=2)
    val = [epoch["val_loss"] for epoch in json.loads((run / "history.json").read_text())]
    assert len(val) < 30
    best = int(np.argmin(val))
    assert len(val) == best + 3  # stopped after 2 epochs without improvement
    checkpoints = {
        which: torch.load(run / "checkpoints" / f"{which}.ckpt", weights_only=True)
        for which in ("best", "last")
    }
    assert checkpoints["best"]["epoch"] == best
    assert checkpoints["last"]["epoch"] == len(val) - 1


def test_the_device_is_cuda_then_mps_then_cpu_with_bf16_on_cuda_only(monkeypatch):
    from heplearn.training.engine import _accelerator

    def choose(cuda: bool, mps: bool, **config) -> tuple[str, str]:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
        return _accelerator(TrainConfig(model="pfn", **config))

    assert choose(True, True) == ("cuda", "bf16-mixed")
    assert choose(False, True) == ("mps", "32-true")
    assert choose(False, False) == ("cpu", "32-true")
    assert choose(True, False, accelerator="cpu") == ("cpu", "32-true")
    assert choose(True, False, precision="32") == ("cuda", "32-true")


def test_one_class_is_refused(tmp_path, toy_table):
    one = toy_table[np.asarray(toy_table.label) == 1]
    with pytest.raises(FormatError, match="two classes"):
        train(one, tmp_path / "x", model="pfn", **FAST)
    # a multi-class dataset (JetClass has ten labels) is refused by name, not deep in a loss
    import awkward as ak

    three = ak.with_field(toy_table, np.arange(len(toy_table)) % 3, "label")
    with pytest.raises(FormatError, match=r"binary .* got labels \[0, 1, 2\]"):
        train(three, tmp_path / "y", model="pfn", **FAST)


def test_epoch_sampler_shards_an_epoch_across_ddp_ranks(monkeypatch):
    """Each rank takes every world-th index of the same permutation, padded by wrapping
    around so that all ranks run the same number of steps."""
    from heplearn.training import module

    n, batch = 103, 10
    per_rank = {}
    for rank in range(3):
        monkeypatch.setattr(module, "_rank_and_world", lambda rank=rank: (rank, 3))
        sampler = module.EpochSampler(n, batch, seed=7)
        sampler.set_epoch(2)
        per_rank[rank] = torch.cat(list(sampler))
        assert len(list(sampler)) == len(sampler) == 4  # ceil(ceil(103 / 3) / 10)
    seen = torch.cat(list(per_rank.values()))
    assert len(seen) == 3 * 35 and sorted(set(seen.tolist())) == list(range(n))
    assert len(seen) - len(set(seen.tolist())) == 2  # the two wrapped-around indices


def test_cpu_ddp_training_with_two_processes(tmp_path, toy_table):
    """``--accelerator cpu --devices 2`` trains with DDP (gloo): every rank runs half of
    each epoch's batches, the validation loss is averaged over ranks, only rank 0 reports."""
    import subprocess
    import sys

    from heplearn.data.dataset import write_dataset

    write_dataset(toy_table, tmp_path / "data", metadata={"kind": "toy"})
    cmd = [sys.executable, "-m", "heplearn", "train", str(tmp_path / "data"), "--model", "pfn"]
    cmd += ["--out", str(tmp_path / "run"), "--epochs", "2", "--batch-size", "64"]
    cmd += ["--max-particles", "16", "--accelerator", "cpu", "--devices", "2"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("wrote") == 1, done.stdout  # one report, from rank 0
    assert "MEMBER: 2/2" in done.stdout + done.stderr
    n_train = len(split_indices(len(toy_table), 0.2, 0.2, 12345)["train"])
    ckpt = torch.load(tmp_path / "run/checkpoints/last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 2 * math.ceil(math.ceil(n_train / 2) / 64)  # half per rank
    scores = predict(load_tagger(tmp_path / "run"), _arrays(toy_table, "pfn")[3])
    assert np.all(np.isfinite(scores))


def test_bf16_mixed_precision_training_on_cpu(tmp_path, toy_table):
    """``precision="bf16-mixed"`` (the GPU default) runs through Lightning's CPU autocast:
    the checkpoint holds float32 weights and the tagger still separates the toy jets."""
    result = train(
        toy_table,
        tmp_path / "run",
        model="particlenet-lite",
        accelerator="cpu",
        precision="bf16-mixed",
        **{**FAST, "epochs": 3},
    )
    state = torch.load(tmp_path / "run/checkpoints/best.ckpt", weights_only=True)["state_dict"]
    assert all(v.dtype in (torch.float32, torch.int64) for v in state.values())
    arrays, test = result.extra["arrays"], result.extra["test_index"]
    scores = predict(load_tagger(tmp_path / "run"), subset(arrays, test))
    assert auc(scores, arrays["label"][test]) > 0.8


@pytest.mark.parametrize(
    "decorrelation", [None, {"method": "adversary", "strength": 1.0, "pretrain_epochs": 0}]
)
def test_gradient_clipping_bounds_the_step(tmp_path, toy_table, decorrelation):
    """One SGD step (constant lr η, Nesterov momentum μ, no weight decay) with the global
    gradient norm clipped to c moves the tagger's parameters by exactly η(1 + μ)c; runs
    clipped at c and 2c from the same seed differ by that step (gradients ≫ c). The
    adversarial module (manual optimisation) clips its classifier step with λ > 0."""
    c, lr, mu = 1e-4, 0.5, 0.9
    kw = dict(
        model="pfn", optimizer="sgd", lr=lr, momentum=mu, weight_decay=0.0,
        schedule="constant", early_stopping_patience=None, decorrelation=decorrelation,
        **{**FAST, "epochs": 1, "batch_size": 10_000},
    )  # fmt: skip
    config, tr, va, _ = _arrays(toy_table, **{**kw, "gradient_clip_norm": c})
    train_on_arrays(tr, va, config, tmp_path / "c")
    config2 = TrainConfig.cast(config, gradient_clip_norm=2 * c)
    train_on_arrays(tr, va, config2, tmp_path / "2c")

    def parameters(run):  # the tagger's trained parameters (no BatchNorm running statistics)
        state = torch.load(run / "checkpoints/last.ckpt", weights_only=True)["state_dict"]
        return {
            k: v.double()
            for k, v in state.items()
            if k.startswith("tagger.") and v.is_floating_point() and "running_" not in k
        }

    a, b = parameters(tmp_path / "c"), parameters(tmp_path / "2c")
    step = torch.sqrt(sum(((b[k] - a[k]) ** 2).sum() for k in a))
    assert float(step) == pytest.approx(lr * (1 + mu) * c, rel=1e-3)


def test_recalibrate_batch_norm_averages_the_batch_statistics():
    """Precise BatchNorm: the running statistics become the plain average of the batch
    statistics (means and unbiased variances) with the current weights; the weights, the
    momentum, the training flag and the random number stream stay as they were."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.BatchNorm1d(3), torch.nn.Dropout(0.5), torch.nn.Linear(3, 1)
    )

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = model

        def forward(self, batch):
            return self.body(batch["x"])

    net = Net().train()
    xs = [torch.randn(8, 3) * 2 + 5 * i for i in range(4)]
    weights = [p.clone() for p in net.parameters()]
    one_jet = {"x": torch.randn(1, 3)}  # no batch statistics: skipped
    rng = torch.get_rng_state()
    used = recalibrate_batch_norm(net, [one_jet] + [{"x": x} for x in xs], "cpu", max_batches=3)
    assert used == 3
    bn = model[0]
    torch.testing.assert_close(bn.running_mean, torch.stack([x.mean(0) for x in xs[:3]]).mean(0))
    torch.testing.assert_close(bn.running_var, torch.stack([x.var(0) for x in xs[:3]]).mean(0))
    assert bn.momentum == 0.1 and net.training and model[1].training
    assert torch.equal(torch.get_rng_state(), rng)  # restored: later dropout masks unchanged
    loader = torch.utils.data.DataLoader([{"x": x} for x in xs[0]], batch_size=4)
    recalibrate_batch_norm(net, loader, "cpu", max_batches=2)  # a DataLoader draws a seed
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(a, b) for a, b in zip(weights, net.parameters(), strict=True))
    assert recalibrate_batch_norm(torch.nn.Linear(3, 1), [{"x": xs[0]}], "cpu", 3) == 0
    calibrated = (bn.running_mean.clone(), bn.running_var.clone(), int(bn.num_batches_tracked))
    assert recalibrate_batch_norm(net, [one_jet, one_jet], "cpu", max_batches=3) == 0
    torch.testing.assert_close(bn.running_mean, calibrated[0])  # nothing to average: kept
    torch.testing.assert_close(bn.running_var, calibrated[1])
    assert int(bn.num_batches_tracked) == calibrated[2]


_POOLING_RANK = """
import sys, torch
from heplearn.training.module import recalibrate_batch_norm
rank, init, out, shares, device = int(sys.argv[1]), *sys.argv[2:6]
# on CUDA: NCCL with a GPU per rank where there are two, else gloo on CUDA tensors
nccl = device == "cuda" and torch.cuda.device_count() >= 2
device = f"cuda:{rank}" if nccl else device
torch.distributed.init_process_group(
    "nccl" if nccl else "gloo", init_method=init, rank=rank, world_size=2
)
torch.manual_seed(0)
xs = [torch.randn(8, 3) * 2 + 5 * i for i in range(5)]
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.bn = torch.nn.BatchNorm1d(3)
    def forward(self, batch):
        return self.bn(batch["x"])
net = Net().to(device)
net.bn.running_mean.fill_(7.0 + rank)  # what training left: differs between the ranks
mine = xs[:3] if rank == 0 else xs[3:]  # unequal shares: 3 batches and 2
if (shares == "3+0" and rank == 1) or shares == "0+0":
    mine = [x[:1] for x in mine]  # one jet per batch: nothing to calibrate on
used = recalibrate_batch_norm(net, [{"x": x} for x in mine], device, max_batches=10)
net.cpu()
torch.save({"used": used, "mean": net.bn.running_mean, "var": net.bn.running_var,
            "n": net.bn.num_batches_tracked}, out)
torch.distributed.destroy_process_group()
"""


_DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", _DEVICES)
@pytest.mark.parametrize("shares", ["3+2", "3+0", "0+0"])
def test_recalibrated_batch_norm_statistics_are_pooled_over_ddp_ranks(tmp_path, shares, device):
    """Two ranks calibrate on 3 and 2 batches; both end with the average over all
    five, what one process calibrating on them all gets. A rank without a usable batch
    contributes nothing; when no rank has one, each keeps the statistics it had. On CPU
    the ranks talk through gloo; on a GPU machine (``benchmarks/gpu_check.sh``) also with
    the statistics on CUDA: NCCL where there are two GPUs, gloo on one."""
    import subprocess
    import sys

    script = tmp_path / "rank.py"
    script.write_text(_POOLING_RANK)
    init = f"file://{tmp_path / 'rendezvous'}"
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(r), init, str(tmp_path / f"{r}.pt"), shares, device],
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in (0, 1)
    ]
    try:  # a rank that fails leaves the other waiting in all_reduce: never hang the suite
        errors = [p.communicate(timeout=120)[1] for p in procs]
    finally:
        for p in procs:
            p.kill()
    assert [p.returncode for p in procs] == [0, 0], errors
    got = [torch.load(tmp_path / f"{r}.pt", weights_only=True) for r in (0, 1)]
    torch.manual_seed(0)
    xs = [torch.randn(8, 3) * 2 + 5 * i for i in range(5)]
    if shares == "0+0":
        assert [g["used"] for g in got] == [0, 0]
        for rank, g in enumerate(got):
            torch.testing.assert_close(g["mean"], torch.full((3,), 7.0 + rank))
            torch.testing.assert_close(g["var"], torch.ones(3))
            assert int(g["n"]) == 0
        return
    pooled = xs if shares == "3+2" else xs[:3]
    assert [g["used"] for g in got] == ([3, 2] if shares == "3+2" else [3, 0])
    for g in got:
        torch.testing.assert_close(g["mean"], torch.stack([x.mean(0) for x in pooled]).mean(0))
        torch.testing.assert_close(g["var"], torch.stack([x.var(0) for x in pooled]).mean(0))
        assert int(g["n"]) == len(pooled)


def test_masked_batch_norm_averages_with_momentum_none():
    from heplearn.models.lorentznet import MaskedBatchNorm

    bn = MaskedBatchNorm(2).train()
    bn.momentum = None
    x = torch.randn(2, 5, 2)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], dtype=torch.bool)
    bn(x, mask)
    bn(x * 3, mask)
    torch.testing.assert_close(bn.running_mean, (x[mask].mean(0) + 3 * x[mask].mean(0)) / 2)


def test_checkpoints_hold_batch_norm_statistics_of_their_own_weights(tmp_path, toy_table):
    """The EFN's latent standardisation in the checkpoint has the mean of its latent vector
    over the training jets (equal batches: the average of the batch means is the mean),
    not a moving average that lags behind the weights."""
    config, tr, va, _ = _arrays(
        toy_table, "efn", epochs=2, batch_size=32, early_stopping_patience=None
    )
    tr = subset(tr, np.arange(len(tr["label"]) // 32 * 32))
    calibrated = config.model_copy(update={"batch_norm_calibration_batches": 1000})
    net = {}
    for name, cfg in (
        ("precise", calibrated),
        ("moving", calibrated.model_copy(update={"batch_norm_calibration_batches": 0})),
    ):
        train_on_arrays(tr, va, cfg, tmp_path / name)
        net[name] = load_tagger(tmp_path / name, "last").network
    with torch.no_grad():
        batch = {k: torch.from_numpy(tr[k]) for k in ("points", "vectors", "mask")}
        latent = net["precise"].latent(batch)
        moving_latent = net["moving"].latent(batch)
    scale = latent.std(0).clamp_min(1e-6)
    offset = (net["precise"].latent_norm.running_mean - latent.mean(0)).abs() / scale
    assert float(offset.max()) < 1e-3
    lag = (net["moving"].latent_norm.running_mean - moving_latent.mean(0)).abs()
    assert float((lag / moving_latent.std(0).clamp_min(1e-6)).max()) > 1e-2


def test_a_tree_based_tagger_refuses_a_bad_inference_batch_size_too():
    """It scores every jet at once, but a bad batch_size is still an error, not ignored."""
    from sklearn.linear_model import LogisticRegression

    from heplearn.errors import HeplearnError

    x = np.random.default_rng(0).normal(size=(20, 3))
    tagger = LogisticRegression().fit(x, np.arange(20) % 2)
    assert predict(tagger, {"jet_features": x}).shape == (20,)
    with pytest.raises(HeplearnError, match="batch_size"):
        predict(tagger, {"jet_features": x}, batch_size=0)
