"""Particle Transformer pairwise ("interaction") features for every pair of particles.

For particles a, b with transverse momenta pT, rapidities y and azimuths φ
(Qu, Li, Qian, arXiv:2202.03772, eq. 3)::

    Δ   = sqrt((y_a − y_b)² + (φ_a − φ_b)²)          (Δφ wrapped to [−π, π))
    k_T = min(pT_a, pT_b) Δ
    z   = min(pT_a, pT_b) / (pT_a + pT_b)
    m²  = (E_a + E_b)² − |p_a + p_b|²

and the network sees their logarithms. The conventions are those of the reference code,
weaver-core's ``pairwise_lv_fts`` (``weaver/nn/model/ParticleTransformer.py``), so a model
trained with weaver sees the same numbers:

* rapidity, not pseudorapidity: y = ½ ln(1 + 2 pz / max(E − pz, 1e-20));
* Δφ = (φ_a − φ_b + π) mod 2π − π;
* every logarithm's argument is clamped at ``eps = 1e-8`` (the pair of a particle with
  itself therefore has ln Δ = ln k_T = ln m² = ln 1e-8 for a massless particle);
* channel order ``(ln k_T, ln z, ln Δ, ln m²)`` — :data:`PAIRWISE_FEATURES`.

One deviation, for robustness only: the argument of the rapidity's logarithm is also
clamped at 1e-20, so a float32-rounded massless particle with E < |pz| gives a large finite
rapidity instead of NaN.

Diagonal pairs (a, a) are kept, as in ParT (its ``PairEmbed`` keeps self-pairs by default).
Pairs involving a padded particle are exactly 0 and ``pair_mask`` is False for them.

The same function accepts NumPy arrays or torch tensors (it dispatches on the type, through
:mod:`heplearn.representations._backend`), so a model can compute the features on the fly on
the GPU with gradients, while data preparation uses NumPy.
"""

from __future__ import annotations

import math

import awkward as ak
import numpy as np

from heplearn.representations._backend import is_torch, namespace
from heplearn.representations.cloud import MOMENTUM_FEATURES, particle_cloud

__all__ = [
    "PAIRWISE_FEATURES",
    "pairwise_features",
    "pairwise_features_from_table",
    "pair_mask",
]

#: Channel order of :func:`pairwise_features` (weaver-core's ``pairwise_lv_fts`` order).
PAIRWISE_FEATURES: tuple[str, ...] = ("ln_kt", "ln_z", "ln_delta", "ln_m2")

_TINY = 1e-30  # floor of sqrt arguments, see _pairwise_core

# numpy path: process this many (jet, particle, particle) entries at a time to bound memory
_CHUNK_ENTRIES = 1 << 21


def pair_mask(mask):
    """``(N, P, P)`` bool: True where both particles of the pair are real."""
    return mask[:, :, None] & mask[:, None, :]


def _pairwise_core(ops, px, py, pz, E, mask, eps: float):
    """Shared implementation; all inputs ``(N, P)`` of one namespace (NumPy or torch)."""
    # sqrt and atan2 have infinite/undefined derivatives at 0 (padded particles, self-pairs);
    # flooring their arguments at _TINY keeps torch gradients finite without changing any
    # value that survives the eps clamps below (sqrt(_TINY) * pT < eps for pT < 1e7 GeV).
    pt2 = px * px + py * py
    pt = ops.sqrt(ops.clamp_min(pt2, _TINY))
    rap = 0.5 * ops.log(ops.clamp_min(1 + 2 * pz / ops.clamp_min(E - pz, 1e-20), 1e-20))
    phi = ops.atan2(py, ops.where(pt2 > 0, px, 1.0))  # atan2(0, 0) = atan2(0, 1) = 0

    pt_a, pt_b = pt[:, :, None], pt[:, None, :]
    drap = rap[:, :, None] - rap[:, None, :]
    dphi = (phi[:, :, None] - phi[:, None, :] + math.pi) % (2 * math.pi) - math.pi
    delta = ops.sqrt(ops.clamp_min(drap * drap + dphi * dphi, _TINY))
    ptmin = ops.minimum(pt_a, pt_b)
    ln_delta = ops.log(ops.clamp_min(delta, eps))
    ln_kt = ops.log(ops.clamp_min(ptmin * delta, eps))
    ln_z = ops.log(ops.clamp_min(ptmin / ops.clamp_min(pt_a + pt_b, eps), eps))
    e_sum = E[:, :, None] + E[:, None, :]
    x_sum = px[:, :, None] + px[:, None, :]
    y_sum = py[:, :, None] + py[:, None, :]
    z_sum = pz[:, :, None] + pz[:, None, :]
    m2 = e_sum * e_sum - x_sum * x_sum - y_sum * y_sum - z_sum * z_sum
    ln_m2 = ops.log(ops.clamp_min(m2, eps))

    pairs = pair_mask(mask)
    features = ops.stack([ln_kt, ln_z, ln_delta, ln_m2], axis=1)
    return ops.where(pairs[:, None], features, 0.0), pairs


