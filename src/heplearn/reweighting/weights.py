"""Event weights: from classifier probabilities to density ratios, clipping, checks, ESS.

Pure functions on NumPy arrays. The classifier that produces the probabilities lives in
:mod:`heplearn.reweighting.classifier`; this module holds the formulas.

References
----------
Likelihood-ratio trick: Cranmer, Pavez, Louppe, arXiv:1506.02169; for full phase-space
reweighting of simulation to data: Andreassen & Nachman, arXiv:1907.08209 (DCTR).
Effective sample size: Kish, *Survey Sampling* (Wiley, 1965), eq. (11.7.6).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from heplearn.errors import HeplearnError

__all__ = [
    "ReweightingError",
    "check_weights",
    "effective_sample_size",
    "probabilities_to_weights",
    "clip_weights",
]


class ReweightingError(HeplearnError):
    """Bad input to a reweighting function: the message names the option or field."""


def _as_float_1d(values: ArrayLike, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ReweightingError(
            f"{name}: expected numbers, got {type(values).__name__} ({err})"
        ) from None
    if arr.ndim != 1:
        raise ReweightingError(f"{name}: expected a 1-D array (events,), got shape {arr.shape}")
    return arr


def check_weights(weights: ArrayLike, name: str = "weights") -> np.ndarray:
    """Return ``weights`` as a float64 ``(N,)`` array after checking that they are usable.

    Raises :class:`ReweightingError` (naming ``name``) for an empty array, NaN or ±inf, a
    negative weight, or weights that are all zero.
    """
    w = _as_float_1d(weights, name)
    if w.size == 0:
        raise ReweightingError(f"{name}: empty (no events)")
    bad = ~np.isfinite(w)
    if bad.any():
        raise ReweightingError(
            f"{name}: {int(bad.sum())} of {w.size} weights are NaN or infinite "
            f"(first at index {int(np.flatnonzero(bad)[0])}); weights must be finite"
        )
    if (w < 0).any():
        raise ReweightingError(
            f"{name}: {int((w < 0).sum())} negative weights (min {w.min():.3g}); "
            "expected weights >= 0"
        )
    if not (w > 0).any():
        raise ReweightingError(f"{name}: all {w.size} weights are zero")
    return w


def effective_sample_size(weights: ArrayLike) -> float:
    """Kish's effective sample size of weighted events.

    .. math:: N_\\mathrm{eff} = \\frac{(\\sum_i w_i)^2}{\\sum_i w_i^2}

    It equals N for equal weights and drops towards 1 as a few events carry all the
    weight; the statistical power of a weighted sample of N events is that of N_eff
    unweighted ones.

    Parameters
    ----------
    weights : array_like, shape (N,)
        Non-negative, finite, not all zero (checked by :func:`check_weights`).

    References
    ----------
    Kish, *Survey Sampling* (Wiley, 1965); REFERENCES.md (Metrics).

    Examples
    --------
    >>> effective_sample_size([1, 1, 1, 1])
    4.0
    >>> effective_sample_size([1, 0, 0, 1])
    2.0
    >>> round(effective_sample_size([1, 2, 3]), 6)  # 36 / 14
    2.571429
    """
    w = check_weights(weights)
    # scale first: (Σw)² of many large weights would overflow before the ratio is taken
    w = w / w.max()
    return float(w.sum() ** 2 / np.sum(w * w))


def _check_epsilon(epsilon: float) -> float:
    if not (isinstance(epsilon, (int, float, np.floating)) and 0 < epsilon < 0.5):
        raise ReweightingError(
            f"epsilon (probability clipping) must lie in (0, 0.5), got {epsilon!r}"
        )
    return float(epsilon)


def probabilities_to_weights(
    probabilities: ArrayLike, *, prior_ratio: float = 1.0, epsilon: float = 1e-3
) -> np.ndarray:
    """Density-ratio weights for source events from a classifier's target probability.

    A classifier trained to separate target (label 1) from source (label 0) events with
    a proper loss (cross-entropy) approximates f(x) = p(target | x); Bayes' theorem then
    gives the density ratio

    .. math:: w(x) = \\frac{p_\\mathrm{target}(x)}{p_\\mathrm{source}(x)}
              = \\frac{f(x)}{1 - f(x)} \\cdot \\frac{N_\\mathrm{source}}{N_\\mathrm{target}},

    where the last factor (``prior_ratio``) undoes the class proportions of the training
    sample (sums of training weights when the events were weighted). f is first clipped
    into [ε, 1 − ε], which bounds the weights to
    [ε / (1 − ε), (1 − ε) / ε] · ``prior_ratio``.

    Parameters
    ----------
    probabilities : array_like, shape (N,)
        Classifier output f(x) in [0, 1] for the source events to be weighted.
    prior_ratio : float
        N_source / N_target of the classifier's training sample (> 0).
    epsilon : float
        Probability clipping, in (0, 0.5).

    Returns
    -------
    numpy.ndarray, shape (N,)
        The weights.

    References
    ----------
    Cranmer, Pavez, Louppe, arXiv:1506.02169 (likelihood-ratio trick); Andreassen &
    Nachman, arXiv:1907.08209 (reweighting simulation to data with a classifier).

    Examples
    --------
    >>> probabilities_to_weights([0.5, 0.75], prior_ratio=2.0).tolist()
    [2.0, 6.0]
    """
    eps = _check_epsilon(epsilon)
    if not (math.isfinite(prior_ratio) and prior_ratio > 0):
        raise ReweightingError(f"prior_ratio must be finite and > 0, got {prior_ratio!r}")
    f = _as_float_1d(probabilities, "probabilities")
    finite = np.isfinite(f)
    if not finite.all():
        raise ReweightingError(
            f"probabilities: {int((~finite).sum())} classifier outputs are NaN or infinite"
        )
    if np.any((f < 0) | (f > 1)):
        raise ReweightingError(
            f"probabilities: classifier outputs must lie in [0, 1], got range "
            f"[{f.min():.3g}, {f.max():.3g}]"
        )
    f = np.clip(f, eps, 1.0 - eps)
    return f / (1.0 - f) * float(prior_ratio)


def clip_weights(
    weights: ArrayLike, *, max_weight: float | None = None, quantile: float | None = None
) -> np.ndarray:
    """Cap weights at ``max_weight`` and/or at their own ``quantile`` (the smaller cap wins).

    Capping trades a small bias (the capped tail is under-weighted) for a smaller variance
    (a larger :func:`effective_sample_size`). The quantile is taken over ``weights``
    themselves; :class:`~heplearn.reweighting.ClassifierReweighter` instead fixes its cap
    on held-out training events so that a weight never depends on the other events it is
    applied with.

    Parameters
    ----------
    weights : array_like, shape (N,)
        Finite, non-negative weights.
    max_weight : float, optional
        Upper bound (> 0).
    quantile : float, optional
        In (0, 1]: cap at this quantile of ``weights`` (e.g. 0.999).

    Examples
    --------
    >>> clip_weights([0.5, 1.0, 8.0], max_weight=2.0).tolist()
    [0.5, 1.0, 2.0]
    """
    w = check_weights(weights)
    cap = math.inf
    if max_weight is not None:
        cap = min(cap, _check_max_weight(max_weight))
    if quantile is not None:
        cap = min(cap, float(np.quantile(w, _check_quantile(quantile, "quantile"))))
    return np.minimum(w, cap)


def _check_max_weight(max_weight: float, name: str = "max_weight") -> float:
    if not (
        isinstance(max_weight, (int, float, np.floating))
        and math.isfinite(max_weight)
        and max_weight > 0
    ):
        raise ReweightingError(f"{name} must be a finite number > 0, got {max_weight!r}")
    return float(max_weight)


def _check_quantile(quantile: float, name: str = "weight_quantile") -> float:
    if not (isinstance(quantile, (int, float, np.floating)) and 0 < quantile <= 1):
        raise ReweightingError(f"{name} must lie in (0, 1], got {quantile!r}")
    return float(quantile)
