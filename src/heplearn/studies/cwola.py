"""Study ``cwola``: classification without labels on quark/gluon jets.

CWoLa (Metodiev, Nachman, Thaler, arXiv:1708.02949) trains mixture 1 against mixture 2;
the optimal classifier of the mixtures is the optimal quark/gluon classifier. Here the
mixtures are built from labelled ``qg`` jets (Z+jet, anti-kT R = 0.4,
500 < p_T < 550 GeV, Pythia 8 particle level) with
:func:`heplearn.weak.make_mixtures`: quark fractions (0.8, 0.4) for the headline, then
pairs closer and closer together. The labels are hidden from training (the mixture is the
label, and the early-stopping set is mixed too); a held-out test split of pure quark and
gluon jets measures the AUC, next to the fully supervised classifier trained on the same
number of jets with the same model and budget.

Model: xgboost BDT (:class:`heplearn.models.tabular.BoostedTrees`, depth 3, up to 400
trees, early stopping) on the 14 jet observables of
:mod:`heplearn.physics.observables`. Why not a ``pfn`` on particle clouds: at the quick
size (~6.7k training jets) a PFN is still on the steep part of its learning curve, so a
CWoLa-vs-supervised gap would measure under-training (doubled by CWoLa's noisier labels)
rather than the method; a BDT on observables saturates with a few thousand jets, trains
in seconds, so each point can be repeated with fresh mixtures to give its spread.

Each (f1, f2) pair and the supervised reference are trained ``n_repeats`` times (fresh
mixture draws and BDT seeds); the summary gives means and standard deviations.

``data`` (optional) is a heplearn dataset directory of labelled quark (1) / gluon (0)
jets, e.g. from ``heplearn generate qg``. The physical mixtures of the issue (a Z+jet
and a dijet sample, fractions from ``parton_pid``) are not built here.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from heplearn.errors import HeplearnError, InputFileError
from heplearn.studies._common import finish_study, study_dataset

__all__ = ["run", "HEADLINE", "SCAN", "SIZES", "make_classifier"]

#: quark fractions (f1, f2) of the headline mixtures
HEADLINE: tuple[float, float] = (0.8, 0.4)
#: the scan: pairs closer and closer together (f1 − f2 = 0.4 ... 0.05)
SCAN: tuple[tuple[float, float], ...] = (
    (0.8, 0.4),
    (0.7, 0.5),
    (0.65, 0.55),
    (0.6, 0.5),
    (0.575, 0.525),
    (0.55, 0.5),
)

SIZES: dict[bool, dict[str, Any]] = {
    True: {  # 2-core CPU, < 15 minutes with generation (~15 qg jets per CPU-second)
        "n_jets": 10_000,
        "test_fraction": 0.2,
        "n_repeats": 3,
    },
    False: {  # the size of the energyflow q/g dataset the qg card mirrors
        "n_jets": 2_000_000,
        "test_fraction": 0.1,
        "n_repeats": 5,
    },
}


def make_classifier(seed: int) -> Any:
    """The BDT used for both CWoLa and the supervised reference (same model, same budget)."""
    from heplearn.models.tabular import BoostedTrees

    return BoostedTrees(
        n_estimators=400,
        max_depth=3,
        learning_rate=0.05,
        subsample=0.8,
        early_stopping_rounds=30,
        n_jobs=1,
        random_state=seed,
    )


def _dataset(data: Path | None, n_jets: int, seed: int, workers, progress) -> Path:
    if data is None:
        return study_dataset("qg", n_jets, seed=seed, workers=workers, progress=progress)
    if not (Path(data) / "manifest.json").is_file():
        raise InputFileError(
            f"--data {str(data)!r}: expected a heplearn dataset directory (with "
            "manifest.json) of labelled quark (1) / gluon (0) jets, e.g. from "
            "`heplearn generate qg`"
        )
    return Path(data)


def _stratified_test(labels: np.ndarray, fraction: float, seed: int):
    rng = np.random.default_rng([seed, 17])
    test = []
    for c in (0, 1):
        rows = rng.permutation(np.flatnonzero(labels == c))
        test.append(rows[: int(round(fraction * len(rows)))])
    test = np.sort(np.concatenate(test))
    return np.setdiff1d(np.arange(len(labels)), test), test


def _mixture_size(n_sig: int, n_bkg: int, pairs) -> int:
    """Largest equal mixture size every pair can be drawn with from the pool."""
    sizes = []
    for f1, f2 in pairs:
        need_s, need_b = f1 + f2, 2.0 - f1 - f2
        n = int(np.floor(min(n_sig / need_s, n_bkg / need_b) + 1e-9))
        while n > 0 and (
            round(f1 * n) + round(f2 * n) > n_sig or 2 * n - round(f1 * n) - round(f2 * n) > n_bkg
        ):
            n -= 1
        sizes.append(n)
    return min(sizes)


def _plot_scan(path: Path, scan: list[dict], supervised: dict, n_train: int) -> Path:
    from heplearn.evaluation.plots import _figure, _save

    dx = np.array([p["f1"] - p["f2"] for p in scan])
    mean = np.array([p["auc_mean"] for p in scan])
    std = np.array([p["auc_std"] for p in scan])
    with _figure() as (fig, ax):
        lo, hi = (
            supervised["auc_mean"] - supervised["auc_std"],
            supervised["auc_mean"] + supervised["auc_std"],
        )
        ax.axhspan(lo, hi, color="C1", alpha=0.25)
        ax.axhline(supervised["auc_mean"], color="C1", label="fully supervised")
        ax.axhline(supervised["auc_mean"] - 0.01, color="C1", ls=":", label="supervised − 0.01")
        ax.errorbar(dx, mean, yerr=std, fmt="o", color="C0", capsize=3, label="CWoLa")
        for x, y, p in zip(dx, mean, scan, strict=True):
            ax.annotate(
                f"({p['f1']:g}, {p['f2']:g})",
                (x, y),
                textcoords="offset points",
                xytext=(4, -12),
                fontsize="x-small",
            )
        ax.set_xlabel(r"Quark-fraction difference $f_1 - f_2$")
        ax.set_ylabel("AUC on pure quark vs gluon jets")
        ax.set_title(f"CWoLa, BDT on 14 jet observables, {n_train} training jets", fontsize="small")
        ax.set_xlim(0.0, max(dx) * 1.1)
        ax.legend(loc="lower right", fontsize="small")
        return _save(fig, path)


def run(
    out: Path,
    *,
    quick: bool,
    data: Path | None,
    seed: int,
    workers: int | None,
    progress: bool,
) -> dict[str, Any]:
    """Run the study (see the module docstring) and return its summary."""
    from heplearn.evaluation.metrics import auc, background_rejection
    from heplearn.evaluation.plots import plot_rejection
    from heplearn.physics.observables import OBSERVABLE_NAMES, jet_observables
    from heplearn.simulate.cards import load_process_card
    from heplearn.training.engine import load_jets
    from heplearn.weak import fit_cwola, make_mixtures

    t_start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    size = SIZES[bool(quick)]
    path = _dataset(data, size["n_jets"], seed, workers, progress)
    t_data = time.perf_counter() - t_start
    table, _ = load_jets(path)
    labels = ak.to_numpy(table["label"]).astype(np.int64)
    counts = {int(c): int((labels == c).sum()) for c in (0, 1)}
    if set(np.unique(labels)) != {0, 1} or min(counts.values()) < 200:
        raise HeplearnError(
            f"{path}: the cwola study needs labelled quark (1) and gluon (0) jets, at least "
            f"200 of each; got {counts}"
        )
    R0 = load_process_card("qg").jets.R

    t0 = time.perf_counter()
    obs = jet_observables(table, R0=R0)
    X = np.stack([obs[k] for k in OBSERVABLE_NAMES], axis=1)
    t_obs = time.perf_counter() - t0

    pool, test = _stratified_test(labels, size["test_fraction"], seed)
    y_test = labels[test]
    pairs = list(dict.fromkeys([HEADLINE, *SCAN]))
    n_mix = _mixture_size(int((labels[pool] == 1).sum()), int((labels[pool] == 0).sum()), pairs)
    n_train = 2 * n_mix  # jets given to each training (80% fit, 20% early stopping)

    t0 = time.perf_counter()
    repeats = [seed * 1000 + r for r in range(size["n_repeats"])]
    # supervised reference: n_mix quark + n_mix gluon jets of the pool, true labels
    sup_auc, sup_scores = [], None
    for r in repeats:
        rng = np.random.default_rng([r, 1])
        rows = np.concatenate(
            [rng.choice(pool[labels[pool] == c], n_mix, replace=False) for c in (1, 0)]
        )
        clf = fit_cwola(X[rows], labels[rows], estimator=make_classifier(r), seed=r)
        s = clf.predict_proba(X[test])[:, 1]
        sup_auc.append(auc(s, y_test))
        if sup_scores is None:
            sup_scores = s
    supervised = {
        "auc_mean": float(np.mean(sup_auc)),
        "auc_std": float(np.std(sup_auc, ddof=1)) if len(sup_auc) > 1 else 0.0,
        "auc_runs": [float(a) for a in sup_auc],
    }

    scan, headline_scores = [], None
    for f1, f2 in pairs:
        aucs, realised = [], None
        for r in repeats:
            mix = make_mixtures(labels[pool], (f1, f2), n_per_mixture=n_mix, seed=r)
            rows = pool[mix.index]
            clf = fit_cwola(X[rows], mix.cwola_label, estimator=make_classifier(r), seed=r)
            s = clf.predict_proba(X[test])[:, 1]
            aucs.append(auc(s, y_test))
            realised = mix.realised_fractions
            if (f1, f2) == HEADLINE and headline_scores is None:
                headline_scores = s
        scan.append(
            {
                "f1": f1,
                "f2": f2,
                "delta_f": round(f1 - f2, 6),
                "realised_fractions": list(realised),
                "auc_mean": float(np.mean(aucs)),
                "auc_std": float(np.std(aucs, ddof=1)) if len(aucs) > 1 else 0.0,
                "auc_runs": [float(a) for a in aucs],
                "gap_to_supervised": float(supervised["auc_mean"] - np.mean(aucs)),
            }
        )
    t_train = time.perf_counter() - t0
    head = next(p for p in scan if (p["f1"], p["f2"]) == HEADLINE)
    gap = supervised["auc_mean"] - head["auc_mean"]

    rej = {
        name: background_rejection(s, y_test, 0.5).value
        for name, s in (("supervised", sup_scores), ("cwola", headline_scores))
    }
    figures = [
        _plot_scan(out / "cwola_scan.png", scan, supervised, n_train),
        plot_rejection(
            {
                "fully supervised": (sup_scores, y_test),
                f"CWoLa ({HEADLINE[0]:g} vs {HEADLINE[1]:g})": (headline_scores, y_test),
            },
            out / "cwola_rejection.png",
            title="Quark (signal) vs gluon jets, BDT on jet observables",
        ),
    ]
    summary: dict[str, Any] = {
        "study": "cwola",
        "quick": bool(quick),
        "seed": seed,
        "dataset": str(path),
        "n_jets": len(table),
        "class_counts": {"quark": counts[1], "gluon": counts[0]},
        "n_test": {"quark": int((y_test == 1).sum()), "gluon": int((y_test == 0).sum())},
        "n_train_per_classifier": n_train,
        "n_per_mixture": n_mix,
        "n_repeats": len(repeats),
        "model": "xgboost BDT (depth 3, <= 400 trees, learning rate 0.05, early stopping on "
        "a mixed 20% validation split) on the 14 jet observables",
        "headline": list(HEADLINE),
        "auc_supervised": supervised["auc_mean"],
        "auc_supervised_std": supervised["auc_std"],
        "auc_cwola": head["auc_mean"],
        "auc_cwola_std": head["auc_std"],
        "auc_gap": float(gap),
        "within_0p01": bool(gap < 0.01),
        "rejection_at_eps_q_0p5": rej,
        "supervised": supervised,
        "scan": scan,
        "timings_s": {
            "data": t_data,
            "observables": t_obs,
            "training": t_train,
            "total": time.perf_counter() - t_start,
        },
        "machine": f"{platform.machine()}, {platform.system()}, python {platform.python_version()}",
    }
    metrics = {
        f"({p['f1']:g}, {p['f2']:g})": {
            "delta_f": p["delta_f"],
            "auc": p["auc_mean"],
            "auc_uncertainty": p["auc_std"],
            "gap_to_supervised": p["gap_to_supervised"],
        }
        for p in scan
    }
    metrics["supervised"] = {
        "delta_f": 1.0,
        "auc": supervised["auc_mean"],
        "auc_uncertainty": supervised["auc_std"],
        "gap_to_supervised": 0.0,
    }
    text = (
        "## Setup\n\n"
        f"qg jets ({len(table)}: {counts[1]} quark, {counts[0]} gluon; anti-kT R = {R0}, "
        "500 < pT < 550 GeV). Test split: "
        f"{summary['n_test']['quark']} quark + {summary['n_test']['gluon']} gluon pure jets. "
        f"Every classifier sees {n_train} jets: two mixtures of {n_mix} jets (CWoLa, label "
        f"= mixture) or {n_mix} quark + {n_mix} gluon jets (supervised, true labels); "
        f"{summary['model']}; {len(repeats)} repeats with fresh mixtures and seeds.\n\n"
        f"Headline ({HEADLINE[0]:g}, {HEADLINE[1]:g}): AUC CWoLa {head['auc_mean']:.4f} ± "
        f"{head['auc_std']:.4f}, supervised {supervised['auc_mean']:.4f} ± "
        f"{supervised['auc_std']:.4f} (gap {gap:.4f}; the spread is the standard deviation "
        "over repeats).\n\n"
        f"Wall time {summary['timings_s']['total']:.0f} s (data {t_data:.0f} s, "
        f"observables {t_obs:.0f} s, {len(repeats) * (len(pairs) + 1)} trainings "
        f"{t_train:.0f} s) on {summary['machine']}."
    )
    return finish_study(
        out,
        "CWoLa: quark/gluon classification from mixed samples",
        summary,
        figures,
        text=text,
        metrics=metrics,
    )
