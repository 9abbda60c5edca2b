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

Models (each used for both CWoLa and the supervised reference, same jets and budget):

* ``logreg6`` (the headline): logistic regression on six classic quark/gluon
  observables (constituent multiplicity, girth, p_T^D, C_0.2, charged fraction, jet
  mass; :mod:`heplearn.physics.observables`);
* ``bdt14``: an xgboost BDT (depth 3, up to 400 trees, early stopping on a mixed 20%
  validation split) on all 14 observables.

Why these and not a ``pfn`` on particle clouds: CWoLa's labels are noisy (a quark jet is
labelled "mixture 1" with probability f1/(f1 + f2) only), which costs it statistics
roughly as (f1 − f2)²; its gap to the supervised classifier at a fixed training size is
therefore set by the variance of the model. At the quick size (6.7k training jets) a PFN
is still on the steep part of its learning curve, and even the 14-observable BDT shows a
gap of ~0.02 AUC that is model variance, not the method (it shrinks with more jets); a
7-parameter logistic regression is at its asymptote, so the comparison measures CWoLa
itself. Both run in seconds, so every point is repeated with fresh mixtures.

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

__all__ = ["run", "HEADLINE", "SCAN", "SIZES", "MODELS", "QG_OBSERVABLES", "make_classifier"]

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
        "n_repeats": 5,
    },
    False: {  # the size of the energyflow q/g dataset the qg card mirrors
        "n_jets": 2_000_000,
        "test_fraction": 0.1,
        "n_repeats": 5,
    },
}


#: six classic quark/gluon observables (inputs of the headline model)
QG_OBSERVABLES: tuple[str, ...] = (
    "multiplicity",
    "girth",
    "ptd",
    "c_beta",
    "charged_fraction",
    "mass",
)


def make_classifier(model: str, seed: int) -> Any:
    """The classifier of a model name (``logreg6`` or ``bdt14``), unfitted; the same for
    CWoLa and the supervised reference."""
    from heplearn.models.tabular import BoostedTrees, LogisticRegressionTagger

    if model == "logreg6":
        return LogisticRegressionTagger(C=1.0)
    if model == "bdt14":
        return BoostedTrees(
            n_estimators=400,
            max_depth=3,
            learning_rate=0.05,
            subsample=0.8,
            early_stopping_rounds=30,
            n_jobs=1,
            random_state=seed,
        )
    raise HeplearnError(f"unknown cwola study model {model!r}; known: {list(MODELS)}")


#: model name -> (observables it reads, validation fraction for early stopping, description)
MODELS: dict[str, tuple[tuple[str, ...] | None, float | None, str]] = {
    "logreg6": (
        QG_OBSERVABLES,
        None,
        "logistic regression (L2, C = 1, standardised inputs) on multiplicity, girth, "
        "p_T^D, C_0.2, charged fraction, mass",
    ),
    "bdt14": (
        None,
        0.2,
        "xgboost BDT (depth 3, <= 400 trees, learning rate 0.05, early stopping on a "
        "mixed 20% validation split) on the 14 jet observables",
    ),
}
HEADLINE_MODEL = "logreg6"


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


def _stats(aucs: list[float]) -> dict[str, Any]:
    return {
        "auc_mean": float(np.mean(aucs)),
        "auc_std": float(np.std(aucs, ddof=1)) if len(aucs) > 1 else 0.0,
        "auc_runs": [float(a) for a in aucs],
    }


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


