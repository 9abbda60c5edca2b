"""Train, predict and evaluate taggers: the library behind ``heplearn train/evaluate``.

A run directory holds everything a result needs::

    RUN/config.json          resolved TrainConfig, dataset path and manifest, model info
    RUN/scaler.json          input standardisation fitted on the training split
    RUN/checkpoints/         best.ckpt (lowest validation loss) and last.ckpt   (torch)
    RUN/history.json         per epoch: mean training loss, validation loss, learning rate
    RUN/model.json           the fitted tree ensemble / logistic regression (tabular)
    RUN/metrics.json         test-set metrics, RUN/report.md, RUN/*.png

Splits are a pure function of (number of jets, fractions, ``split_seed``); the test split
is never seen during training or model selection.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import torch

from heplearn.errors import FormatError, HeplearnError, InputFileError
from heplearn.training.config import TrainConfig

__all__ = [
    "TrainResult",
    "split_indices",
    "load_jets",
    "fit_scaler",
    "train_on_arrays",
    "train",
    "predict",
    "load_tagger",
    "subset",
    "evaluate",
    "export_onnx",
]


@dataclass
class TrainResult:
    """What a training run produced."""

    run_dir: Path
    model: str
    parameters: int
    train_seconds: float
    epochs_run: int
    best_val_loss: float | None
    extra: dict[str, Any] = field(default_factory=dict)
    #: False in the extra processes of a multi-device (DDP) run: only the process of global
    #: rank 0 should evaluate and report, the checkpoints are the same for all
    is_main_process: bool = True


def split_indices(
    n: int, val_fraction: float, test_fraction: float, seed: int
) -> dict[str, np.ndarray]:
    """Disjoint train/val/test index arrays covering ``range(n)``, fixed by ``seed``."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(test_fraction * n))
    n_val = int(round(val_fraction * n))
    test, val, tr = order[:n_test], order[n_test : n_test + n_val], order[n_test + n_val :]
    return {"train": np.sort(tr), "val": np.sort(val), "test": np.sort(test)}


