"""Study ``anomaly``: CWoLa hunting for a dijet resonance (LHC Olympics-like).

Data: the ``dijet-resonance`` card (√s = 13 TeV, anti-kT R = 1.0, leading jet
p_T > 1.2 TeV): QCD dijets, and W′(3.5 TeV) → X(500 GeV) Y(100 GeV), X, Y → qq̄, the
signal, generated separately (much less of it: it is injected at small S/B). The QCD
events are split once in halves: the "data" background, and an independent background
*template* (a perfect background model, available in simulation only).

Per event: m_jj and the four LHC Olympics features (:data:`heplearn.weak.DIJET_FEATURES`:
lighter jet mass, mass difference, τ21 of both jets). For each injected signal fraction
(signal events added to the data; S/B counted in the 3.3–3.7 TeV signal region) three
classifiers select events in the window whose signal region is 3.3–3.7 TeV (sidebands
3.0–3.3 and 3.7–4.0 TeV):

* **CWoLa hunting** (Collins, Howe, Nachman, arXiv:1805.02664): signal region against
  sidebands of the data, 5-fold, every event scored by a model that never saw it;
* **idealised**: signal-region data against the template's signal-region events (the
  classifier a perfect background model would allow; the LHC Olympics "idealised
  anomaly detector", Kasieczka et al., arXiv:2101.08320), 5-fold as well;
* **supervised**: labelled signal (events never injected) against template
  signal-region events.

All three are the same small BDT (:func:`heplearn.weak.default_classifier`)
on the four features. Each keeps the fraction ε ∈ {1, 0.1, 0.01} of the sideband events
(per fold); the selected m_jj spectrum in 2.8–6.0 TeV (100 GeV bins) is fitted outside the
signal region with the dijet function f(x) = p0 (1 − x)^p1 / x^(p2 + p3 ln x),
x = m_jj/√s (binned Poisson likelihood), and the local significance of the signal-region
count is pyhf's discovery test q0 with the fitted background b ± σ_b (its fit
uncertainty as a Poisson-constrained nuisance; equal to the Asimov formula of Cowan et
al., arXiv:1007.1727, with s = n − b). At the headline injection and without signal, the
signal region also slides over the spectrum (the look-elsewhere picture).

SIC curves: signal efficiency from labelled signal events that were never injected,
background efficiency from the data background in the signal region, both scored
out-of-fold and put on one scale across folds (:func:`heplearn.weak.reference_efficiency`).

``data`` (optional) is a ``dijet-resonance`` dataset directory holding QCD (label 0) and
signal (label 1) events, e.g. from ``heplearn generate dijet-resonance``.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from heplearn.errors import HeplearnError, InputFileError
from heplearn.studies._common import finish_study, study_dataset

__all__ = ["run", "SIZES", "SIGNAL_REGION", "EFFICIENCIES", "sample_card"]

#: the LHC Olympics signal region (GeV) and the sidebands around it
SIGNAL_REGION: tuple[float, float] = (3300.0, 3700.0)
SIDEBAND_WIDTH = 300.0
#: binned fit range of the bump hunt (GeV): above the trigger turn-on (leading jet
#: p_T > 1.2 TeV puts the m_jj peak near 2.6 TeV)
FIT_EDGES = np.arange(2800.0, 6000.0 + 1.0, 100.0)
#: fractions of sideband events kept by the cuts (1 = no cut)
EFFICIENCIES: tuple[float, ...] = (1.0, 0.1, 0.01)
#: fraction of the QCD events set aside as the background template (as many template as
#: data events: the idealised classifier then sees as much background as CWoLa's sidebands)
TEMPLATE_FRACTION = 0.5
K_FOLDS = 5

SIZES: dict[bool, dict[str, Any]] = {
    True: {  # 2-core CPU, < 15 minutes with generation (~27 QCD events per CPU-second)
        "qcd_jets": 40_000,  # 20k events: 10k data + 10k template
        "signal_jets": 6_000,  # 3k events
        "s_over_b": (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2),
        "headline": 0.1,
        "slide": (3100.0, 4300.0, 200.0),  # first and last signal-region low edge, step
        "n_params": 4,
    },
    False: {  # LHC Olympics R&D: 1M background events (+ a template), 100k signal
        "qcd_jets": 4_000_000,  # 2M events: 1M data + 1M template
        "signal_jets": 200_000,
        "s_over_b": (0.0, 0.0025, 0.005, 0.01, 0.02, 0.04),
        "headline": 0.01,
        "slide": (3000.0, 4600.0, 100.0),
        "n_params": 4,
    },
}


def sample_card(sample: str):
    """The ``dijet-resonance`` card reduced to one of its samples (``qcd`` or
    ``resonance``), named ``dijet-resonance-{sample}`` so the dataset cache keeps them
    apart; each is generated with its own seed and size."""
    from heplearn.simulate.cards import ProcessCard, load_process_card

    d = load_process_card("dijet-resonance").model_dump(mode="json")
    d["samples"] = [s for s in d["samples"] if s["name"] == sample]
    if not d["samples"]:
        raise HeplearnError(f"dijet-resonance has no sample {sample!r}")
    d["name"] = f"dijet-resonance-{sample}"
    return ProcessCard.cast(d)


def _features(data: Path | None, size: dict, seed: int, workers, progress):
    """Per-event features of QCD and signal: two dicts of arrays, and the dataset paths."""
    from heplearn.training.engine import load_jets
    from heplearn.weak import dijet_event_features

    R0 = sample_card("qcd").jets.R
    if data is not None:
        if not (Path(data) / "manifest.json").is_file():
            raise InputFileError(
                f"--data {str(data)!r}: expected a heplearn dataset directory (manifest.json) "
                "of the dijet-resonance card (QCD label 0, signal label 1)"
            )
        table, _ = load_jets(data)
        f = dijet_event_features(table, R0=R0)
        qcd = {k: v[f["label"] == 0] for k, v in f.items()}
        sig = {k: v[f["label"] == 1] for k, v in f.items()}
        return qcd, sig, (str(data), str(data))
    # different seeds: the two samples must be statistically independent
    sig_path = study_dataset(
        sample_card("resonance"),
        size["signal_jets"],
        seed=seed + 100_000,
        workers=workers,
        progress=progress,
    )
    qcd_path = study_dataset(
        sample_card("qcd"), size["qcd_jets"], seed=seed, workers=workers, progress=progress
    )
    qcd = dijet_event_features(load_jets(qcd_path)[0], R0=R0)
    sig = dijet_event_features(load_jets(sig_path)[0], R0=R0)
    return qcd, sig, (str(qcd_path), str(sig_path))


def _matrix(f: dict[str, np.ndarray]) -> np.ndarray:
    from heplearn.weak import DIJET_FEATURES

    # masses in TeV: the same trees, but readable feature values in debugging
    scale = {"mj1": 1e-3, "delta_mj": 1e-3}
    return np.stack([f[k] * scale.get(k, 1.0) for k in DIJET_FEATURES], axis=1)


def _hunt_summary(result, efficiencies) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for eff in efficiencies:
        key = f"{eff:g}"
        if eff in result.hunts:
            h = result.hunts[eff]
            out[key] = {
                "significance": h.significance,
                "n_observed": h.n_observed,
                "background": h.background,
                "background_uncertainty": h.background_uncertainty,
                "fit_deviance": h.fit.deviance,
                "fit_ndf": h.fit.ndf,
            }
        else:
            out[key] = {"significance": None, "failure": result.failures.get(eff)}
    return out


def _plot_significance(path: Path, rows: list[dict], efficiencies, title: str) -> Path:
    from heplearn.evaluation.plots import _figure, _save

    # the colours of plot_sic, which draws the three in this order
    styles = {
        "cwola": ("C0", "CWoLa hunting"),
        "idealised": ("C1", "idealised"),
        "supervised": ("C2", "supervised"),
    }
    lines = {1.0: ":", 0.1: "-", 0.01: "--"}
    with _figure() as (fig, ax):
        x = np.array([r["s_over_b_realised"] for r in rows]) * 100
        for method, (color, label) in styles.items():
            for eff in efficiencies:
                if eff == 1.0 and method != "cwola":
                    continue  # no cut: the three methods coincide
                z = [r[method][f"{eff:g}"]["significance"] for r in rows]
                z = np.array([np.nan if v is None else v for v in z])
                name = "no cut" if eff == 1.0 else f"{label}, ε = {eff:g}"
                ax.plot(
                    x,
                    z,
                    marker="o",
                    color="0.4" if eff == 1.0 else color,
                    ls=lines.get(eff, "-."),
                    label=name,
                )
        ax.axhline(3.0, color="0.7", lw=0.8)
        ax.axhline(5.0, color="0.7", lw=0.8)
        ax.set_xlabel("Injected S/B in the signal region [%]")
        ax.set_ylabel(r"Local significance $Z$ [$\sigma$]")
        ax.set_title(title, fontsize="x-small")
        ax.legend(loc="best", fontsize="x-small", ncol=2)
        return _save(fig, path)


def _plot_slide(path: Path, slides: dict[str, list[dict]], eff: float, title: str) -> Path:
    from heplearn.evaluation.plots import _figure, _save

    with _figure() as (fig, ax):
        for (name, rows), color in zip(slides.items(), ("C0", "0.4"), strict=False):
            c = np.array([r["centre"] for r in rows]) / 1000
            z = [r["hunt"][f"{eff:g}"]["significance"] for r in rows]
            ax.plot(c, [np.nan if v is None else v for v in z], marker="o", color=color, label=name)
        ax.axvline(
            0.5 * (SIGNAL_REGION[0] + SIGNAL_REGION[1]) / 1000,
            color="C3",
            ls="--",
            label="W' mass (3.5 TeV)",
        )
        ax.set_xlabel(r"Signal-region centre $m_{jj}$ [TeV]")
        ax.set_ylabel(rf"Local significance $Z$ at $\varepsilon$ = {eff:g}")
        ax.set_title(title, fontsize="x-small")
        ax.legend(loc="best", fontsize="x-small")
        return _save(fig, path)


def _plot_spectra(path: Path, result, title: str) -> Path:
    from heplearn.evaluation.plots import _figure, _save

    with _figure() as (fig, ax):
        for (eff, h), color in zip(
            sorted(result.hunts.items(), reverse=True), ("C0", "C1", "C2", "C3"), strict=False
        ):
            e, n = h.fit.edges, h.fit.counts
            centres = 0.5 * (e[1:] + e[:-1]) / 1000
            ax.errorbar(
                centres,
                n,
                yerr=np.sqrt(n),
                fmt="o",
                ms=3,
                color=color,
                label=f"ε = {eff:g}: Z = {h.significance:.1f}",
            )
            ax.stairs(h.fit.expected(), e / 1000, color=color, lw=1)
        ax.axvspan(
            result.window.signal_low / 1000, result.window.signal_high / 1000, color="C3", alpha=0.1
        )
        ax.set_yscale("log")
        ax.set_xlabel(r"$m_{jj}$ [TeV]")
        ax.set_ylabel("Events / 100 GeV")
        ax.set_title(title, fontsize="x-small")
        ax.legend(loc="upper right", fontsize="x-small")
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
    from heplearn.evaluation.metrics import max_sic
    from heplearn.evaluation.plots import plot_sic
    from heplearn.weak import (
        WeakSupervisionError,
        Window,
        cwola_hunt,
        default_classifier,
        fit_cwola,
        reference_efficiency,
        sliding_windows,
    )

    t_start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    size = SIZES[bool(quick)]
    qcd, sig, paths = _features(data, size, seed, workers, progress)
    t_data = time.perf_counter() - t_start
    sqrt_s = float(sample_card("qcd").sqrt_s)
    window = Window(
        SIGNAL_REGION[0] - SIDEBAND_WIDTH, *SIGNAL_REGION, SIGNAL_REGION[1] + SIDEBAND_WIDTH
    )

    # -- split QCD into data and template, signal into injection / supervised / SIC pools
    rng = np.random.default_rng([seed, 31])
    order = rng.permutation(len(qcd["mjj"]))
    n_template = int(round(TEMPLATE_FRACTION * len(order)))
    tmpl_idx, data_idx = np.sort(order[:n_template]), np.sort(order[n_template:])
    X_qcd, m_qcd = _matrix(qcd), qcd["mjj"]
    X_b, m_b = X_qcd[data_idx], m_qcd[data_idx]
    X_t, m_t = X_qcd[tmpl_idx], m_qcd[tmpl_idx]
    X_s_all, m_s_all = _matrix(sig), sig["mjj"]
    n_b_sr = int(window.in_signal_region(m_b).sum())
    sig_sr_fraction = float(window.in_signal_region(m_s_all).mean())
    need = [int(round(f * n_b_sr / max(sig_sr_fraction, 1e-9))) for f in size["s_over_b"]]
    n_inject_max = max(need)
    sig_order = rng.permutation(len(m_s_all))
    if n_inject_max + 200 > len(sig_order):
        raise HeplearnError(
            f"the signal sample has {len(sig_order)} events; injecting S/B up to "
            f"{max(size['s_over_b'])} needs {n_inject_max} plus >= 200 for the supervised "
            "classifier and the SIC curves; generate more signal"
        )
    inject_pool = sig_order[:n_inject_max]
    rest = sig_order[n_inject_max:]
    sup_sig, eval_sig = np.sort(rest[: len(rest) // 2]), np.sort(rest[len(rest) // 2 :])
    eval_sr = eval_sig[window.in_signal_region(m_s_all[eval_sig])]

    # -- supervised: labelled signal vs template signal-region events (never sees data)
    t0 = time.perf_counter()
    tmpl_sr = window.in_signal_region(m_t)
    X_sup = np.concatenate([X_s_all[sup_sig], X_t[tmpl_sr]])
    y_sup = np.repeat([1, 0], [len(sup_sig), int(tmpl_sr.sum())])
    w_sup = np.where(y_sup == 1, 0.5 / y_sup.mean(), 0.5 / (1 - y_sup.mean()))
    supervised = fit_cwola(
        X_sup, y_sup, estimator=default_classifier(seed), sample_weight=w_sup, seed=seed
    )
    t_sup = time.perf_counter() - t0

    def injected(n: int):
        rows = inject_pool[:n]
        X = np.concatenate([X_b, X_s_all[rows]])
        m = np.concatenate([m_b, m_s_all[rows]])
        y = np.repeat([0, 1], [len(m_b), n])
        return X, m, y

    common = {
        "edges": FIT_EDGES,
        "sqrt_s": sqrt_s,
        "efficiencies": EFFICIENCIES,
        "k": K_FOLDS,
        "n_params": size["n_params"],
        "seed": seed,
    }
    X_eval = X_s_all[eval_sr]

    def hunts(X, m, win):
        """The three classifiers in one window; returns {method: HuntResult}."""
        return {
            "cwola": cwola_hunt(X, m, win, extra=X_eval, **common),
            "idealised": cwola_hunt(X, m, win, template=(X_t, m_t), extra=X_eval, **common),
            "supervised": cwola_hunt(X, m, win, scores=supervised.predict_proba(X)[:, 1], **common),
        }

    rows_out: list[dict[str, Any]] = []
    headline: dict[str, Any] = {}
    t0 = time.perf_counter()
    for target, n_inj in zip(size["s_over_b"], need, strict=True):
        X, m, y = injected(n_inj)
        n_s_sr = int((window.in_signal_region(m) & (y == 1)).sum())
        results = hunts(X, m, window)
        row: dict[str, Any] = {
            "s_over_b": target,
            "n_signal_injected": n_inj,
            "n_signal_sr": n_s_sr,
            "n_background_sr": n_b_sr,
            "s_over_b_realised": n_s_sr / n_b_sr,
            "s_over_sqrt_b": n_s_sr / np.sqrt(n_b_sr),
            **{method: _hunt_summary(res, EFFICIENCIES) for method, res in results.items()},
        }
        rows_out.append(row)
        if target == size["headline"]:
            headline = {"X": X, "m": m, "y": y, "results": results}
        if progress:
            z = {
                k: [row[k][f"{e:g}"]["significance"] for e in EFFICIENCIES]
                for k in ("cwola", "idealised", "supervised")
            }
            print(
                f"S/B = {target:g} (S_SR = {n_s_sr}, B_SR = {n_b_sr}): Z at ε = "
                f"{list(EFFICIENCIES)}: {z}",
                flush=True,
            )
    t_inject = time.perf_counter() - t0

    # -- SIC curves at the headline injection (signal-region events) ----------------------
    X, m, y = headline["X"], headline["m"], headline["y"]
    sr, ref = window.in_signal_region(m), window.in_sidebands(m)
    sic_models, sic_max = {}, {}
    for method, res in headline["results"].items():
        hs = res.scores
        if method == "supervised":
            others = (supervised.predict_proba(X_eval)[:, 1], None)
        else:
            others = (hs.extra_scores, hs.extra_fold)
        q_data, q_sig = reference_efficiency(
            hs.scores, reference=ref, fold=hs.fold, seed=seed, others=others
        )
        bkg_sr = sr & (y == 0)
        scores = -np.concatenate([q_sig, q_data[bkg_sr]])
        labels = np.repeat([1, 0], [len(q_sig), int(bkg_sr.sum())])
        label = {"cwola": "CWoLa hunting", "idealised": "idealised", "supervised": "supervised"}
        sic_models[label[method]] = (scores, labels)
        best = max_sic(scores, labels, min_background=20)
        sic_max[method] = {"max_sic": best.value, "signal_efficiency": best.signal_efficiency}

    # -- sliding windows at the headline injection and without signal ---------------------
    t0 = time.perf_counter()
    first, last, step = size["slide"]
    windows = sliding_windows(
        first,
        last,
        signal_width=SIGNAL_REGION[1] - SIGNAL_REGION[0],
        sideband_width=SIDEBAND_WIDTH,
        step=step,
    )
    windows = [w for w in windows if FIT_EDGES[0] < w.signal_low and w.signal_high < FIT_EDGES[-1]]
    slides: dict[str, list[dict]] = {}
    for name, n_inj in (
        (f"S/B = {size['headline']:g}", need[size["s_over_b"].index(size["headline"])]),
        ("no signal", 0),
    ):
        X, m, _ = injected(n_inj)
        slides[name] = []
        for w in windows:
            entry: dict[str, Any] = {"signal_region": list(w.signal_region), "centre": w.centre}
            try:
                entry["hunt"] = _hunt_summary(cwola_hunt(X, m, w, **common), EFFICIENCIES)
            except WeakSupervisionError as err:  # e.g. too few events in a far window
                entry["hunt"] = {
                    f"{e:g}": {"significance": None, "failure": str(err)} for e in EFFICIENCIES
                }
            slides[name].append(entry)
    t_slide = time.perf_counter() - t0

    title = (
        f"{len(m_b)} QCD events + injected W', SR "
        f"{SIGNAL_REGION[0] / 1000:g}–{SIGNAL_REGION[1] / 1000:g} TeV"
    )
    figures = [
        _plot_significance(out / "anomaly_significance.png", rows_out, EFFICIENCIES, title),
        plot_sic(
            sic_models, out / "anomaly_sic.png", title=f"Signal region, S/B = {size['headline']:g}"
        ),
        _plot_spectra(
            out / "anomaly_mjj_cwola.png",
            headline["results"]["cwola"],
            f"CWoLa hunting, S/B = {size['headline']:g}",
        ),
        _plot_slide(
            out / "anomaly_sliding.png",
            slides,
            0.1,
            f"CWoLa hunting, {SIGNAL_REGION[1] - SIGNAL_REGION[0]:g} GeV signal regions "
            f"sliding by {step:g} GeV",
        ),
    ]
    summary: dict[str, Any] = {
        "study": "anomaly",
        "quick": bool(quick),
        "seed": seed,
        "datasets": {"qcd": paths[0], "signal": paths[1]},
        "n_events": {
            "qcd_data": len(m_b),
            "qcd_template": len(m_t),
            "signal": len(m_s_all),
            "signal_supervised_training": len(sup_sig),
            "signal_sic_evaluation_sr": len(eval_sr),
        },
        "signal_region": list(SIGNAL_REGION),
        "sidebands": [
            [window.sideband_low, window.signal_low],
            [window.signal_high, window.sideband_high],
        ],
        "signal_fraction_in_sr": sig_sr_fraction,
        "qcd_fraction_in_sr": n_b_sr / len(m_b),
        "fit": {
            "edges_gev": [float(FIT_EDGES[0]), float(FIT_EDGES[-1])],
            "bin_gev": 100.0,
            "n_params": size["n_params"],
            "function": "p0 (1-x)^p1 / x^(p2 + p3 ln x)",
        },
        "significance": "pyhf q0, one-bin counting with the fitted background and its fit "
        "uncertainty (shapesys); equals the Cowan et al. Asimov formula with s = n - b",
        "idealised": "signal-region data vs an independent QCD template of the same window",
        "classifier": "xgboost BDT (depth 3, <= 300 trees, learning rate 0.05, early stopping "
        "on the validation fold) on mj1, delta_mj, tau21_j1, tau21_j2",
        "k_folds": K_FOLDS,
        "efficiencies": list(EFFICIENCIES),
        "headline_s_over_b": size["headline"],
        "injections": rows_out,
        "sic_headline": sic_max,
        "sliding": slides,
        "timings_s": {
            "data_and_features": t_data,
            "supervised": t_sup,
            "injections": t_inject,
            "sliding": t_slide,
            "total": time.perf_counter() - t_start,
        },
        "machine": f"{platform.machine()}, {platform.system()}, python {platform.python_version()}",
    }
    metrics = {
        f"S/B = {r['s_over_b']:g}": {
            "S/B realised": r["s_over_b_realised"],
            "S/√B": r["s_over_sqrt_b"],
            **{
                f"Z {meth} ε={e:g}": r[meth][f"{e:g}"]["significance"]
                for meth in ("cwola", "idealised", "supervised")
                for e in EFFICIENCIES
                if e != 1.0 or meth == "cwola"
            },
        }
        for r in rows_out
    }
    text = (
        "## Setup\n\n"
        f"QCD: {len(m_b)} data events and {len(m_t)} template events "
        f"({100 * n_b_sr / len(m_b):.1f}% of the data in the signal region: B_SR = {n_b_sr}); "
        f"signal: {len(m_s_all)} W' events ({100 * sig_sr_fraction:.0f}% in the signal "
        "region), of which the first are injected, the rest train the supervised classifier "
        f"({len(sup_sig)}) and give the SIC signal efficiencies ({len(eval_sr)} in the signal "
        f"region). Window: sidebands {window.sideband_low:g}–{window.signal_low:g} and "
        f"{window.signal_high:g}–{window.sideband_high:g} GeV. {summary['classifier']}; "
        f"{K_FOLDS} folds. Fit: {FIT_EDGES[0]:g}–{FIT_EDGES[-1]:g} GeV, 100 GeV bins, "
        f"{size['n_params']}-parameter dijet function. {summary['significance']}. "
        "Z = None: the fit failed (too few events left after the cut).\n\n"
        f"Wall time {summary['timings_s']['total']:.0f} s (data and features {t_data:.0f} s, "
        f"injections {t_inject:.0f} s, sliding windows {t_slide:.0f} s) on "
        f"{summary['machine']}."
    )
    return finish_study(
        out,
        "Anomaly search: CWoLa hunting for a dijet resonance",
        summary,
        figures,
        text=text,
        metrics=metrics,
    )
