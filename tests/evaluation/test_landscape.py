import itertools
import json

import awkward as ak
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import heplearn.evaluation.landscape as landscape_module
from heplearn.cli import app
from heplearn.data.dataset import write_dataset
from heplearn.errors import HeplearnError, UnknownNameError
from heplearn.evaluation.landscape import (
    default_models,
    format_table,
    landscape,
    learning_curve_epochs,
    learning_curve_sizes,
    learning_curve_table,
    learning_curve_validation_size,
)
from heplearn.training.engine import load_jets

KEYS = {
    "model",
    "parameters",
    "auc",
    "accuracy",
    "rejection_at_0.3",
    "rejection_at_0.5",
    "train_seconds",
    "inference_jets_per_second",
    "rejection_at_0.3_is_lower_bound",
    "auc_uncertainty",
}


@pytest.fixture(scope="module")
def toy_dataset(tmp_path_factory, toy_jets):
    out = tmp_path_factory.mktemp("toy") / "data"
    write_dataset(toy_jets(400, seed=5), out, metadata={"kind": "toy"})
    return out


def test_landscape_writes_the_table_json_and_report(tmp_path, toy_dataset):
    rows = landscape(
        "top",
        data=toy_dataset,
        models=["tau32-cut", "logreg", "pfn"],
        out=tmp_path,
        progress=False,
    )
    assert [r["model"] for r in rows] == ["tau32-cut", "logreg", "pfn"]
    saved = json.loads((tmp_path / "landscape.json").read_text())
    assert [r["model"] for r in saved] == ["tau32-cut", "logreg", "pfn"]
    for row in saved:
        assert KEYS <= set(row)
        assert 0.0 <= row["auc"] <= 1.0
        assert row["manifest"] == str(toy_dataset / "manifest.json")  # what it measured on
        assert "test_manifest" not in row
    assert saved[0]["parameters"] == 0 and saved[2]["parameters"] > 0
    assert (tmp_path / "report.md").read_text().count("pfn") >= 1
    assert (tmp_path / "rejection.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["splits"]["test"] == 80  # 20% of 400, never used for training
    assert format_table(rows).row_count == 3
    # top mirrors the reference dataset: the networks see four-momentum kinematics only
    saved_config = json.loads((tmp_path / "models" / "pfn" / "config.json").read_text())
    assert saved_config["config"]["particle_features"][-1] == "delta_r"
    assert saved_config["dimensions"]["n_features"] == 7
    # an interrupted or repeated landscape reuses the models it finished with this config
    ckpt = tmp_path / "models" / "pfn" / "checkpoints" / "best.ckpt"
    (cache,) = (tmp_path / "cache").glob("jet_features-*.npy")
    before, cached = ckpt.stat().st_mtime_ns, cache.stat().st_mtime_ns
    again = landscape(
        "top", data=toy_dataset, models=["logreg", "pfn"], out=tmp_path, progress=False
    )
    assert ckpt.stat().st_mtime_ns == before
    assert again[1]["train_seconds"] == rows[2]["train_seconds"]
    assert again[1]["auc"] == pytest.approx(rows[2]["auc"])
    # the jet observables were computed once and cached under the dataset's identity
    assert cache.stat().st_mtime_ns == cached
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [cache.name]
    assert again[0]["auc"] == rows[1]["auc"]


def test_a_landscape_stopped_while_scoring_keeps_the_finished_training(
    tmp_path, toy_dataset, monkeypatch
):
    """Training ends, then the process dies scoring the (large) test set: the rerun scores
    the trained model instead of training it again."""

    def killed(*args, **kwargs):
        raise MemoryError("killed while scoring")

    import heplearn.training.engine as engine

    monkeypatch.setattr(engine, "predict", killed)  # the landscape imports it when it runs
    with pytest.raises(MemoryError):
        landscape("top", data=toy_dataset, models=["pfn"], out=tmp_path, progress=False)
    ckpt = tmp_path / "models" / "pfn" / "checkpoints" / "best.ckpt"
    trained = json.loads((tmp_path / "models" / "pfn" / "metrics.json").read_text())
    assert set(trained) == {"parameters", "train_seconds"} and trained["parameters"] > 0
    before = ckpt.stat().st_mtime_ns
    monkeypatch.undo()
    (row,) = landscape("top", data=toy_dataset, models=["pfn"], out=tmp_path, progress=False)
    assert ckpt.stat().st_mtime_ns == before  # not retrained
    assert row["train_seconds"] == trained["train_seconds"] and 0 < row["auc"] <= 1


def test_repeated_trainings_give_medians_spreads_and_an_ensemble(
    tmp_path, toy_dataset, monkeypatch
):
    rates = itertools.cycle([100.0, 400.0, 200.0])  # each training's inference is timed on its own
    monkeypatch.setattr(landscape_module, "_inference_rate", lambda *a, **k: next(rates))
    models = ["tau32-cut", "pfn"]
    rows = landscape(
        "top", data=toy_dataset, models=models, out=tmp_path, progress=False, trainings=3
    )
    cut, pfn = rows
    assert cut["trainings"] == 0 and "auc_spread" not in cut
    runs = [tmp_path / "models" / "pfn"] + [tmp_path / "trainings" / f"pfn-seed{s}" for s in (2, 3)]
    each = [json.loads((r / "metrics.json").read_text()) for r in runs]
    seeds = [json.loads((r / "config.json").read_text())["config"]["seed"] for r in runs]
    assert seeds == [1, 2, 3] and pfn["training_seeds"] == [1, 2, 3]
    aucs = sorted(m["auc"] for m in each)
    weights = [
        torch.load(r / "checkpoints" / "best.ckpt", weights_only=True)["state_dict"] for r in runs
    ]
    for a, b in ((0, 1), (1, 2)):  # the seeds make different networks on the same split
        assert any(not torch.equal(v, weights[b][k]) for k, v in weights[a].items())
    assert pfn["trainings"] == 3 and pfn["auc"] == pytest.approx(aucs[1])
    assert pfn["auc_spread"] == pytest.approx(list(np.percentile(aucs, [16, 84])))
    assert pfn["train_seconds"] == pytest.approx(np.median([m["train_seconds"] for m in each]))
    assert [m["inference_jets_per_second"] for m in each] == [100.0, 400.0, 200.0]
    assert pfn["inference_jets_per_second"] == 200.0
    assert 0.0 <= pfn["ensemble_auc"] <= 1.0 and "ensemble_rejection_at_0.3" in pfn
    assert json.loads((tmp_path / "landscape.json").read_text())[1]["auc"] == pfn["auc"]
    # the figures show the first training
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["models"][1]["auc_spread"] == pytest.approx(pfn["auc_spread"])
    table = format_table(rows)
    assert [c.header for c in table.columns][3] == "AUC 16–84%"
    report = (tmp_path / "report.md").read_text()
    assert "| model | model |" not in report and f"{pfn['auc_spread'][0]:.4g}" in report
    # every finished training is reused
    stamps = [(r / "checkpoints" / "best.ckpt").stat().st_mtime_ns for r in runs]
    again = landscape(
        "top", data=toy_dataset, models=["pfn"], out=tmp_path, progress=False, trainings=3
    )
    assert [(r / "checkpoints" / "best.ckpt").stat().st_mtime_ns for r in runs] == stamps
    assert again[0]["auc"] == pytest.approx(pfn["auc"])


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_bad_number_of_trainings_fails_before_any_work(tmp_path, toy_dataset, bad):
    with pytest.raises(HeplearnError, match="trainings must be a whole number"):
        landscape("top", data=toy_dataset, models=["pfn"], out=tmp_path / "x", trainings=bad)
    assert not (tmp_path / "x").exists()


def test_learning_curve_sizes_are_log_spaced_up_to_the_training_split():
    assert learning_curve_sizes(100_000).tolist() == [1000, 3162, 10000, 31622, 100000]
    assert learning_curve_sizes(240).tolist() == [24, 42, 75, 134, 240]
    assert learning_curve_sizes(5).tolist() == [1, 2, 3, 5]


def test_learning_curve_points_get_the_full_points_optimiser_steps():
    # 100k training jets, 12 epochs: equal steps at 10k jets are 120 epochs, capped at 100
    sizes = (1000, 3162, 10_000, 31_622, 100_000)
    assert [learning_curve_epochs(12, n, 100_000) for n in sizes] == [100, 100, 100, 38, 12]
    assert [learning_curve_epochs(12, n, 100_000, 0.1) for n in sizes] == [100, 38, 12, 12, 12]
    assert learning_curve_epochs(4, 1000, 100_000, 0.1) == 40
    with pytest.raises(HeplearnError, match="step fraction"):
        learning_curve_epochs(12, 1000, 100_000, 0.0)


def test_learning_curve_points_keep_the_tables_validation_proportion():
    # 100k training and 20k validation jets: a point validates on n/5 jets, at least 1000
    sizes = (1000, 3162, 10_000, 31_622, 100_000)
    got = [learning_curve_validation_size(20_000, n, 100_000) for n in sizes]
    assert got == [1000, 1000, 2000, 6325, 20_000]
    assert learning_curve_validation_size(80, 24, 240) == 80  # never more than there is


def _with_curve(data, out, models, **kw):
    return landscape(
        "top", data=data, models=models, out=out, learning_curve=True, progress=False, **kw
    )


def test_learning_curve_ends_at_the_table_model_and_resumes(tmp_path, toy_dataset):
    """The largest point is the table's own model (not trained twice), on the table's test
    set; a second call retrains nothing."""

    def run():
        return _with_curve(toy_dataset, tmp_path, ["logreg", "pfn"])

    rows = run()
    curves = json.loads((tmp_path / "summary.json").read_text())["learning_curve"]
    for row in rows:
        curve = curves[row["model"]]
        assert curve["n_train"] == [24, 42, 75, 134, 240]
        assert curve["auc"][-1] == pytest.approx(row["auc"])
        assert curve["train_seconds"][-1] == row["train_seconds"]
    assert not (tmp_path / "learning_curve" / "pfn-240").exists()
    assert (tmp_path / "learning_curve" / "pfn-24" / "metrics.json").exists()
    assert (tmp_path / "learning_curve_auc.png").exists()
    report = (tmp_path / "report.md").read_text()
    assert "| training jets | logreg | pfn |" in report
    ckpt = tmp_path / "learning_curve" / "pfn-42" / "checkpoints" / "best.ckpt"
    before = ckpt.stat().st_mtime_ns
    run()
    assert ckpt.stat().st_mtime_ns == before
    again = json.loads((tmp_path / "summary.json").read_text())["learning_curve"]
    assert again["pfn"]["auc"] == pytest.approx(curves["pfn"]["auc"])


def test_learning_curve_points_train_on_the_nested_random_subsets(
    tmp_path, toy_dataset, monkeypatch
):
    """Each point trains on the jets random_subset draws from the training and validation
    splits, with the inputs its model would build for exactly those jets."""
    import heplearn.training.engine as engine
    from heplearn.training import TrainConfig, build_inputs, split_indices
    from heplearn.training.engine import random_subset, subset

    seen = {}
    real = engine.train_on_arrays

    def spy(train, val, cfg, run, **kw):
        seen[run.name] = (train, val)
        return real(train, val, cfg, run, **kw)

    monkeypatch.setattr(engine, "train_on_arrays", spy)
    _with_curve(toy_dataset, tmp_path, ["pfn"])
    cfg = TrainConfig.cast(
        json.loads((tmp_path / "learning_curve" / "pfn-42" / "config.json").read_text())["config"]
    )
    table = load_jets(toy_dataset)[0]
    splits = split_indices(len(table), cfg.val_fraction, cfg.test_fraction, cfg.split_seed)
    every = build_inputs(table, {"features"}, cfg)
    train, val = seen["pfn-42"]
    assert len(train["label"]) == 42
    assert sorted(train) == sorted(every)
    for got, rows in (
        (train, random_subset(splits["train"], 42, cfg.split_seed)),
        (val, random_subset(splits["val"], len(val["label"]), cfg.split_seed + 1)),
    ):
        for key, value in subset(every, rows).items():
            assert np.array_equal(got[key], value), key
    # the table's model trained on the whole training split
    assert len(seen["pfn"][0]["label"]) == len(splits["train"])


def test_learning_curve_stays_on_the_held_out_split(tmp_path, toy_dataset, toy_jets):
    """An independent test sample refines the table, not the learning curve."""
    extra = tmp_path / "extra"
    write_dataset(toy_jets(300, seed=8), extra, metadata={"kind": "toy"})

    def curve(**kw):
        _with_curve(toy_dataset, tmp_path / "o", ["logreg"], **kw)
        return json.loads((tmp_path / "o" / "summary.json").read_text())

    alone, both = curve(), curve(test_data=extra)
    assert sum(both["n_test"].values()) == 80 + 300
    assert both["learning_curve"]["logreg"]["auc"] == alone["learning_curve"]["logreg"]["auc"]
    assert alone["learning_curve"]["logreg"]["auc"][-1] == alone["models"][0]["auc"]


def test_learning_curve_table_marks_the_best_model_of_each_size():
    curves = {
        "bdt": {"n_train": [1000, 10000], "auc": [0.95, 0.96]},
        "part": {"n_train": [1000, 10000], "auc": [0.90, 0.97]},
    }
    table = learning_curve_table(curves).splitlines()
    assert table[0] == "| training jets | bdt | part |"
    assert table[2] == "| 1000 | **0.9500** | 0.9000 |"
    assert table[3] == "| 10000 | 0.9600 | **0.9700** |"


def test_independent_test_sample_joins_the_held_out_split(tmp_path, toy_dataset, toy_jets):
    """--test-data: the same trained models, evaluated on the held-out split plus every jet
    of an independent sample; the training dataset itself is refused."""
    extra = tmp_path / "extra"
    write_dataset(toy_jets(300, seed=6), extra, metadata={"kind": "toy"})
    models = ["tau32-cut", "jh-tagger", "logreg", "pfn"]
    alone = landscape("top", data=toy_dataset, models=models, out=tmp_path / "a", progress=False)
    both = landscape(
        "top", data=toy_dataset, models=models, out=tmp_path / "a", test_data=extra, progress=False
    )
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["independent_test"]["n_jets"] == 300
    for row in json.loads((tmp_path / "a" / "landscape.json").read_text()):
        assert row["manifest"] == str(toy_dataset / "manifest.json")
        assert row["test_manifest"] == str(extra / "manifest.json")
    assert sum(summary["n_test"].values()) == 80 + 300
    for a, b in zip(alone, both, strict=True):
        assert a["model"] == b["model"] and a["train_seconds"] == b["train_seconds"]
        assert 0.0 <= b["auc"] <= 1.0
    # by hand: the logistic regression's scores on the held-out split and on every extra jet
    from heplearn.evaluation.metrics import auc
    from heplearn.training import TrainConfig, build_inputs, load_tagger, predict, split_indices
    from heplearn.training.engine import load_jets, subset

    run = tmp_path / "a" / "models" / "logreg"
    cfg = TrainConfig.cast(json.loads((run / "config.json").read_text())["config"])
    own = build_inputs(load_jets(toy_dataset)[0], {"jet_features"}, cfg)
    held_out = split_indices(400, cfg.val_fraction, cfg.test_fraction, cfg.split_seed)["test"]
    parts = [subset(own, held_out), build_inputs(load_jets(extra)[0], {"jet_features"}, cfg)]
    scores = np.concatenate([predict(load_tagger(run), p) for p in parts])
    labels = np.concatenate([p["label"] for p in parts])
    assert len(labels) == 380 and both[2]["model"] == "logreg"
    assert both[2]["auc"] == pytest.approx(auc(scores, labels), abs=1e-12)
    assert alone[2]["auc"] == pytest.approx(auc(scores[:80], labels[:80]), abs=1e-12)
    assert "independent sample" in (tmp_path / "a" / "report.md").read_text()
    with pytest.raises(HeplearnError, match="training dataset itself"):
        landscape(
            "top",
            data=toy_dataset,
            models=["logreg"],
            out=tmp_path / "b",
            test_data=toy_dataset,
            progress=False,
        )


def test_each_model_is_handed_only_the_arrays_it_reads(toy_table):
    """A training copies what it is given: the PFN must not carry the CNN's images. Each
    model's inputs are built with its own constituents and features, as its saved config
    rebuilds them; the (costly) jet observables come from the shared arrays."""
    from heplearn.training import TrainConfig, build_inputs

    size = landscape_module.SIZES["medium"]
    config = TrainConfig.cast(None, jet_radius=0.8, particle_features="kinematic")
    shared = build_inputs(toy_table, {"jet_features"}, config)
    every = build_inputs(toy_table, {"features", "points", "vectors"}, config)

    def inputs(name, own=None, **overrides):
        cfg = landscape_module._model_config(name, size, config, own or {})
        cfg = cfg.model_copy(update={"model_overrides": overrides})
        return landscape_module._model_inputs(cfg, toy_table, shared)

    base = set(shared) - {"jet_features"}  # the label, and event weights if any
    assert set(inputs("pfn")) == base | {"mask", "features"}
    assert set(inputs("cnn")) == base | {"image"}
    assert set(inputs("bdt")) == base | {"jet_features"}
    assert inputs("bdt")["jet_features"] is shared["jet_features"]
    graph = inputs("particlenet")
    assert set(graph) == base | {"mask", "features", "points"}
    # its 48 constituents are the hardest 48 of the 128 the PFN sees
    for key in ("features", "points", "mask"):
        assert np.array_equal(graph[key], every[key][:, :48])
    dnn = inputs("dnn", {"dnn": "topodnn"})
    assert dnn["features"].shape == (len(toy_table), 30, 3)
    assert dnn["mask"].shape == (len(toy_table), 30)
    # an override that makes LorentzNet read the particle features hands them over
    plain = inputs("lorentznet")
    scalars = inputs("lorentznet", scalar_features=["log_pt"])
    assert "features" not in plain and "features" in scalars
    assert np.array_equal(plain["vectors"], every["vectors"][:, :16])


def test_quark_gluon_lorentznet_gets_its_papers_setup(toy_table):
    """For q/g LorentzNet runs as its authors' q/g release does: no beam spurions, c =
    10⁻³, and the particle type (here charge and the five type flags of the kinpid
    features) as node scalars, which reach it as columns of its particle features. The
    top landscape keeps the model's defaults (beam spurions, c = 5·10⁻³, no scalars)."""
    from heplearn import models
    from heplearn.representations import KINPID_FEATURES
    from heplearn.training import TrainConfig

    size = landscape_module.SIZES["quick"]
    config = TrainConfig.cast(None, particle_features="kinpid")
    qg = landscape_module._model_config("lorentznet", size, config, {}, "qg")
    scalars = [KINPID_FEATURES.index("charge"), *range(8, 13)]
    assert KINPID_FEATURES[8:13] == (
        "is_charged_hadron",
        "is_neutral_hadron",
        "is_photon",
        "is_electron",
        "is_muon",
    )
    assert qg.model_overrides == {"beams": None, "c_weight": 1e-3, "scalar_features": scalars}
    inputs = landscape_module._model_inputs(qg, toy_table, {})
    assert inputs["features"].shape[-1] == len(KINPID_FEATURES)
    net = models.create("lorentznet", preset=qg.preset, **qg.model_overrides)
    assert net.inputs == ("vectors", "features")
    assert net.embedding.in_features == 1 + 6  # ψ(mass) and the six type scalars
    top = landscape_module._model_config("lorentznet", size, config, {}, "top")
    assert top.model_overrides == {}
    assert landscape_module._model_config("pfn", size, config, {}, "qg").model_overrides == {}


def test_published_dnn_sees_topodnn_aligned_inputs_on_train_and_test(
    tmp_path, toy_dataset, toy_jets
):
    """At its published size the top DNN is TopoDNN: it trains and is scored on the aligned
    frame (arXiv:1704.02124), also on an independent test sample; the other networks, and
    the DNN at the small preset, see the shared kinematic features."""
    from heplearn.evaluation.metrics import auc
    from heplearn.representations import DEFAULT_FEATURES, TOPODNN_FEATURES
    from heplearn.training import TrainConfig, build_inputs, load_tagger, predict, split_indices
    from heplearn.training.engine import load_jets, subset

    extra = tmp_path / "extra"
    write_dataset(toy_jets(100, seed=7), extra, metadata={"kind": "toy"})
    out = tmp_path / "run"
    kwargs = dict(data=toy_dataset, out=out, test_data=extra, progress=False, preset="default")
    rows = landscape("top", models=["pfn", "dnn"], **kwargs)
    saved = {
        m: json.loads((out / "models" / m / "config.json").read_text()) for m in ("pfn", "dnn")
    }
    assert tuple(saved["dnn"]["config"]["particle_features"]) == TOPODNN_FEATURES
    assert saved["dnn"]["dimensions"]["n_features"] == 3
    assert rows[1]["parameters"] == 59_330  # TopoDNN's count in the landscape paper
    assert tuple(saved["pfn"]["config"]["particle_features"]) == DEFAULT_FEATURES
    assert "dnn: topodnn, aligned_pt_fraction" in (out / "report.md").read_text()
    # by hand: the saved config rebuilds the DNN's inputs of the held-out split + extra jets
    cfg = TrainConfig.cast(saved["dnn"]["config"])
    held_out = split_indices(400, cfg.val_fraction, cfg.test_fraction, cfg.split_seed)["test"]
    parts = [
        subset(build_inputs(load_jets(toy_dataset)[0], {"features"}, cfg), held_out),
        build_inputs(load_jets(extra)[0], {"features"}, cfg),
    ]
    scores = np.concatenate([predict(load_tagger(out / "models" / "dnn"), p) for p in parts])
    labels = np.concatenate([p["label"] for p in parts])
    assert rows[1]["model"] == "dnn"
    assert rows[1]["auc"] == pytest.approx(auc(scores, labels), abs=1e-12)
    # the finished run is recognised with its own features: nothing is retrained, also when
    # it becomes the last point of a learning curve whose points see the same features
    ckpt = out / "models" / "dnn" / "checkpoints" / "best.ckpt"
    before = ckpt.stat().st_mtime_ns
    again = landscape("top", models=["dnn"], learning_curve=True, **kwargs)
    assert again[0]["train_seconds"] == rows[1]["train_seconds"]
    assert ckpt.stat().st_mtime_ns == before
    point = json.loads((out / "learning_curve" / "dnn-42" / "config.json").read_text())
    assert tuple(point["config"]["particle_features"]) == TOPODNN_FEATURES
    # the small preset keeps the shared features
    small = {**kwargs, "preset": "small", "out": tmp_path / "small"}
    landscape("top", models=["dnn"], **small)
    config = json.loads((tmp_path / "small" / "models" / "dnn" / "config.json").read_text())
    assert tuple(config["config"]["particle_features"]) == DEFAULT_FEATURES
    assert "topodnn" not in (tmp_path / "small" / "report.md").read_text()


def test_test_data_from_another_process_is_refused(tmp_path, toy_jets):
    def dataset(name, process):
        meta = {"process": {"name": process}, "detector": {"name": "atlas-like"}}
        write_dataset(toy_jets(200, seed=7), tmp_path / name, metadata=meta)
        return tmp_path / name

    train, other = dataset("train", "top"), dataset("other", "qg")
    with pytest.raises(HeplearnError, match="same process, detector and pileup"):
        landscape(
            "top",
            data=train,
            models=["logreg"],
            out=tmp_path / "o",
            test_data=other,
            progress=False,
        )
    assert not (tmp_path / "o" / "landscape.json").exists()


def test_finished_runs_fill_defaults_and_ignore_unread_features(tmp_path, toy_table):
    """A run saved before ``particle_features`` existed had the default (kinpid); a model
    that reads no particle features is reused whatever they are (and whatever the number
    of constituents, if it reads no per-particle input); a run whose checkpoint
    does not fit today's architecture of the model is trained again."""
    from heplearn.evaluation.landscape import _finished_run
    from heplearn.training import train
    from heplearn.training.config import TrainConfig

    fast = {"epochs": 1, "batch_size": 64, "max_particles": 16, "progress": False}

    def saved_before_the_field(model, **options):
        run = tmp_path / model
        train(toy_table, run, model=model, **fast, **options)
        (run / "metrics.json").write_text(json.dumps({"parameters": 3, "train_seconds": 1.5}))
        saved = json.loads((run / "config.json").read_text())
        del saved["config"]["particle_features"]
        saved["config"]["model_overrides"] = {}  # as if trained before an option existed
        saved["data"] = {}
        (run / "config.json").write_text(json.dumps(saved))
        return run

    def cast(model, **options):
        return TrainConfig.cast(model=model, **fast, **options)

    run = saved_before_the_field("logreg")
    n = json.loads((run / "config.json").read_text())["n_train"]
    kinematic = {"particle_features": "kinematic"}
    assert _finished_run(run, cast("logreg", **kinematic), n, None) == (3, 1.5)
    # nor does the number of constituents change a model that reads observables
    more = {**fast, "max_particles": 128}
    assert _finished_run(run, TrainConfig.cast(model="logreg", **more), n, None) == (3, 1.5)
    run = saved_before_the_field("pfn")
    assert _finished_run(run, cast("pfn"), n, None) == (3, 1.5)
    assert _finished_run(run, cast("pfn", **kinematic), n, None) is None
    assert _finished_run(run, TrainConfig.cast(model="pfn", **more), n, None) is None
    assert _finished_run(run, cast("pfn"), n + 1, None) is None
    # trained without the latent normalisation PFN has today: same config, other weights
    run = saved_before_the_field("pfn", model_overrides={"latent_norm": False})
    assert _finished_run(run, cast("pfn"), n, None) is None


def test_an_interrupted_retraining_is_not_taken_for_the_finished_run(
    tmp_path, toy_table, monkeypatch
):
    """A training that starts in a finished run's directory (another config) and is
    interrupted leaves that run's config with the old metrics gone: it is trained again,
    not reused with a half-trained checkpoint."""
    from heplearn.evaluation.landscape import _finished_run
    from heplearn.training import build_inputs, engine, train
    from heplearn.training.config import TrainConfig

    fast = {"epochs": 1, "batch_size": 64, "max_particles": 8, "progress": False}
    run = tmp_path / "pfn"
    train(toy_table, run, model="pfn", **fast)
    (run / "metrics.json").write_text(json.dumps({"parameters": 3, "train_seconds": 1.5}))
    saved = json.loads((run / "config.json").read_text())
    old = TrainConfig.cast(model="pfn", **fast)
    assert _finished_run(run, old, saved["n_train"], saved["data"]) == (3, 1.5)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "_check_options", interrupted)
    new = TrainConfig.cast(model="pfn", **{**fast, "max_particles": 16})
    arrays = build_inputs(toy_table, {"features"}, new)
    with pytest.raises(KeyboardInterrupt):
        engine.train_on_arrays(arrays, arrays, new, run, source=saved["data"])
    assert not (run / "metrics.json").exists()
    assert _finished_run(run, new, len(arrays["label"]), saved["data"]) is None