def pairwise_features(p4, mask=None, *, energy_first: bool = False, eps: float = 1e-8):
    """ParT pairwise features of padded particles (NumPy arrays or torch tensors).

    Parameters
    ----------
    p4
        ``(N, P, 4)`` four-momenta in GeV, ``(px, py, pz, E)`` (the layout of
        ``particle_cloud(..., features=MOMENTUM_FEATURES)``), or ``(E, px, py, pz)`` with
        ``energy_first=True`` (the layout of :func:`~heplearn.representations.four_vectors`).
    mask
        ``(N, P)`` bool, True for real particles; default ``E != 0``.
    eps
        Clamp of every logarithm's argument (weaver's default 1e-8).

    Returns
    -------
    features
        ``(N, 4, P, P)``, same type, dtype and device as ``p4``; channels
        :data:`PAIRWISE_FEATURES` = ``(ln k_T, ln z, ln Δ, ln m²)``; symmetric in the last
        two axes up to rounding of the wrapped Δφ; exactly 0 where ``pair_mask`` is False.
    pair_mask
        ``(N, P, P)`` bool, ``mask[:, a] & mask[:, b]`` (diagonal included).

    References
    ----------
    Qu, Li, Qian, arXiv:2202.03772 (Particle Transformer), eq. 3; weaver-core
    ``pairwise_lv_fts``. The features go back to the Lund-plane variables of Dreyer, Salam,
    Soyez, arXiv:1807.04758.
    """
    if p4.ndim != 3 or p4.shape[-1] != 4:
        raise ValueError(f"pairwise_features: expected p4 of shape (N, P, 4), got {p4.shape}")
    if energy_first:
        E, px, py, pz = (p4[..., k] for k in range(4))
    else:
        px, py, pz, E = (p4[..., k] for k in range(4))
    if mask is None:
        mask = E != 0
    if tuple(mask.shape) != tuple(p4.shape[:2]):
        raise ValueError(
            f"pairwise_features: mask has shape {tuple(mask.shape)}, expected {p4.shape[:2]}"
        )
    ops = namespace(p4)
    if is_torch(p4):
        return _pairwise_core(ops, px, py, pz, E, mask.bool(), eps)

    p4 = np.asarray(p4)
    if not np.issubdtype(p4.dtype, np.floating):
        raise ValueError(f"pairwise_features: p4 must be floating point, got {p4.dtype}")
    mask = np.asarray(mask, dtype=bool)
    n, p = p4.shape[:2]
    features = np.zeros((n, len(PAIRWISE_FEATURES), p, p), dtype=p4.dtype)
    chunk = max(1, _CHUNK_ENTRIES // max(1, p * p))
    for start in range(0, n, chunk):  # chunks of jets bound the temporaries' memory
        s = slice(start, start + chunk)
        features[s] = _pairwise_core(ops, px[s], py[s], pz[s], E[s], mask[s], eps)[0]
    return features, pair_mask(mask)


def pairwise_features_from_table(
    table: ak.Array, max_particles: int = 128, eps: float = 1e-8
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pairwise_features` of a jet table's ``max_particles`` hardest constituents.

    Returns ``(N, 4, P, P)`` float32 features and the ``(N, P, P)`` pair mask.
    """
    p4, mask = particle_cloud(table, max_particles=max_particles, features=MOMENTUM_FEATURES)
    return pairwise_features(p4, mask, eps=eps)
