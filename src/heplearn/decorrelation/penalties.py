"""Correlation penalties between a classifier score and a jet variable (torch, per batch).

Both are differentiable and take per-event weights, so they can be added to a training loss
on the background jets of each batch.
"""

from __future__ import annotations

import torch

__all__ = ["distance_correlation_squared", "distance_correlation", "pearson_correlation_squared"]


def _normalised_weights(x: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    if weights is None:
        return torch.ones_like(x)
    w = weights.to(x.dtype)
    return w * (len(w) / w.sum().clamp_min(torch.finfo(x.dtype).tiny))


def _double_centred(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    a = (x[:, None] - x[None, :]).abs()
    row = (a * w[None, :]).mean(dim=1)  # weighted mean over j of |x_i − x_j|
    grand = (row * w).mean()
    return a - row[:, None] - row[None, :] + grand


def distance_correlation_squared(
    x: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Squared distance correlation (Székely, Rizzo & Bakirov, Ann. Stat. 35 (2007) 2769),
    with event weights as in DisCo (Kasieczka & Shih, arXiv:2001.05310):

        a_ij = |x_i − x_j|,  A_ij = a_ij − ā_i· − ā_·j + ā_··   (weighted means),
        dCov²(x, y) = ⟨A_ij B_ij⟩_w,  dCorr² = dCov²(x, y) / √(dCov²(x, x) dCov²(y, y)).

    0 if and only if x and y are independent (in the large-sample limit), 1 for y = a x + b.
    Costs O(N²) time and memory in the batch size N: 256 jets are 65k pairs, 4096 are 17M.
    Weights are normalised to mean 1 (their overall scale does not matter).
    """
    if x.shape != y.shape or x.dim() != 1:
        raise ValueError(
            f"x and y must be 1-D of equal length, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    x = x.to(torch.float64) if x.dtype == torch.float64 else x.float()
    y = y.to(x.dtype)
    w = _normalised_weights(x, weights)
    A = _double_centred(x, w)
    B = _double_centred(y, w)
    ww = w[:, None] * w[None, :]
    ab = (A * B * ww).mean()
    aa = (A * A * ww).mean()
    bb = (B * B * ww).mean()
    return ab / torch.sqrt(aa * bb).clamp_min(torch.finfo(x.dtype).tiny)


def distance_correlation(
    x: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """dCorr(x, y) = √dCorr² (see :func:`distance_correlation_squared`)."""
    return distance_correlation_squared(x, y, weights).clamp_min(0).sqrt()


def pearson_correlation_squared(
    x: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Weighted squared Pearson correlation ρ² = cov_w(x, y)² / (var_w(x) var_w(y)).

    Penalising ρ² removes only the linear dependence of the score on the mass; a score can
    still sculpt the mass non-linearly (DisCo and the adversary catch that)."""
    x = x.float() if x.dtype != torch.float64 else x
    y = y.to(x.dtype)
    w = _normalised_weights(x, weights)
    dx = x - (w * x).mean()
    dy = y - (w * y).mean()
    cov = (w * dx * dy).mean()
    var = (w * dx * dx).mean() * (w * dy * dy).mean()
    return cov * cov / var.clamp_min(torch.finfo(x.dtype).tiny)
