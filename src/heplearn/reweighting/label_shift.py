"""Label shift: class priors of an unlabelled target sample, and the weights they imply.

Under label shift the class-conditional densities agree, p_target(x | y) = p_source(x | y),
and only the priors differ. A classifier trained on the labelled source sample gives the
source posteriors p_s(y | x); the target priors are then found by the EM algorithm of
Saerens, Latinne & Decaestecker (Neural Computation 14 (2002) 21,
doi:10.1162/089976602753284446) on the unlabelled target sample, and source events are
weighted by π_t(y) / π_s(y).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import ArrayLike

from heplearn.reweighting.weights import ReweightingError

__all__ = [
    "PriorEstimate",
    "em_target_priors",
    "estimate_target_priors",
    "adjust_posteriors",
    "label_shift_weights",
]


@dataclasses.dataclass(frozen=True)
class PriorEstimate:
    """Target class priors estimated by EM, with their bootstrap uncertainty.

    Attributes
    ----------
    priors : numpy.ndarray, shape (K,)
        Estimated target priors π_t(y) on the full target sample (sum to 1).
    uncertainty : numpy.ndarray, shape (K,)
        Standard deviation (ddof = 1) of the estimate over bootstrap resamples of the
        target sample (0 when ``n_bootstrap`` is 0). It does not include the uncertainty
        of the classifier itself.
    source_priors : numpy.ndarray, shape (K,)
        The priors the classifier was trained with.
    n_iterations : int
        EM iterations on the full sample.
    converged : bool
        Whether EM met its tolerance within ``max_iter`` iterations.
    bootstrap : numpy.ndarray, shape (n_bootstrap, K)
        The bootstrap estimates.
    """

    priors: np.ndarray
    uncertainty: np.ndarray
    source_priors: np.ndarray
    n_iterations: int
    converged: bool
    bootstrap: np.ndarray

    def to_dict(self) -> dict:
        return {
            "priors": self.priors.tolist(),
            "uncertainty": self.uncertainty.tolist(),
            "source_priors": self.source_priors.tolist(),
            "n_iterations": self.n_iterations,
            "converged": self.converged,
            "n_bootstrap": len(self.bootstrap),
        }


def _posteriors(posteriors: ArrayLike) -> np.ndarray:
    p = np.asarray(posteriors, dtype=np.float64)
    if p.ndim == 1:  # binary: the probability of class 1
        p = np.stack([1.0 - p, p], axis=1)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ReweightingError(
            f"posteriors: expected shape (events,) for two classes or (events, classes), "
            f"got {p.shape}"
        )
    if p.shape[0] == 0:
        raise ReweightingError("posteriors: empty target sample (no events)")
    if not np.all(np.isfinite(p)) or np.any(p < 0) or np.any(p > 1):
        raise ReweightingError("posteriors: must be finite probabilities in [0, 1]")
    sums = p.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=1e-4):
        raise ReweightingError(
            f"posteriors: rows must sum to 1 (got sums in [{sums.min():.4g}, {sums.max():.4g}])"
        )
    return p / sums[:, None]


def _priors(priors: ArrayLike, k: int, name: str) -> np.ndarray:
    pi = np.atleast_1d(np.asarray(priors, dtype=np.float64))
    if pi.ndim == 1 and pi.size == 1 and k == 2:  # binary: the fraction of class 1
        pi = np.array([1.0 - pi[0], pi[0]])
    if pi.shape != (k,):
        raise ReweightingError(f"{name}: expected {k} class priors, got shape {pi.shape}")
    if not np.all(np.isfinite(pi)) or np.any(pi <= 0) or np.any(pi >= 1):
        raise ReweightingError(f"{name}: every prior must lie in (0, 1), got {pi.tolist()}")
    if not np.isclose(pi.sum(), 1.0, atol=1e-6):
        raise ReweightingError(f"{name}: priors must sum to 1, got {pi.sum():.6g}")
    return pi


def adjust_posteriors(
    posteriors: ArrayLike, source_priors: ArrayLike, target_priors: ArrayLike
) -> np.ndarray:
    """Posteriors under new priors (Bayes' theorem with p(x | y) fixed).

    .. math:: p_t(y | x) = \\frac{(\\pi_t(y)/\\pi_s(y))\\, p_s(y | x)}
              {\\sum_{y'} (\\pi_t(y')/\\pi_s(y'))\\, p_s(y' | x)}

    Parameters
    ----------
    posteriors : array_like, shape (N,) or (N, K)
        Source posteriors p_s(y | x) (for two classes: the probability of class 1).
    source_priors, target_priors : array_like, shape (K,) or scalar for two classes
        π_s and π_t (a scalar is the fraction of class 1).

    Returns
    -------
    numpy.ndarray, shape (N, K)

    References
    ----------
    Saerens, Latinne, Decaestecker, Neural Computation 14 (2002) 21, eq. (2.4).
    """
    p = _posteriors(posteriors)
    k = p.shape[1]
    ratio = _priors(target_priors, k, "target_priors") / _priors(source_priors, k, "source_priors")
    q = p * ratio
    return q / q.sum(axis=1, keepdims=True)


def em_target_priors(
    posteriors: ArrayLike,
    source_priors: ArrayLike,
    *,
    tol: float = 1e-6,
    max_iter: int = 10000,
) -> tuple[np.ndarray, int, bool]:
    """Target priors by the EM algorithm of Saerens, Latinne & Decaestecker (2002).

    Starting from π^(0) = π_s, iterate

    .. math:: p^{(s)}(y | x_i) \\propto \\frac{\\pi^{(s)}(y)}{\\pi_s(y)}\\, p_s(y | x_i),
              \\qquad \\pi^{(s+1)}(y) = \\frac{1}{N} \\sum_{i=1}^{N} p^{(s)}(y | x_i)

    over the N unlabelled target events until max_y |π^(s+1) − π^(s)| < ``tol`` (the
    default 10⁻⁶ is far below the statistical error of any realistic sample). Each step
    increases the likelihood of the target sample under a mixture of the source class
    densities; the fixed point is its maximum-likelihood prior. The source posteriors must be
    calibrated (trained with a proper loss on a sample with priors π_s).

    Parameters
    ----------
    posteriors : array_like, shape (N,) or (N, K)
        Source posteriors on the target events (for two classes: the probability of
        class 1).
    source_priors : array_like, shape (K,) or scalar for two classes
        Class priors of the classifier's training sample.
    tol, max_iter
        Convergence tolerance on the priors and maximum number of iterations.

    Returns
    -------
    (priors, n_iterations, converged)
        ``priors`` of shape (K,).

    References
    ----------
    Saerens, Latinne, Decaestecker, "Adjusting the outputs of a classifier to new a priori
    probabilities: a simple procedure", Neural Computation 14 (2002) 21, eqs. (2.9)-(2.10).

    Examples
    --------
    >>> pi, n, ok = em_target_priors([0.9, 0.9, 0.1, 0.1], 0.5)  # symmetric: no shift
    >>> pi.round(6).tolist(), ok
    ([0.5, 0.5], True)
    """
    if not (tol > 0) or int(max_iter) < 1:
        raise ReweightingError(f"tol must be > 0 and max_iter >= 1, got {tol!r}, {max_iter!r}")
    p = _posteriors(posteriors)
    pi_s = _priors(source_priors, p.shape[1], "source_priors")
    pi = pi_s.copy()
    for it in range(1, int(max_iter) + 1):
        q = p * (pi / pi_s)
        q /= q.sum(axis=1, keepdims=True)
        new = q.mean(axis=0)
        if np.max(np.abs(new - pi)) < tol:
            return new, it, True
        pi = new
    return pi, int(max_iter), False


def estimate_target_priors(
    posteriors: ArrayLike,
    source_priors: ArrayLike,
    *,
    n_bootstrap: int = 200,
    seed: int = 0,
    tol: float = 1e-6,
    max_iter: int = 10000,
) -> PriorEstimate:
    """:func:`em_target_priors` on the target sample, with the statistical error from
    ``n_bootstrap`` resamples of the target events (with replacement, seeded).

    References
    ----------
    Saerens, Latinne, Decaestecker, Neural Computation 14 (2002) 21; bootstrap: Efron,
    Ann. Statist. 7 (1979) 1.

    Examples
    --------
    >>> est = estimate_target_priors([0.8, 0.8, 0.8, 0.2], 0.5, n_bootstrap=20, seed=1)
    >>> bool(est.priors[1] > 0.5), est.bootstrap.shape
    (True, (20, 2))
    """
    if int(n_bootstrap) != n_bootstrap or n_bootstrap < 0 or n_bootstrap == 1:
        raise ReweightingError(f"n_bootstrap must be 0 or >= 2, got {n_bootstrap!r}")
    p = _posteriors(posteriors)
    pi_s = _priors(source_priors, p.shape[1], "source_priors")
    priors, n_it, converged = em_target_priors(p, pi_s, tol=tol, max_iter=max_iter)
    rng = np.random.default_rng(seed)
    boots = np.empty((int(n_bootstrap), p.shape[1]))
    for b in range(int(n_bootstrap)):
        idx = rng.integers(0, len(p), len(p))
        boots[b] = em_target_priors(p[idx], pi_s, tol=tol, max_iter=max_iter)[0]
    unc = boots.std(axis=0, ddof=1) if n_bootstrap else np.zeros(p.shape[1])
    return PriorEstimate(priors, unc, pi_s, n_it, converged, boots)


def label_shift_weights(
    labels: ArrayLike, source_priors: ArrayLike, target_priors: ArrayLike
) -> np.ndarray:
    """Per-event weights w_i = π_t(y_i) / π_s(y_i) that give labelled source events the
    target priors (p(x | y) unchanged).

    Parameters
    ----------
    labels : array_like, shape (N,)
        Integer classes 0 … K − 1 of the source events.
    source_priors, target_priors : array_like, shape (K,) or scalar for two classes

    References
    ----------
    Saerens, Latinne, Decaestecker, Neural Computation 14 (2002) 21, sec. 2.

    Examples
    --------
    >>> label_shift_weights([0, 1, 1], 0.5, 0.3).round(3).tolist()
    [1.4, 0.6, 0.6]
    """
    y = np.asarray(labels)
    if y.ndim != 1 or y.size == 0:
        raise ReweightingError(f"labels: expected a non-empty (events,) array, got {y.shape}")
    pi_t = np.atleast_1d(np.asarray(target_priors, dtype=np.float64))
    k = 2 if pi_t.size == 1 else pi_t.size
    pi_s = _priors(source_priors, k, "source_priors")
    pi_t = _priors(target_priors, k, "target_priors")
    if y.dtype.kind not in "iub" or y.min() < 0 or y.max() >= k:
        raise ReweightingError(f"labels: expected integer classes in [0, {k - 1}]")
    return (pi_t / pi_s)[y.astype(np.int64)]
