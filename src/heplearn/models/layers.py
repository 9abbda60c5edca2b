"""Shared building blocks of the torch models: masked pooling, MLPs, kNN, padding helpers.

Shapes follow the batch contract of :mod:`heplearn.models`: particle tensors are
``(batch, particles, channels)`` (channels last) and ``mask`` is ``(batch, particles)`` bool,
True for real particles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

__all__ = [
    "mlp",
    "masked_sum",
    "masked_mean",
    "knn_indices",
    "gather_neighbours",
    "padding_shift",
    "pt_fractions",
    "ensure_mask",
    "is_exporting",
    "trim_padding",
    "dropout",
    "Dropout",
]


def mlp(
    in_dim: int,
    dims: Sequence[int],
    *,
    activation: Callable[[], nn.Module] = nn.ReLU,
    dropout: float = 0.0,
    last_activation: bool = True,
) -> nn.Sequential:
    """Fully connected stack ``in_dim -> dims[0] -> ... -> dims[-1]``.

    Each layer is ``Linear, activation, Dropout`` (dropout only when > 0); with
    ``last_activation=False`` the final layer is a bare ``Linear`` (a logit layer).
    """
    layers: list[nn.Module] = []
    for i, dim in enumerate(dims):
        layers.append(nn.Linear(in_dim, dim))
        if i < len(dims) - 1 or last_activation:
            layers.append(activation())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        in_dim = dim
    return nn.Sequential(*layers)


def masked_sum(x: Tensor, mask: Tensor) -> Tensor:
    """Sum over particles of the real entries: ``(B, P, C), (B, P) -> (B, C)``."""
    return (x * mask.unsqueeze(-1).to(x.dtype)).sum(dim=1)


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean over the real particles: ``(B, P, C), (B, P) -> (B, C)``.

    Jets without particles give 0 (the count is floored at 1, as weaver's ``use_counts``).
    """
    counts = mask.sum(dim=1, keepdim=True).clamp(min=1).to(x.dtype)
    return masked_sum(x, mask) / counts


def ensure_mask(batch: dict[str, Tensor], key: str) -> Tensor:
    """``batch["mask"]`` as bool, or all-True ``(B, P)`` for the particle tensor ``batch[key]``."""
    mask = batch.get("mask")
    if mask is None:
        x = batch[key]
        return torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
    return mask.bool()


def padding_shift(mask: Tensor, dtype: torch.dtype, value: float = 1e9) -> Tensor:
    """``(B, P) -> (B, P, 1)``: ``value`` for padded particles, 0 for real ones.

    Added to kNN coordinates so that padded particles lie far from every real one and are
    never chosen as neighbours while real ones remain (weaver's ``coord_shift``,
    arXiv:1902.08570 reference code).
    """
    return (~mask).unsqueeze(-1).to(dtype) * value


def knn_indices(points: Tensor, k: int) -> Tensor:
    """Indices of the ``k`` nearest neighbours of each point, excluding the point itself.

    Parameters
    ----------
    points
        ``(B, P, D)`` coordinates (padded particles already shifted far away, see
        :func:`padding_shift`); requires ``P > k``.
    k
        Number of neighbours.

    Returns
    -------
    Tensor
        ``(B, P, k)`` int64 indices into the particle axis, nearest first.

    Notes
    -----
    Uses ``|x_j|^2 - 2 x_i.x_j`` (the ``|x_i|^2`` term is constant per row and does not change
    the ranking) from one batched matmul, then ``topk(k + 1)``; the point itself is the
    minimum of its row and is dropped.
    """
    with torch.no_grad():
        sq = (points * points).sum(dim=-1)  # (B, P)
        dist = sq.unsqueeze(1) - 2.0 * torch.matmul(points, points.transpose(1, 2))
        idx = dist.topk(k + 1, dim=-1, largest=False, sorted=True).indices
    return idx[:, :, 1:]


