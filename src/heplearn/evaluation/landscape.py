"""The tagger landscape: the field's top-tagging comparison, end to end on any machine.

Reproduces the structure of "The Machine Learning Landscape of Top Taggers" (Kasieczka,
Plehn et al., SciPost Phys. 7, 014 (2019), arXiv:1902.09914): one dataset, one fixed
train/validation/test split, every architecture trained on the same jets, evaluated on the
same held-out test jets with AUC, accuracy and background rejection 1/ε_B at ε_S = 0.3 and
0.5 (with bootstrap uncertainties, and as lower bounds where fewer than 20 background jets
pass), next to two classic, non-ML taggers (the Johns Hopkins tagger and a τ32 cut inside a
soft-drop mass window).

``quick`` is sized for a 2-core CPU (data generation included, well under 15 minutes);
``full`` uses the published sample sizes (1.2M/400k/400k) and the default presets, for a GPU.
"""

from __future__ import annotations

import functools
import math
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import awkward as ak
import numpy as np

from heplearn.errors import HeplearnError, UnknownNameError

__all__ = [
    "LandscapeSize",
    "SIZES",
    "CLASSIC_TAGGERS",
    "TEST_SEED_OFFSET",
    "default_models",
    "landscape",
    "format_table",
]


@dataclass(frozen=True)
class LandscapeSize:
    """Sample size and training budget of a landscape run.

    ``epochs_for`` caps the epochs of the models whose CPU cost per jet is highest (the
    pairwise-attention and Lorentz-equivariant networks, O(P²) per jet),
    ``particles_for`` gives them only the hardest constituents, and ``preset_for`` picks
    another preset for some models (ParticleNet-Lite's published size is already
    CPU-sized). ``test_jets`` > 0 adds an independent test sample of that many jets (same
    process and detector, seed ``seed + TEST_SEED_OFFSET``) to the held-out split, so that
    rejections in the thousands rest on enough background jets.
    """

    n_jets: int
    val_fraction: float
    test_fraction: float
    preset: Literal["small", "default"]
    epochs: int
    batch_size: int
    max_particles: int
    bootstrap: int
    epochs_for: dict[str, int] = field(default_factory=dict)
    particles_for: dict[str, int] = field(default_factory=dict)
    preset_for: dict[str, str] = field(default_factory=dict)
    test_jets: int = 0


#: the independent test sample of a landscape with data seed s is generated with seed
#: s + TEST_SEED_OFFSET (every shard's Pythia seed derives from it: no event is shared)
TEST_SEED_OFFSET = 1000

#: Constituent budgets of the CPU-sized landscapes: every constituent (the budget is 128;
#: fewer than 0.2% of the ``atlas-like`` top and QCD jets have more) for the PFN, EFN and
#: LSTM, whose cost grows linearly with them, since a cut to a jet's hardest N is not
#: infrared and collinear safe (see :mod:`heplearn.models.deepsets`); the hardest 48, 32 or
#: 16 for the kNN graphs and the transformers, whose cost grows faster; the DNN reads its 30.
_CPU_PARTICLES = {
    "dnn": 30,
    "particlenet": 48,
    "particlenet-lite": 48,
    "part": 32,
    "lorentznet": 16,
    "lgatr": 16,
}

SIZES = {
    # 30k jets: 18k train / 6k validation / 6k test (3k background jets in the test set).
    "quick": LandscapeSize(
        30_000,
        0.2,
        0.2,
        "small",
        6,
        256,
        128,
        100,
        epochs_for={
            "particlenet": 3,
            "particlenet-lite": 3,
            "part": 2,
            "lorentznet": 2,
            "lgatr": 2,
        },
        particles_for=dict(_CPU_PARTICLES),
        preset_for={"particlenet-lite": "default"},
    ),
    # The ordering check on a CPU (hours on 2 cores): 160k jets = 100k train / 20k validation /
    # 40k test, plus an independent test sample of 200k jets: 120k background test jets let
    # 1/eps_B of a few thousand be measured with tens of jets passing.
    "medium": LandscapeSize(
        160_000,
        0.125,
        0.25,
        "small",
        12,
        256,
        128,
        100,
        epochs_for={
            "particlenet": 8,
            "particlenet-lite": 6,
            "part": 4,
            "lorentznet": 5,
            "lgatr": 3,
        },
        particles_for=dict(_CPU_PARTICLES),
        preset_for={"particlenet-lite": "default"},
        test_jets=200_000,
    ),
    # The reference dataset's 1.2M / 400k / 400k split.
    "full": LandscapeSize(
        2_000_000, 0.2, 0.2, "default", 30, 512, 128, 100, particles_for={"dnn": 30}
    ),
}

#: Non-ML baselines evaluated beside the trained models.
CLASSIC_TAGGERS = ("tau32-cut", "jh-tagger")

