"""Dijet-function fit, bump hunt and counting significances against closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2

from heplearn.weak import (
    BumpHuntError,
    asimov_significance,
    bump_hunt,
    counting_significance,
    dijet_function,
    fit_dijet,
)

SQRT_S = 13_000.0


def sample_dijet(n: int, params, lo: float, hi: float, seed: int) -> tuple[np.ndarray, float]:
    """n m_jj values drawn from the dijet function on [lo, hi] (inverse CDF on a fine grid);
    also returns the p0 that makes f the expected density dN/dm of n events."""
    grid = np.linspace(lo, hi, 200_001)
    pdf = dijet_function(grid / SQRT_S, 1.0, *params)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(grid))])
    u = np.random.default_rng(seed).random(n) * cdf[-1]
    return np.interp(u, cdf, grid), n / cdf[-1]


def test_dijet_function_formula():
    x = np.array([0.2, 0.3])
    expected = 2.0 * (1 - x) ** 7.0 / x ** (4.0 + 0.5 * np.log(x))
    np.testing.assert_allclose(dijet_function(x, 2.0, 7.0, 4.0, 0.5), expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("n_params", "shape"), [(4, (8.0, 5.0, 0.3)), (3, (10.0, 4.0, 0.0))], ids=["4par", "3par"]
)
def test_fit_recovers_the_parameters_of_a_sampled_spectrum(n_params, shape):
    m, p0 = sample_dijet(200_000, shape, 2700.0, 6000.0, seed=5)
    edges = np.arange(2700.0, 6000.1, 100.0)
    counts, _ = np.histogram(m, edges)
    fit = fit_dijet(counts, edges, sqrt_s=SQRT_S, n_params=n_params)
    truth = np.array([np.log(p0), *shape[: n_params - 1]])
    d = fit.theta - truth
    # (θ − θ_true)ᵀ C⁻¹ (θ − θ_true) ~ χ²(n_params): fails 1 time in 1000 by chance
    assert d @ np.linalg.solve(fit.covariance, d) < chi2.ppf(0.999, n_params)
    # a good fit: deviance ~ χ²(ndf)
    assert fit.deviance < chi2.ppf(0.999, fit.ndf)
    # p1 is known to a few percent with 200k events (not a vacuous check)
    assert np.sqrt(fit.covariance[1, 1]) < 0.3 * shape[0]
    assert fit.expected().sum() == pytest.approx(200_000, rel=0.01)


def test_sideband_fit_predicts_the_signal_region():
    m, _ = sample_dijet(100_000, (8.0, 5.0, 0.3), 2700.0, 6000.0, seed=8)
    edges = np.arange(2700.0, 6000.1, 100.0)
    hunt = bump_hunt(m, signal_region=(3300.0, 3700.0), edges=edges, sqrt_s=SQRT_S)
    n_sr = int(np.sum((m >= 3300) & (m < 3700)))
    assert hunt.n_observed == n_sr
    # n − b has variance b (Poisson) + σ_b² (the fit): a 4σ band
    assert abs(hunt.excess) < 4 * np.sqrt(hunt.background + hunt.background_uncertainty**2)
    assert 0 < hunt.background_uncertainty < np.sqrt(hunt.background)  # sidebands constrain it
    # an injected bump is found
    bump = np.random.default_rng(9).normal(3500.0, 80.0, 1000)
    found = bump_hunt(
        np.concatenate([m, bump]), signal_region=(3300.0, 3700.0), edges=edges, sqrt_s=SQRT_S
    )
    assert found.excess > 700
    assert found.significance > 3.0


def test_bad_bump_hunt_input_raises():
    m, _ = sample_dijet(1000, (8.0, 5.0, 0.3), 2700.0, 6000.0, seed=1)
    edges = np.arange(2700.0, 6000.1, 100.0)
    with pytest.raises(BumpHuntError, match="bin edges"):
        bump_hunt(m, signal_region=(3350.0, 3700.0), edges=edges, sqrt_s=SQRT_S)
    with pytest.raises(BumpHuntError, match="inside the fit range"):
        bump_hunt(m, signal_region=(2700.0, 3100.0), edges=edges, sqrt_s=SQRT_S)
    with pytest.raises(BumpHuntError, match="non-empty bins"):
        fit_dijet(np.r_[5, 3, np.zeros(31)], edges, sqrt_s=SQRT_S)


def test_asimov_formula_hand_values():
    # 2[(110) ln 1.1 − 10] = 0.968240 -> 0.983992
    assert asimov_significance(10.0, 100.0) == pytest.approx(0.983992, abs=1e-6)
    # 2[6 ln 6 − 5] = 11.501118 -> 3.391330
    assert asimov_significance(5.0, 1.0) == pytest.approx(3.391330, abs=1e-6)
    # large b: Z_A -> s / sqrt(b)
    assert asimov_significance(100.0, 1e6) == pytest.approx(0.1, rel=1e-3)
    # σ_b -> 0 is continuous; σ_b > 0 lowers Z
    assert asimov_significance(10.0, 100.0, 1e-4) == pytest.approx(0.983992, abs=1e-5)
    assert asimov_significance(10.0, 100.0, 10.0) < asimov_significance(10.0, 100.0)
    # hand value with σ_b = 10: s=10, b=100, v=100:
    # 110 ln(110·200/(10⁴ + 110·100)) − 100 ln(1 + 100·10/(100·200)) = 0.238185
    assert asimov_significance(10.0, 100.0, 10.0) == pytest.approx(np.sqrt(2 * 0.238185), 1e-5)
    assert asimov_significance(-5.0, 100.0) == 0.0
    with pytest.raises(BumpHuntError, match="b must be"):
        asimov_significance(1.0, 0.0)


@pytest.mark.parametrize(
    ("n", "b", "sigma_b"), [(110, 100, 0), (110, 100, 10), (130, 100, 5), (20, 10, 3)]
)
def test_pyhf_q0_equals_the_closed_form(n, b, sigma_b):
    z = counting_significance(n, b, sigma_b, method="pyhf")
    assert z == pytest.approx(asimov_significance(n - b, b, sigma_b), rel=1e-6)
    assert counting_significance(n, b, sigma_b, method="asimov") == pytest.approx(z, rel=1e-6)


def test_counting_significance_deficit_and_errors():
    assert counting_significance(90, 100, 5) == 0.0
    with pytest.raises(BumpHuntError, match="unknown method"):
        counting_significance(10, 5, method="bayes")
