"""Standard tagger plots, each written atomically to a file whose path is returned.

matplotlib and mplhep are imported inside the functions (``import heplearn.evaluation``
stays cheap). Figures are built on a bare :class:`matplotlib.figure.Figure` rendered with
the Agg canvas, inside a temporary ``mplhep.style.ROOT`` style context: nothing touches
pyplot's global state, the global backend or the global rcParams, so every function can run
twice in one notebook with the same result. The style is experiment-neutral (no ATLAS/CMS
label). The format follows the file suffix (``.png``, ``.pdf``, ``.svg``, ...); a figure is
written to a temporary file in the target directory and renamed over the target with
:func:`os.replace`, so a reader never sees half a file.

Inputs for several models are mappings ``{model name: (scores, labels)}`` or
``{model name: (scores, labels, weights)}``; the rejection and SIC plots also take a
precomputed :class:`~heplearn.evaluation.metrics.RocCurve` as the value.

References
----------
Kasieczka, Plehn et al., arXiv:1902.09914 (rejection vs ε_S, log scale, all taggers on one
figure); Kasieczka & Shih, arXiv:2001.05310 (background mass sculpting).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike

from heplearn.errors import MissingDependencyError
from heplearn.evaluation.metrics import (
    DEFAULT_MIN_BACKGROUND,
    InvalidOptionError,
    InvalidScoresError,
    RocCurve,
    _check,
    _roc,
    _sic_from_roc,
    calibration_curve,
    jensen_shannon_divergence,
    threshold_at_signal_efficiency,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "plot_rejection",
    "plot_sic",
    "plot_score_distributions",
    "plot_calibration",
    "plot_sculpting",
    "plot_learning_curves",
    "plot_selected_mass",
    "plot_decorrelation_plane",
]

ModelScores: TypeAlias = tuple[ArrayLike, ArrayLike] | tuple[ArrayLike, ArrayLike, ArrayLike | None]

_EPS_S = r"Signal efficiency $\varepsilon_S$"
_MAX_POINTS = 2000  # ROC curves of 10^5 jets are thinned to this many points for drawing


@contextlib.contextmanager
def _figure(**subplots_kw: Any) -> Iterator[tuple[Figure, Any]]:
    try:
        import matplotlib.style
        import mplhep
        from matplotlib.figure import Figure
    except ImportError as err:  # pragma: no cover - both are core dependencies
        raise MissingDependencyError(
            f"plotting needs matplotlib and mplhep ({err}); install them with "
            "`pip install matplotlib mplhep` (they come with `pip install heplearn`)"
        ) from err
    with matplotlib.style.context(mplhep.style.ROOT):
        fig = Figure(figsize=(8, 6.5), layout="constrained")
        yield fig, fig.subplots(**subplots_kw)


def _legend_beside(fig: Figure, ax) -> None:
    """The legend right of the axes, the figure widened to hold it."""
    fig.set_figwidth(10)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0))


def _save(fig: Figure, path: str | os.PathLike[str]) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    target = Path(path)
    fmt = target.suffix.lstrip(".").lower()
    canvas = FigureCanvasAgg(fig)
    supported = canvas.get_supported_filetypes()
    if fmt not in supported:
        raise InvalidOptionError(
            f'cannot write figure "{target}": unknown format "{fmt}". '
            f"Known suffixes: {', '.join(sorted(supported))}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.tmp-{os.getpid()}{target.suffix}")
    try:
        fig.savefig(tmp, format=fmt)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _roc_of(name: str, value: RocCurve | ModelScores) -> RocCurve:
    if isinstance(value, RocCurve):
        return value
    if not isinstance(value, (tuple, list)) or len(value) not in (2, 3):
        raise InvalidScoresError(
            f'model "{name}": expected (scores, labels), (scores, labels, weights) or a '
            f"RocCurve; got {type(value).__name__}"
        )
    return _roc(*_check(*value))


def _unpack(name: str, value: ModelScores) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    if not isinstance(value, (tuple, list)) or len(value) not in (2, 3):
        raise InvalidScoresError(
            f'model "{name}": expected (scores, labels) or (scores, labels, weights); got '
            f"{type(value).__name__}"
        )
    return _check(*value)


def _thin(x: np.ndarray) -> np.ndarray:
    """Indices of at most ~_MAX_POINTS points spread evenly along a monotone ``x``."""
    if len(x) <= _MAX_POINTS:
        return np.arange(len(x))
    grid = np.linspace(x[0], x[-1], _MAX_POINTS)
    idx = np.searchsorted(x, grid, side="left")
    return np.unique(np.clip(np.concatenate([idx, idx - 1, [len(x) - 1]]), 0, len(x) - 1))


def _require_models(models: Mapping[str, Any]) -> None:
    if len(models) == 0:
        raise InvalidOptionError("no models to plot: the mapping of model names is empty")


def plot_rejection(
    models: Mapping[str, RocCurve | ModelScores],
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    min_background: int = DEFAULT_MIN_BACKGROUND,
    show_random: bool = True,
) -> Path:
    """Background rejection 1/ε_B against signal efficiency ε_S, every model on one figure.

    Log-scale y axis; the legend gives each model's AUC. Cuts passed by fewer than
    ``min_background`` background jets (default 20, the lower-bound rule of
    :func:`~heplearn.evaluation.metrics.background_rejection`) are not drawn: there the
    curve would show Poisson noise, ending on a plateau at 1/ε_B = N_B. The dashed line is
    a random classifier, 1/ε_B = 1/ε_S.

    Parameters
    ----------
    models : mapping
        ``{name: RocCurve | (scores, labels) | (scores, labels, weights)}``.
    path : path-like
        Output file; the suffix gives the format.
    title : str, optional
        Axes title (e.g. the dataset).
    min_background : int
        Fewest background jets a drawn point must keep.
    show_random : bool
        Draw the random-classifier line.

    Returns
    -------
    pathlib.Path
        The written file.

    References
    ----------
    Kasieczka, Plehn et al., arXiv:1902.09914, Fig. 6.
    """
    _require_models(models)
    rocs = {name: _roc_of(name, v) for name, v in models.items()}
    with _figure() as (fig, ax):
        for i, (name, roc) in enumerate(rocs.items()):
            keep = (roc.background_efficiency > 0) & (
                roc.n_background_pass >= max(min_background, 1)
            )
            eps_s, eps_b = roc.signal_efficiency[keep], roc.background_efficiency[keep]
            idx = _thin(eps_s)
            ax.plot(
                eps_s[idx],
                1.0 / eps_b[idx],
                linestyle=_line_style(i),
                label=f"{name} (AUC = {roc.auc():.4f})",
            )
        if show_random:
            grid = np.linspace(0.01, 1.0, 200)
            ax.plot(grid, 1.0 / grid, color="0.5", linestyle="--", label="random")
        ax.set_yscale("log")
        ax.set_xlim(0.0, 1.0)
        ax.set_xlabel(_EPS_S)
        ax.set_ylabel(r"Background rejection $1/\varepsilon_B$")
        if title:
            ax.set_title(title, fontsize="small")
        long = len(rocs) > 6 or max(len(name) for name in rocs) > 28
        ax.legend(
            loc="lower left" if len(rocs) > 6 else "best",
            fontsize="xx-small" if long else "small",
            ncol=2 if len(rocs) > 6 else 1,
        )
        return _save(fig, path)


def _line_style(i: int) -> str:
    """The i-th curve's line style: once the colour cycle wraps, the style tells the
    curves apart."""
    import matplotlib

    n_colors = len(matplotlib.rcParams["axes.prop_cycle"].by_key().get("color", [0] * 10))
    return ("-", "--", ":", "-.")[(i // n_colors) % 4]


def plot_sic(
    models: Mapping[str, RocCurve | ModelScores],
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    min_background: int = DEFAULT_MIN_BACKGROUND,
) -> Path:
    """Significance improvement ε_S/√ε_B against ε_S, every model on one figure.

    Cuts passed by fewer than ``min_background`` background jets are left out (see
    :func:`heplearn.evaluation.metrics.sic_curve`); the legend gives each maximum.

    Parameters
    ----------
    models : mapping
        ``{name: RocCurve | (scores, labels) | (scores, labels, weights)}``.
    path : path-like
        Output file.
    title : str, optional
        Axes title.
    min_background : int
        Fewest background jets a drawn point must keep.

    Returns
    -------
    pathlib.Path
        The written file.

    References
    ----------
    Gallicchio et al., arXiv:1010.3698.
    """
    _require_models(models)
    with _figure() as (fig, ax):
        for name, v in models.items():
            curve = _sic_from_roc(_roc_of(name, v), min_background)
            if len(curve.sic) == 0:
                raise InvalidScoresError(
                    f'model "{name}": no cut keeps at least min_background={min_background} '
                    "background jets"
                )
            idx = _thin(curve.signal_efficiency)
            ax.plot(
                curve.signal_efficiency[idx],
                curve.sic[idx],
                label=f"{name} (max {curve.sic.max():.2f})",
            )
        ax.axhline(1.0, color="0.5", linestyle="--", label="no gain")
        ax.set_xlim(0.0, 1.0)
        ax.set_xlabel(_EPS_S)
        # \sqrt is avoided: mathtext lacks a glyph mapping for it with this style's fonts
        ax.set_ylabel(r"SIC $\varepsilon_S\,/\,\varepsilon_B^{1/2}$")
        if title:
            ax.set_title(title)
        ax.legend(loc="best", fontsize="small")
        return _save(fig, path)


def _density(values: np.ndarray, weights: np.ndarray | None, edges: np.ndarray) -> np.ndarray:
    h, _ = np.histogram(values, edges, weights=weights)
    total = h.sum()
    return h / (total * np.diff(edges)) if total > 0 else h.astype(float)


def plot_score_distributions(
    scores: ArrayLike,
    labels: ArrayLike,
    path: str | os.PathLike[str],
    weights: ArrayLike | None = None,
    *,
    bins: int = 50,
    log: bool = False,
    title: str | None = None,
) -> Path:
    """Normalised score distributions of signal and background jets.

    Parameters
    ----------
    scores, labels, weights : array_like, shape (n_jets,)
        See :func:`heplearn.evaluation.metrics.roc_curve`.
    path : path-like
        Output file.
    bins : int
        Number of equal-width bins over the score range.
    log : bool
        Log-scale y axis (shows the tails where the rejection is decided).
    title : str, optional
        Axes title (e.g. the model).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    s, y, w = _check(scores, labels, weights)
    lo, hi = float(s.min()), float(s.max())
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, int(bins) + 1)
    with _figure() as (fig, ax):
        for cls, name in ((1, "signal"), (0, "background")):
            sel = y == cls
            ax.stairs(_density(s[sel], None if w is None else w[sel], edges), edges, label=name)
        if log:
            ax.set_yscale("log")
        ax.set_xlabel("Classifier score")
        ax.set_ylabel("Normalised jets / bin width")
        if title:
            ax.set_title(title)
        ax.legend()
        return _save(fig, path)