_DETECTOR = {"top": "atlas-like", "qg": "none"}
#: Per-particle network inputs: for top, the kinematics only, since the reference dataset
#: stores four-momenta only and its published networks saw nothing else; for q/g, the
#: kinematics with charge and particle type (energyflow's PFN-ID setting).
_PARTICLE_FEATURES = {"top": "kinematic", "qg": "kinpid"}
#: Models whose paper prescribes their own per-particle inputs, per process; a model gets
#: them when it runs at its published size (the ``default`` preset, e.g. ``--full``): the
#: top DNN then is TopoDNN, on its 30 hardest constituents in the aligned frame
#: (arXiv:1704.02124). At the ``small`` preset it sees the shared features: on the quick
#: sample the aligned frame costs it 0.022 in AUC, at 100k training jets it ties them in
#: AUC (``benchmarks/bench_constituent_budget.py --features``). :func:`_model_inputs` builds
#: them with the model's own number of constituents.
_PUBLISHED_PARTICLE_FEATURES = {"top": {"dnn": "topodnn"}}
#: Per process, the model options of a paper's own setup for that process, at every preset.
#: LorentzNet's quark/gluon release (arXiv:2201.08187, github.com/sdogsq/LorentzNet-release,
#: logs/qg/pretrained/args.json and qg/dataset.py) adds no beam spurions, uses c = 10⁻³ and
#: gives each node its particle type as scalars (``pid_scalars``): here the particle
#: features' charge and five type flags, :data:`heplearn.representations.PID_FEATURES` (its
#: one-hot of eight |PDG ids| is finer).
_PROCESS_MODEL_OVERRIDES = {
    "qg": {"lorentznet": {"beams": None, "c_weight": 1e-3, "pid_scalars": True}},
}


def default_models(process: str = "top", mode: str = "quick") -> list[str]:
    """Every model family of the landscape; L-GATr joins in ``full`` mode when its extra is
    installed (on a 2-core CPU it alone would take a third of the quick budget)."""
    from heplearn import models

    names = [
        "logreg",
        "bdt",
        "dnn",
        "cnn",
        "lstm",
        "pfn",
        "efn",
        "particlenet-lite",
        "particlenet",
        "part",
        "lorentznet",
    ]
    if mode == "full" and "lgatr" in models.available_models() and _lgatr_installed():
        names.append("lgatr")
    classic = list(CLASSIC_TAGGERS) if process == "top" else []
    return classic + names


def _lgatr_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("lgatr") is not None


def _dataset(process, data, n_jets: int, seed, workers, data_dir: Path) -> Path:
    """Use ``data`` or make (and cache, by manifest) ``n_jets`` jets of the process."""
    if data is not None:
        return Path(data)
    from heplearn.simulate import generate

    detector = _DETECTOR.get(process, "none")
    out = data_dir / f"{process}-{detector}-{n_jets}-seed{seed}"
    # generate() reuses every complete shard whose manifest matches: a cache by manifest
    generate(process, out, n_jets=n_jets, seed=seed, detector=detector, workers=workers)
    return out


def _test_set(table, arrays, test_idx, extra_table, extra_arrays):
    """The held-out split, followed by every jet of the independent test sample if any."""

    from heplearn.training.engine import subset

    test = subset(arrays, test_idx)
    if extra_table is None:
        return table[test_idx], test
    if set(extra_arrays) != set(test):
        raise HeplearnError(
            f"the independent test sample gives inputs {sorted(extra_arrays)}, the training "
            f"data {sorted(test)}"
        )
    fields = [f for f in table.fields if f in extra_table.fields]
    merged = ak.concatenate([table[test_idx][fields], extra_table[fields]])
    return merged, {k: np.concatenate([test[k], extra_arrays[k]]) for k in test}


def _check_same_sample(train_source: dict, test_source: dict) -> None:
    """Refuse an independent test sample whose manifest names another process, detector
    or pileup than the training dataset's (datasets without such metadata are not
    compared)."""
    import json

    def described(source):
        try:
            meta = json.loads(Path(source["manifest"]).read_text()).get("metadata", {})
        except (KeyError, OSError, ValueError):
            return None
        if not isinstance(meta.get("process"), dict) or not isinstance(meta.get("detector"), dict):
            return None
        return {
            "process": meta["process"].get("name"),
            "detector": meta["detector"].get("name"),
            "pileup_mu": meta.get("pileup_mu", 0.0),
        }

    mine, theirs = described(train_source), described(test_source)
    if mine is not None and theirs is not None and mine != theirs:
        raise HeplearnError(
            f"--test-data {test_source['source']!r} is {theirs}, the training dataset "
            f"{train_source['source']!r} is {mine}: an independent test sample must come from "
            "the same process, detector and pileup"
        )


def _inference_rate(tagger, arrays, n: int = 4096, passes: int = 3) -> float:
    """Jets per second scoring the first ``n`` jets: the fastest of ``passes`` timed passes
    after a warm-up pass (as ``timeit`` advises: the fastest pass is the one least disturbed
    by other work on a shared machine)."""
    from heplearn.training.engine import predict, subset

    sample = subset(arrays, np.arange(min(n, len(arrays["label"]))))
    predict(tagger, sample)  # warm-up: first-touch allocations, lazy initialisation
    best = np.inf
    for _ in range(passes):
        t0 = time.perf_counter()
        predict(tagger, sample)
        best = min(best, time.perf_counter() - t0)
    return len(sample["label"]) / best


def _classic_scores(name: str, test_table, observables) -> tuple[np.ndarray, float]:
    """Scores of a cut-based tagger and the threshold of its own decision.

    Jets failing its selection (score −inf) tie at one finite score below every passing
    jet, so the ROC ends at the tagger's working point; the returned threshold separates
    the two, and the tagger's accuracy is that of this decision (JH: tagged; τ32 cut: inside
    the soft-drop mass window)."""
    from heplearn.models.classic import jh_top_tagger, tau32_window_score

    if name == "tau32-cut":
        s = tau32_window_score(observables)
    elif name == "jh-tagger":
        s = jh_top_tagger(test_table)["score"]
    else:
        raise UnknownNameError(
            f"Unknown classic tagger {name!r}. Known: {', '.join(CLASSIC_TAGGERS)}"
        )
    finite = np.isfinite(s)
    floor = (s[finite].min() - 1.0) if finite.any() else 0.0
    return np.where(finite, s, floor), floor + 0.5