def random_subset(index: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` entries of ``index`` drawn at random (seeded), sorted.

    The draw is the first ``n`` of one seeded permutation, so the subsets of one seed are
    nested (each smaller one lies inside the larger). Never the first ``n`` of ``index``
    itself: a dataset stores its samples one after the other (all QCD jets, then all top
    jets), and a leading slice of sorted indices would hold one class only.
    """
    return np.sort(np.random.default_rng(seed).permutation(index)[:n])


def subset(arrays: dict[str, np.ndarray], index: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[index] for k, v in arrays.items()}


def load_jets(data: str | os.PathLike | ak.Array) -> tuple[ak.Array, dict[str, Any]]:
    """A jet table and a description of where it came from (dataset manifest if any)."""
    if isinstance(data, ak.Array):
        return data, {"source": "in-memory jet table"}
    path = Path(data)
    if not path.exists():
        raise InputFileError(f"dataset {str(path)!r} does not exist")
    if path.is_dir():
        from heplearn.data.dataset import open_dataset

        ds = open_dataset(path)
        return ds.read(), {"source": str(path), "manifest": str(path / "manifest.json")}
    from heplearn.data.readers import read

    return read(path), {"source": str(path)}


def fit_scaler(arrays: dict[str, np.ndarray], keys=("features", "jet_features")) -> dict:
    """Per-feature mean and standard deviation over the training jets (real particles
    only for particle features); σ = 1 where a feature is constant (e.g. one-hots)."""
    stats = {}
    for key in keys:
        if key not in arrays:
            continue
        x = arrays[key]
        if x.ndim == 3:
            x = x[arrays["mask"]]
        mean = x.mean(axis=0)
        std = x.std(axis=0)
        std = np.where(std > 1e-6, std, 1.0)
        stats[key] = (mean.astype(float).tolist(), std.astype(float).tolist())
    return stats


def _check_labels(labels: np.ndarray, where: str) -> None:
    classes = np.unique(labels)
    if len(classes) < 2:
        raise FormatError(
            f"{where}: training needs at least two classes; got only label(s) {classes.tolist()}"
        )
    if not set(classes.tolist()) <= {0, 1}:
        raise FormatError(
            f"{where}: the taggers are binary (label 1 = signal, 0 = background); got labels "
            f"{classes.tolist()}. Select two classes first (e.g. one JetClass label vs QCD)"
        )


def _accelerator(config: TrainConfig) -> tuple[str, str]:
    acc = config.accelerator
    if acc == "auto":
        if torch.cuda.is_available():
            acc = "cuda"
        elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            acc = "mps"
        else:
            acc = "cpu"
    precision = config.precision
    if precision == "auto":
        precision = "bf16-mixed" if acc == "cuda" else "32-true"
    elif precision == "32":
        precision = "32-true"
    return acc, precision


class _BatchedArrays(torch.utils.data.Dataset):
    """Precomputed input arrays indexed a whole batch at a time (one fancy-indexing per
    batch instead of collating jet by jet)."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
        self.n = len(arrays["label"])

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: torch.Tensor) -> dict[str, torch.Tensor]:
        return {k: v[index] for k, v in self.tensors.items()}


def _loader(arrays, config: TrainConfig, shuffle: bool):
    from heplearn.training.module import EpochSampler

    ds = _BatchedArrays(arrays)
    batches = EpochSampler(len(ds), config.batch_size, config.seed, shuffle=shuffle)
    return torch.utils.data.DataLoader(
        ds, sampler=batches, batch_size=None, num_workers=config.num_workers
    )


def train_on_arrays(
    train_arrays: dict[str, np.ndarray],
    val_arrays: dict[str, np.ndarray],
    config: TrainConfig,
    run_dir: str | os.PathLike,
    *,
    resume: str | os.PathLike | None = None,
    max_epochs: int | None = None,
    source: dict[str, Any] | None = None,
) -> TrainResult:
    """Train ``config.model`` on precomputed input arrays (see :mod:`heplearn.training.inputs`).

    Torch models train with Lightning (early stopping on the validation loss, best and last
    checkpoints, ``resume`` from a checkpoint continuing where it stopped); tabular models
    (``bdt``, ``logreg``) fit on ``jet_features`` with the validation set for early stopping.
    ``max_epochs`` (default ``config.epochs``) stops early without changing the schedule,
    which is what an interrupted run looks like.
    """
    from heplearn import models
    from heplearn.evaluation.report import write_json
    from heplearn.training.inputs import model_dimensions

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    _check_labels(train_arrays["label"], f"training split of {run_dir}")
    info = models.model_info(config.model)
    # the metrics of an earlier training in this directory describe another model: they
    # go before the new config is written, so an interrupted training is never mistaken
    # for a finished one (metrics.json is written only after a training ends)
    (run_dir / "metrics.json").unlink(missing_ok=True)
    write_json(
        run_dir / "config.json",
        {
            "config": config.model_dump(),
            "data": source or {},
            "n_train": len(train_arrays["label"]),
            "n_val": len(val_arrays["label"]),
            "dimensions": model_dimensions(config.model, train_arrays),
        },
    )
    _check_options(config, info.kind, train_arrays, val_arrays)
    if config.balance_classes:
        from heplearn.training.losses import class_balance_weights

        train_arrays = dict(train_arrays)
        val_arrays = dict(val_arrays)
        for arrays in (train_arrays, val_arrays):
            arrays["weight"] = class_balance_weights(arrays["label"], arrays.get("weight"))
    t0 = time.perf_counter()
    if info.kind == "tabular":
        result = _train_tabular(train_arrays, val_arrays, config, run_dir)
    else:
        result = _train_torch(train_arrays, val_arrays, config, run_dir, resume, max_epochs)
    result.train_seconds = time.perf_counter() - t0
    # Lightning's trainer and module refer to each other, so a training's data loaders and
    # the arrays they hold would live on until Python's cyclic garbage collector happened
    # to run: trained one after another, the medium landscape's models piled up to 24 GB
    gc.collect()
    return result


def _check_options(config: TrainConfig, kind: str, train_arrays, val_arrays) -> None:
    """Bad weights, and options that need a torch model or an extra input array, fail
    before any work."""
    from heplearn.training.config import InvalidConfigError

    for name, arrays in (("training", train_arrays), ("validation", val_arrays)):
        n_features = arrays["features"].shape[-1] if "features" in arrays else None
        if n_features is not None and n_features != len(config.particle_features):
            raise InvalidConfigError(
                f"particle_features: the {name} arrays have {n_features} features per "
                f"particle, the config names {len(config.particle_features)} "
                f"({', '.join(config.particle_features)}); build the arrays with this config"
            )
        if "weight" in arrays:
            w = np.asarray(arrays["weight"], dtype=float)
            if not np.all(np.isfinite(w)):
                raise InvalidConfigError(f"weight: non-finite event weights in the {name} split")
            if not w.sum() > 0:  # negative weights (NLO) are fine, a null total is not
                raise InvalidConfigError(
                    f"weight: the event weights of the {name} split sum to {w.sum():g}; "
                    "nothing to train on"
                )
    d = config.decorrelation
    if kind == "tabular" and (d is not None or config.loss != "cross_entropy"):
        what = "decorrelation" if d is not None else f"loss={config.loss!r}"
        raise InvalidConfigError(
            f"{what} needs a torch model; {config.model!r} is a tabular model trained by "
            "its own library"
        )
    if d is not None:
        for name, arrays in (("training", train_arrays), ("validation", val_arrays)):
            if "decorrelate" not in arrays:
                raise InvalidConfigError(
                    f"decorrelation: the {name} arrays have no 'decorrelate' entry (the "
                    f"jet-table field {d.variable!r}); build_inputs adds it when the config "
                    "asks for decorrelation"
                )
            values = np.asarray(arrays["decorrelate"])
            if not np.all(np.isfinite(values)):
                raise InvalidConfigError(
                    f"decorrelation: {d.variable!r} has non-finite values in the {name} split"
                )
        if d.background_only and not np.any(np.asarray(train_arrays["label"]) == 0):
            raise InvalidConfigError("decorrelation on background: no label-0 training jets")
        splits = (("training", train_arrays), ("validation", val_arrays))
        weighted = [name for name, arrays in splits if "weight" in arrays]
        signal_too = config.balance_classes and not d.background_only
        if d.bias_corrected and (weighted or signal_too):
            what = (
                f"the {' and '.join(weighted)} jets carry event weights"
                if weighted
                else "balance_classes weights signal and background differently"
            )
            raise InvalidConfigError(
                f"decorrelation.bias_corrected: the bias-corrected dCorr² takes no event "
                f"weights, and {what}; use bias_corrected=False, the weighted V-statistic of "
                "DisCo"
            )


def _make_tagger(config: TrainConfig, arrays: dict[str, np.ndarray], stats: dict):
    from heplearn import models
    from heplearn.training.inputs import model_dimensions
    from heplearn.training.module import InputScaler, ScaledTagger

    dims = model_dimensions(config.model, arrays)
    network = models.create(config.model, preset=config.preset, **dims, **config.model_overrides)
    return ScaledTagger(network, InputScaler(stats))


def _make_module(tagger, config: TrainConfig, train_arrays):
    from heplearn.training.module import AdversarialTaggerModule, TaggerModule

    d = config.decorrelation
    if d is None or d.method != "adversary":
        return TaggerModule(tagger, config)
    from heplearn.decorrelation.adversary import mass_bin_edges

    m = np.asarray(train_arrays["decorrelate"])
    if d.background_only:
        m = m[np.asarray(train_arrays["label"]) == 0]
    return AdversarialTaggerModule(tagger, config, mass_bin_edges(m, d.adversary_bins))


def _train_torch(train_arrays, val_arrays, config, run_dir, resume, max_epochs) -> TrainResult:
    import lightning as L
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

    from heplearn.training.module import HistoryCallback, RngStateCallback

    if not config.progress:  # quiet runs: no banners from Lightning either
        logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    L.seed_everything(config.seed, workers=True, verbose=False)

    from heplearn.training.inputs import required_inputs

    consumed = required_inputs(config.model, config.model_overrides)
    stats = fit_scaler(train_arrays, keys=tuple(sorted(consumed & {"features", "jet_features"})))
    from heplearn.evaluation.report import write_json

    write_json(run_dir / "scaler.json", stats)
    tagger = _make_tagger(config, train_arrays, stats)
    module = _make_module(tagger, config, train_arrays)
    ckpt_dir = run_dir / "checkpoints"
    checkpoint = ModelCheckpoint(
        dirpath=ckpt_dir,
        filename="best",
        monitor="val_loss",
        mode="min",
        enable_version_counter=False,
    )
    # Lightning 2.6's save_last writes last.ckpt only in epochs that also improved the best
    # one, so a resume would restart from the best epoch: keep "last" with its own callback
    last = ModelCheckpoint(
        dirpath=ckpt_dir, filename="last", monitor=None, enable_version_counter=False
    )
    callbacks = [checkpoint, last, RngStateCallback(), HistoryCallback(run_dir / "history.json")]
    if config.early_stopping_patience:
        callbacks.append(
            EarlyStopping(monitor="val_loss", mode="min", patience=config.early_stopping_patience)
        )
    if config.progress:
        from lightning.pytorch.callbacks import RichProgressBar

        callbacks.append(RichProgressBar(leave=True))
    accelerator, precision = _accelerator(config)
    devices = config.devices
    if accelerator == "cpu" and devices == "auto":
        devices = 1  # CPU DDP (gloo) only when asked for, e.g. devices=2
    several = (devices == "auto" and accelerator == "cuda") or devices not in ("auto", 1)
    strategy = "ddp" if several or config.num_nodes > 1 else "auto"
    trainer = L.Trainer(
        max_epochs=config.epochs,
        accelerator=accelerator,
        devices=devices,
        num_nodes=config.num_nodes,
        strategy=strategy,
        precision=precision,
        # manual optimisation (the adversary) clips in its own training_step
        gradient_clip_val=config.gradient_clip_norm if module.automatic_optimization else None,
        gradient_clip_algorithm="norm",
        callbacks=callbacks,
        logger=False,
        enable_progress_bar=config.progress,
        enable_model_summary=False,
        deterministic=accelerator == "cpu",  # GPU scatter ops have no deterministic kernel
        default_root_dir=run_dir,
        num_sanity_val_steps=0,
        use_distributed_sampler=False,  # EpochSampler shards across DDP ranks itself
    )
    if max_epochs is not None:
        trainer.fit_loop.max_epochs = max_epochs
    with warnings.catch_warnings():
        # resuming into the run's own checkpoint directory is the point of resuming
        warnings.filterwarnings("ignore", "Checkpoint directory .* exists and is not empty")
        # Lightning 2.6 calls a torch pytree API that torch 2.13 deprecates (not ours)
        warnings.filterwarnings("ignore", r"`isinstance\(treespec, LeafSpec\)`", FutureWarning)
        train_loader = _loader(train_arrays, config, shuffle=True)
        train_loader.sampler.epoch_source = module
        trainer.fit(
            module,
            train_dataloaders=train_loader,
            val_dataloaders=_loader(val_arrays, config, shuffle=False),
            ckpt_path=None if resume is None else str(resume),
            weights_only=True,
        )
    best = checkpoint.best_model_score
    return TrainResult(
        run_dir=run_dir,
        model=config.model,
        parameters=sum(p.numel() for p in tagger.network.parameters()),
        train_seconds=0.0,
        epochs_run=trainer.current_epoch,
        best_val_loss=None if best is None else float(best),
        is_main_process=trainer.is_global_zero,
    )


def _train_tabular(train_arrays, val_arrays, config, run_dir) -> TrainResult:
    from heplearn import models

    est = models.create(config.model, preset=config.preset, **config.model_overrides)
    if hasattr(est, "random_state") and "random_state" not in config.model_overrides:
        est.random_state = config.seed  # seeds the trees' row subsampling, as for networks
    x, y = train_arrays["jet_features"], train_arrays["label"]
    w = train_arrays.get("weight")
    est.fit(x, y, sample_weight=w, eval_set=(val_arrays["jet_features"], val_arrays["label"]))
    tmp = run_dir / f".model.json.tmp-{os.getpid()}"
    est.save_json(tmp)
    os.replace(tmp, run_dir / "model.json")
    return TrainResult(
        run_dir=run_dir,
        model=config.model,
        parameters=int(est.n_parameters()),
        train_seconds=0.0,
        epochs_run=1,
        best_val_loss=None,
    )


def load_tagger(run_dir: str | os.PathLike, which: str = "best"):
    """Load a trained tagger from a run directory without executing any code from it:
    checkpoints are read with ``torch.load(weights_only=True)``, tabular models from JSON.
    Returns a torch module (eval mode) or a tabular estimator."""
    from heplearn import models

    run_dir = Path(run_dir)
    config = _read_config(run_dir)
    info = models.model_info(config.model)
    if info.kind == "tabular":
        est = models.create(config.model, preset=config.preset, **config.model_overrides)
        est.load_json(run_dir / "model.json")
        return est
    ckpt = run_dir / "checkpoints" / f"{which}.ckpt"
    if not ckpt.is_file():
        raise InputFileError(f"checkpoint {str(ckpt)!r} not found (train first?)")
    try:
        state = torch.load(ckpt, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unpickling failure means: not ours
        raise FormatError(
            f"{ckpt}: not a loadable heplearn checkpoint ({type(err).__name__}: {err}); "
            "only tensors and plain containers are accepted"
        ) from None
    stats = json.loads((run_dir / "scaler.json").read_text())
    dims = json.loads((run_dir / "config.json").read_text()).get("dimensions", {})
    from heplearn.training.module import InputScaler, ScaledTagger

    network = models.create(config.model, preset=config.preset, **dims, **config.model_overrides)
    tagger = ScaledTagger(network, InputScaler(stats))
    weights = {
        k.removeprefix("tagger."): v
        for k, v in state.get("state_dict", {}).items()
        if k.startswith("tagger.")
    }
    try:
        tagger.load_state_dict(weights)
    except RuntimeError as err:
        raise FormatError(
            f"{ckpt}: checkpoint does not fit model {config.model!r} "
            f"(preset {config.preset!r}): {str(err).splitlines()[0]}"
        ) from None
    return tagger.eval()


def _read_config(run_dir: Path) -> TrainConfig:
    path = run_dir / "config.json"
    if not path.is_file():
        raise InputFileError(f"{str(path)!r} not found: not a heplearn run directory")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise FormatError(f"{path}: not valid JSON ({err})") from None
    return TrainConfig.cast(data.get("config", {}))


def _check_inputs(tagger, arrays: dict[str, np.ndarray]) -> None:
    """Refuse input arrays a tagger cannot read: a missing input, or a number of features
    (per particle: ``features``; per jet: ``jet_features``) or of kNN coordinates
    (``points``) other than the tagger was trained on, naming the array and both counts."""
    if hasattr(tagger, "predict_proba"):  # a tree ensemble or logistic regression
        reads = ("jet_features",)
        trained = {"jet_features": getattr(tagger, "n_features_in_", None)}
    else:
        reads = tuple(tagger.inputs)
        scaler = getattr(tagger, "scaler", None)  # None: a bare network, not a trained tagger
        trained = {k: len(getattr(scaler, f"mean_{k}")) for k in getattr(scaler, "keys", ())}
        trained["points"] = getattr(getattr(tagger, "network", tagger), "n_coordinates", None)
    missing = [k for k in reads if k not in arrays]
    if missing:
        raise HeplearnError(
            f"predict: the tagger reads {list(reads)}, the input arrays lack {missing}; "
            "build them with heplearn.training.build_inputs and the run's config"
        )
    for key, n in trained.items():
        if n is not None and key in reads and np.shape(arrays[key])[-1] != n:
            raise HeplearnError(
                f"predict: {key!r} has {np.shape(arrays[key])[-1]} columns, the tagger was "
                f"trained on {n}; build the inputs with the run's config (its "
                "particle_features), e.g. through heplearn.training.evaluate(run, data)"
            )


@torch.no_grad()
def predict(tagger, arrays: dict[str, np.ndarray], batch_size: int = 256) -> np.ndarray:
    """Signal probability (softmax of class 1) for each jet of the input arrays.

    ``batch_size`` jets per forward pass; the scores do not depend on it. 256 keeps the
    networks' largest temporaries (the pairwise tensors of LorentzNet, ParT, ParticleNet)
    below glibc's 32 MB ceiling for reusing freed heap memory: at 1024 every such tensor
    is a fresh ``mmap`` whose pages the kernel zeroes on first touch (LorentzNet: 1.9M
    minor page faults per 4096 jets against 0.36M), and in a fresh process every network
    scored about half as fast on this project's 2-core CPU. The batch size is checked
    for every tagger, the tree-based ones (which score all jets at once) included, and so
    are the arrays: a missing input, or another number of particle features, kNN
    coordinates or jet observables than the tagger was trained on, is refused by name.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise HeplearnError(f"predict: batch_size must be a whole number >= 1, got {batch_size!r}")
    _check_inputs(tagger, arrays)
    if hasattr(tagger, "predict_proba"):
        return np.asarray(tagger.predict_proba(arrays["jet_features"])[:, 1], dtype=float)
    tagger.eval()
    keys = [k for k in (*tagger.inputs, "mask") if k in arrays]
    n = len(next(iter(arrays.values())))
    # written in place: a list of per-batch score arrays would leave one small allocation
    # after each batch's freed temporaries and ratchet the heap up for the whole pass
    scores = np.empty(n, dtype=np.float32)
    for start in range(0, n, batch_size):
        batch = {k: torch.from_numpy(arrays[k][start : start + batch_size]) for k in keys}
        scores[start : start + batch_size] = torch.softmax(tagger(batch).float(), dim=-1)[:, 1]
    return scores


def train(
    data: str | os.PathLike | ak.Array,
    out: str | os.PathLike,
    config: TrainConfig | dict | None = None,
    *,
    resume: str | os.PathLike | None = None,
    **updates,
) -> TrainResult:
    """Train a tagger on a dataset and write the run directory.

    ``data`` is a heplearn dataset directory, any file a reader understands, or a jet
    table; ``config`` and keyword ``updates`` (e.g. ``model="particlenet", epochs=5``)
    give the :class:`TrainConfig`. Returns a :class:`TrainResult` whose ``extra`` holds
    the input arrays of every jet (``"arrays"``) and the test-split indices
    (``"test_index"``), so a notebook can score the test jets without rebuilding inputs.
    """
    from heplearn.training.inputs import build_inputs, required_inputs

    config = TrainConfig.cast(config, **updates)
    table, source = load_jets(data)
    run_dir = Path(out)
    run_dir.mkdir(parents=True, exist_ok=True)
    splits = split_indices(len(table), config.val_fraction, config.test_fraction, config.split_seed)
    train_idx = splits["train"]
    if config.max_train_jets is not None:
        train_idx = random_subset(train_idx, config.max_train_jets, config.split_seed)
    arrays = build_inputs(table, required_inputs(config.model, config.model_overrides), config)
    result = train_on_arrays(
        subset(arrays, train_idx),
        subset(arrays, splits["val"]),
        config,
        run_dir,
        resume=resume,
        source=source,
    )
    result.extra["test_index"] = splits["test"]
    result.extra["arrays"] = arrays
    return result


def _test_arrays(run_dir: Path, data=None):
    """The run's test split, rebuilt from its config (splits are a function of the seed)."""
    from heplearn.training.inputs import build_inputs, required_inputs

    meta = json.loads((run_dir / "config.json").read_text())
    config = TrainConfig.cast(meta["config"])
    if data is None:
        data = meta.get("data", {}).get("source")
        if not data or data == "in-memory jet table":
            raise InputFileError(
                f"{run_dir}: the run was trained on an in-memory table; pass the data"
            )
    table, _ = load_jets(data)
    splits = split_indices(len(table), config.val_fraction, config.test_fraction, config.split_seed)
    arrays = build_inputs(table, required_inputs(config.model, config.model_overrides), config)
    return config, table[splits["test"]], subset(arrays, splits["test"])


def evaluate(
    run_dir: str | os.PathLike,
    data: str | os.PathLike | ak.Array | None = None,
    *,
    bootstrap: int = 100,
    which: str = "best",
) -> dict[str, Any]:
    """Evaluate a trained run on its held-out test split; write ``metrics.json``,
    ``report.md`` and the standard figures (rejection, SIC, score distributions,
    calibration, and the background mass before/after a cut at ε_S = 0.5)."""
    from heplearn.evaluation import plots
    from heplearn.evaluation.metrics import evaluate_scores
    from heplearn.evaluation.report import write_json, write_report

    run_dir = Path(run_dir)
    config, table, test = _test_arrays(run_dir, data)
    tagger = load_tagger(run_dir, which)
    scores = predict(tagger, test)
    labels = test["label"]
    weights = test.get("weight")
    metrics = evaluate_scores(scores, labels, weights, bootstrap=bootstrap, seed=config.seed)
    # sculpting of the variable the run decorrelated from (the jet mass otherwise)
    variable = "mass" if config.decorrelation is None else config.decorrelation.variable
    mass = ak.to_numpy(table[variable]).astype(np.float64)
    from heplearn.evaluation.metrics import InvalidScoresError, sculpting_jsd

    # sculpting at eps_S = 0.5 (the decorrelation plane of arXiv:2001.05310); undefined
    # (None) when no background jet passes or fails that cut; no sculpting at all (JSD = 0)
    # gives 1/JSD = inf, as in heplearn.decorrelation.decorrelation_metrics
    try:
        jsd = sculpting_jsd(scores, labels, mass, weights, signal_efficiency=0.5)
    except InvalidScoresError:
        jsd = None
    metrics["sculpting_variable"] = variable
    metrics["jsd_at_0.5"] = jsd
    metrics["inverse_jsd_at_0.5"] = None if jsd is None else (1.0 / jsd if jsd > 0 else np.inf)
    models = {config.model: (scores, labels)}
    figures = [
        plots.plot_rejection(models, run_dir / "rejection.png"),
        plots.plot_sic(models, run_dir / "sic.png"),
        plots.plot_score_distributions(scores, labels, run_dir / "scores.png"),
        plots.plot_calibration(models, run_dir / "calibration.png"),
        plots.plot_sculpting(scores, labels, mass, run_dir / "sculpting.png"),
    ]
    write_json(run_dir / "metrics.json", metrics)
    write_report(run_dir, f"{config.model} on the test split", metrics, figures)
    return metrics


def export_onnx(
    run_dir: str | os.PathLike, out: str | os.PathLike | None = None, *, which: str = "best"
) -> Path:
    """Write the run's tagger (input scaler included) as ONNX; returns the file path.

    The ONNX graph takes the model's named inputs (``features``, ``mask``, ...) with a
    dynamic batch axis and returns the logits. Tabular models are not exported.
    """
    run_dir = Path(run_dir)
    tagger = load_tagger(run_dir, which)
    if not isinstance(tagger, torch.nn.Module):
        raise FormatError(
            f"{run_dir}: ONNX export is for torch models, not {type(tagger).__name__}"
        )
    meta = json.loads((run_dir / "config.json").read_text())
    config = TrainConfig.cast(meta["config"])
    example = _example_inputs(tagger, config, meta.get("dimensions", {}))
    names = list(example)
    out = Path(out) if out is not None else run_dir / "model.onnx"
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")

    class _Positional(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *tensors):
            return self.inner(dict(zip(names, tensors, strict=True)))

    with warnings.catch_warnings():
        # the TorchScript exporter (the dynamo one needs onnxscript) announces its own
        # deprecation and flags trace-time constants such as padding sizes; neither
        # changes the exported graph, which the tests compare with torch
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        torch.onnx.export(
            _Positional(tagger).eval(),
            tuple(example.values()),
            str(tmp),
            input_names=names,
            output_names=["logits"],
            dynamic_axes={**{n: {0: "batch"} for n in names}, "logits": {0: "batch"}},
            dynamo=False,
        )
    os.replace(tmp, out)
    return out


def _example_inputs(tagger, config: TrainConfig, dims: dict) -> dict[str, torch.Tensor]:
    """A small, valid batch with the shapes the tagger was trained on."""
    g = torch.Generator().manual_seed(0)
    B, P = 2, config.max_particles
    out: dict[str, torch.Tensor] = {}
    for key in tagger.inputs:
        if key == "features":
            out[key] = torch.randn(B, P, dims.get("n_features", 1), generator=g)
        elif key == "points":
            out[key] = 0.3 * torch.randn(B, P, dims.get("n_coordinates", 2), generator=g)
        elif key == "vectors":
            p3 = 10 * torch.randn(B, P, 3, generator=g)
            out[key] = torch.cat([p3.norm(dim=-1, keepdim=True) + 0.1, p3], dim=-1)
        elif key == "image":
            h, w = dims.get("image_size", (config.image_pixels, config.image_pixels))
            out[key] = torch.rand(B, 1, h, w, generator=g)
        elif key == "jet_features":
            out[key] = torch.randn(B, dims.get("n_jet_features", 14), generator=g)
    mask = torch.zeros(B, P, dtype=torch.bool)
    mask[0, : P // 2] = True
    mask[1, :] = True
    out["mask"] = mask
    for key in ("features", "points", "vectors"):
        if key in out:
            out[key] = out[key] * mask.unsqueeze(-1)
    return out
