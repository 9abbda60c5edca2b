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

**Physical mixtures.** The same comparison on the mixtures an analysis actually has: a
Z+jet and a QCD dijet sample (card ``qg-mixtures``: same jet definition and selection as
``qg``; the label is the sample). Their quark fractions are whatever Pythia makes them,
measured from the hard-parton truth ``parton_pid`` (:func:`heplearn.weak.parton_flavour`)
and reported, never given to the classifier. CWoLa trains Z+jet against dijet; the
supervised reference trains on the same jets with their true flavour; both are scored on
held-out jets of known flavour from both samples. CWoLa also assumes that a quark jet
looks the same in both samples (sample independence): a classifier of Z+jet quarks
against dijet quarks (and the same for gluons) measures how well that holds (AUC 0.5 =
exactly). Each repeat trains on a fresh 90% subsample of the training jets.

``data`` (optional) is a heplearn dataset directory of labelled quark (1) / gluon (0)
jets, e.g. from ``heplearn generate qg``. The physical mixtures are generated (and cached)
from the ``qg-mixtures`` card when ``data`` is left out; with ``data`` nothing is
generated and that part is skipped (``summary["physical"]`` is None).
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
from heplearn.weak.cwola import fit_cwola

__all__ = [
    "run",
    "physical_cwola",
    "HEADLINE",
    "SCAN",
    "SIZES",
    "MODELS",
    "QG_OBSERVABLES",
    "make_classifier",
]

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
        "n_physical": 8_000,  # Z+jet + dijet jets of the physical mixtures
        "physical_shard_jets": 4_000,  # one shard per core
    },
    False: {  # the size of the energyflow q/g dataset the qg card mirrors
        "n_jets": 2_000_000,
        "test_fraction": 0.1,
        "n_repeats": 5,
        "n_physical": 1_000_000,
        "physical_shard_jets": 5_000,
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


def physical_cwola(
    features: dict[str, np.ndarray],
    sample: np.ndarray,
    flavour: np.ndarray,
    *,
    test_fraction: float,
    n_repeats: int,
    seed: int,
) -> tuple[dict[str, Any], dict[str, tuple]]:
    """CWoLa on two physical samples against supervision on the same jets.

    Parameters
    ----------
    features
        Model name (of :data:`MODELS`) -> its input matrix, shape (n, K), one row per jet.
    sample
        1 for jets of the quark-richer sample (mixture 1), 0 for the other: the only label
        CWoLa sees.
    flavour
        Truth, 1 quark, 0 gluon, −1 unknown (:func:`heplearn.weak.parton_flavour`): used
        to measure the fractions, to train the supervised reference and to score.

    Returns
    -------
    The summary (fractions, per-model AUCs with spreads, sample-independence AUCs) and the
    inputs ``(scores, truth)`` of the ROC figure.
    """
    from heplearn.evaluation.metrics import auc

    sample = np.asarray(sample, dtype=np.int64)
    flavour = np.asarray(flavour, dtype=np.int64)
    fractions = {}
    for name, s in (("mixture_1", 1), ("mixture_2", 0)):
        f = flavour[sample == s]
        fractions[name] = {
            "n_jets": int(len(f)),
            "quark": float(np.mean(f == 1)),
            "gluon": float(np.mean(f == 0)),
            "unmatched": float(np.mean(f == -1)),
        }
    rng = np.random.default_rng([seed, 29])
    test = []  # stratified in (sample, flavour); only jets of known flavour are scored
    for s in (0, 1):
        for q in (0, 1):
            rows = rng.permutation(np.flatnonzero((sample == s) & (flavour == q)))
            test.append(rows[: int(round(test_fraction * len(rows)))])
    test = np.sort(np.concatenate(test))
    pool = np.setdiff1d(np.arange(len(sample)), test)
    y_test = flavour[test]
    n_draw = int(0.9 * min(np.sum(sample[pool] == s) for s in (0, 1)))
    if n_draw < 100 or min(np.sum(y_test == q) for q in (0, 1)) < 20:
        raise HeplearnError(
            "physical CWoLa mixtures: too few jets (need >= 100 training jets per sample "
            f"and >= 20 test quarks and gluons), got {len(sample)} jets"
        )
    models: dict[str, Any] = {}
    roc: dict[str, tuple] = {}
    for model, X in features.items():
        val_fraction = MODELS[model][1]
        cwola, supervised = [], []
        for r in range(n_repeats):
            draw = np.random.default_rng([seed, 31, r])
            rows = np.concatenate(
                [draw.choice(pool[sample[pool] == s], n_draw, replace=False) for s in (1, 0)]
            )

            def scores(rows, y, r=r, X=X, model=model, val_fraction=val_fraction):
                clf = make_classifier(model, seed + r)
                clf = fit_cwola(X[rows], y, estimator=clf, val_fraction=val_fraction, seed=seed + r)
                return clf.predict_proba(X[test])[:, 1]

            s_cwola = scores(rows, sample[rows])
            known = rows[flavour[rows] >= 0]  # the same jets, true flavour
            s_sup = scores(known, flavour[known])
            cwola.append(auc(s_cwola, y_test))
            supervised.append(auc(s_sup, y_test))
            if r == 0:
                roc[f"{model} CWoLa"] = (s_cwola, y_test)
                roc[f"{model} supervised"] = (s_sup, y_test)
        c, sup = _stats(cwola), _stats(supervised)
        models[model] = {
            "auc_cwola": c["auc_mean"],
            "auc_cwola_std": c["auc_std"],
            "auc_supervised": sup["auc_mean"],
            "auc_supervised_std": sup["auc_std"],
            "auc_gap": sup["auc_mean"] - c["auc_mean"],
            "runs": {"cwola": c["auc_runs"], "supervised": sup["auc_runs"]},
        }
    # sample independence: does a quark (gluon) jet look the same in both samples?
    X = features[HEADLINE_MODEL]
    independence = {}
    for name, q in (("quark", 1), ("gluon", 0)):
        train, held = pool[flavour[pool] == q], test[flavour[test] == q]
        fitted = fit_cwola(
            X[train],
            sample[train],
            estimator=make_classifier(HEADLINE_MODEL, seed),
            val_fraction=None,
        )
        n1, n0 = int(np.sum(sample[held] == 1)), int(np.sum(sample[held] == 0))
        independence[name] = {
            "auc": float(auc(fitted.predict_proba(X[held])[:, 1], sample[held])),
            # the spread of the AUC of a useless classifier on these test jets: the
            # Mann-Whitney U variance under H0, n1 n0 (n1 + n0 + 1) / 12, divided by
            # (n1 n0)^2 (Hanley & McNeil, Radiology 143 (1982) 29, at AUC = 0.5)
            "null_std": float(np.sqrt((n1 + n0 + 1) / (12.0 * n1 * n0))),
        }
    summary = {
        "fractions": fractions,
        "n_train_per_classifier": 2 * n_draw,
        "n_test": {"quark": int(np.sum(y_test == 1)), "gluon": int(np.sum(y_test == 0))},
        "n_repeats": n_repeats,
        "models": models,
        "sample_independence_auc": independence,
    }
    return summary, roc


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
    from heplearn.weak import make_mixtures

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

    physical = None
    t0 = time.perf_counter()
    if data is None and size["n_physical"]:
        from heplearn.weak import parton_flavour

        mix_path = study_dataset(
            "qg-mixtures",
            size["n_physical"],
            seed=seed,
            workers=workers,
            progress=progress,
            shard_jets=size["physical_shard_jets"],
        )
        mix_table, _ = load_jets(mix_path)
        mix_obs = jet_observables(mix_table, R0=R0)
        features = {
            model: np.stack([mix_obs[k] for k in (inputs or OBSERVABLE_NAMES)], axis=1)
            for model, (inputs, _, _) in MODELS.items()
        }
        physical, physical_roc = physical_cwola(
            features,
            ak.to_numpy(mix_table["label"]),
            parton_flavour(ak.to_numpy(mix_table["parton_pid"])),
            test_fraction=size["test_fraction"],
            n_repeats=size["n_repeats"],
            seed=seed,
        )
        physical["dataset"] = str(mix_path)
        if progress:
            m = physical["models"][HEADLINE_MODEL]
            print(
                f"physical mixtures: quark fractions Z+jet "
                f"{physical['fractions']['mixture_1']['quark']:.3f}, dijet "
                f"{physical['fractions']['mixture_2']['quark']:.3f}; {HEADLINE_MODEL} AUC "
                f"supervised {m['auc_supervised']:.4f}, CWoLa {m['auc_cwola']:.4f}",
                flush=True,
            )
    t_physical = time.perf_counter() - t0
    main = results[HEADLINE_MODEL]
    gap = main["auc_gap"]
    head = next(p for p in main["scan"] if (p["f1"], p["f2"]) == HEADLINE)
    rej = {name: background_rejection(*v, 0.5).value for name, v in roc_inputs.items()}
    figures = [
        _plot_scan(out / "cwola_scan.png", results, n_train),
        plot_rejection(
            roc_inputs,
            out / "cwola_rejection.png",
            title="Quark (signal) vs gluon jets",
        ),
    ]
    if physical is not None:
        figures.append(
            plot_rejection(
                physical_roc,
                out / "cwola_physical_rejection.png",
                title="Z+jet vs dijet mixtures, quark vs gluon",
            )
        )
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
        "physical": physical,
        "auc_cwola_physical": None
        if physical is None
        else physical["models"][HEADLINE_MODEL]["auc_cwola"],
        "auc_supervised_physical": None
        if physical is None
        else physical["models"][HEADLINE_MODEL]["auc_supervised"],
        "timings_s": {
            "data": t_data,
            "observables": t_obs,
            "training": t_train,
            "physical_mixtures": t_physical,
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
    physical_text = (
        "## Physical mixtures\n\nSkipped: `--data` was given. Without it the study also "
        "generates Z+jet and dijet samples (`qg-mixtures` card) and runs CWoLa on them.\n\n"
    )
    if physical is not None:
        fr = physical["fractions"]
        for model, res in physical["models"].items():
            metrics[f"{model} physical: CWoLa Z+jet vs dijet"] = {
                "f1 - f2": fr["mixture_1"]["quark"] - fr["mixture_2"]["quark"],
                "auc": res["auc_cwola"],
                "auc_uncertainty": res["auc_cwola_std"],
                "gap to supervised": res["auc_gap"],
            }
            metrics[f"{model} physical: supervised, same jets"] = {
                "f1 - f2": 1.0,
                "auc": res["auc_supervised"],
                "auc_uncertainty": res["auc_supervised_std"],
                "gap to supervised": 0.0,
            }
        ind = physical["sample_independence_auc"]
        physical_text = (
            "## Physical mixtures\n\n"
            f"`qg-mixtures` card: {fr['mixture_1']['n_jets']} Z+jet and "
            f"{fr['mixture_2']['n_jets']} dijet jets. Quark fractions from `parton_pid` "
            f"(never given to CWoLa): Z+jet {fr['mixture_1']['quark']:.3f} (gluon "
            f"{fr['mixture_1']['gluon']:.3f}, unmatched {fr['mixture_1']['unmatched']:.3f}), "
            f"dijet {fr['mixture_2']['quark']:.3f} (gluon {fr['mixture_2']['gluon']:.3f}, "
            f"unmatched {fr['mixture_2']['unmatched']:.3f}). Each classifier sees "
            f"{physical['n_train_per_classifier']} jets; test "
            f"{physical['n_test']['quark']} quark + {physical['n_test']['gluon']} gluon "
            "jets from both samples.\n\n"
            + "".join(
                f"{m}: CWoLa {r['auc_cwola']:.4f} ± {r['auc_cwola_std']:.4f}, supervised on "
                f"the same jets {r['auc_supervised']:.4f} ± {r['auc_supervised_std']:.4f} "
                f"(gap {r['auc_gap']:.4f}).\n\n"
                for m, r in physical["models"].items()
            )
            + "Sample independence (AUC of Z+jet against dijet jets of one flavour, "
            f"{HEADLINE_MODEL}; 0.5 = identical): quarks {ind['quark']['auc']:.3f}, gluons "
            f"{ind['gluon']['auc']:.3f} (null spread ± {ind['quark']['null_std']:.3f} and "
            f"± {ind['gluon']['null_std']:.3f}).\n\n"
        )
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
        + physical_text
        + f"Wall time {summary['timings_s']['total']:.0f} s (data {t_data:.0f} s, "
        f"observables {t_obs:.0f} s, {len(repeats) * (len(pairs) + 1) * len(MODELS)} "
        f"trainings {t_train:.0f} s, physical mixtures with their generation "
        f"{t_physical:.0f} s) on {summary['machine']}."
    )
    return finish_study(
        out,
        "CWoLa: quark/gluon classification from mixed samples",
        summary,
        figures,
        text=text,
        metrics=metrics,
    )
