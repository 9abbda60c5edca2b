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


def _u_centred(x: torch.Tensor) -> torch.Tensor:
    """Ã_ij = a_ij − a_i·/(n−2) − a_·j/(n−2) + a_··/((n−1)(n−2)) for i ≠ j, 0 on the diagonal
    (a_i· a row sum, a_·· the total; Székely & Rizzo, arXiv:1310.2926)."""
    n = len(x)
    a = (x[:, None] - x[None, :]).abs()
    row = a.sum(dim=1)
    u = a - (row[:, None] + row[None, :]) / (n - 2) + a.sum() / ((n - 1) * (n - 2))
    return u * (1 - torch.eye(n, dtype=x.dtype, device=x.device))


def distance_correlation_squared(
    x: torch.Tensor,
    y: torch.Tensor,
    weights: torch.Tensor | None = None,
    *,
    bias_corrected: bool = False,
) -> torch.Tensor:
    """Squared distance correlation (Székely, Rizzo & Bakirov, Ann. Stat. 35 (2007) 2769),
    with event weights as in DisCo (Kasieczka & Shih, arXiv:2001.05310):

        a_ij = |x_i − x_j|,  A_ij = a_ij − ā_i· − ā_·j + ā_··   (weighted means),
        dCov²(x, y) = ⟨A_ij B_ij⟩_w,  dCorr² = dCov²(x, y) / √(dCov²(x, x) dCov²(y, y)).

    0 if and only if x and y are independent (in the large-sample limit), 1 for y = a x + b.
    Costs O(N²) time and memory in the batch size N: 256 jets are 65k pairs, 4096 are 17M.
    Weights are normalised to mean 1 (their overall scale does not matter).

    This V-statistic is biased upwards by about 2.5–3/N for independent x and y, depending
    on their distributions (0.08 at N = 32, 0.02 at N = 128 for uniform ones): a DisCo
    penalty λ dCorr² on a batch's few background jets is then lowest for a constant score,
    and a large λ makes the classifier collapse. ``bias_corrected=True`` gives the
    bias-corrected dCorr² of Székely & Rizzo (Ann. Stat. 42 (2014) 2382, arXiv:1310.2926),
    built from the unbiased U-statistic

        dCov²_U(x, y) = Σ_{i≠j} Ã_ij B̃_ij / (N (N − 3)),  Ã the U-centred distances,

    whose mean is 0 for independent x and y at any N ≥ 4 (single values may be negative);
    so is the ratio's (every pairing of the y with the x is then equally likely, and over
    the pairings the U-centred products average to 0). At the smallest N it is coarse (at
    N = 4 it takes the values −0.5 and 1 only).
    It takes no event weights (the U-statistic has no weighted form in that paper).
    """
    if x.shape != y.shape or x.dim() != 1:
        raise ValueError(
            f"x and y must be 1-D of equal length, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    x = x.to(torch.float64) if x.dtype == torch.float64 else x.float()
    y = y.to(x.dtype)
    if bias_corrected:
        if weights is not None:
            raise ValueError(
                "the bias-corrected distance correlation takes no event weights: use "
                "bias_corrected=False (the weighted V-statistic of DisCo) for weighted jets"
            )
        if len(x) < 4:
            raise ValueError(f"the bias-corrected dCorr² needs at least 4 pairs, got {len(x)}")
        A, B = _u_centred(x), _u_centred(y)
        ab, aa, bb = (A * B).sum(), (A * A).sum(), (B * B).sum()
    else:
        w = _normalised_weights(x, weights)
        A = _double_centred(x, w)
        B = _double_centred(y, w)
        ww = w[:, None] * w[None, :]
        ab = (A * B * ww).mean()
        aa = (A * A * ww).mean()
        bb = (B * B * ww).mean()
    # clamped inside the root: a constant score (aa = 0) gets a zero gradient, not 0·∞ = NaN
    return ab / torch.sqrt((aa * bb).clamp_min(torch.finfo(x.dtype).tiny))


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
