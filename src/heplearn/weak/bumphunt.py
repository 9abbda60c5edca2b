"""Bump hunt on the dijet invariant mass: a smooth sideband fit and the signal-region excess.

The background m_jj spectrum is modelled by the standard dijet function

    f(x) = p0 (1 − x)^p1 / x^(p2 + p3 ln x),    x = m_jj / √s

(CDF, arXiv:0812.4036; ATLAS and CMS dijet searches; used by CWoLa hunting, Collins,
Howe, Nachman, arXiv:1805.02664), with p3 = 0 for the 3-parameter form. It is fitted by a
binned Poisson maximum likelihood to the bins of the fit range outside the signal region,
the expected count of a bin being the Gauss–Legendre integral of f over it (f is read as
dN/dm_jj per GeV). Since ln f = ln p0 + p1 ln(1 − x) − p2 ln x − p3 (ln x)² is linear in
θ = (ln p0, p1, p2, p3), the fit starts from a weighted least-squares fit of the log
counts and is then refined by Newton steps on the exact likelihood, in coordinates
orthogonalised over the fit range (the columns are strongly correlated). The fit's
covariance (inverse Fisher information) gives the uncertainty σ_b of the background it
interpolates into the signal region; :func:`bump_hunt` turns (n_observed, b, σ_b) into a
local significance with :func:`~heplearn.weak.significance.counting_significance`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from heplearn.weak.errors import BumpHuntError
from heplearn.weak.significance import counting_significance

__all__ = ["dijet_function", "DijetFit", "fit_dijet", "BumpHunt", "bump_hunt"]

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(5)


def dijet_function(x: ArrayLike, p0: float, p1: float, p2: float, p3: float = 0.0) -> np.ndarray:
    """The dijet function f(x) = p0 (1 − x)^p1 / x^(p2 + p3 ln x), for 0 < x < 1.

    References
    ----------
    CDF Collaboration, arXiv:0812.4036; Collins, Howe, Nachman, arXiv:1805.02664.
    """
    x = np.asarray(x, dtype=np.float64)
    lx = np.log(x)
    return p0 * np.exp(p1 * np.log1p(-x) - (p2 + p3 * lx) * lx)


def _design(x: np.ndarray, n_params: int) -> np.ndarray:
    lx = np.log(x)
    cols = [np.ones_like(x), np.log1p(-x), -lx, -lx * lx]
    return np.stack(cols[:n_params], axis=-1)


@dataclass(frozen=True)
class DijetFit:
    """A binned fit of :func:`dijet_function` to an m_jj histogram.

    Attributes
    ----------
    params : numpy.ndarray, shape (4,)
        (p0, p1, p2, p3) with p0 per GeV of m_jj; p3 = 0 for the 3-parameter form. p0
        may overflow to inf when few events leave the parameters loosely constrained
        (p0 and the shape parameters compensate each other); predictions use ``theta``.
    theta, covariance : numpy.ndarray, shapes (n_params,), (n_params, n_params)
        Fitted θ = (ln p0, p1, p2[, p3]) and its covariance (inverse Fisher information).
    edges, counts : numpy.ndarray
        The histogram (``counts`` per bin, ``edges`` in GeV).
    fitted : numpy.ndarray of bool
        Bins that entered the fit.
    deviance : float
        Poisson deviance 2 Σ [μ − n + n ln(n/μ)] over the fitted bins (≈ χ²).
    ndf : int
        Fitted bins minus parameters.
    """

    params: np.ndarray
    theta: np.ndarray
    covariance: np.ndarray
    edges: np.ndarray
    counts: np.ndarray
    fitted: np.ndarray
    sqrt_s: float
    n_params: int
    deviance: float
    ndf: int

    def _integrals(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _bin_integrals(self.theta, lo, hi, self.sqrt_s, self.n_params)

    def expected(self, edges: ArrayLike | None = None) -> np.ndarray:
        """Expected counts of the fitted background in each bin of ``edges`` (default: the
        fitted histogram's)."""
        e = self.edges if edges is None else np.asarray(edges, dtype=np.float64)
        return self._integrals(e[:-1], e[1:])[0]

    def predict(self, low: float, high: float) -> tuple[float, float]:
        """Background in [low, high] GeV and its fit uncertainty: b = ∫ f, σ_b² = g C gᵀ
        with g = ∂b/∂θ and C the fit covariance."""
        mu, jac = self._integrals(np.array([float(low)]), np.array([float(high)]))
        g = jac[0]
        return float(mu[0]), float(np.sqrt(max(g @ self.covariance @ g, 0.0)))


def _bin_integrals(theta, lo, hi, sqrt_s, n_params):
    """μ_i = ∫_{lo_i}^{hi_i} f(m/√s) dm and ∂μ_i/∂θ, by 5-point Gauss–Legendre."""
    half = 0.5 * (hi - lo)
    m = 0.5 * (hi + lo)[:, None] + half[:, None] * _NODES[None, :]
    d = _design(m / sqrt_s, n_params)  # (bins, nodes, params)
    f = np.exp(d @ theta) * (half[:, None] * _WEIGHTS[None, :])
    return f.sum(axis=1), np.einsum("bq,bqp->bp", f, d)


def fit_dijet(
    counts: ArrayLike,
    edges: ArrayLike,
    *,
    sqrt_s: float,
    exclude: tuple[float, float] | None = None,
    n_params: int = 4,
    max_iterations: int = 100,
) -> DijetFit:
    """Binned Poisson maximum-likelihood fit of the dijet function to a histogram.

    Minimises NLL(θ) = Σ_i [μ_i(θ) − n_i ln μ_i(θ)] over the bins not inside ``exclude``
    (the signal region), μ_i = ∫_bin p0 (1 − x)^p1 / x^(p2 + p3 ln x) dm_jj with
    x = m_jj/√s.

    Parameters
    ----------
    counts : array_like, shape (n_bins,)
        Events per bin.
    edges : array_like, shape (n_bins + 1,)
        Bin edges in GeV, increasing, inside (0, √s).
    sqrt_s : float
        Centre-of-mass energy in GeV.
    exclude : (float, float), optional
        m_jj interval (GeV) left out of the fit; its edges must be bin edges.
    n_params : int
        4 (the standard form) or 3 (p3 = 0).

    Returns
    -------
    DijetFit

    Raises
    ------
    BumpHuntError
        Bad binning, fewer non-empty fitted bins than parameters + 1, or no convergence.

    References
    ----------
    CDF Collaboration, arXiv:0812.4036; Collins, Howe, Nachman, arXiv:1805.02664.
    """
    n = np.asarray(counts, dtype=np.float64)
    e = np.asarray(edges, dtype=np.float64)
    if n_params not in (3, 4):
        raise BumpHuntError(f"n_params must be 3 or 4, got {n_params}")
    if e.ndim != 1 or len(e) != len(n) + 1 or np.any(np.diff(e) <= 0):
        raise BumpHuntError(
            f"edges must be increasing with one more entry than counts ({len(n)} bins), "
            f"got {len(e)} edges"
        )
    if e[0] <= 0 or e[-1] >= sqrt_s:
        raise BumpHuntError(f"edges must lie inside (0, sqrt_s = {sqrt_s}), got {e[0]}..{e[-1]}")
    if np.any(n < 0) or not np.all(np.isfinite(n)):
        raise BumpHuntError("counts must be finite and >= 0")
    fitted = np.ones(len(n), dtype=bool)
    if exclude is not None:
        lo, hi = (float(v) for v in exclude)
        if not (np.isclose(e, lo).any() and np.isclose(e, hi).any()) or hi <= lo:
            raise BumpHuntError(
                f"exclude ({lo}, {hi}) must be an interval whose ends are bin edges "
                f"(edges {e.tolist()})"
            )
        centres = 0.5 * (e[1:] + e[:-1])
        fitted = ~((centres > lo) & (centres < hi))
    lo_f, hi_f, n_f = e[:-1][fitted], e[1:][fitted], n[fitted]
    if int((n_f > 0).sum()) < n_params + 1:
        raise BumpHuntError(
            f"only {int((n_f > 0).sum())} non-empty bins outside the excluded region; a "
            f"{n_params}-parameter fit needs at least {n_params + 1}"
        )
    # orthogonalise the design over the fitted bins so that Newton steps are well scaled
    d_c = _design(0.5 * (lo_f + hi_f) / sqrt_s, n_params)
    _, r = np.linalg.qr(d_c)
    r_inv = np.linalg.inv(r)
    # start: weighted least squares of ln(n / width) on the design at the bin centres
    nz = n_f > 0
    y = np.log(n_f[nz] / (hi_f - lo_f)[nz])
    w = np.sqrt(n_f[nz])
    theta = np.linalg.lstsq(d_c[nz] * w[:, None], y * w, rcond=None)[0]

    half = 0.5 * (hi_f - lo_f)
    nodes = 0.5 * (hi_f + lo_f)[:, None] + half[:, None] * _NODES[None, :]
    d_q = _design(nodes / sqrt_s, n_params)  # (bins, nodes, params) in θ
    d_phi = d_q @ r_inv  # the same in φ = R θ
    wq = half[:, None] * _WEIGHTS[None, :]

    def nll_and_grad(phi):
        with np.errstate(over="ignore"):  # a too long trial step: rejected as non-finite
            f = np.exp(d_phi @ phi) * wq
        mu = f.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            nll = float(np.sum(mu - n_f * np.log(mu)))
        if not np.isfinite(nll):  # the trust region shrinks and retries
            return np.inf, np.zeros_like(phi)
        return nll, (1.0 - n_f / mu) @ np.einsum("bq,bqp->bp", f, d_phi)

    def hessian(phi):
        f = np.exp(d_phi @ phi) * wq
        mu = f.sum(axis=1)
        j = np.einsum("bq,bqp->bp", f, d_phi)
        a = 1.0 - n_f / mu
        return np.einsum("bq,bqp,bqr->pr", f * a[:, None], d_phi, d_phi) + np.einsum(
            "b,bp,br->pr", n_f / mu**2, j, j
        )

    if not np.isfinite(nll_and_grad(r @ theta)[0]):
        raise BumpHuntError("dijet fit: the least-squares start gives a non-finite likelihood")
    from scipy.optimize import minimize

    # Newton with a trust region (the Hessian is exact), in the orthogonalised parameters
    res = minimize(
        nll_and_grad,
        r @ theta,
        jac=True,
        hess=hessian,
        method="trust-exact",
        options={"maxiter": max_iterations, "gtol": 1e-6 * max(1.0, float(n_f.sum()))},
    )
    phi, grad = res.x, res.jac
    if not res.success and not np.max(np.abs(grad)) < 1e-5 * max(1.0, float(n_f.sum())):
        raise BumpHuntError(
            f"dijet fit ({n_params} parameters) did not converge in {max_iterations} "
            f"iterations (|gradient| = {np.max(np.abs(grad)):.3g}: {res.message})"
        )
    theta = r_inv @ phi
    mu, jac = _bin_integrals(theta, lo_f, hi_f, sqrt_s, n_params)
    fisher = (jac / mu[:, None]).T @ jac
    covariance = np.linalg.pinv(fisher)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(n_f > 0, n_f * np.log(n_f / mu), 0.0)
    deviance = float(2.0 * np.sum(mu - n_f + term))
    params = np.zeros(4)
    with np.errstate(over="ignore"):  # a loosely constrained fit can push ln p0 past 709
        params[0] = np.exp(theta[0])
    params[1:n_params] = theta[1:]
    return DijetFit(
        params=params,
        theta=theta,
        covariance=covariance,
        edges=e,
        counts=n,
        fitted=fitted,
        sqrt_s=float(sqrt_s),
        n_params=n_params,
        deviance=deviance,
        ndf=int(fitted.sum()) - n_params,
    )


@dataclass(frozen=True)
class BumpHunt:
    """Result of :func:`bump_hunt`: the signal-region count, the background the sideband
    fit predicts there (± its fit uncertainty) and the local significance."""

    signal_region: tuple[float, float]
    n_observed: int
    background: float
    background_uncertainty: float
    significance: float
    fit: DijetFit

    @property
    def excess(self) -> float:
        return self.n_observed - self.background


def bump_hunt(
    mjj: ArrayLike,
    *,
    signal_region: tuple[float, float],
    edges: ArrayLike,
    sqrt_s: float,
    n_params: int = 4,
    method: str = "pyhf",
) -> BumpHunt:
    """Fit the m_jj spectrum outside the signal region and test the excess inside it.

    The events ``mjj`` (GeV) are histogrammed in ``edges`` (the fit range; the signal-region
    ends must be bin edges); :func:`fit_dijet` fits the bins outside ``signal_region``; the
    fit predicts b ± σ_b in the signal region and the local significance of the observed
    count n is :func:`~heplearn.weak.significance.counting_significance` (pyhf q0 with σ_b
    as a constrained nuisance, or the equal closed form of Cowan et al., arXiv:1007.1727).
    The procedure of Collins, Howe, Nachman, arXiv:1805.02664.
    """
    m = np.asarray(mjj, dtype=np.float64)
    e = np.asarray(edges, dtype=np.float64)
    lo, hi = (float(v) for v in signal_region)
    if not (e[0] < lo < hi < e[-1]):
        raise BumpHuntError(
            f"signal_region ({lo}, {hi}) must lie strictly inside the fit range "
            f"({e[0]}, {e[-1]}) so that sidebands exist on both sides"
        )
    counts, _ = np.histogram(m, bins=e)
    fit = fit_dijet(counts, e, sqrt_s=sqrt_s, exclude=(lo, hi), n_params=n_params)
    n_obs = int(np.sum((m >= lo) & (m < hi)))
    b, sigma_b = fit.predict(lo, hi)
    z = counting_significance(n_obs, b, sigma_b, method=method)
    return BumpHunt((lo, hi), n_obs, b, sigma_b, z, fit)