def plot_calibration(
    models: Mapping[str, ModelScores],
    path: str | os.PathLike[str],
    *,
    n_bins: int = 10,
    title: str | None = None,
) -> Path:
    """Reliability diagram: fraction of signal against mean predicted probability.

    Upper panel: one curve per model with binomial error bars and the diagonal of a
    calibrated classifier; lower panel: jets per bin (log scale).

    Parameters
    ----------
    models : mapping
        ``{name: (probabilities, labels) | (probabilities, labels, weights)}``.
    path : path-like
        Output file.
    n_bins : int
        Number of equal-width probability bins.
    title : str, optional
        Axes title.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    _require_models(models)
    curves = {
        name: calibration_curve(*_unpack(name, v), n_bins=n_bins) for name, v in models.items()
    }
    from matplotlib.ticker import NullFormatter

    with _figure(nrows=2, sharex=True, height_ratios=[3, 1]) as (fig, (ax, ax_n)):
        ax.plot([0, 1], [0, 1], color="0.5", linestyle="--", label="calibrated")
        for name, c in curves.items():
            ok = c.counts > 0
            line = ax.errorbar(
                c.mean_predicted[ok],
                c.fraction_positive[ok],
                yerr=c.fraction_uncertainty[ok],
                marker="o",
                capsize=3,
                label=name,
            )
            ax_n.stairs(c.counts, c.bin_edges, color=line[0].get_color())
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(0.0, 1.0)
        ax.set_ylabel("Fraction of signal jets")
        ax.legend(loc="upper left")
        if title:
            ax.set_title(title)
        ax_n.set_yscale("log")
        ax_n.yaxis.set_minor_formatter(NullFormatter())  # minor labels overlap on a short axis
        ax_n.set_ylabel("Jets")
        ax_n.set_xlabel("Mean predicted signal probability")
        return _save(fig, path)


def plot_sculpting(
    scores: ArrayLike,
    labels: ArrayLike,
    mass: ArrayLike,
    path: str | os.PathLike[str],
    weights: ArrayLike | None = None,
    *,
    signal_efficiency: float = 0.5,
    bins: int | ArrayLike = 40,
    mass_range: tuple[float, float] | None = None,
    title: str | None = None,
    xlabel: str = "Jet mass [GeV]",
) -> Path:
    """Background jet-mass distribution before and after a cut at fixed ε_S (normalised).

    A tagger that learned the mass sculpts the passing background into a signal-like
    peak. The cut is the tightest one keeping ``signal_efficiency`` of the signal
    (default ε_S = 0.5); the legend gives the JSD (bits) between passing and failing
    background, the sculpting measure of Kasieczka & Shih, arXiv:2001.05310.

    Parameters
    ----------
    scores, labels, weights : array_like, shape (n_jets,)
        See :func:`heplearn.evaluation.metrics.roc_curve`.
    mass : array_like, shape (n_jets,)
        Jet mass in GeV.
    path : path-like
        Output file.
    signal_efficiency : float
        ε_S of the cut.
    bins : int or array_like
        Number of bins or bin edges (GeV).
    mass_range : (float, float), optional
        Histogram range when ``bins`` is an int; default the background mass range.
    title : str, optional
        Axes title.
    xlabel : str
        Axis label of ``mass`` (another variable may be given in its place).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    s, y, w = _check(scores, labels, weights)
    m = np.asarray(mass, dtype=np.float64)
    if m.shape != s.shape or not np.all(np.isfinite(m)):
        raise InvalidScoresError(
            f"mass must be finite with one value per jet: shape {s.shape}; got shape {m.shape}"
        )
    cut = threshold_at_signal_efficiency(s, y, signal_efficiency, w)
    bkg = y == 0
    mb, sb = m[bkg], s[bkg]
    wb = None if w is None else w[bkg]
    edges = np.histogram_bin_edges(mb, bins=bins, range=mass_range)
    passing = sb >= cut
    h_all = _density(mb, wb, edges)
    h_pass = _density(mb[passing], None if wb is None else wb[passing], edges)
    h_fail = _density(mb[~passing], None if wb is None else wb[~passing], edges)
    n_pass = int(passing.sum())
    with _figure() as (fig, ax):
        ax.stairs(h_all, edges, label="background, all")
        ax.stairs(
            h_pass,
            edges,
            label=rf"background, pass $\varepsilon_S = {signal_efficiency:g}$ ({n_pass} jets)",
        )
        legend_title = None
        if h_pass.sum() > 0 and h_fail.sum() > 0:
            jsd = jensen_shannon_divergence(h_pass * np.diff(edges), h_fail * np.diff(edges))
            legend_title = f"JSD(pass, fail) = {jsd:.3g}"
        ax.set_xlabel(xlabel)
        ax.set_ylabel("Normalised jets / GeV" if "GeV" in xlabel else "Normalised jets per unit")
        if title:
            ax.set_title(title)
        ax.legend(title=legend_title, loc="best", fontsize="small", title_fontsize="small")
        return _save(fig, path)


