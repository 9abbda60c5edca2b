"""Losses for rare signals: focal loss against (class-weighted) cross-entropy at 1:100.

A top-tagging training set is thinned to one signal jet per hundred background jets (the
regime of a rare-signal search), and the same network is trained with the same budget
(epochs, batch size, learning rate, seeds) under three losses:

- ``cross_entropy``: plain cross-entropy;
- ``weighted_cross_entropy``: cross-entropy with class-balanced event weights
  (signal and background carry equal total weight);
- ``focal``: focal loss −α_t (1 − p_t)^γ log p_t (Lin et al., arXiv:1708.02002) with the
  paper's α = 0.25, γ = 2.

All are evaluated on a balanced held-out test set (AUC, 1/ε_B at ε_S = 0.3), each over
several training seeds (median and spread). Focal loss is not a proper scoring rule: its
scores rank jets but are not probabilities (the calibration figure shows it), so
likelihood-ratio uses (:mod:`heplearn.reweighting`) refuse or recalibrate such models.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from heplearn.studies._common import finish_study, study_jets

__all__ = ["run", "LOSSES"]

#: loss name -> TrainConfig fields
LOSSES: dict[str, dict[str, Any]] = {
    "cross_entropy": {"loss": "cross_entropy"},
    "weighted_cross_entropy": {"loss": "cross_entropy", "balance_classes": True},
    "focal": {"loss": "focal", "focal_gamma": 2.0, "focal_alpha": 0.25},
}

_SIZES = {
    # 30k top/QCD jets (the quick landscape's dataset, reused when cached): ~9k background
    # and 90 signal jets train, the test set is 3k + 3k
    True: {"n_jets": 30_000, "epochs": 8, "seeds": 3, "model": "pfn", "preset": "small"},
    False: {"n_jets": 400_000, "epochs": 30, "seeds": 5, "model": "pfn", "preset": "default"},
}


def _rare_signal_split(labels: np.ndarray, ratio: int, seed: int) -> dict[str, np.ndarray]:
    """Balanced test (20%) and validation (10%) sets per class; the training set keeps all
    remaining background and one signal jet per ``ratio`` background jets."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    sig, bkg = (rng.permutation(np.flatnonzero(labels == c)) for c in (1, 0))
    n_test = int(0.2 * min(len(sig), len(bkg)))
    n_val = int(0.1 * min(len(sig), len(bkg)))
    for idx in (sig, bkg):
        parts["test"].append(idx[:n_test])
        parts["val"].append(idx[n_test : n_test + n_val])
    rest_bkg = bkg[n_test + n_val :]
    n_sig = max(1, len(rest_bkg) // ratio)
    parts["train"] += [rest_bkg, sig[n_test + n_val : n_test + n_val + n_sig]]
    # the validation set has the training mix too (early stopping sees the training task)
    parts["val"][0] = parts["val"][0][: max(1, len(parts["val"][1]) // ratio)]
    return {k: np.sort(np.concatenate(v)) for k, v in parts.items()}


def run(
    out: Path,
    *,
    quick: bool = True,
    data: Path | None = None,
    seed: int = 1,
    workers: int | None = None,
    progress: bool = True,
    ratio: int = 100,
) -> dict[str, Any]:
    """Train one network under each loss of :data:`LOSSES` on a 1:``ratio`` mix and
    compare AUC and 1/ε_B at ε_S = 0.3 on a balanced test set; write ``summary.json``,
    ``report.md`` and the figures into ``out``. ``data``: a labelled top/QCD dataset
    (default: generate ``top`` at ``atlas-like`` detector level)."""
    from heplearn.evaluation.metrics import auc, background_rejection
    from heplearn.evaluation.plots import plot_calibration, plot_rejection
    from heplearn.training import TrainConfig, build_inputs, required_inputs
    from heplearn.training.engine import load_tagger, predict, subset, train_on_arrays

    size = _SIZES[bool(quick)]
    t0 = time.perf_counter()
    table, source = study_jets(
        "top",
        size["n_jets"],
        data,
        seed=seed,
        detector="atlas-like",
        workers=workers,
        progress=progress,
    )
    labels = np.asarray(table["label"])
    split = _rare_signal_split(labels, ratio, seed)
    base = TrainConfig.cast(
        model=size["model"],
        preset=size["preset"],
        epochs=size["epochs"],
        max_particles=48,
        batch_size=256,
        early_stopping_patience=None,
        progress=progress,
    )
    arrays = build_inputs(table, required_inputs(base.model, base.model_overrides), base)
    tr, va, te = (subset(arrays, split[k]) for k in ("train", "val", "test"))
    results: dict[str, Any] = {}
    best_scores = {}
    for name, fields in LOSSES.items():
        runs = []
        for k in range(size["seeds"]):
            config = TrainConfig.cast(base, seed=seed + k, **fields)
            run_dir = out / "runs" / f"{name}-seed{seed + k}"
            res = train_on_arrays(tr, va, config, run_dir, source=source)
            s = predict(load_tagger(run_dir, "last"), te)
            r30 = background_rejection(s, te["label"], 0.3)
            runs.append(
                {
                    "seed": seed + k,
                    "auc": auc(s, te["label"]),
                    "rejection_at_0.3": r30.value,
                    "rejection_at_0.3_is_lower_bound": r30.is_lower_bound,
                    "train_seconds": res.train_seconds,
                }
            )
            if k == 0:
                best_scores[name] = (s, te["label"])
        a = np.array([r["auc"] for r in runs])
        r = np.array([r["rejection_at_0.3"] for r in runs])
        results[name] = {
            "auc": float(np.median(a)),
            "auc_spread": float(a.max() - a.min()),
            "rejection_at_0.3": float(np.median(r)),
            "rejection_at_0.3_spread": float(r.max() - r.min()),
            "runs": runs,
        }
    figures = [
        plot_rejection(best_scores, out / "rejection.png", title=f"1:{ratio} training mix"),
        plot_calibration(best_scores, out / "calibration.png"),
    ]
    n_sig_train = int(np.sum(tr["label"] == 1))
    summary = {
        "study": "focal",
        "quick": bool(quick),
        "dataset": source,
        "model": base.model,
        "preset": base.preset,
        "epochs": base.epochs,
        "signal_to_background_in_training": f"{n_sig_train}:{int(np.sum(tr['label'] == 0))}",
        "n_test": {
            "signal": int(np.sum(te["label"] == 1)),
            "background": int(np.sum(te["label"] == 0)),
        },
        "losses": {k: {"config": LOSSES[k], **v} for k, v in results.items()},
        "wall_seconds": time.perf_counter() - t0,
    }
    table_rows = {
        k: {
            "auc": v["auc"],
            "auc_spread": v["auc_spread"],
            "rejection_at_0.3": v["rejection_at_0.3"],
            "rejection_at_0.3_spread": v["rejection_at_0.3_spread"],
        }
        for k, v in results.items()
    }
    text = (
        f"Training mix: {summary['signal_to_background_in_training']} signal:background "
        f"jets ({base.model}, preset {base.preset}, {base.epochs} epochs, same seeds and "
        f"budget for every loss); balanced test set of {len(te['label'])} jets. Numbers are "
        f"the median over {size['seeds']} training seeds, with the max − min spread. Focal "
        "loss is not a proper scoring rule: its scores are not probabilities (see the "
        "calibration figure); recalibrate before reading them as such."
    )
    return finish_study(
        out,
        "Focal loss vs cross-entropy on a rare signal",
        summary,
        figures,
        text,
        metrics=table_rows,
    )
