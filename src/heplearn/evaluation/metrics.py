"""Classifier metrics of the tagging literature, as pure functions on numpy arrays.

Every function takes per-jet ``scores`` (shape ``(n_jets,)``, larger = more signal-like),
binary ``labels`` (1 = signal, 0 = background) and optional non-negative per-jet ``weights``.
A jet *passes* a cut at threshold ``t`` when ``score >= t``. Efficiencies are weighted
fractions: ε_S(t) = Σ_{signal, s ≥ t} w / Σ_signal w, and likewise ε_B for background.
Counts of jets (``n_background_pass``) are always unweighted: they set the statistical
precision of a rejection, whatever the weights.

Conventions chosen here (and relied on by ``landscape.json``):

- ROC curve: every distinct score is a threshold (``drop_intermediate=False``), from the
  tightest (nothing passes, ε_S = ε_B = 0) to the loosest (everything passes).
- Background rejection 1/ε_B at fixed ε_S: ε_B is interpolated *linearly in ε_S* between
  the two consecutive ROC points that bracket the target ε_S (the operating point of a
  cut that is randomised between the two thresholds). With continuous, untied scores the
  bracketing segment is flat in ε_B and the interpolation is exact; it matters for
  discrete scores (cut-based taggers, small tree ensembles).
- Lower bounds: when fewer than ``min_background`` (default 20) background jets pass the
  cut, the rejection is reported as a lower bound at confidence level ``cl`` (default 95%)
  from the one-sided Poisson (Garwood) upper limit on the number of passing background
  jets; with none passing this is the "rule of three", 1/ε_B > N_B / 3.0.
- Accuracy: probabilities of shape ``(n_jets,)`` are cut at 0.5 (an explicit ``threshold``
  may be given for logits); 2-class outputs of shape ``(n_jets, 2)`` use the argmax.
- Uncertainties: bootstrap of the test set with a fixed seed, resampling jets with
  replacement *within each class* (a test set has fixed numbers of signal and background
  jets); the spread is the standard deviation and the 16/84% percentiles.

References
----------
- Kasieczka, Plehn et al., "The Machine Learning Landscape of Top Taggers",
  SciPost Phys. 7, 014 (2019), arXiv:1902.09914 (AUC, 1/ε_B at ε_S = 0.3, median of
  repeated trainings).
- Gallicchio, Huth, Kagan, Schwartz et al., "Multivariate discrimination and the Higgs +
  W/Z search", JHEP 04 (2011) 069, arXiv:1010.3698 (significance improvement ε_S/√ε_B).
- Kasieczka & Shih, "Robust Jet Classifiers through Distance Correlation",
  Phys. Rev. Lett. 125, 122001 (2020), arXiv:2001.05310 (JSD of background mass
  distributions, the 1/JSD vs R50 decorrelation plane).
- Garwood, "Fiducial limits for the Poisson distribution", Biometrika 28 (1936) 437
  (Poisson upper limits).
- Efron, "Bootstrap methods: another look at the jackknife", Ann. Statist. 7 (1979) 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from heplearn.errors import HeplearnError

__all__ = [
    "EvaluationError",
    "InvalidScoresError",
    "InvalidOptionError",
    "RocCurve",
    "RejectionResult",
    "BootstrapResult",
    "SicCurve",
    "MaxSic",
    "CalibrationCurve",
    "roc_curve",
    "auc",
    "accuracy",
    "background_rejection",
    "threshold_at_signal_efficiency",
    "bootstrap",
    "sic_curve",
    "max_sic",
    "calibration_curve",
    "summarize_runs",
    "combine_trainings",
    "jensen_shannon_divergence",
    "triangular_discriminator",
    "sculpting_jsd",
    "evaluate_scores",
]

DEFAULT_MIN_BACKGROUND = 20
DEFAULT_CL = 0.95


# --------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------
class EvaluationError(HeplearnError, ValueError):
    """Base class of the errors raised by ``heplearn.evaluation``."""


class InvalidScoresError(EvaluationError):
    """Scores, labels or weights are inconsistent (lengths, NaN, a single class, ...)."""


class InvalidOptionError(EvaluationError):
    """An option is outside its allowed range (e.g. a signal efficiency outside (0, 1))."""


# --------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------
def _as_scores(scores: ArrayLike, name: str = "scores", allow_2d: bool = False) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1 and not (allow_2d and s.ndim == 2 and s.shape[1] == 2):
        allowed = "(n_jets,) or (n_jets, 2)" if allow_2d else "(n_jets,)"
        raise InvalidScoresError(
            f"{name} must have shape {allowed} (one signal score per jet); got shape {s.shape}"
        )
    bad = ~np.isfinite(s)
    if bad.any():
        n_nan = int(np.isnan(s).sum())
        n_inf = int(bad.sum()) - n_nan
        what = " and ".join(
            f"{k} {kind} value{'s' if k > 1 else ''}"
            for k, kind in ((n_nan, "NaN"), (n_inf, "infinite"))
            if k
        )
        first = int(np.argwhere(bad)[0][0])
        raise InvalidScoresError(
            f"{name} contain {what} (first at jet {first}); every jet needs a finite value"
        )
    return s


def _as_labels(labels: ArrayLike, n: int, name: str = "scores") -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1:
        raise InvalidScoresError(f"labels must have shape (n_jets,); got shape {y.shape}")
    if len(y) != n:
        raise InvalidScoresError(
            f"{name} has {n} entries but labels has {len(y)}; one {name[:-1]} and one label "
            "per jet expected"
        )
    if y.dtype == bool:
        y = y.astype(np.int8)
    values = np.unique(y)
    if not np.all(np.isin(values, (0, 1))):
        shown = ", ".join(str(v) for v in values[:6])
        raise InvalidScoresError(
            f"labels must be 1 (signal) or 0 (background); got the values {shown}"
        )
    y = y.astype(np.int8)
    if len(values) < 2:
        got = f"only label {int(values[0])}" if len(values) else "no jets"
        raise InvalidScoresError(
            f"needs both signal (label 1) and background (label 0) jets; got {got}"
        )
    return y


def _as_weights(weights: ArrayLike | None, labels: np.ndarray) -> np.ndarray | None:
    if weights is None:
        return None
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != labels.shape:
        raise InvalidScoresError(
            f"weights has shape {w.shape} but labels has shape {labels.shape}; one weight per "
            "jet expected"
        )
    if not np.all(np.isfinite(w)):
        raise InvalidScoresError(f"weights contain {int((~np.isfinite(w)).sum())} NaN/inf values")
    if np.any(w < 0):
        raise InvalidScoresError(
            f"weights must be non-negative; got {int((w < 0).sum())} negative weights "
            f"(minimum {w.min():.4g})"
        )
    for cls, name in ((1, "signal"), (0, "background")):
        if w[labels == cls].sum() <= 0:
            raise InvalidScoresError(f"the {name} jets have a total weight of zero")
    return w


def _check(
    scores: ArrayLike, labels: ArrayLike, weights: ArrayLike | None = None, **kw: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    s = _as_scores(scores, **kw)
    y = _as_labels(labels, len(s))
    return s, y, _as_weights(weights, y)


def _check_efficiency(signal_efficiency: float) -> float:
    eff = float(signal_efficiency)
    if not 0.0 < eff < 1.0:
        raise InvalidOptionError(
            f"signal_efficiency must lie in the open interval (0, 1); got {signal_efficiency}"
        )
    return eff


def _check_min_background(min_background: int) -> int:
    if int(min_background) != min_background or min_background < 0:
        raise InvalidOptionError(
            f"min_background must be a non-negative integer; got {min_background!r}"
        )
    return int(min_background)


# --------------------------------------------------------------------------------------
# ROC curve
# --------------------------------------------------------------------------------------
class RocCurve(NamedTuple):
    """A ROC curve as signal and background efficiencies per threshold.

    Arrays share the shape ``(n_points,)`` and run from the tightest cut (threshold ``inf``,
    ε_S = ε_B = 0) to the loosest (ε_S = ε_B = 1). ``n_background_pass`` is the unweighted
    number of background jets with ``score >= threshold``.
    """

    signal_efficiency: np.ndarray
    background_efficiency: np.ndarray
    thresholds: np.ndarray
    n_background_pass: np.ndarray

    def auc(self) -> float:
        """Area under the curve, ∫ ε_S dε_B (trapezoidal rule; exact for a step ROC)."""
        x, y = self.background_efficiency, self.signal_efficiency
        # by hand: np.trapezoid needs numpy >= 2, np.trapz warns there
        return float(np.sum(np.diff(x) * (y[1:] + y[:-1])) / 2.0)


def _roc(s: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> RocCurve:
    from sklearn.metrics import roc_curve as _sk_roc_curve

    fpr, tpr, thr = _sk_roc_curve(y, s, sample_weight=w, drop_intermediate=False)
    bkg = np.sort(s[y == 0])
    n_pass = len(bkg) - np.searchsorted(bkg, thr, side="left")
    return RocCurve(tpr, fpr, thr, n_pass.astype(np.int64))


def roc_curve(scores: ArrayLike, labels: ArrayLike, weights: ArrayLike | None = None) -> RocCurve:
    """Signal efficiency ε_S and background efficiency ε_B for every cut ``score >= t``.

    .. math:: ε_S(t) = \\frac{\\sum_{i \\in S,\\, s_i \\ge t} w_i}{\\sum_{i \\in S} w_i}, \\qquad
              ε_B(t) = \\frac{\\sum_{i \\in B,\\, s_i \\ge t} w_i}{\\sum_{i \\in B} w_i}

    Computed with :func:`sklearn.metrics.roc_curve` keeping every distinct threshold.

    Parameters
    ----------
    scores : array_like, shape (n_jets,)
        Classifier output, larger for more signal-like jets (probabilities or logits).
    labels : array_like, shape (n_jets,)
        1 for signal, 0 for background.
    weights : array_like, shape (n_jets,), optional
        Non-negative per-jet weights; a weight of 2 counts as two identical jets.

    Returns
    -------
    RocCurve
        ``(signal_efficiency, background_efficiency, thresholds, n_background_pass)``.

    References
    ----------
    Kasieczka, Plehn et al., arXiv:1902.09914 (ROC curves of top taggers).

    Examples
    --------
    >>> roc = roc_curve([0.9, 0.2, 0.6, 0.1], [1, 0, 1, 0])
    >>> roc.signal_efficiency.tolist(), roc.background_efficiency.tolist()
    ([0.0, 0.5, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.5, 1.0])
    """
    return _roc(*_check(scores, labels, weights))


def auc(scores: ArrayLike, labels: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Area under the ROC curve, AUC = ∫ ε_S dε_B.

    Equals the (weighted) probability that a random signal jet scores higher than a random
    background jet, ties counting one half: 1 for a perfect classifier, 0.5 for a random
    one, 0 for a perfectly inverted one. Computed with :func:`sklearn.metrics.roc_auc_score`.

    Parameters
    ----------
    scores, labels, weights : array_like, shape (n_jets,)
        See :func:`roc_curve`.

    References
    ----------
    Kasieczka, Plehn et al., arXiv:1902.09914.

    Examples
    --------
    >>> auc([0.9, 0.2, 0.6, 0.1], [1, 0, 1, 0])
    1.0
    """
    from sklearn.metrics import roc_auc_score

    s, y, w = _check(scores, labels, weights)
    return float(roc_auc_score(y, s, sample_weight=w))