def _combined_row(per_training, all_scores, labels, size: LandscapeSize, seed: int) -> dict:
    """The table row of one model: the training itself, or with several trainings the
    median and spread over them (:func:`~heplearn.evaluation.metrics.combine_trainings`),
    the median training time and inference rate, and the ensemble (the mean score of the
    trainings)."""
    from heplearn.evaluation.metrics import combine_trainings, evaluate_scores

    if len(per_training) == 1:
        return {**per_training[0], "trainings": 1}
    row = combine_trainings(per_training)
    for key in ("train_seconds", "inference_jets_per_second"):
        row[key] = float(np.median([r[key] for r in per_training]))
    row["training_seeds"] = [seed + k for k in range(len(per_training))]
    ensemble = evaluate_scores(
        np.mean(all_scores, axis=0), labels, bootstrap=size.bootstrap, seed=seed
    )
    for key in ("auc", "rejection_at_0.3", "rejection_at_0.5"):
        for companion in ("", "_uncertainty", "_is_lower_bound"):
            if key + companion in ensemble:
                row[f"ensemble_{key}{companion}"] = ensemble[key + companion]
    return row


def _row(name, metrics, parameters, train_seconds, rate) -> dict[str, Any]:
    row = {
        "model": name,
        "parameters": parameters,
        "auc": metrics["auc"],
        "accuracy": metrics["accuracy"],
        "rejection_at_0.3": metrics["rejection_at_0.3"],
        "rejection_at_0.5": metrics["rejection_at_0.5"],
        "train_seconds": train_seconds,
        "inference_jets_per_second": rate,
    }
    row.update({k: v for k, v in metrics.items() if k not in row})
    return row


def _trained_only(parameters: int, train_seconds: float) -> dict[str, Any]:
    """What a finished training records before it is scored: enough for
    :func:`_finished_run` to reuse it."""
    return {"parameters": int(parameters), "train_seconds": float(train_seconds)}


def _finished_run(
    run: Path, cfg, n_train: int, source, n_val: int | None = None
) -> tuple[int, float] | None:
    """(parameters, train seconds) of a model already trained in ``run`` with this very
    config, training-set size (and validation-set size, when given) and dataset (its
    ``metrics.json`` is written only after training ends), so an interrupted landscape
    resumes with the models it has not finished; None when the model must be trained
    (also when its checkpoint no longer fits the model's architecture)."""
    import json

    from heplearn.evaluation.report import to_jsonable

    try:
        metrics = json.loads((run / "metrics.json").read_text())
        saved = json.loads((run / "config.json").read_text())
    except (OSError, ValueError):
        return None

    def comparable(config) -> dict | None:
        """The config with its defaults filled in (a run saved before a field existed had
        its default), without what does not change the trained model: the progress bar,
        the particle features of a model that reads no particle features, and the number
        of constituents of a model that reads no per-particle input (images, observables)."""
        from heplearn.training.config import TrainConfig
        from heplearn.training.inputs import required_inputs

        try:
            full = to_jsonable(TrainConfig.cast(config).model_dump())
            reads = required_inputs(full["model"], full["model_overrides"])
            if "features" not in reads:
                full.pop("particle_features")
            if not reads & {"features", "points", "vectors"}:
                full.pop("max_particles")
        except HeplearnError:
            return None
        full.pop("progress")
        return full

    mine = comparable(cfg)
    same = (
        mine is not None
        and comparable(saved.get("config", {})) == mine
        and saved.get("n_train") == n_train
        and (n_val is None or saved.get("n_val") == n_val)
        and saved.get("data") == to_jsonable(source or {})
    )
    if not same or "parameters" not in metrics or "train_seconds" not in metrics:
        return None
    from heplearn.training.engine import load_tagger

    try:  # a run of an older architecture of the same model (same config) is retrained
        load_tagger(run)
    except HeplearnError:
        return None
    return int(metrics["parameters"]), float(metrics["train_seconds"])


def _model_config(
    name: str, size: LandscapeSize, config, own: dict[str, str], process: str = "top"
):
    """The training config of one model under the landscape's budget: its epochs, preset,
    number of constituents, if ``own`` names a set for it its own particle features, and
    the options of its paper's setup for ``process`` (:data:`_PROCESS_MODEL_OVERRIDES`;
    ``pid_scalars``: the ``scalar_features`` are the particle-identification columns of
    its particle features)."""
    from heplearn.representations import PID_FEATURES

    features = _feature_names(own[name]) if name in own else config.particle_features
    overrides = dict(_PROCESS_MODEL_OVERRIDES.get(process, {}).get(name, {}))
    if overrides.pop("pid_scalars", False):
        overrides["scalar_features"] = [features.index(n) for n in PID_FEATURES if n in features]
    return config.model_copy(
        update={
            "model": name,
            "epochs": size.epochs_for.get(name, size.epochs),
            "preset": size.preset_for.get(name, size.preset),
            "max_particles": size.particles_for.get(name, size.max_particles),
            "particle_features": features,
            "model_overrides": {**config.model_overrides, **overrides},
        }
    )


