"""Did the reweighting work? Histogram distances, a fresh classifier's AUC, figures.

All diagnostics are meant for events the weights were *not* learned on (see
:mod:`heplearn.reweighting.classifier`): on the training events a flexible classifier's
weights look better than they are.

* :func:`observable_distances`: per observable, the triangular discriminator
  Δ(p, q) = ½ Σ_i (p_i − q_i)² / (p_i + q_i) between the target histogram and the source
  histogram before and after weighting, with the value expected from statistical
  fluctuations alone (:func:`expected_triangular_discriminator`).
* :func:`fresh_classifier_auc`: a new classifier trained on (weighted) source against
  target events and evaluated on a held-out split: AUC ≈ 0.5 means that it can no longer
  tell them apart.
* :func:`plot_weight_distribution`, :func:`plot_reweighted_observable`: figures, written
  atomically in the mplhep style of :mod:`heplearn.evaluation.plots`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from heplearn.reweighting.classifier import (
    ClassifierReweighter,
    Samples,
    _check_labels,
    _loss_of,
    _n_events,
    _take,
    stratified_split,
)
from heplearn.reweighting.weights import (
    ReweightingError,
    check_weights,
    effective_sample_size,
)

if TYPE_CHECKING:
    from heplearn.training.config import TrainConfig

__all__ = [
    "FreshClassifierResult",
    "histogram_edges",
    "expected_triangular_discriminator",
    "observable_distances",
    "fresh_classifier_auc",
    "plot_weight_distribution",
    "plot_reweighted_observable",
]


def _values(x: ArrayLike, name: str) -> np.ndarray:
    v = np.asarray(x, dtype=np.float64)
    if v.ndim != 1 or v.size == 0:
        raise ReweightingError(f"{name}: expected a non-empty (events,) array, got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ReweightingError(f"{name}: holds NaN or infinite values")
    return v


def histogram_edges(
    source: ArrayLike, target: ArrayLike, bins: int = 40, *, coverage: float = 0.995
) -> np.ndarray:
    """Common bin edges for two samples of one observable.

    The range spans the central ``coverage`` of the pooled values (events outside it are
    counted in the first and last bins by :func:`observable_distances` and the plots).
    Integer-valued observables (e.g. multiplicity) get edges on half-integers, with bins
    of an integer width so that no bin holds more integers than its neighbours.
    """
    if int(bins) != bins or bins < 2:
        raise ReweightingError(f"bins must be an integer >= 2, got {bins!r}")
    if not 0 < coverage <= 1:
        raise ReweightingError(f"coverage must lie in (0, 1], got {coverage!r}")
    pooled = np.concatenate([_values(source, "source"), _values(target, "target")])
    tail = (1.0 - coverage) / 2
    lo, hi = np.quantile(pooled, [tail, 1.0 - tail])
    if np.all(pooled == np.round(pooled)):
        lo, hi = np.floor(lo), np.ceil(hi)
        width = max(1, int(np.ceil((hi - lo + 1) / bins)))
        return np.arange(lo - 0.5, hi + 0.5 + width, width, dtype=np.float64)
    if hi <= lo:
        hi = lo + 1.0
    return np.linspace(lo, hi, int(bins) + 1)


def _hist(values: np.ndarray, weights: np.ndarray | None, edges: np.ndarray) -> np.ndarray:
    # under- and overflow go into the outer bins: the distance sees the whole distribution
    v = np.clip(values, edges[0], np.nextafter(edges[-1], -np.inf))
    return np.histogram(v, edges, weights=weights)[0].astype(np.float64)


def expected_triangular_discriminator(n_bins: int, n_first: float, n_second: float) -> float:
    """Mean triangular discriminator of two independent samples of one distribution.

    For histograms p̂, q̂ (normalised to unit sum) of N₁ and N₂ events from the same
    distribution p over B bins, multinomial fluctuations give, at leading order in 1/N,

    .. math:: E[\\Delta] \\simeq \\tfrac12 \\sum_i \\frac{\\mathrm{Var}(\\hat p_i - \\hat q_i)}
              {2 p_i} = \\frac{B - 1}{4} \\left(\\frac{1}{N_1} + \\frac{1}{N_2}\\right),

    using Var(p̂_i) = p_i (1 − p_i)/N. For weighted events use the effective sample size
    (:func:`~heplearn.reweighting.effective_sample_size`). A measured Δ near this value
    is consistent with no difference at all.

    References
    ----------
    Triangular discriminator: Topsøe, IEEE Trans. Inf. Theory 46 (2000) 1602; the
    expectation is derived here (REFERENCES.md, Metrics).

    Examples
    --------
    >>> expected_triangular_discriminator(41, 1000, 1000)
    0.02
    """
    if n_bins < 1 or n_first <= 0 or n_second <= 0:
        raise ReweightingError(
            f"need n_bins >= 1 and positive sample sizes, got {n_bins}, {n_first}, {n_second}"
        )
    return float((n_bins - 1) / 4.0 * (1.0 / n_first + 1.0 / n_second))


def observable_distances(
    source: Mapping[str, ArrayLike],
    target: Mapping[str, ArrayLike],
    weights: ArrayLike,
    *,
    target_weights: ArrayLike | None = None,
    bins: int = 40,
) -> dict[str, dict[str, float]]:
    """Triangular discriminator between target and source, before and after weighting.

    .. math:: \\Delta(p, q) = \\tfrac12 \\sum_i \\frac{(p_i - q_i)^2}{p_i + q_i}

    with both histograms normalised to unit sum
    (:func:`heplearn.evaluation.metrics.triangular_discriminator`), on the common binning
    of :func:`histogram_edges` (under- and overflow in the outer bins).

    Parameters
    ----------
    source, target : mapping name -> array_like (events,)
        The observables of the source and target events (same names).
    weights : array_like, shape (n_source,)
        The reweighting weights of the source events.
    target_weights : array_like, shape (n_target,), optional
        Weights of the target events (e.g. generator weights).
    bins : int
        Number of bins (see :func:`histogram_edges`).

    Returns
    -------
    dict
        ``{name: {"before": Δ, "after": Δ, "expected_before": ..., "expected_after": ...,
        "n_bins": B}}``; ``expected_*`` is :func:`expected_triangular_discriminator` for
        the (effective) sample sizes, the size of Δ from fluctuations alone.

    References
    ----------
    Topsøe, IEEE Trans. Inf. Theory 46 (2000) 1602; REFERENCES.md (Metrics).
    """
    from heplearn.evaluation.metrics import triangular_discriminator

    if set(source) != set(target) or not source:
        raise ReweightingError(
            f"observables: source and target must name the same observables; got "
            f"{sorted(source)} and {sorted(target)}"
        )
    w = check_weights(weights, "weights")
    wt = None if target_weights is None else check_weights(target_weights, "target_weights")
    n_t = len(next(iter(target.values())))
    ess_t = float(n_t) if wt is None else effective_sample_size(wt)
    ess_w = effective_sample_size(w)
    out: dict[str, dict[str, float]] = {}
    for name in source:
        s = _values(source[name], f"source[{name!r}]")
        t = _values(target[name], f"target[{name!r}]")
        if len(s) != len(w):
            raise ReweightingError(
                f"weights: {len(w)} weights for {len(s)} source events of {name!r}"
            )
        if wt is not None and len(t) != len(wt):
            raise ReweightingError(
                f"target_weights: {len(wt)} weights for {len(t)} target events of {name!r}"
            )
        edges = histogram_edges(s, t, bins)
        h_t = _hist(t, wt, edges)
        n_bins = int(np.count_nonzero(h_t + _hist(s, None, edges)))
        out[name] = {
            "before": triangular_discriminator(_hist(s, None, edges), h_t),
            "after": triangular_discriminator(_hist(s, w, edges), h_t),
            "expected_before": expected_triangular_discriminator(n_bins, len(s), ess_t),
            "expected_after": expected_triangular_discriminator(n_bins, ess_w, ess_t),
            "n_bins": len(edges) - 1,
        }
    return out


@dataclasses.dataclass(frozen=True)
class FreshClassifierResult:
    """AUC of a classifier trained on weighted source vs target, on held-out events.

    Attributes
    ----------
    auc : float
        Weighted AUC on the held-out split (source events carry their weights).
    uncertainty : float
        Bootstrap standard deviation of ``auc`` over the held-out events.
    model : str
        The classifier (registry name).
    n_train, n_test : int
        Events used to train and to evaluate it.
    """

    auc: float
    uncertainty: float
    model: str
    n_train: int
    n_test: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def fresh_classifier_auc(
    source: Samples,
    target: Samples,
    source_weights: ArrayLike | None = None,
    *,
    config: TrainConfig | dict[str, Any] | None = None,
    test_fraction: float = 0.5,
    n_bootstrap: int = 100,
    seed: int = 0,
    run_dir: str | os.PathLike | None = None,
) -> FreshClassifierResult:
    """Train a new classifier to separate (weighted) source from target events and return
    its AUC on a held-out split: 0.5 when the weighted source is indistinguishable from
    the target, larger the more it still differs.

    The events are split per class by ``seed`` into a training part and a held-out
    ``test_fraction``; the split depends only on the sample sizes and ``seed``, so calls
    with and without weights ("before" and "after") train and evaluate on the same events.
    In training, source weights are scaled so that both classes carry the same total
    weight; the AUC weights the held-out source events by ``source_weights``.

    Parameters
    ----------
    source, target
        Events in any form :class:`~heplearn.reweighting.ClassifierReweighter` accepts.
    source_weights : array_like, shape (n_source,), optional
        Reweighting weights (``None``: before reweighting).
    config
        The fresh classifier (default: ``bdt``, small preset).
    test_fraction : float
        Held-out fraction, in (0, 1).
    n_bootstrap : int
        Resamples for the AUC uncertainty (stratified bootstrap of the held-out events).

    References
    ----------
    The classifier test: Lopez-Paz & Oquab, arXiv:1610.06545; used for reweighting
    checks in Andreassen & Nachman, arXiv:1907.08209. AUC bootstrap: Efron,
    Ann. Statist. 7 (1979) 1.
    """
    from heplearn.evaluation.metrics import auc, bootstrap

    if not 0 < test_fraction < 1:
        raise ReweightingError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
    if isinstance(n_bootstrap, bool) or int(n_bootstrap) != n_bootstrap or n_bootstrap < 2:
        raise ReweightingError(f"n_bootstrap must be an integer >= 2, got {n_bootstrap!r}")
    n_s, n_t = _n_events(source, "source"), _n_events(target, "target")
    for name, n in (("source", n_s), ("target", n_t)):
        if n == 0:
            raise ReweightingError(f"{name}: empty sample (no events)")
    w_s = (
        np.ones(n_s) if source_weights is None else check_weights(source_weights, "source_weights")
    )
    if len(w_s) != n_s:
        raise ReweightingError(f"source_weights: expected {n_s} weights, got {len(w_s)}")
    y = np.concatenate([np.zeros(n_s, np.int64), np.ones(n_t, np.int64)])
    split = stratified_split(y, {"test": test_fraction}, seed)
    calibration = "none" if _loss_of(config) == "cross_entropy" else "isotonic"
    clf = ClassifierReweighter(config, calibration=calibration, run_dir=run_dir)
    tr_s = split["train"][split["train"] < n_s]
    tr_t = split["train"][split["train"] >= n_s] - n_s
    te_s = split["test"][split["test"] < n_s]
    te_t = split["test"][split["test"] >= n_s] - n_s
    w_train = w_s[tr_s] * (len(tr_t) / w_s[tr_s].sum())  # equal class totals
    clf.fit_samples(_take(source, tr_s), _take(target, tr_t), source_weight=w_train)
    scores = np.concatenate(
        [
            clf.predict_proba(_take(source, te_s))[:, 1],
            clf.predict_proba(_take(target, te_t))[:, 1],
        ]
    )
    labels = np.concatenate([np.zeros(len(te_s), np.int64), np.ones(len(te_t), np.int64)])
    _check_labels(labels, len(labels))
    w_test = np.concatenate([w_s[te_s], np.ones(len(te_t))])
    boot = bootstrap(auc, scores, labels, w_test, n=int(n_bootstrap), seed=seed)
    return FreshClassifierResult(
        auc=boot.value,
        uncertainty=boot.std,
        model=clf.config_.model,
        n_train=len(tr_s) + len(tr_t),
        n_test=len(labels),
    )


# --------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------
def plot_weight_distribution(
    weights: ArrayLike,
    path: str | os.PathLike[str],
    *,
    cap: float | None = None,
    bins: int = 60,
    title: str | None = None,
) -> Path:
    """Histogram of log10(w) of the weighted events, with N, N_eff and the mean weight.

    Parameters
    ----------
    weights : array_like, shape (N,)
        Weights (zero weights are counted but not drawn on the log axis).
    path : path-like
        Output file (format from the suffix), written atomically.
    cap : float, optional
        The weight cap, drawn as a vertical line.
    """
    from heplearn.evaluation.plots import _figure, _save

    w = check_weights(weights)
    pos = w[w > 0]
    logw = np.log10(pos)
    lo, hi = float(logw.min()), float(logw.max())
    if hi - lo < 1e-3:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, int(bins) + 1)
    ess = effective_sample_size(w)
    with _figure() as (fig, ax):
        ax.stairs(np.histogram(logw, edges)[0], edges, label="events")
        ax.axvline(0.0, color="grey", ls=":", lw=1)
        if cap is not None and np.isfinite(cap):
            ax.axvline(np.log10(cap), color="C3", ls="--", label=f"cap w = {cap:.3g}")
        ax.set_yscale("log")
        ax.set_ylim(top=ax.get_ylim()[1] * 30)  # room for the legend
        ax.set_xlabel(r"$\log_{10} w$")
        ax.set_ylabel("Events / bin")
        ax.legend(
            title=f"N = {len(w)}, $N_{{eff}}$ = {ess:.0f} ({ess / len(w):.1%})\n"
            f"mean w = {w.mean():.3f}, max w = {w.max():.3g}",
            title_fontsize="x-small",
            fontsize="x-small",
            loc="upper left",
        )
        if title:
            ax.set_title(title, fontsize="medium")
        return _save(fig, path)


def plot_reweighted_observable(
    source: ArrayLike,
    target: ArrayLike,
    weights: ArrayLike,
    path: str | os.PathLike[str],
    *,
    xlabel: str,
    bins: int = 40,
    source_label: str = "source",
    target_label: str = "target",
    title: str | None = None,
) -> Path:
    """One observable: target, source and weighted source (normalised), and the ratio
    panel source/target before and after weighting, with Δ of each in the legend.

    The binning is :func:`histogram_edges` (under- and overflow in the outer bins); the
    target's error bars and the grey band of the ratio panel are its statistical errors.
    """
    from heplearn.evaluation.metrics import triangular_discriminator
    from heplearn.evaluation.plots import _figure, _save

    s = _values(source, "source")
    t = _values(target, "target")
    w = check_weights(weights)
    if len(w) != len(s):
        raise ReweightingError(f"weights: {len(w)} weights for {len(s)} source events")
    edges = histogram_edges(s, t, bins)
    width = np.diff(edges)
    h_t, h_s, h_w = _hist(t, None, edges), _hist(s, None, edges), _hist(s, w, edges)
    d_before = triangular_discriminator(h_s, h_t)
    d_after = triangular_discriminator(h_w, h_t)
    n_t, n_s, n_w = h_t.sum(), h_s.sum(), h_w.sum()
    centres = 0.5 * (edges[1:] + edges[:-1])
    with _figure(nrows=2, sharex=True, gridspec_kw={"height_ratios": [3, 1]}) as (fig, axes):
        top, bottom = axes
        top.errorbar(
            centres,
            h_t / n_t / width,
            yerr=np.sqrt(h_t) / n_t / width,
            fmt="o",
            ms=3,
            color="black",
            label=target_label,
        )
        top.stairs(
            h_s / n_s / width,
            edges,
            color="C0",
            label=f"{source_label}, "
            rf"$\Delta$ = {d_before:.2g}",
        )
        top.stairs(
            h_w / n_w / width,
            edges,
            color="C1",
            lw=2,
            label=f"{source_label} "
            rf"reweighted, $\Delta$ = {d_after:.2g}",
        )
        top.set_ylabel("Normalised events / bin width", fontsize="small")
        peak = max((h_t / n_t / width).max(), (h_s / n_s / width).max(), (h_w / n_w / width).max())
        top.set_ylim(0, 1.55 * peak)  # room for the legend
        top.legend(fontsize="x-small", loc="upper right")
        if title:
            top.set_title(title, fontsize="medium")
        with np.errstate(divide="ignore", invalid="ignore"):
            p_t = h_t / n_t
            rel = np.where(h_t > 0, 1.0 / np.sqrt(h_t), np.nan)
            bottom.fill_between(
                edges,
                np.append(1 - rel, (1 - rel)[-1]),
                np.append(1 + rel, (1 + rel)[-1]),
                step="post",
                color="grey",
                alpha=0.3,
                lw=0,
            )
            bottom.stairs((h_s / n_s) / p_t, edges, color="C0")
            bottom.stairs((h_w / n_w) / p_t, edges, color="C1", lw=2)
        bottom.axhline(1.0, color="black", lw=0.8)
        bottom.set_ylim(0.5, 1.5)
        bottom.set_ylabel(f"Ratio to\n{target_label.split(',')[0]}", fontsize="x-small")
        bottom.set_xlabel(xlabel)
        return _save(fig, path)