def gather_neighbours(x: Tensor, idx: Tensor) -> Tensor:
    """Features of the neighbours: ``(B, P, C), (B, P, k) -> (B, P, k, C)``."""
    b, p, c = x.shape
    k = idx.shape[-1]
    base = torch.arange(b, device=x.device).view(b, 1, 1) * p
    flat = (idx + base).reshape(-1)
    return x.reshape(b * p, c).index_select(0, flat).view(b, p, k, c)


def pt_fractions(vectors: Tensor, mask: Tensor) -> Tensor:
    """Momentum fractions ``z_i = p_T,i / sum_j p_T,j`` of the real particles.

    ``vectors`` is ``(B, P, 4)`` as ``(E, px, py, pz)``; returns ``(B, P)``, 0 for padding.
    """
    pt = torch.sqrt(vectors[..., 1] ** 2 + vectors[..., 2] ** 2) * mask.to(vectors.dtype)
    return pt / pt.sum(dim=1, keepdim=True).clamp(min=torch.finfo(pt.dtype).tiny)


def is_exporting() -> bool:
    """True while torch traces or exports the model (then shapes must not depend on data)."""
    return bool(torch.jit.is_tracing() or torch.onnx.is_in_onnx_export())


def trim_padding(mask: Tensor, *tensors: Tensor) -> tuple[Tensor, ...]:
    """Drop trailing particle columns that are padding in every jet of the batch.

    ``mask`` ``(B, P)`` and each ``(B, P, ...)`` tensor are cut to the last column holding a
    real particle (at least 1). For models whose output does not depend on padding this is
    a pure speed-up (weaver's ``SequenceTrimmer`` at inference). Skipped while exporting, so
    that the exported graph keeps the full, data-independent shape.
    """
    if is_exporting():
        return (mask, *tensors)
    cols = torch.nonzero(mask.any(dim=0))
    keep = int(cols.max()) + 1 if cols.numel() else 1
    if keep >= mask.shape[1]:
        return (mask, *tensors)
    return (mask[:, :keep], *(t[:, :keep] for t in tensors))


_DROP_BITS = 16


def dropout(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Inverted dropout (Srivastava et al., JMLR 15 (2014) 1929) with a cheap mask on CPU.

    ``x · keep / q`` with ``keep ~ Bernoulli(q)``. On CPU, torch draws one Bernoulli variate
    per element, which is a quarter of a ParT training step; here one 64-bit draw gives four
    16-bit uniform integers ``u ∈ [0, 2¹⁶)`` and an element is kept when
    ``u ≥ round(p·2¹⁶)``, so ``q = 1 − round(p·2¹⁶)/2¹⁶`` (within 8e-6 of ``1 − p``; at
    least 2⁻¹⁶), and the kept values are scaled by ``1/q``: ``E[output] = x`` exactly.
    Draws come from torch's seeded global generator. Other devices (CUDA's fused dropout
    is cheap) use ``F.dropout``; outside training, or with ``p = 0``, ``x`` is returned
    unchanged.
    """
    if not training or p == 0:
        return x
    if not 0 < p < 1:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    if x.device.type != "cpu":
        return nn.functional.dropout(x, p, True)
    n_drop = min(round(p * 2**_DROP_BITS), 2**_DROP_BITS - 1)  # p → 1: keep 1 in 2¹⁶
    n = x.numel()
    words = torch.empty(-(-n // 4), dtype=torch.int64).random_(-(2**63), 2**63 - 1)
    u = words.view(torch.int16)[:n].view(x.shape)  # uniform on [-2¹⁵, 2¹⁵)
    keep = u >= n_drop - 2 ** (_DROP_BITS - 1)
    return torch.where(keep, x * (2**_DROP_BITS / (2**_DROP_BITS - n_drop)), 0.0)


class Dropout(nn.Dropout):
    """``nn.Dropout`` through :func:`dropout` (its cheap CPU mask)."""

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training)