def accuracy(
    scores: ArrayLike,
    labels: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    threshold: float | None = None,
) -> float:
    """Fraction of jets classified correctly, Σ_i w_i [ŷ_i = y_i] / Σ_i w_i.

    Parameters
    ----------
    scores : array_like, shape (n_jets,) or (n_jets, 2)
        Shape ``(n_jets,)``: signal probabilities, predicted signal when ``score >= 0.5``;
        they must lie in [0, 1] unless an explicit ``threshold`` is given (e.g. 0.0 for the
        logit of a single-output network). Shape ``(n_jets, 2)``: per-class outputs
        (logits or probabilities, column 1 = signal); the prediction is the argmax, ties
        going to background.
    labels, weights : array_like, shape (n_jets,)
        See :func:`roc_curve`.
    threshold : float, optional
        Cut on 1D scores; default 0.5 on probabilities.

    Examples
    --------
    >>> accuracy([0.9, 0.4, 0.6, 0.1], [1, 1, 0, 0])
    0.5
    >>> accuracy([[0.0, 2.0], [1.0, -1.0]], [1, 0])
    1.0
    """
    s, y, w = _check(scores, labels, weights, allow_2d=True)
    if s.ndim == 2:
        if threshold is not None:
            raise InvalidOptionError(
                "threshold applies to scores of shape (n_jets,); (n_jets, 2) outputs use argmax"
            )
        pred = (s[:, 1] > s[:, 0]).astype(np.int8)
    else:
        if threshold is None:
            if s.min() < 0.0 or s.max() > 1.0:
                raise InvalidScoresError(
                    "accuracy at the default threshold 0.5 expects probabilities in [0, 1]; got "
                    f"scores in [{s.min():.4g}, {s.max():.4g}] (logits? pass threshold=0.0)"
                )
            threshold = 0.5
        pred = (s >= threshold).astype(np.int8)
    return float(np.average(pred == y, weights=w))


