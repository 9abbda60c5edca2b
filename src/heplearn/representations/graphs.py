"""k-nearest-neighbour graphs of particle clouds (ParticleNet's EdgeConv neighbourhoods).

ParticleNet (Qu & Gouskos, arXiv:1902.08570) connects each particle to its k nearest
neighbours, first in the (Δη, Δφ) plane and then in the learned feature space of each
EdgeConv block; DGCNN (Wang et al., arXiv:1801.07829) introduced the dynamic graph. This
module computes the neighbour indices for padded batches, vectorised over jets, with NumPy
(``argpartition``) or torch (``topk``) through one shared implementation.
"""

from __future__ import annotations

import math

import numpy as np

from heplearn.representations._backend import is_torch, namespace

__all__ = ["knn_indices"]

# numpy path: process this many (jet, particle, particle) distances at a time
_CHUNK_ENTRIES = 1 << 22


def _knn_core(ops, points, mask, k: int):
    p = points.shape[1]
    diff = points[:, :, None, :] - points[:, None, :, :]
    d2 = (diff * diff).sum(-1)  # (N, P, P) squared Euclidean distance
    arange = ops.arange(p, like=points)
    self_pair = arange[:, None] == arange[None, :]
    forbidden = self_pair[None] | ~mask[:, None, :]  # never self, never a padded particle
    d2 = ops.where(~forbidden, d2, math.inf)
    dist, idx = ops.smallest_k(d2, k)
    valid = ops.isfinite(dist) & mask[:, :, None]
    own = arange[None, :, None] + 0 * idx  # each particle's own index, broadcast to (N, P, k)
    return ops.where(valid, idx, own), valid


def knn_indices(points, mask, k: int, *, return_valid: bool = False):
    """Indices of the ``k`` nearest real neighbours of every particle.

    Distance: Euclidean in the coordinates given, d²_ab = Σ_c (x_a,c − x_b,c)²; for
    ParticleNet's first block pass ``(Δη, Δφ)`` relative to the jet axis (e.g. the first two
    columns of ``particle_cloud(table, features=("deta", "dphi", ...))``), for which no φ
    wrap-around is needed inside one jet.

    Guarantees:

    * a particle is never its own neighbour, and a padded particle is never a neighbour;
    * neighbours are sorted nearest first;
    * when a real particle has fewer than ``k`` real neighbours (jets with fewer than
      ``k + 1`` particles), the missing slots hold the particle's **own index** (a harmless
      self-loop for gather-based EdgeConv: x_j − x_i = 0) and ``valid`` is False there;
    * rows of padded particles are all their own index, ``valid`` False.

    Parameters
    ----------
    points
        ``(N, P, D)`` coordinates (NumPy array or torch tensor; D = 2 for (Δη, Δφ)).
    mask
        ``(N, P)`` bool, True for real particles.
    k
        Number of neighbours, ``1 <= k < P``.
    return_valid
        Also return the ``(N, P, k)`` bool mask of genuine neighbours.

    Returns
    -------
    indices
        ``(N, P, k)`` int64 (NumPy or torch, like ``points``), indices into axis 1.
    valid
        Only with ``return_valid``.

    References
    ----------
    Qu & Gouskos, arXiv:1902.08570; Wang et al., arXiv:1801.07829.
    """
    if points.ndim != 3 or tuple(mask.shape) != tuple(points.shape[:2]):
        raise ValueError(
            f"knn_indices: expected points (N, P, D) and mask (N, P), got "
            f"{tuple(points.shape)} and {tuple(mask.shape)}"
        )
    p = points.shape[1]
    if not 1 <= k < p:
        raise ValueError(f"knn_indices: need 1 <= k < P = {p}, got k = {k}")
    ops = namespace(points)
    if is_torch(points):
        idx, valid = _knn_core(ops, points, mask.bool(), k)
        return (idx, valid) if return_valid else idx

    points = np.asarray(points)
    mask = np.asarray(mask, dtype=bool)
    n = points.shape[0]
    idx = np.empty((n, p, k), dtype=np.int64)
    valid = np.empty((n, p, k), dtype=bool)
    chunk = max(1, _CHUNK_ENTRIES // (p * p))
    for start in range(0, n, chunk):  # chunks of jets bound the (N, P, P) temporaries
        s = slice(start, start + chunk)
        idx[s], valid[s] = _knn_core(ops, points[s], mask[s], k)
    return (idx, valid) if return_valid else idx