def test_bad_curve_step_fraction_fails_before_any_work(tmp_path, toy_dataset):
    with pytest.raises(HeplearnError, match="step fraction"):
        landscape(
            "top",
            data=toy_dataset,
            models=["logreg"],
            out=tmp_path,
            learning_curve=True,
            curve_step_fraction=1.5,
        )
    assert not (tmp_path / "landscape.json").exists()


def test_unknown_model_fails_before_any_work(tmp_path, toy_dataset):
    with pytest.raises(UnknownNameError, match='Unknown model "partnet"'):
        landscape("top", data=toy_dataset, models=["partnet"], out=tmp_path)
    assert not (tmp_path / "landscape.json").exists()


def test_default_models_cover_every_family():
    names = default_models("top")
    for family in (
        "tau32-cut",
        "jh-tagger",
        "bdt",
        "logreg",
        "dnn",
        "cnn",
        "lstm",
        "pfn",
        "efn",
        "particlenet",
        "part",
        "lorentznet",
    ):
        assert family in names
    assert "jh-tagger" not in default_models("qg")


def test_cli_train_evaluate_export(tmp_path, toy_dataset):
    runner = CliRunner()
    run = tmp_path / "run"
    result = runner.invoke(
        app,
        [
            "train",
            str(toy_dataset),
            "--model",
            "pfn",
            "--out",
            str(run),
            "--epochs",
            "2",
            "--max-particles",
            "16",
            "--decorrelate",
            "disco",
            "--lambda",
            "1",
            "--gradient-clip-norm",
            "5",
            "--particle-features",
            "deta, dphi,log_pt,log_e,log_pt_rel,log_e_rel,delta_r,charge",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "test AUC" in result.output and "1/JSD(0.5)" in result.output
    saved = json.loads((run / "config.json").read_text())["config"]
    assert saved["decorrelation"]["method"] == "disco"
    assert saved["decorrelation"]["strength"] == 1.0
    assert saved["gradient_clip_norm"] == 5.0
    assert saved["particle_features"][::7] == ["deta", "charge"]
    result = runner.invoke(app, ["evaluate", str(run), "--bootstrap", "5"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["auc"] > 0.5
    result = runner.invoke(app, ["export-onnx", str(run)])
    assert result.exit_code == 0, result.output
    assert (run / "model.onnx").is_file()
    result = runner.invoke(app, ["train", str(toy_dataset), "--model", "x", "--out", str(run)])
    assert result.exit_code == 2 and 'Unknown model "x"' in result.output


def test_preset_default_trains_the_published_architectures(tmp_path, toy_dataset):
    rows = landscape(
        "top", data=toy_dataset, models=["pfn"], out=tmp_path, progress=False, preset="default"
    )
    # PFN with Phi (100, 100, 256) and F (100, 100, 100) on 7 kinematic features (README)
    assert rows[0]["parameters"] == 83_370
    saved = json.loads((tmp_path / "models" / "pfn" / "config.json").read_text())
    assert saved["config"]["preset"] == "default"
    assert "Presets: default;" in (tmp_path / "report.md").read_text()
    assert rows[0]["preset"] == "default"
    assert json.loads((tmp_path / "landscape.json").read_text())[0]["preset"] == "default"
    # the mode's own presets otherwise, with ParticleNet-Lite's exception named
    landscape("top", data=toy_dataset, models=["logreg"], out=tmp_path / "q", progress=False)
    report = (tmp_path / "q" / "report.md").read_text()
    assert "Presets: small (particlenet-lite: default); 6 epochs at most (particlenet 3," in report
    # each constituent budget with the share of the jets it cuts (not IRC safe on those)
    n = ak.to_numpy(ak.num(load_jets(toy_dataset)[0]["constituents"]))
    share = {p: f"{100 * np.mean(n > p):.1f}% cut" for p in (128, 48, 30, 32, 16)}
    assert 0 < np.mean(n > 16) < 1  # the toy jets (8 to 23 constituents) exercise a cut
    assert (
        f"the hardest 128 constituents per jet: {share[128]} (dnn 30: {share[30]}; "
        f"particlenet 48: {share[48]}; particlenet-lite 48: {share[48]}; part 32: "
        f"{share[32]}; lorentznet 16: {share[16]}; lgatr 16: {share[16]})" in report
    )
    assert "not infrared and collinear safe on the jets that have more" in report
    with pytest.raises(HeplearnError, match="preset must be 'small' or 'default'"):
        landscape("top", data=toy_dataset, models=["pfn"], out=tmp_path / "x", preset="large")
    assert not (tmp_path / "x").exists()  # refused before any work


def test_cli_landscape_with_repeated_trainings(tmp_path, toy_dataset):
    runner = CliRunner()
    args = ["landscape", "top", "--data", str(toy_dataset), "--models", "logreg"]
    result = runner.invoke(app, [*args, "--trainings", "2", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "16–84%" in result.output and "2 trainings per model" in result.output
    saved = json.loads((tmp_path / "r" / "landscape.json").read_text())
    assert saved[0]["trainings"] == 2 and saved[0]["training_seeds"] == [1, 2]
    result = runner.invoke(app, [*args, "--trainings", "0", "--out", str(tmp_path / "z")])
    assert result.exit_code != 0 and "trainings must be a whole number" in result.output
    result = runner.invoke(app, [*args, "--preset", "huge", "--out", str(tmp_path / "p")])
    assert result.exit_code != 0 and "preset must be 'small' or 'default'" in result.output


def test_cli_train_options_override_only_what_they_name_in_a_config_file(tmp_path, toy_dataset):
    runner = CliRunner()
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        "preset: default\nbalance_classes: true\nepochs: 1\nmax_particles: 8\n"
        "decorrelation: {method: disco, strength: 3.0}\n"
    )
    base = ["train", str(toy_dataset), "--model", "pfn", "--config", str(cfg)]

    def saved(run, *extra):
        result = runner.invoke(app, [*base, "--out", str(tmp_path / run), *extra])
        assert result.exit_code == 0, result.output
        return json.loads((tmp_path / run / "config.json").read_text())["config"]

    kept = saved("kept")
    assert kept["preset"] == "default" and kept["balance_classes"] is True
    assert kept["decorrelation"]["strength"] == 3.0
    changed = saved(
        "changed", "--no-balance-classes", "--lambda", "0.5", "--preset", "small",
        "--decorrelate-variable", "pt", "--bias-corrected",
    )  # fmt: skip
    assert changed["preset"] == "small" and changed["balance_classes"] is False
    assert changed["decorrelation"] == {
        **kept["decorrelation"], "strength": 0.5, "variable": "pt", "bias_corrected": True,
    }  # fmt: skip
    # the evaluation measures the sculpting of the variable the run decorrelated from
    metrics = json.loads((tmp_path / "changed" / "metrics.json").read_text())
    assert metrics["sculpting_variable"] == "pt"
    assert (
        json.loads((tmp_path / "kept" / "metrics.json").read_text())["sculpting_variable"] == "mass"
    )
    # without a file the CLI keeps its defaults: small preset, λ = 10 on the mass
    result = runner.invoke(
        app,
        ["train", str(toy_dataset), "--model", "pfn", "--out", str(tmp_path / "plain"),
         "--epochs", "1", "--max-particles", "8", "--decorrelate", "pearson"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    plain = json.loads((tmp_path / "plain" / "config.json").read_text())["config"]
    assert plain["preset"] == "small" and plain["balance_classes"] is False
    assert plain["decorrelation"]["strength"] == 10.0
    assert plain["decorrelation"]["variable"] == "mass"
    result = runner.invoke(
        app, ["train", str(toy_dataset), "--model", "pfn", "--out", str(tmp_path / "x"),
              "--lambda", "2"],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "--lambda, --decorrelate-variable and --bias-corrected need" in result.output


def test_cli_full_landscape_with_a_learning_curve_end_to_end(tmp_path, toy_dataset):
    """`--full --learning-curve` through the command line on the toy jets: the published
    presets (the PFN at its paper's 83k-parameter size), the curve's figure and table."""
    out = tmp_path / "full"
    args = ["landscape", "top", "--full", "--data", str(toy_dataset), "--out", str(out)]
    models = ["--models", "logreg", "--models", "pfn", "--models", "tau32-cut"]
    result = CliRunner().invoke(app, [*args, *models, "--learning-curve"])
    assert result.exit_code == 0, result.output
    rows = {r["model"]: r for r in json.loads((out / "landscape.json").read_text())}
    assert set(rows) == {"logreg", "pfn", "tau32-cut"}
    assert rows["pfn"]["preset"] == "default" and rows["pfn"]["parameters"] > 80_000
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mode"] == "full" and summary["splits"]["test"] == 80
    curve = summary["learning_curve"]
    assert set(curve) == {"logreg", "pfn"}  # the cut-based tagger is not trained
    assert curve["pfn"]["n_train"][-1] == summary["splits"]["train"]
    for figure in ("learning_curve_auc.png", "learning_curve_r30.png"):
        assert (out / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Learning curve" in (out / "report.md").read_text()