# --------------------------------------------------------------------------------------
# background rejection at fixed signal efficiency
# --------------------------------------------------------------------------------------
def _poisson_upper_limit(n: int, cl: float) -> float:
    """One-sided Garwood upper limit μ_up on a Poisson mean given ``n`` observed events,
    μ_up = ½ χ²⁻¹(cl; 2n + 2); 2.996 for n = 0 at 95% CL."""
    from scipy.stats import chi2

    return float(0.5 * chi2.ppf(cl, 2 * n + 2))


def _bracket(roc: RocCurve, target: float) -> tuple[float, int]:
    """ε_B at ε_S = target (linear interpolation) and the index of the looser bracketing
    ROC point (the first one with ε_S ≥ target)."""
    tpr, fpr = roc.signal_efficiency, roc.background_efficiency
    # first point reaching the target; ties in ε_S resolve to the smallest ε_B
    hi = int(np.searchsorted(tpr, target, side="left"))
    if tpr[hi] == target:
        return float(fpr[hi]), hi
    lo = hi - 1
    frac = (target - tpr[lo]) / (tpr[hi] - tpr[lo])
    return float(fpr[lo] + frac * (fpr[hi] - fpr[lo])), hi


@dataclass(frozen=True)
class RejectionResult:
    """Background rejection 1/ε_B at a fixed signal efficiency, with its statistics.

    Attributes
    ----------
    signal_efficiency : float
        The target ε_S.
    value : float
        The number to report: the estimate 1/ε_B, or, when ``is_lower_bound``, the lower
        bound at confidence level ``cl`` (always finite then).
    estimate : float
        The point estimate 1/ε_B from the interpolated ROC (``inf`` when ε_B = 0).
    background_efficiency : float
        Interpolated ε_B at the target ε_S.
    n_background_pass : int
        Unweighted number of background jets passing ``score >= threshold``.
    is_lower_bound : bool
        True when ``n_background_pass < min_background``.
    threshold : float
        The loosest score cut of the two bracketing ROC points (ε_S ≥ target).
    uncertainty : float or None
        Bootstrap standard deviation of the estimate; None without bootstrap or for a
        lower bound.
    interval : tuple of float or None
        Bootstrap 16% and 84% percentiles of the estimate.
    cl : float
        Confidence level of the lower bound.
    """

    signal_efficiency: float
    value: float
    estimate: float
    background_efficiency: float
    n_background_pass: int
    is_lower_bound: bool
    threshold: float
    uncertainty: float | None = None
    interval: tuple[float, float] | None = None
    cl: float = DEFAULT_CL

    def __str__(self) -> str:
        if self.is_lower_bound:
            return f"> {_fmt(self.value)} (lower bound: {self.n_background_pass} bkg jets pass)"
        if self.uncertainty is not None:
            return f"{_fmt(self.value)} ± {_fmt(self.uncertainty, like=self.value)}"
        return _fmt(self.value)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dictionary of the fields (``interval`` as a list)."""
        d = asdict(self)
        d["interval"] = list(self.interval) if self.interval is not None else None
        return d


def _fmt(x: float, like: float | None = None) -> str:
    ref = abs(x if like is None else like)
    if not math.isfinite(x):
        return "inf" if x > 0 else str(x)
    decimals = 0 if ref >= 100 else 1 if ref >= 10 else 2
    return f"{x:.{decimals}f}"


def _rejection_from_roc(
    roc: RocCurve,
    target: float,
    n_background: int,
    min_background: int,
    cl: float,
) -> RejectionResult:
    eps_b, hi = _bracket(roc, target)
    n_pass = int(roc.n_background_pass[hi])
    estimate = 1.0 / eps_b if eps_b > 0 else math.inf
    is_lower = n_pass < min_background
    value = estimate
    if is_lower:
        # conservative: scale the efficiency of the counted (looser) cut up to the Poisson
        # upper limit on its count; with no jet passing, each jet carries the mean weight
        mu_up = _poisson_upper_limit(n_pass, cl)
        eps_cut = float(roc.background_efficiency[hi])
        eps_up = eps_cut * mu_up / n_pass if n_pass > 0 else mu_up / n_background
        value = 1.0 / min(max(eps_up, eps_b), 1.0)
    return RejectionResult(
        signal_efficiency=target,
        value=value,
        estimate=estimate,
        background_efficiency=eps_b,
        n_background_pass=n_pass,
        is_lower_bound=is_lower,
        threshold=float(roc.thresholds[hi]),
        cl=cl,
    )


def background_rejection(
    scores: ArrayLike,
    labels: ArrayLike,
    signal_efficiency: float = 0.3,
    *,
    weights: ArrayLike | None = None,
    min_background: int = DEFAULT_MIN_BACKGROUND,
    cl: float = DEFAULT_CL,
    n_bootstrap: int = 0,
    seed: int = 0,
) -> RejectionResult:
    """Background rejection 1/ε_B at a fixed signal efficiency ε_S.

    ε_B(ε_S) is interpolated linearly in ε_S between the two consecutive ROC points
    (ε_S^lo, ε_B^lo) and (ε_S^hi, ε_B^hi) that bracket the target,

    .. math:: ε_B = ε_B^{lo} + (ε_S - ε_S^{lo}) \\frac{ε_B^{hi} - ε_B^{lo}}
              {ε_S^{hi} - ε_S^{lo}},

    the operating point of a cut randomised between the two thresholds; a ROC point
    exactly at the target is used as is (the one of smallest ε_B if several).

    When fewer than ``min_background`` background jets pass the cut of the looser point,
    the estimate is dominated by Poisson fluctuations and the result is a lower bound:
    ``value = 1/ε_B^up`` with ε_B^up = ε_B^hi · μ_up(n)/n, μ_up(n) = ½ χ²⁻¹(cl; 2n + 2) the
    one-sided Poisson upper limit on n passing jets (for n = 0, ε_B^up = μ_up(0)/N_B, so
    1/ε_B > N_B/3.0 at 95% CL).

    Parameters
    ----------
    scores, labels : array_like, shape (n_jets,)
        See :func:`roc_curve`.
    signal_efficiency : float
        Target ε_S in the open interval (0, 1); 0.3 and 0.5 are the field's standards.
    weights : array_like, shape (n_jets,), optional
        Non-negative per-jet weights.
    min_background : int
        Fewest passing background jets for which the estimate is reported as a value.
    cl : float
        Confidence level of the lower bound.
    n_bootstrap : int
        Number of bootstrap resamples for the uncertainty (0: none).
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    RejectionResult
        ``str()`` gives ``"1250 ± 80"`` or ``"> 790 (lower bound: 12 bkg jets pass)"``.

    References
    ----------
    Kasieczka, Plehn et al., arXiv:1902.09914 (1/ε_B at ε_S = 0.3);
    Garwood, Biometrika 28 (1936) 437 (Poisson limit).

    Examples
    --------
    >>> r = background_rejection([0.9, 0.8, 0.3, 0.2, 0.1], [1, 0, 1, 0, 0], 0.75,
    ...                          min_background=1)
    >>> r.estimate, r.n_background_pass
    (3.0, 1)
    """
    eff = _check_efficiency(signal_efficiency)
    min_background = _check_min_background(min_background)
    s, y, w = _check(scores, labels, weights)
    n_background = int((y == 0).sum())
    result = _rejection_from_roc(_roc(s, y, w), eff, n_background, min_background, cl)
    if n_bootstrap and not result.is_lower_bound:
        boot = bootstrap(
            lambda s_, y_, w_: (
                _rejection_from_roc(_roc(s_, y_, w_), eff, n_background, 0, cl).estimate
            ),
            s,
            y,
            w,
            n=n_bootstrap,
            seed=seed,
        )
        result = _with_uncertainty(result, boot)
    return result


def _with_uncertainty(result: RejectionResult, boot: BootstrapResult) -> RejectionResult:
    d = asdict(result)
    d.update(uncertainty=boot.std, interval=boot.interval)
    return RejectionResult(**d)


def threshold_at_signal_efficiency(
    scores: ArrayLike,
    labels: ArrayLike,
    signal_efficiency: float,
    weights: ArrayLike | None = None,
) -> float:
    """The score cut ``t`` of the first ROC point with ε_S(t) ≥ ``signal_efficiency``.

    The tightest cut ``score >= t`` that keeps at least the requested fraction of signal
    (weighted); used for the sculpting preview at ε_S = 0.5.

    Examples
    --------
    >>> threshold_at_signal_efficiency([0.9, 0.8, 0.3, 0.2], [1, 1, 0, 0], 0.5)
    0.9
    """
    eff = _check_efficiency(signal_efficiency)
    roc = _roc(*_check(scores, labels, weights))
    return float(roc.thresholds[_bracket(roc, eff)[1]])


# --------------------------------------------------------------------------------------
# bootstrap
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BootstrapResult:
    """A metric on the full sample and its bootstrap spread.

    Attributes
    ----------
    value : float
        The metric on the full sample.
    std : float
        Standard deviation of the resampled metric (``inf`` if a resample gave ±inf).
    interval : tuple of float
        16% and 84% percentiles of the resampled metric (a 68% interval).
    samples : numpy.ndarray, shape (n,)
        The resampled values.
    """

    value: float
    std: float
    interval: tuple[float, float]
    samples: np.ndarray


def _resample_indices(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    parts = []
    for cls in (1, 0):
        idx = np.flatnonzero(y == cls)
        parts.append(idx[rng.integers(0, len(idx), len(idx))])
    return np.concatenate(parts)


def _spread(samples: np.ndarray) -> tuple[float, tuple[float, float]]:
    if np.all(np.isfinite(samples)):
        std = float(np.std(samples, ddof=1))
        lo, hi = np.percentile(samples, [16.0, 84.0])
    else:  # avoid inf - inf: a non-finite resample means an unbounded spread
        std = math.inf
        lo, hi = np.percentile(samples, [16.0, 84.0], method="nearest")
    return std, (float(lo), float(hi))


def bootstrap(
    metric_fn: Callable[[np.ndarray, np.ndarray, np.ndarray | None], float],
    scores: ArrayLike,
    labels: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    n: int = 200,
    seed: int = 0,
) -> BootstrapResult:
    """Bootstrap spread of ``metric_fn(scores, labels, weights)`` over the test set.

    Each of the ``n`` resamples draws, with replacement and from a generator seeded with
    ``seed``, as many signal jets as there are signal jets and as many background jets as
    there are background jets (a stratified bootstrap: the class sizes of a test set are
    fixed by construction, and every resample keeps both classes). Weights travel with
    their jets. The spread of a metric estimated on N jets shrinks like 1/√N.

    Parameters
    ----------
    metric_fn : callable
        Called as ``metric_fn(scores, labels, weights)`` with numpy arrays (``weights``
        None when not given), returning a float; e.g. :func:`auc`.
    scores, labels, weights : array_like, shape (n_jets,)
        See :func:`roc_curve`.
    n : int
        Number of resamples (at least 2).
    seed : int
        Seed of :func:`numpy.random.default_rng`; same seed, same result.

    Returns
    -------
    BootstrapResult
        ``value`` on the full sample, ``std`` (ddof = 1) and the 16/84% ``interval``.

    References
    ----------
    Efron, Ann. Statist. 7 (1979) 1.

    Examples
    --------
    >>> r = bootstrap(auc, [0.9, 0.7, 0.4, 0.6, 0.2, 0.1], [1, 1, 1, 0, 0, 0], n=50, seed=1)
    >>> round(r.value, 3), r.samples.shape
    (0.889, (50,))
    """
    if int(n) != n or n < 2:
        raise InvalidOptionError(f"n (number of bootstrap resamples) must be >= 2; got {n!r}")
    s, y, w = _check(scores, labels, weights)
    rng = np.random.default_rng(seed)
    value = float(metric_fn(s, y, w))
    samples = np.empty(int(n))
    for k in range(int(n)):
        idx = _resample_indices(y, rng)
        samples[k] = metric_fn(s[idx], y[idx], None if w is None else w[idx])
    std, interval = _spread(samples)
    return BootstrapResult(value=value, std=std, interval=interval, samples=samples)


# --------------------------------------------------------------------------------------
# significance improvement
# --------------------------------------------------------------------------------------
class SicCurve(NamedTuple):
    """Significance improvement ε_S/√ε_B per threshold, shape ``(n_points,)`` each,
    restricted to cuts passed by at least ``min_background`` background jets."""

    signal_efficiency: np.ndarray
    sic: np.ndarray
    thresholds: np.ndarray
    n_background_pass: np.ndarray


class MaxSic(NamedTuple):
    """The maximum of the SIC curve and the cut where it is reached."""

    value: float
    signal_efficiency: float
    background_efficiency: float
    threshold: float
    n_background_pass: int


def _sic_from_roc(roc: RocCurve, min_background: int) -> SicCurve:
    keep = (roc.n_background_pass >= max(min_background, 1)) & (roc.background_efficiency > 0)
    eps_s = roc.signal_efficiency[keep]
    return SicCurve(
        eps_s,
        eps_s / np.sqrt(roc.background_efficiency[keep]),
        roc.thresholds[keep],
        roc.n_background_pass[keep],
    )


def sic_curve(
    scores: ArrayLike,
    labels: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    min_background: int = DEFAULT_MIN_BACKGROUND,
) -> SicCurve:
    """Significance improvement characteristic, SIC(t) = ε_S(t) / √ε_B(t).

    The factor by which a cut improves a counting significance S/√B. As ε_B → 0 the ratio
    is dominated by fluctuations of a handful of background jets (and diverges at
    ε_B = 0), so only cuts passed by at least ``min_background`` background jets (and
    ε_B > 0) are kept.

    Parameters
    ----------
    scores, labels, weights : array_like, shape (n_jets,)
        See :func:`roc_curve`.
    min_background : int
        Fewest (unweighted) background jets a cut must keep to enter the curve.

    References
    ----------
    Gallicchio et al., arXiv:1010.3698; Kasieczka, Plehn et al., arXiv:1902.09914.
    """
    min_background = _check_min_background(min_background)
    s, y, w = _check(scores, labels, weights)
    return _sic_from_roc(_roc(s, y, w), min_background)


def _max_sic_from_roc(roc: RocCurve, min_background: int) -> MaxSic:
    curve = _sic_from_roc(roc, min_background)
    if len(curve.sic) == 0:
        raise InvalidScoresError(
            f"no cut keeps at least min_background={min_background} background jets (there are "
            f"{int(roc.n_background_pass.max())}); lower min_background or add background jets"
        )
    i = int(np.argmax(curve.sic))
    eps_s = float(curve.signal_efficiency[i])
    return MaxSic(
        float(curve.sic[i]),
        eps_s,
        (eps_s / float(curve.sic[i])) ** 2,
        float(curve.thresholds[i]),
        int(curve.n_background_pass[i]),
    )


def max_sic(
    scores: ArrayLike,
    labels: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    min_background: int = DEFAULT_MIN_BACKGROUND,
) -> MaxSic:
    """Maximum of ε_S/√ε_B over cuts kept by at least ``min_background`` background jets.

    See :func:`sic_curve` for the guard against ε_B → 0.

    Examples
    --------
    >>> m = max_sic([0.9, 0.8, 0.6, 0.4, 0.7, 0.5, 0.3, 0.2], [1, 1, 1, 1, 0, 0, 0, 0],
    ...             min_background=1)
    >>> m.value, m.threshold
    (1.5, 0.6)
    """
    min_background = _check_min_background(min_background)
    s, y, w = _check(scores, labels, weights)
    return _max_sic_from_roc(_roc(s, y, w), min_background)


# --------------------------------------------------------------------------------------
# calibration
# --------------------------------------------------------------------------------------
class CalibrationCurve(NamedTuple):
    """Reliability diagram; arrays of shape ``(n_bins,)``, empty bins hold NaN and count 0.

    ``fraction_uncertainty`` is the binomial error √(f(1 − f)/n_eff), with
    n_eff = (Σw)²/Σw² the effective number of jets in the bin.
    """

    mean_predicted: np.ndarray
    fraction_positive: np.ndarray
    fraction_uncertainty: np.ndarray
    counts: np.ndarray
    bin_edges: np.ndarray


def calibration_curve(
    probabilities: ArrayLike,
    labels: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    n_bins: int = 10,
    strategy: str = "uniform",
) -> CalibrationCurve:
    """Fraction of signal jets against the mean predicted probability, in bins of p.

    For bin k: mean_predicted_k = Σ w p / Σ w and fraction_positive_k = Σ w y / Σ w over the
    jets whose probability falls in the bin. A calibrated classifier lies on the diagonal;
    focal-loss scores, for instance, do not (arXiv:1708.02002).

    Parameters
    ----------
    probabilities : array_like, shape (n_jets,)
        Predicted signal probabilities in [0, 1].
    labels, weights : array_like, shape (n_jets,)
        See :func:`roc_curve`.
    n_bins : int
        Number of bins.
    strategy : {"uniform", "quantile"}
        Equal-width bins on [0, 1], or edges at quantiles of the probabilities (equal
        numbers of jets per bin).

    Returns
    -------
    CalibrationCurve
        Per-bin ``mean_predicted``, ``fraction_positive``, ``fraction_uncertainty``,
        unweighted ``counts`` and the ``bin_edges`` (shape ``(n_bins + 1,)``).
    """
    p, y, w = _check(probabilities, labels, weights, name="probabilities")
    if p.min() < 0.0 or p.max() > 1.0:
        raise InvalidScoresError(
            f"calibration_curve expects probabilities in [0, 1]; got [{p.min():.4g}, {p.max():.4g}]"
        )
    if int(n_bins) != n_bins or n_bins < 1:
        raise InvalidOptionError(f"n_bins must be a positive integer; got {n_bins!r}")
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, int(n_bins) + 1)
    elif strategy == "quantile":
        edges = np.quantile(p, np.linspace(0.0, 1.0, int(n_bins) + 1))
        edges[0], edges[-1] = 0.0, 1.0
    else:
        raise InvalidOptionError(
            f'Unknown strategy "{strategy}". Known strategies: quantile, uniform'
        )
    # right-open bins, the last one closed so that p = 1 is counted
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, int(n_bins) - 1)
    ww = np.ones_like(p) if w is None else w
    nb = int(n_bins)
    sw = np.bincount(idx, ww, nb)
    sw2 = np.bincount(idx, ww**2, nb)
    counts = np.bincount(idx, minlength=nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(idx, ww * p, nb) / sw
        frac = np.bincount(idx, ww * y, nb) / sw
        n_eff = sw**2 / sw2
        err = np.sqrt(frac * (1.0 - frac) / n_eff)
    empty = sw <= 0
    for arr in (mean_p, frac, err):
        arr[empty] = np.nan
    return CalibrationCurve(mean_p, frac, err, counts.astype(np.int64), edges)


# --------------------------------------------------------------------------------------
# repeated trainings
# --------------------------------------------------------------------------------------
def summarize_runs(runs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Median and 16/84% percentiles of each numeric metric over repeated trainings.

    The landscape paper quotes the median of nine trainings with different seeds and
    the spread between them (arXiv:1902.09914, Sec. 3).

    Parameters
    ----------
    runs : sequence of mappings
        One metric dictionary per training (e.g. :func:`evaluate_scores` output). Numeric
        entries (int or float, not bool) are summarised; ``None`` and non-numeric entries
        are skipped; a key missing from some runs is summarised over the runs having it.

    Returns
    -------
    dict
        ``{key: {"median": m, "p16": lo, "p84": hi, "n": runs used}}``.

    Examples
    --------
    >>> summarize_runs([{"auc": 0.98}, {"auc": 0.97}, {"auc": 0.99}])["auc"]["median"]
    0.98
    """
    if len(runs) == 0:
        raise InvalidOptionError("summarize_runs needs at least one run; got an empty list")
    values: dict[str, list[float]] = {}
    for run in runs:
        for key, v in run.items():
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                continue
            values.setdefault(key, []).append(float(v))
    out: dict[str, dict[str, float]] = {}
    for key, vals in values.items():
        arr = np.asarray(vals)
        method = "linear" if np.all(np.isfinite(arr)) else "nearest"  # no inf - inf
        lo, med, hi = np.percentile(arr, [16.0, 50.0, 84.0], method=method)
        out[key] = {"median": float(med), "p16": float(lo), "p84": float(hi), "n": len(vals)}
    return out