def _plot_scan(path: Path, results: dict[str, dict], n_train: int) -> Path:
    from heplearn.evaluation.plots import _figure, _save

    with _figure() as (fig, ax):
        for (name, res), color in zip(results.items(), ("C0", "C1"), strict=False):
            sup, scan = res["supervised"], res["scan"]
            dx = np.array([p["f1"] - p["f2"] for p in scan])
            mean = np.array([p["auc_mean"] for p in scan])
            std = np.array([p["auc_std"] for p in scan])
            ax.axhspan(
                sup["auc_mean"] - sup["auc_std"],
                sup["auc_mean"] + sup["auc_std"],
                color=color,
                alpha=0.2,
            )
            ax.axhline(sup["auc_mean"], color=color, label=f"{name}: fully supervised")
            ax.axhline(
                sup["auc_mean"] - 0.01,
                color=color,
                ls=":",
                lw=1,
                label=f"{name}: supervised − 0.01",
            )
            ax.errorbar(
                dx + (0.003 if color == "C1" else 0.0),
                mean,
                yerr=std,
                fmt="o",
                color=color,
                capsize=3,
                label=f"{name}: CWoLa",
            )
        ax.set_xlabel(r"Quark-fraction difference $f_1 - f_2$")
        ax.set_ylabel("AUC on pure quark vs gluon jets")
        ax.set_title(
            f"CWoLa on qg jets, {n_train} training jets per classifier", fontsize="x-small"
        )
        ax.set_xlim(0.0, 0.45)
        ax.legend(loc="lower right", fontsize="xx-small", ncol=2)
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
    n_train = 2 * n_mix  # jets given to each training

    t0 = time.perf_counter()
    repeats = [seed * 1000 + r for r in range(size["n_repeats"])]
    names = list(OBSERVABLE_NAMES)
    results: dict[str, dict] = {}
    roc_inputs: dict[str, tuple] = {}
    for model, (inputs, val_fraction, _) in MODELS.items():
        Xm = X if inputs is None else X[:, [names.index(k) for k in inputs]]

        def fit(rows, y, r, Xm=Xm, model=model, val_fraction=val_fraction):
            clf = make_classifier(model, r)
            clf = fit_cwola(Xm[rows], y, estimator=clf, val_fraction=val_fraction, seed=r)
            return clf.predict_proba(Xm[test])[:, 1]

        # supervised reference: n_mix quark + n_mix gluon jets of the pool, true labels
        sup_auc = []
        for r in repeats:
            rng = np.random.default_rng([r, 1])
            rows = np.concatenate(
                [rng.choice(pool[labels[pool] == c], n_mix, replace=False) for c in (1, 0)]
            )
            s = fit(rows, labels[rows], r)
            sup_auc.append(auc(s, y_test))
            roc_inputs.setdefault(f"{model}: fully supervised", (s, y_test))
        supervised = _stats(sup_auc)
        scan = []
        for f1, f2 in pairs:
            aucs, realised = [], None
            for r in repeats:
                mix = make_mixtures(labels[pool], (f1, f2), n_per_mixture=n_mix, seed=r)
                s = fit(pool[mix.index], mix.cwola_label, r)
                aucs.append(auc(s, y_test))
                realised = mix.realised_fractions
                if (f1, f2) == HEADLINE:
                    roc_inputs.setdefault(f"{model}: CWoLa ({f1:g} vs {f2:g})", (s, y_test))
            stats = _stats(aucs)
            scan.append(
                {
                    "f1": f1,
                    "f2": f2,
                    "delta_f": round(f1 - f2, 6),
                    "realised_fractions": list(realised),
                    **stats,
                    "gap_to_supervised": supervised["auc_mean"] - stats["auc_mean"],
                }
            )
        head = next(p for p in scan if (p["f1"], p["f2"]) == HEADLINE)
        results[model] = {
            "description": MODELS[model][2],
            "supervised": supervised,
            "auc_supervised": supervised["auc_mean"],
            "auc_cwola": head["auc_mean"],
            "auc_gap": supervised["auc_mean"] - head["auc_mean"],
            "scan": scan,
        }
        if progress:
            print(
                f"{model}: AUC supervised {supervised['auc_mean']:.4f}, CWoLa "
                f"{head['auc_mean']:.4f} ({HEADLINE[0]:g} vs {HEADLINE[1]:g})",
                flush=True,
            )
    t_train = time.perf_counter() - t0
    main = results[HEADLINE_MODEL]
    gap = main["auc_gap"]
    head = next(p for p in main["scan"] if (p["f1"], p["f2"]) == HEADLINE)
    rej = {name: background_rejection(*v, 0.5).value for name, v in roc_inputs.items()}
    figures = [
        _plot_scan(out / "cwola_scan.png", results, n_train),
        plot_rejection(
            roc_inputs,
            out / "cwola_rejection.png",
            title="Quark (signal) vs gluon jets, one training of each",
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
        "model": HEADLINE_MODEL,
        "model_description": MODELS[HEADLINE_MODEL][2],
        "headline": list(HEADLINE),
        "auc_supervised": main["auc_supervised"],
        "auc_supervised_std": main["supervised"]["auc_std"],
        "auc_cwola": main["auc_cwola"],
        "auc_cwola_std": head["auc_std"],
        "auc_gap": float(gap),
        "within_0p01": bool(gap < 0.01),
        "scan": main["scan"],
        "models": results,
        "rejection_at_eps_q_0p5": rej,
        "timings_s": {
            "data": t_data,
            "observables": t_obs,
            "training": t_train,
            "total": time.perf_counter() - t_start,
        },
        "machine": f"{platform.machine()}, {platform.system()}, python {platform.python_version()}",
    }
    metrics: dict[str, dict[str, Any]] = {}
    for model, res in results.items():
        for p in res["scan"]:
            metrics[f"{model} CWoLa ({p['f1']:g}, {p['f2']:g})"] = {
                "f1 - f2": p["delta_f"],
                "auc": p["auc_mean"],
                "auc_uncertainty": p["auc_std"],
                "gap to supervised": p["gap_to_supervised"],
            }
        metrics[f"{model} supervised"] = {
            "f1 - f2": 1.0,
            "auc": res["supervised"]["auc_mean"],
            "auc_uncertainty": res["supervised"]["auc_std"],
            "gap to supervised": 0.0,
        }
    other = {m: r for m, r in results.items() if m != HEADLINE_MODEL}
    text = (
        "## Setup\n\n"
        f"qg jets ({len(table)}: {counts[1]} quark, {counts[0]} gluon; anti-kT R = {R0}, "
        "500 < pT < 550 GeV). Test split: "
        f"{summary['n_test']['quark']} quark + {summary['n_test']['gluon']} gluon pure jets. "
        f"Every classifier sees {n_train} jets: two mixtures of {n_mix} jets (CWoLa, label "
        f"= mixture) or {n_mix} quark + {n_mix} gluon jets (supervised, true labels); "
        f"{len(repeats)} repeats with fresh mixtures and seeds (± = standard deviation "
        "over repeats).\n\n"
        f"Headline ({HEADLINE[0]:g}, {HEADLINE[1]:g}), {HEADLINE_MODEL} = "
        f"{MODELS[HEADLINE_MODEL][2]}: AUC CWoLa {main['auc_cwola']:.4f} ± "
        f"{head['auc_std']:.4f}, supervised {main['auc_supervised']:.4f} ± "
        f"{main['supervised']['auc_std']:.4f} (gap {gap:.4f}).\n\n"
        + "".join(
            f"{m} = {r['description']}: CWoLa {r['auc_cwola']:.4f}, supervised "
            f"{r['auc_supervised']:.4f} (gap {r['auc_gap']:.4f}).\n\n"
            for m, r in other.items()
        )
        + f"Wall time {summary['timings_s']['total']:.0f} s (data {t_data:.0f} s, "
        f"observables {t_obs:.0f} s, {len(repeats) * (len(pairs) + 1) * len(MODELS)} "
        f"trainings {t_train:.0f} s) on {summary['machine']}."
    )
    return finish_study(
        out,
        "CWoLa: quark/gluon classification from mixed samples",
        summary,
        figures,
        text=text,
        metrics=metrics,
    )