def _model_inputs(cfg, table, shared: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The inputs of the model ``cfg.model`` for every jet of ``table``, and only those (a
    training copies what it is given, so the PFN should not carry the CNN's images), built
    as its saved config rebuilds them on load: with its own particle features and number
    of constituents (the aligned frame of TopoDNN depends on the constituents it is built
    from). Arrays in ``shared`` (``label``, ``weight`` and the jet observables, computed
    once for these jets: the observables cost 1–4 ms per jet) are taken from there."""
    from heplearn.training.inputs import build_inputs, required_inputs

    keys = required_inputs(cfg.model, cfg.model_overrides)
    built = build_inputs(table, (keys - set(shared)) or {"label"}, cfg)
    return {**built, **{k: shared[k] for k in keys & set(shared)}}


#: most epochs of a learning-curve point (its small training sets get more epochs)
MAX_CURVE_EPOCHS = 100


def learning_curve_epochs(epochs: int, n: int, n_train: int, step_fraction: float = 1.0) -> int:
    """Epochs of a learning-curve point with ``n`` of the ``n_train`` training jets.

    A fixed epoch budget starves the small points (1000 jets × 12 epochs are 48 optimiser
    steps of 256 jets against 4700 for 100k jets), and the curve would measure the step
    budget instead of the data. A point trains for ``step_fraction`` of the optimiser steps
    of the full one: ``max(epochs, ceil(step_fraction · epochs · n_train / n))`` epochs, at
    most :data:`MAX_CURVE_EPOCHS`; early stopping ends it sooner once the validation loss
    rises. ``step_fraction = 1`` (the default) gives every point the full point's steps;
    smaller values trade that for CPU time and leave the networks' small points short of
    convergence.
    """
    if not 0 < step_fraction <= 1:
        raise HeplearnError(f"learning-curve step fraction must be in (0, 1], got {step_fraction}")
    floor = math.ceil(round(step_fraction * epochs * n_train / n, 9))  # 0.1·12·10 is 12
    return max(epochs, min(MAX_CURVE_EPOCHS, floor))


MIN_CURVE_VALIDATION = 1000


def learning_curve_validation_size(n_val: int, n: int, n_train: int) -> int:
    """Validation jets of a learning-curve point with ``n`` of the ``n_train`` training jets.

    The point keeps the table's train/validation proportion, as a user with ``n`` jets
    would split them: ``min(n_val, max(MIN_CURVE_VALIDATION, ceil(n_val · n / n_train)))``.
    Validating 1000 training jets on the full 20k-jet validation split every epoch would
    cost twenty times the training itself; at least :data:`MIN_CURVE_VALIDATION` jets keep
    early stopping from chasing noise.
    """
    return min(n_val, max(MIN_CURVE_VALIDATION, math.ceil(round(n_val * n / n_train, 9))))


def learning_curve_sizes(n_train: int, n_points: int = 5) -> np.ndarray:
    """Log-spaced training-set sizes from min(1000, n_train / 10) to ``n_train``."""
    first = min(1000, max(1, n_train // 10))
    return np.unique(np.geomspace(first, n_train, n_points).astype(int))


def _inputs(table, source: dict, keys: set[str], config, out: Path) -> dict[str, np.ndarray]:
    """The model inputs of ``table``; the jet observables (1–4 ms per jet: minutes for a
    large dataset) are cached in ``OUT/cache/`` under a digest of the dataset manifest, the
    jet radius, the heplearn version and the source of :mod:`heplearn.physics.observables`
    (so a changed definition is never served from the cache), so a repeated, resumed or
    split landscape computes them once. Only a dataset with a manifest is cached (an
    in-memory table has no identity); a cache file of the wrong shape is recomputed."""
    import hashlib
    import json

    import heplearn
    from heplearn.physics import observables
    from heplearn.training.inputs import build_inputs

    if "jet_features" not in keys or "manifest" not in source:
        return build_inputs(table, keys, config)
    identity = json.dumps(
        [
            hashlib.sha256(Path(source["manifest"]).read_bytes()).hexdigest(),
            hashlib.sha256(Path(observables.__file__).read_bytes()).hexdigest(),
            heplearn.__version__,
            config.jet_radius,
            len(table),
        ]
    )
    path = out / "cache" / f"jet_features-{hashlib.sha256(identity.encode()).hexdigest()[:16]}.npy"
    # only label and weight when nothing but the observables is needed
    arrays = build_inputs(table, (keys - {"jet_features"}) or {"label"}, config)
    shape = (len(table), len(observables.OBSERVABLE_NAMES))
    try:
        cached = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        cached = None
    if cached is not None and cached.shape == shape:
        arrays["jet_features"] = cached
        return arrays
    arrays["jet_features"] = build_inputs(table, {"jet_features"}, config)["jet_features"]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}-{os.getpid()}.tmp.npy")
    np.save(tmp, arrays["jet_features"], allow_pickle=False)
    os.replace(tmp, path)
    return arrays


def _learning_curve(
    cfg,
    fit_inputs,
    splits,
    test: dict[str, np.ndarray],
    table_scores: np.ndarray,
    out: Path,
    source,
    step_fraction: float = 1.0,
) -> dict[str, list]:
    """AUC and 1/eps_B at 0.3 against the number of training jets, for the model of
    ``cfg`` (the table's config).

    Each point trains on a seeded random subset of the training split (the subsets are
    nested: every smaller set is part of the larger ones), validated on a nested random
    subset of the validation split of :func:`learning_curve_validation_size` jets, with the
    settings of the table, scored on ``test`` (the model's inputs of the held-out split),
    for :func:`learning_curve_epochs` epochs (early stopping on the validation loss as
    usual); the largest point is the table's own model (``OUT/models/NAME``, its held-out
    scores ``table_scores`` reused), and every point already trained with this config and
    data is reused, so an interrupted curve resumes where it stopped. ``fit_inputs()``
    gives the model's inputs of the training and validation splits (built only if a point
    is trained).
    """
    from heplearn.evaluation.metrics import evaluate_scores
    from heplearn.evaluation.report import write_json
    from heplearn.training.engine import (
        load_tagger,
        predict,
        random_subset,
        subset,
        train_on_arrays,
    )

    full = cfg.model_copy(update={"progress": False})
    n_train = len(splits["train"])
    rows: dict[str, list] = {
        k: []
        for k in ("n_train", "max_epochs", "train_seconds", "auc", "auc_err", "r30", "r30_err")
    }
    name = full.model
    for n in learning_curve_sizes(n_train):
        run = out / "models" / name if n == n_train else out / "learning_curve" / f"{name}-{n}"
        point = full.model_copy(
            update={"epochs": learning_curve_epochs(full.epochs, int(n), n_train, step_fraction)}
        )
        n_val = learning_curve_validation_size(len(splits["val"]), int(n), n_train)
        done = _finished_run(run, point, int(n), source, n_val)
        if done is None:
            fit = fit_inputs()
            # the rows of the nested subsets in the splits' inputs (split indices are sorted)
            train = random_subset(splits["train"], int(n), cfg.split_seed)
            val = random_subset(splits["val"], n_val, cfg.split_seed + 1)
            result = train_on_arrays(
                subset(fit["train"], np.searchsorted(splits["train"], train)),
                subset(fit["val"], np.searchsorted(splits["val"], val)),
                point,
                run,
                source=source,
            )
            done = (result.parameters, result.train_seconds)
            write_json(run / "metrics.json", _trained_only(*done))
        scores = table_scores if n == n_train else predict(load_tagger(run), test)
        m = evaluate_scores(scores, test["label"], bootstrap=20, seed=cfg.seed)
        if n != n_train:  # the table's own run keeps the table's metrics.json
            write_json(run / "metrics.json", {**_trained_only(*done), "n_train": int(n), **m})
        rows["n_train"].append(int(n))
        rows["max_epochs"].append(point.epochs)
        rows["train_seconds"].append(done[1])
        rows["auc"].append(m["auc"])
        rows["auc_err"].append(m["auc_uncertainty"])
        rows["r30"].append(m["rejection_at_0.3"])
        rows["r30_err"].append(m["rejection_at_0.3_uncertainty"] or 0.0)
    return rows


def _trained_model(
    base,
    table,
    splits,
    shared: dict[str, np.ndarray],
    test_table,
    test: dict[str, np.ndarray],
    *,
    size: LandscapeSize,
    out: Path,
    source,
    trainings: int,
    curve_step_fraction: float | None,
) -> tuple[dict[str, Any], np.ndarray, dict[str, list] | None]:
    """One trained model of the landscape: trained ``trainings`` times (or reused), scored
    on the test set, and its learning curve if ``curve_step_fraction`` is given. Returns its
    table row, the first training's test scores and the curve.

    The model's inputs are built when its turn comes and freed when it is done, so the
    landscape holds one model's inputs at a time, not every model's (13.2 KB per jet with
    128 constituents, half of it the CNN's images: 26 GB for ``--full``'s 2M jets); those
    of the training and validation splits only if something is trained.
    """
    from heplearn.evaluation.metrics import evaluate_scores
    from heplearn.evaluation.report import write_json
    from heplearn.training.engine import load_tagger, predict, subset, train_on_arrays

    @functools.cache
    def fit_inputs() -> dict[str, dict[str, np.ndarray]]:
        return {
            part: _model_inputs(base, table[splits[part]], subset(shared, splits[part]))
            for part in ("train", "val")
        }

    name, seed = base.model, base.seed
    mine_test = _model_inputs(base, test_table, test)
    per_training, all_scores = [], []
    for k in range(trainings):
        # the split stays fixed by split_seed: only the training seed changes
        cfg = base.model_copy(update={"seed": seed + k})
        run = out / "models" / name
        if k > 0:
            run = out / "trainings" / f"{name}-seed{seed + k}"
        done = _finished_run(run, cfg, len(splits["train"]), source)
        if done is None:
            fit = fit_inputs()
            result = train_on_arrays(fit["train"], fit["val"], cfg, run, source=source)
            done = (result.parameters, result.train_seconds)
            # recorded before the evaluation: a landscape stopped while scoring (the test
            # set is the largest array it holds) keeps the training
            write_json(run / "metrics.json", _trained_only(*done))
        tagger = load_tagger(run)
        all_scores.append(predict(tagger, mine_test))
        m = evaluate_scores(all_scores[-1], test["label"], bootstrap=size.bootstrap, seed=seed)
        rate = _inference_rate(tagger, mine_test)
        per_training.append(_row(name, m, *done, rate))
        write_json(run / "metrics.json", per_training[-1])
    row = {
        **_combined_row(per_training, all_scores, test["label"], size, seed),
        "preset": base.preset,
    }
    curve = None
    if curve_step_fraction is not None:
        # measured on the held-out split of the dataset itself (the first rows of the test
        # set); an independent test sample refines the table only
        held = np.arange(len(splits["test"]))
        curve = _learning_curve(
            base,
            fit_inputs,
            splits,
            subset(mine_test, held),
            all_scores[0][held],
            out,
            source,
            curve_step_fraction,
        )
    return row, all_scores[0], curve


def learning_curve_table(curves: dict[str, dict[str, list]]) -> str:
    """Markdown table of AUC per model (columns) and training-set size (rows), the best
    model of each size in bold, so where the curves cross is read off directly."""
    names = list(curves)
    sizes = sorted({n for c in curves.values() for n in c["n_train"]})
    lines = [
        "| training jets | " + " | ".join(names) + " |",
        "| ---: |" + " ---: |" * len(names),
    ]
    for n in sizes:
        aucs = {
            name: c["auc"][c["n_train"].index(n)] for name, c in curves.items() if n in c["n_train"]
        }
        best = max(aucs, key=aucs.get)
        cells = [f"{aucs[name]:.4f}" if name in aucs else "" for name in names]
        cells[names.index(best)] = f"**{cells[names.index(best)]}**"
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def landscape(
    process: str = "top",
    *,
    mode: Literal["quick", "medium", "full"] = "quick",
    data: str | os.PathLike | None = None,
    models: list[str] | None = None,
    out: str | os.PathLike = "runs/landscape",
    seed: int = 1,
    workers: int | None = None,
    learning_curve: bool = False,
    curve_step_fraction: float = 1.0,
    data_dir: str | os.PathLike = "data",
    progress: bool = True,
    test_data: str | os.PathLike | None = None,
    trainings: int = 1,
    preset: Literal["small", "default"] | None = None,
) -> list[dict[str, Any]]:
    """Train and compare taggers; write ``OUT/landscape.json``, ``OUT/report.md`` and figures.

    Parameters
    ----------
    process
        ``top`` (the default: ``atlas-like`` detector level, as the reference dataset) or
        ``qg``.
    mode
        ``quick`` (2-core CPU, small presets, minutes), ``medium`` (100k training jets, small
        presets: the ordering check on a CPU, hours) or ``full`` (published sizes, GPU).
    data
        An existing dataset (any readable path); default: generate one under ``data_dir``,
        reused by its manifest on the next run.
    models
        Registry names and classic taggers (default: :func:`default_models`).
    test_data
        An independent test sample (same process and detector, never trained on) whose
        every jet joins the held-out split; default: when the landscape makes its own data
        in ``medium`` mode, the mode's ``test_jets`` generated with seed
        ``seed + TEST_SEED_OFFSET``; otherwise none.
    learning_curve
        Also train every model on nested subsets of 1000 jets up to the training split
        (:func:`learning_curve_sizes`) and plot AUC and 1/eps_B at 0.3 against the size,
        measured on the held-out split.
    curve_step_fraction
        Each learning-curve point trains for this fraction of the full point's optimiser
        steps (:func:`learning_curve_epochs`; 1 = equal steps).
    preset
        The preset of every trained model, instead of the mode's (``quick`` and
        ``medium``: ``small``, ParticleNet-Lite at its published size; ``full``:
        ``default``); each row records its ``preset``. ``"default"`` trains the published
        architectures under the mode's sample size, epoch caps and constituent limits
        (the graph networks and transformers keep their fewer constituents), and gives a
        model whose paper prescribes its own inputs those (the top DNN: TopoDNN's aligned
        frame, :data:`_PUBLISHED_PARTICLE_FEATURES`); ``"small"`` also shrinks
        ParticleNet-Lite to ParticleNet's small size. A model trained in ``out`` with
        another config (preset included) is retrained over it: give another ``out`` to
        keep both.
    trainings
        Train every model this many times, with training seeds ``seed``, ``seed + 1``, ...
        on the same split, and quote the median over the trainings with their 16–84%
        spread, as the landscape paper does with nine (``<metric>_spread``, ``trainings``,
        ``training_seeds``, and the ``ensemble_*`` metrics of the mean score; see
        :func:`~heplearn.evaluation.metrics.combine_trainings`). The first training lives
        in ``OUT/models/NAME``, the others in ``OUT/trainings/NAME-seedS``; the figures
        and the learning curve use the first. Default 1: one training, its bootstrap
        uncertainties only.

    Returns
    -------
    One dict per model with ``model, parameters, auc, accuracy, rejection_at_0.3,
    rejection_at_0.5, train_seconds, inference_jets_per_second`` and the uncertainties.
    ``OUT/landscape.json`` holds these rows, each with the path of the dataset's
    ``manifest`` (``None`` for data read from a file without one) and, with an
    independent test sample, its ``test_manifest``.
    """
    from heplearn import models as registry
    from heplearn.evaluation.metrics import evaluate_scores
    from heplearn.evaluation.plots import plot_learning_curves, plot_rejection, plot_sic
    from heplearn.evaluation.report import write_json, write_report
    from heplearn.training.config import TrainConfig
    from heplearn.training.engine import load_jets, split_indices
    from heplearn.training.inputs import required_inputs

    if mode not in SIZES:
        raise HeplearnError(f"landscape mode must be one of {sorted(SIZES)}, got {mode!r}")
    size = SIZES[mode]
    if preset is not None:
        if preset not in ("small", "default"):
            raise HeplearnError(f"preset must be 'small' or 'default', got {preset!r}")
        size = replace(size, preset=preset, preset_for={})
    names = list(models) if models else default_models(process, mode)
    trained = [n for n in names if n not in CLASSIC_TAGGERS]
    for name in trained:
        registry.model_info(name)  # unknown names fail before any work
    if learning_curve:  # so does a bad step fraction, not hours later at the curve
        learning_curve_epochs(1, 1, 1, curve_step_fraction)
    if isinstance(trainings, bool) or not isinstance(trainings, int) or trainings < 1:
        raise HeplearnError(f"trainings must be a whole number >= 1, got {trainings!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    dataset = _dataset(process, data, size.n_jets, seed, workers, Path(data_dir))
    table, source = load_jets(dataset)
    extra_source = extra_table = None
    if test_data is None and size.test_jets and data is None:
        test_data = _dataset(
            process, None, size.test_jets, seed + TEST_SEED_OFFSET, workers, Path(data_dir)
        )
    if test_data is not None:
        extra_table, extra_source = load_jets(test_data)
        if Path(test_data).resolve() == Path(dataset).resolve():
            raise HeplearnError(
                f"--test-data {str(test_data)!r} is the training dataset itself; give an "
                "independent sample (e.g. generated with another seed)"
            )
        _check_same_sample(source, extra_source)
    labels = np.unique(np.asarray(table["label"]))
    if len(labels) != 2:
        raise HeplearnError(f"{dataset}: the landscape needs two classes, found {labels}")
    radius = 0.8 if process == "top" else 0.4
    config = TrainConfig.cast(
        None,
        seed=seed,
        preset=size.preset,
        epochs=size.epochs,
        batch_size=size.batch_size,
        max_particles=size.max_particles,
        val_fraction=size.val_fraction,
        test_fraction=size.test_fraction,
        jet_radius=radius,
        particle_features=_PARTICLE_FEATURES.get(process, "kinpid"),
        progress=progress,
    )
    splits = split_indices(len(table), size.val_fraction, size.test_fraction, config.split_seed)
    keys = required_inputs(trained) if trained else set()
    # every jet's label, weight and observables, shared by the models; each trained model
    # builds its own inputs when its turn comes (_trained_model)
    shared_keys = {"jet_features"} if "tau32-cut" in names or "jet_features" in keys else set()
    own = {
        m: f
        for m, f in _PUBLISHED_PARTICLE_FEATURES.get(process, {}).items()
        if m in trained and size.preset_for.get(m, size.preset) == "default"
    }
    arrays = _inputs(table, source, shared_keys or {"label"}, config, out)
    extra_arrays = None
    if extra_source is not None:
        extra_arrays = _inputs(extra_table, extra_source, shared_keys or {"label"}, config, out)
    test_table, test = _test_set(table, arrays, splits["test"], extra_table, extra_arrays)
    # the test set holds its own copy of the independent sample's jets: free the originals
    n_extra = None if extra_table is None else len(extra_table)
    del extra_table, extra_arrays

    rows, scores, curves = [], {}, {}
    for name in names:
        if name in CLASSIC_TAGGERS:
            from heplearn.physics.observables import OBSERVABLE_NAMES

            # the observables were computed once for every jet, as jet_features
            obs = dict(zip(OBSERVABLE_NAMES, test["jet_features"].T, strict=True))
            t0 = time.perf_counter()
            s, decision = _classic_scores(name, test_table, obs)
            rate = len(s) / (time.perf_counter() - t0)
            m = evaluate_scores(
                s, test["label"], bootstrap=size.bootstrap, seed=seed, accuracy_threshold=decision
            )
            rows.append({**_row(name, m, 0, 0.0, rate), "trainings": 0})
        else:
            row, s, curve = _trained_model(
                _model_config(name, size, config, own, process),
                table,
                splits,
                arrays,
                test_table,
                test,
                size=size,
                out=out,
                source=source,
                trainings=trainings,
                curve_step_fraction=curve_step_fraction if learning_curve else None,
            )
            rows.append(row)
            if curve is not None:
                curves[name] = curve
        scores[name] = (s, test["label"])

    figures = [
        plot_rejection(scores, out / "rejection.png", title=f"{process} landscape ({mode})"),
        plot_sic(scores, out / "sic.png"),
    ]
    extra = {}
    if learning_curve:
        extra["learning_curve"] = curves
        figures.append(
            plot_learning_curves(
                {n: (c["n_train"], c["auc"], c["auc_err"]) for n, c in curves.items()},
                out / "learning_curve_auc.png",
            )
        )
        figures.append(
            plot_learning_curves(
                {n: (c["n_train"], c["r30"], c["r30_err"]) for n, c in curves.items()},
                out / "learning_curve_r30.png",
                ylabel="1/ε_B at ε_S = 0.3",
                log_y=True,
            )
        )
    summary = {
        "process": process,
        "mode": mode,
        "dataset": source,
        "n_jets": len(table),
        "splits": {k: int(len(v)) for k, v in splits.items()},
        "independent_test": None
        if extra_source is None
        else {"dataset": extra_source, "n_jets": n_extra},
        "n_test": {
            "signal": int(np.sum(test["label"] == 1)),
            "background": int(np.sum(test["label"] == 0)),
        },
        "models": rows,
        **extra,
    }
    # every row names the data it was measured on (summary.json describes them in full)
    provenance = {"manifest": source.get("manifest")}
    if extra_source is not None:
        provenance["test_manifest"] = extra_source.get("manifest")
    write_json(out / "landscape.json", [{**row, **provenance} for row in rows])
    write_json(out / "summary.json", summary)
    write_report(
        out,
        f"{process} tagger landscape ({mode})",
        {r["model"]: r for r in rows},
        figures,
        extra_text=_notes(
            size,
            source,
            splits,
            None if extra_source is None else (extra_source, n_extra),
            config.particle_features,
            own,
            ak.to_numpy(ak.num(table["constituents"])),
        )
        + (
            "\n\nLearning curve: AUC on the held-out split against the number of training "
            "jets (nested random subsets of the training split; best model of each size in "
            "bold).\n\n" + learning_curve_table(extra["learning_curve"])
            if learning_curve
            else ""
        ),
    )
    return rows


def _notes(
    size: LandscapeSize,
    source,
    splits,
    independent=None,
    features=(),
    own=None,
    multiplicity=None,
) -> str:
    """The report's paragraph on the sample and the settings. ``multiplicity`` (constituents
    per jet) adds, for each constituent budget, the share of the jets it cuts."""

    def cut(n: int) -> str:
        return "" if multiplicity is None else f": {100 * np.mean(multiplicity > n):.1f}% cut"

    presets = size.preset + "".join(f" ({m}: {p})" for m, p in size.preset_for.items())
    fewer_epochs = ", ".join(f"{m} {e}" for m, e in size.epochs_for.items())
    fewer_particles = "; ".join(f"{m} {n}{cut(n)}" for m, n in size.particles_for.items())
    fewer_epochs = f" ({fewer_epochs})" if fewer_epochs else ""
    fewer_particles = f" ({fewer_particles})" if fewer_particles else ""
    extra = (
        ""
        if independent is None
        else f" The test set also holds all {independent[1]} jets of the independent sample "
        f"{independent[0].get('source')}."
    )
    return (
        f"Dataset: {source.get('source')} ({sum(len(v) for v in splits.values())} jets; "
        f"train {len(splits['train'])}, validation {len(splits['val'])}, test "
        f"{len(splits['test'])}).{extra} Presets: {presets}; {size.epochs} epochs at most"
        f"{fewer_epochs}, early stopping on the validation loss; the hardest "
        f"{size.max_particles} constituents per jet{cut(size.max_particles)}"
        f"{fewer_particles}, each described to the networks by "
        f"{', '.join(features)}"
        + "".join(f" ({m}: {s}, {', '.join(_feature_names(s))})" for m, s in (own or {}).items())
        + ". A network given only a jet's N hardest constituents is not infrared and "
        "collinear safe on the jets that have more, the EFN included. "
        "Rejections marked as lower bounds had fewer than 20 "
        "background test jets passing the cut. Inference rates of the observable-based "
        "taggers (bdt, logreg, tau32-cut) exclude computing the observables (1–4 ms per jet, "
        "dominated by soft "
        "drop)."
    )


def _feature_names(feature_set: str) -> tuple[str, ...]:
    """The particle feature names of a named set (``kinematic``, ``topodnn``, ...)."""
    from heplearn.training.config import TrainConfig

    return TrainConfig.cast(None, particle_features=feature_set).particle_features


def _fmt_rejection(row: dict, eff: str) -> str:
    value = row[f"rejection_at_{eff}"]
    if row.get(f"rejection_at_{eff}_is_lower_bound"):
        return f"> {value:.0f}"
    err = row.get(f"rejection_at_{eff}_uncertainty")
    return f"{value:.0f} ± {err:.0f}" if err is not None else f"{value:.0f}"


def _fmt_spread(row: dict, key: str, digits: int) -> str:
    spread = row.get(f"{key}_spread")
    if spread is None:
        return ""
    return f"{spread[0]:.{digits}f}–{spread[1]:.{digits}f}"


def format_table(rows: list[dict[str, Any]]):
    """The landscape as a rich table (lower bounds shown as "> N": fewer than 20 background
    test jets passed that cut). With repeated trainings the numbers are medians, and two
    columns give the 16–84% range of the AUC and of 1/ε_B at ε_S = 0.3 over the trainings."""
    from rich.table import Table

    repeated = max((r.get("trainings") or 0 for r in rows), default=0)
    table = Table(title="tagger landscape (test split)")
    columns = [
        "model",
        "parameters",
        "AUC",
        "accuracy",
        "1/εB @ εS=0.3",
        "1/εB @ εS=0.5",
        "train s",
        "inference jets/s",
    ]
    if repeated > 1:
        columns[3:3] = ["AUC 16–84%"]
        columns[6:6] = ["1/εB @ 0.3 16–84%"]
    for col in columns:
        table.add_column(col, justify="left" if col == "model" else "right")
    for r in sorted(rows, key=lambda r: r["auc"]):
        auc_err = r.get("auc_uncertainty")
        cells = [
            r["model"],
            f"{r['parameters']:,}",
            f"{r['auc']:.4f}" + (f" ± {auc_err:.4f}" if auc_err else ""),
            f"{r['accuracy']:.3f}",
            _fmt_rejection(r, "0.3"),
            _fmt_rejection(r, "0.5"),
            f"{r['train_seconds']:.0f}",
            f"{r['inference_jets_per_second']:,.0f}",
        ]
        if repeated > 1:
            cells[3:3] = [_fmt_spread(r, "auc", 4)]
            cells[6:6] = [_fmt_spread(r, "rejection_at_0.3", 0)]
        table.add_row(*cells)
    table.caption = "> N: lower bound, fewer than 20 background test jets pass the cut"
    if repeated > 1:
        table.caption += (
            f"; up to {repeated} trainings per model: medians, ± the test-set bootstrap, "
            "16–84% the spread over trainings"
        )
    return table
