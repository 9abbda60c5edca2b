"""Discovery significance of a counting experiment: closed forms and pyhf.

Two equivalent routes to the local significance of an excess of ``n`` events over a
background prediction ``b ± σ_b``:

* :func:`asimov_significance`, the closed form of Cowan, Cranmer, Gross, Vitells
  (arXiv:1007.1727, eqs. 97 and 20): with expected signal s,

      Z_A = sqrt(2 [(s + b) ln(1 + s/b) − s])                          (σ_b = 0),
      Z_A = sqrt(2 [(s + b) ln((s + b)(b + σ_b²) / (b² + (s + b) σ_b²))
                    − (b²/σ_b²) ln(1 + σ_b² s / (b (b + σ_b²)))])       (σ_b > 0);

* :func:`counting_significance`, the profile-likelihood discovery test q0 of pyhf
  (one bin, a free signal normalisation, the background with a ``shapesys``
  uncertainty: a Poisson-constrained auxiliary measurement with τ = b²/σ_b², the model
  behind the second formula) and its asymptotic distribution, Z = Φ⁻¹(1 − p0).

For an observed count n the observed q0 equals Z_A with s = n − b (the "Asimov" data set
of a counting experiment is the observation itself): the tests check the two agree.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike

from heplearn.weak.errors import BumpHuntError

__all__ = ["asimov_significance", "counting_significance"]


def asimov_significance(s: ArrayLike, b: ArrayLike, sigma_b: ArrayLike = 0.0) -> float | np.ndarray:
    """Median discovery significance Z_A of s signal events over b ± σ_b background.

    Z_A = sqrt(2 [(s + b) ln(1 + s/b) − s]) without background uncertainty, and with it

    Z_A = sqrt(2 [(s + b) ln((s + b)(b + σ_b²) / (b² + (s + b) σ_b²))
                  − (b²/σ_b²) ln(1 + σ_b² s / (b (b + σ_b²)))]).

    One-sided: Z_A = 0 for s <= 0. Elementwise over arrays.

    Parameters
    ----------
    s : array_like
        Expected (or observed excess of) signal events.
    b : array_like
        Expected background events, > 0.
    sigma_b : array_like
        Absolute uncertainty of b, >= 0.

    References
    ----------
    Cowan, Cranmer, Gross, Vitells, Eur. Phys. J. C 71 (2011) 1554, arXiv:1007.1727.

    Examples
    --------
    >>> round(float(asimov_significance(10.0, 100.0)), 4)
    0.984
    """
    s_, b_, sb = np.broadcast_arrays(
        np.asarray(s, dtype=np.float64),
        np.asarray(b, dtype=np.float64),
        np.asarray(sigma_b, dtype=np.float64),
    )
    if np.any(~np.isfinite(b_)) or np.any(b_ <= 0):
        raise BumpHuntError(f"asimov_significance: b must be finite and > 0, got {b}")
    if np.any(~np.isfinite(sb)) or np.any(sb < 0):
        raise BumpHuntError(f"asimov_significance: sigma_b must be finite and >= 0, got {sigma_b}")
    if np.any(~np.isfinite(s_)):
        raise BumpHuntError(f"asimov_significance: s must be finite, got {s}")
    sp = np.maximum(s_, 0.0)
    v = sb * sb
    with np.errstate(divide="ignore", invalid="ignore"):
        no_unc = (sp + b_) * np.log1p(sp / b_) - sp
        with_unc = (sp + b_) * np.log((sp + b_) * (b_ + v) / (b_ * b_ + (sp + b_) * v)) - (
            b_ * b_ / v
        ) * np.log1p(v * sp / (b_ * (b_ + v)))
    q = np.where(v > 0, with_unc, no_unc)
    z = np.sqrt(2.0 * np.maximum(q, 0.0))
    return float(z) if z.ndim == 0 else z


def counting_significance(
    n_observed: float, b: float, sigma_b: float = 0.0, *, method: str = "pyhf"
) -> float:
    """Local significance of ``n_observed`` events over a background ``b ± σ_b``.

    ``method="pyhf"``: pyhf's discovery test statistic q0 (one bin; signal = a free
    normalisation ≥ 0; background with a ``shapesys`` modifier of absolute size σ_b, i.e.
    a Poisson-constrained nuisance, omitted when σ_b = 0), asymptotic p-value
    p0 → Z = Φ⁻¹(1 − p0). ``method="asimov"``: :func:`asimov_significance` with
    s = n_observed − b, which equals the former (Cowan et al., arXiv:1007.1727). Both are
    one-sided: a deficit gives 0.

    References
    ----------
    Cowan, Cranmer, Gross, Vitells, arXiv:1007.1727; pyhf (Heinrich, Feickert, Stark,
    Cranmer, JOSS 6 (2021) 2823).
    """
    n, b, sigma_b = float(n_observed), float(b), float(sigma_b)
    if not np.isfinite(n) or n < 0:
        raise BumpHuntError(f"counting_significance: n_observed must be >= 0, got {n_observed}")
    if not np.isfinite(b) or b <= 0:
        raise BumpHuntError(f"counting_significance: b must be > 0, got {b}")
    if not np.isfinite(sigma_b) or sigma_b < 0:
        raise BumpHuntError(f"counting_significance: sigma_b must be >= 0, got {sigma_b}")
    if method == "asimov":
        return float(asimov_significance(n - b, b, sigma_b))
    if method != "pyhf":
        raise BumpHuntError(f'counting_significance: unknown method "{method}"; use pyhf, asimov')
    if n <= b:
        return 0.0  # q0 = 0 for a deficit: no need to fit
    from scipy.stats import norm

    modifiers = [{"name": "bkg_uncertainty", "type": "shapesys", "data": [sigma_b]}]
    spec = {
        "channels": [
            {
                "name": "signal_region",
                "samples": [
                    {
                        "name": "signal",
                        "data": [1.0],
                        "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                    },
                    {"name": "background", "data": [b], "modifiers": modifiers if sigma_b else []},
                ],
            }
        ]
    }
    with warnings.catch_warnings():
        # pyhf's schema validation uses jsonschema.RefResolver, deprecated upstream (not ours)
        warnings.filterwarnings("ignore", r"jsonschema\.RefResolver", DeprecationWarning)
        import pyhf

        model = pyhf.Model(spec, poi_name="mu")
        bounds = model.config.suggested_bounds()
        bounds[model.config.poi_index] = (0.0, max(10.0, 10.0 * n))  # mu counts signal events
        data = [n, *model.config.auxdata]
        p0 = float(pyhf.infer.hypotest(0.0, data, model, test_stat="q0", par_bounds=bounds))
    return float(norm.isf(p0))