#: metrics of :func:`evaluate_scores` that :func:`combine_trainings` quotes as a median
#: with the spread over trainings (the rejections are found by their key)
_TRAINING_MEDIANS = ("auc", "accuracy", "max_sic")


def combine_trainings(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One tagger's metrics over repeated trainings evaluated on the same test set.

    The landscape paper quotes each tagger as the median of nine trainings with different
    seeds (arXiv:1902.09914, Sec. 3). ``runs`` are :func:`evaluate_scores` outputs, one per
    training; the result has the same keys, with

    - ``auc``, ``accuracy``, ``max_sic``, ``max_sic_signal_efficiency`` and every
      ``rejection_at_X``: the median over the trainings;
    - ``<key>_spread``: ``[p16, p84]``, the 16% and 84% percentiles over the trainings
      (how much the number moves from one training to the next);
    - ``<key>_uncertainty``: the median of the trainings' bootstrap uncertainties (the
      statistical precision of the test set, nearly the same for every training), None
      when no training has one;
    - ``rejection_at_X_is_lower_bound``: true when it is a lower bound in *any* training.
      A lower bound never exceeds the rejection it bounds, so the median of lower bounds
      and estimates bounds the median from below; its uncertainty is then None;
      ``rejection_at_X_n_background_pass``: the median passing count;
    - ``trainings``: the number of trainings.

    Examples
    --------
    >>> a = {"auc": 0.98, "auc_uncertainty": 0.002}
    >>> b = {"auc": 0.97, "auc_uncertainty": 0.003}
    >>> c = {"auc": 0.99, "auc_uncertainty": 0.001}
    >>> out = combine_trainings([a, b, c])
    >>> out["auc"], out["auc_uncertainty"], out["trainings"]
    (0.98, 0.002, 3)
    """
    if len(runs) == 0:
        raise InvalidOptionError("combine_trainings needs at least one training; got none")
    summary = summarize_runs(runs)
    prefix = "rejection_at_"  # rejection_at_0.3, not its companions (..._uncertainty)
    rejections = [k for k in runs[0] if k.startswith(prefix) and "_" not in k[len(prefix) :]]
    out: dict[str, Any] = dict(runs[0])
    for key in (*_TRAINING_MEDIANS, *rejections):
        if key not in summary:
            continue
        out[key] = summary[key]["median"]
        out[f"{key}_spread"] = [summary[key]["p16"], summary[key]["p84"]]
        errors = [r[f"{key}_uncertainty"] for r in runs if r.get(f"{key}_uncertainty") is not None]
        out[f"{key}_uncertainty"] = float(np.median(errors)) if errors else None
    if "max_sic_signal_efficiency" in summary:
        out["max_sic_signal_efficiency"] = summary["max_sic_signal_efficiency"]["median"]
    for key in rejections:
        if any(r.get(f"{key}_is_lower_bound") for r in runs):
            out[f"{key}_is_lower_bound"] = True
            out[f"{key}_uncertainty"] = None
        passing = f"{key}_n_background_pass"
        if passing in summary:
            out[passing] = int(round(summary[passing]["median"]))
    out["trainings"] = len(runs)
    return out


# --------------------------------------------------------------------------------------
# histogram distances (mass sculpting)
# --------------------------------------------------------------------------------------
def _as_histograms(p: ArrayLike, q: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(p, dtype=np.float64)
    b = np.asarray(q, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise InvalidScoresError(
            f"histograms must be one-dimensional with the same binning; got shapes {a.shape} "
            f"and {b.shape}"
        )
    for name, h in (("first", a), ("second", b)):
        if not np.all(np.isfinite(h)) or np.any(h < 0):
            raise InvalidScoresError(f"the {name} histogram has negative or non-finite bins")
        if h.sum() <= 0:
            raise InvalidScoresError(f"the {name} histogram is empty (sum of bins is 0)")
    return a / a.sum(), b / b.sum()


def jensen_shannon_divergence(p: ArrayLike, q: ArrayLike) -> float:
    """Jensen–Shannon divergence between two histograms, in bits (log base 2).

    .. math:: \\mathrm{JSD}(p, q) = \\tfrac12 \\mathrm{KL}(p \\,\\|\\, m)
              + \\tfrac12 \\mathrm{KL}(q \\,\\|\\, m), \\quad m = \\tfrac12 (p + q), \\quad
              \\mathrm{KL}(p \\,\\|\\, m) = \\sum_i p_i \\log_2 (p_i / m_i)

    with both histograms normalised to unit sum and 0 log 0 = 0. It lies in [0, 1]: 0 for
    identical shapes, 1 for disjoint supports. Note that
    :func:`scipy.spatial.distance.jensenshannon` returns the square root of this quantity.

    Parameters
    ----------
    p, q : array_like, shape (n_bins,)
        Non-negative bin contents with the same binning (need not be normalised).

    References
    ----------
    Lin, IEEE Trans. Inf. Theory 37 (1991) 145; used for background mass sculpting
    (1/JSD vs R50) by Kasieczka & Shih, arXiv:2001.05310.

    Examples
    --------
    >>> jensen_shannon_divergence([1, 0], [0, 1])
    1.0
    """
    a, b = _as_histograms(p, q)
    m = 0.5 * (a + b)

    def _kl(x: np.ndarray) -> float:
        nz = x > 0  # where x > 0, m > 0 too
        return float(np.sum(x[nz] * np.log2(x[nz] / m[nz])))

    return max(0.5 * _kl(a) + 0.5 * _kl(b), 0.0)


def triangular_discriminator(p: ArrayLike, q: ArrayLike) -> float:
    """Triangular discriminator Δ(p, q) = ½ Σ_i (p_i − q_i)² / (p_i + q_i).

    Histograms are normalised to unit sum; bins empty in both are skipped. Δ lies in
    [0, 1]: 0 for identical shapes, 1 for disjoint supports.

    Parameters
    ----------
    p, q : array_like, shape (n_bins,)
        Non-negative bin contents with the same binning.

    References
    ----------
    Topsøe, IEEE Trans. Inf. Theory 46 (2000) 1602; the definition in REFERENCES.md
    (Metrics).

    Examples
    --------
    >>> round(triangular_discriminator([1, 1], [1, 0]), 6)
    0.333333
    """
    a, b = _as_histograms(p, q)
    s = a + b
    nz = s > 0
    return float(0.5 * np.sum((a[nz] - b[nz]) ** 2 / s[nz]))


def sculpting_jsd(
    scores: ArrayLike,
    labels: ArrayLike,
    mass: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    signal_efficiency: float = 0.5,
    bins: int | ArrayLike = 40,
    mass_range: tuple[float, float] | None = None,
) -> float:
    """JSD between the background mass histograms of jets passing and failing a cut.

    The cut is :func:`threshold_at_signal_efficiency` at ``signal_efficiency``; both
    histograms share the binning and are normalised. 1/JSD against R50 = 1/ε_B(ε_S = 0.5)
    is the decorrelation plane of Kasieczka & Shih, arXiv:2001.05310.

    Parameters
    ----------
    scores, labels, weights : array_like, shape (n_jets,)
        See :func:`roc_curve`.
    mass : array_like, shape (n_jets,)
        Jet mass in GeV.
    signal_efficiency : float
        ε_S of the cut.
    bins : int or array_like
        Number of bins or bin edges (GeV).
    mass_range : (float, float), optional
        Histogram range when ``bins`` is an int; default the background mass range.
    """
    s, y, w = _check(scores, labels, weights)
    m = _as_scores(mass, name="mass")
    if len(m) != len(s):
        raise InvalidScoresError(f"mass has {len(m)} entries but scores has {len(s)}")
    cut = threshold_at_signal_efficiency(s, y, signal_efficiency, w)
    bkg = y == 0
    wb = None if w is None else w[bkg]
    edges = np.histogram_bin_edges(m[bkg], bins=bins, range=mass_range)
    passing = s[bkg] >= cut
    h_pass, _ = np.histogram(m[bkg][passing], edges, weights=None if wb is None else wb[passing])
    h_fail, _ = np.histogram(m[bkg][~passing], edges, weights=None if wb is None else wb[~passing])
    if h_pass.sum() <= 0 or h_fail.sum() <= 0:
        which = "passes" if h_pass.sum() <= 0 else "fails"
        raise InvalidScoresError(
            f"at ε_S = {signal_efficiency} no background jet {which} the cut inside the mass "
            "range; the JSD is undefined"
        )
    return jensen_shannon_divergence(h_pass, h_fail)


# --------------------------------------------------------------------------------------
# everything at once
# --------------------------------------------------------------------------------------
def _headline(
    s: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    efficiencies: Sequence[float],
    n_background: int,
    min_background: int,
    cl: float,
    accuracy_threshold: float | None,
) -> tuple[dict[str, float], list[RejectionResult], MaxSic]:
    roc = _roc(s, y, w)
    out = {
        "auc": roc.auc(),
        "accuracy": accuracy(s, y, w, threshold=accuracy_threshold),
    }
    rej = [_rejection_from_roc(roc, e, n_background, min_background, cl) for e in efficiencies]
    for e, r in zip(efficiencies, rej, strict=True):
        out[f"rejection_at_{e:g}"] = r.estimate
    msic = _max_sic_from_roc(roc, min_background)
    out["max_sic"] = msic.value
    return out, rej, msic


def evaluate_scores(
    scores: ArrayLike,
    labels: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    bootstrap: int = 100,
    seed: int = 0,
    signal_efficiencies: Sequence[float] = (0.3, 0.5),
    min_background: int = DEFAULT_MIN_BACKGROUND,
    cl: float = DEFAULT_CL,
    accuracy_threshold: float | None = None,
) -> dict[str, Any]:
    """All headline metrics of a tagger in one machine-readable dictionary.

    Keys (for the default ``signal_efficiencies``; ``X`` stands for 0.3 and 0.5):

    - ``auc``, ``accuracy``, ``max_sic`` and ``<key>_uncertainty`` (bootstrap std, None
      when ``bootstrap=0``);
    - ``rejection_at_X``: 1/ε_B at ε_S = X (see :func:`background_rejection`): the
      estimate, or the lower bound when ``rejection_at_X_is_lower_bound``;
      ``rejection_at_X_uncertainty`` (None for a lower bound),
      ``rejection_at_X_n_background_pass``, ``rejection_at_X_is_lower_bound``;
    - ``max_sic_signal_efficiency``: ε_S where ε_S/√ε_B peaks (cuts with at least
      ``min_background`` background jets);
    - ``n_signal``, ``n_background`` (unweighted), ``bootstrap`` (resamples), ``seed``.

    One ROC curve per bootstrap resample serves every metric. Infinite values (e.g. a
    rejection with no background passing is reported as its finite lower bound instead)
    are written by :func:`heplearn.evaluation.report.write_json` as ``"inf"``.

    Parameters
    ----------
    scores : array_like, shape (n_jets,)
        Signal probabilities (accuracy cuts at 0.5; see ``accuracy_threshold``).
    labels, weights : array_like, shape (n_jets,)
        See :func:`roc_curve`.
    bootstrap : int
        Number of bootstrap resamples for the uncertainties (0: none).
    seed : int
        Seed of the bootstrap.
    signal_efficiencies : sequence of float
        ε_S values of the rejections.
    min_background, cl : int, float
        Lower-bound rule of :func:`background_rejection`; ``min_background`` also guards
        the SIC maximum.
    accuracy_threshold : float, optional
        Cut for the accuracy when the scores are not probabilities (e.g. 0.0 for logits).

    References
    ----------
    Kasieczka, Plehn et al., arXiv:1902.09914.
    """
    effs = [_check_efficiency(e) for e in signal_efficiencies]
    min_background = _check_min_background(min_background)
    if int(bootstrap) != bootstrap or bootstrap < 0 or bootstrap == 1:
        raise InvalidOptionError(f"bootstrap must be 0 or an integer >= 2; got {bootstrap!r}")
    s, y, w = _check(scores, labels, weights)
    n_bkg = int((y == 0).sum())
    head, rej, msic = _headline(s, y, w, effs, n_bkg, min_background, cl, accuracy_threshold)

    spread: dict[str, float | None] = dict.fromkeys(head)
    if bootstrap:
        rng = np.random.default_rng(seed)
        samples = {k: np.empty(int(bootstrap)) for k in head}
        for b in range(int(bootstrap)):
            idx = _resample_indices(y, rng)
            wb = None if w is None else w[idx]
            h, _, _ = _headline(
                s[idx], y[idx], wb, effs, n_bkg, min_background, cl, accuracy_threshold
            )
            for k, v in h.items():
                samples[k][b] = v
        spread = {k: _spread(v)[0] for k, v in samples.items()}

    out: dict[str, Any] = {
        "auc": head["auc"],
        "auc_uncertainty": spread["auc"],
        "accuracy": head["accuracy"],
        "accuracy_uncertainty": spread["accuracy"],
    }
    for e, r in zip(effs, rej, strict=True):
        key = f"rejection_at_{e:g}"
        out[key] = r.value
        out[f"{key}_uncertainty"] = None if r.is_lower_bound else spread[key]
        out[f"{key}_n_background_pass"] = r.n_background_pass
        out[f"{key}_is_lower_bound"] = r.is_lower_bound
    out["max_sic"] = msic.value
    out["max_sic_uncertainty"] = spread["max_sic"]
    out["max_sic_signal_efficiency"] = msic.signal_efficiency
    out["n_signal"] = int((y == 1).sum())
    out["n_background"] = n_bkg
    out["bootstrap"] = int(bootstrap)
    out["seed"] = int(seed)
    return out