def plot_learning_curves(
    curves: Mapping[str, Sequence[ArrayLike]],
    path: str | os.PathLike[str],
    *,
    ylabel: str = "AUC",
    log_y: bool = False,
    title: str | None = None,
) -> Path:
    """A metric against the number of training jets, one line with error bars per model.

    Log-scale x axis. Where the lines cross (a BDT on observables often beats deep networks
    with little data) is the result to look at.

    Parameters
    ----------
    curves : mapping
        ``{name: (n_train, values)}`` or ``{name: (n_train, values, errors)}``, arrays of
        shape ``(n_points,)``; ``errors`` of shape ``(n_points,)`` (symmetric) or
        ``(2, n_points)`` (below, above; e.g. median − p16 and p84 − median).
    path : path-like
        Output file.
    ylabel : str
        Name of the metric.
    log_y : bool
        Log-scale y axis (for rejections).
    title : str, optional
        Axes title.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    _require_models(curves)
    with _figure() as (fig, ax):
        for i, (name, c) in enumerate(curves.items()):
            if len(c) not in (2, 3):
                raise InvalidScoresError(
                    f'learning curve "{name}": expected (n_train, values) or '
                    f"(n_train, values, errors); got {len(c)} arrays"
                )
            n = np.asarray(c[0], dtype=np.float64)
            v = np.asarray(c[1], dtype=np.float64)
            err = None if len(c) == 2 or c[2] is None else np.asarray(c[2], dtype=np.float64)
            if n.shape != v.shape or n.ndim != 1 or np.any(n <= 0):
                raise InvalidScoresError(
                    f'learning curve "{name}": n_train must be positive and match values in '
                    f"shape; got shapes {n.shape} and {v.shape}"
                )
            if err is not None and err.shape not in (v.shape, (2, *v.shape)):
                raise InvalidScoresError(
                    f'learning curve "{name}": errors must have shape {v.shape} or '
                    f"{(2, *v.shape)}; got {err.shape}"
                )
            order = np.argsort(n)
            yerr = None if err is None else err[..., order]
            ax.errorbar(
                n[order],
                v[order],
                yerr=yerr,
                marker="o",
                capsize=3,
                linestyle=_line_style(i),
                label=name,
            )
        ax.set_xscale("log")
        if log_y:
            ax.set_yscale("log")
        ax.set_xlabel("Training jets")
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title, fontsize="small")
        if len(curves) > 6:  # inside, so many entries hide the low curves
            _legend_beside(fig, ax)
        else:
            ax.legend(fontsize="small")
        return _save(fig, path)


def plot_selected_mass(
    models: Mapping[str, ModelScores],
    mass: ArrayLike,
    path: str | os.PathLike[str],
    *,
    signal_efficiency: float = 0.5,
    bins: int | ArrayLike = 40,
    mass_range: tuple[float, float] | None = None,
    title: str | None = None,
) -> Path:
    """Mass of the background jets that pass each model's cut at fixed ε_S, all models on
    one figure over the distribution of all background (normalised): a decorrelated tagger
    keeps the background shape, one that learned the mass sculpts a peak
    (Kasieczka & Shih, arXiv:2001.05310, Fig. 4). ``mass`` is per jet, shared by the
    models, whose scores are given for the same jets."""
    _require_models(models)
    m = np.asarray(mass, dtype=np.float64)
    first = True
    with _figure() as (fig, ax):
        for name, value in models.items():
            s, y, w = _unpack(name, value)
            if m.shape != s.shape:
                raise InvalidScoresError(f"{name}: {len(s)} scores but {len(m)} masses")
            bkg = y == 0
            wb = None if w is None else w[bkg]
            if first:
                edges = np.histogram_bin_edges(m[bkg], bins=bins, range=mass_range)
                ax.stairs(
                    _density(m[bkg], wb, edges), edges, color="k", ls="--", label="background, all"
                )
                first = False
            cut = threshold_at_signal_efficiency(s, y, signal_efficiency, w)
            passing = s[bkg] >= cut
            h = _density(m[bkg][passing], None if wb is None else wb[passing], edges)
            ax.stairs(h, edges, label=name)
        ax.set_xlabel("Jet mass [GeV]")
        ax.set_ylabel("Normalised jets / GeV")
        ax.set_title(title or rf"background passing $\varepsilon_S = {signal_efficiency:g}$")
        ax.legend(loc="best", fontsize="small")
        return _save(fig, path)


def plot_decorrelation_plane(
    curves: Mapping[str, Sequence[ArrayLike]],
    path: str | os.PathLike[str],
    *,
    signal_efficiency: float = 0.5,
    labels: Mapping[str, Sequence[str]] | None = None,
    title: str | None = None,
) -> Path:
    """Background rejection against 1/JSD (log–log), one line per method through its
    strengths λ, single points for reference taggers: the trade-off plane of Kasieczka &
    Shih, arXiv:2001.05310 (Fig. 3). ``curves``: ``{method: (inverse_jsd, rejection)}``;
    ``labels``: optional text per point (e.g. the λ values)."""
    _require_models(curves)
    from matplotlib import colormaps

    colours = colormaps["tab10"].colors  # ten distinct colours: the style's cycle repeats
    single = iter(["*", "s", "D", "^", "v", "P", "X"])  # reference taggers, one point each
    with _figure() as (fig, ax):
        for i, (name, (x, y)) in enumerate(curves.items()):
            x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
            marker = "o" if len(x) > 1 else next(single, "o")
            ax.plot(
                x,
                y,
                marker=marker,
                markersize=10 if len(x) == 1 else None,
                ls="-" if len(x) > 1 else "none",
                color=colours[i % len(colours)],
                label=name,
            )
            for xi, yi, text in zip(x, y, (labels or {}).get(name, ()), strict=False):
                ax.annotate(
                    text, (xi, yi), fontsize="x-small", xytext=(3, 3), textcoords="offset points"
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("1 / JSD (pass, fail background mass)")
        ax.set_ylabel(rf"Rejection $1/\varepsilon_B$ at $\varepsilon_S = {signal_efficiency:g}$")
        # a log axis spanning less than a decade labels its minor ticks, which then collide
        from matplotlib.ticker import NullFormatter

        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
        if title:
            ax.set_title(title)
        _legend_beside(fig, ax)  # inside, it hides the λ labels
        return _save(fig, path)
