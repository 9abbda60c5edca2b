"""Training losses: weighted cross-entropy and focal loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["weighted_cross_entropy", "focal_loss", "class_balance_weights"]


def _weighted_mean(per_event: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    if weights is None:
        return per_event.mean()
    weights = weights.to(per_event.dtype)
    return (weights * per_event).sum() / weights.sum().clamp_min(torch.finfo(weights.dtype).tiny)


def weighted_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Per-event weighted cross-entropy, L = Σ_i w_i (−log softmax(f_i)[y_i]) / Σ_i w_i.

    ``logits`` (batch, classes), ``labels`` (batch,) integer classes, ``weights`` (batch,)
    event weights (``None``: all 1). Normalising by Σw keeps the loss scale independent of
    the weights' overall normalisation.
    """
    per_event = F.cross_entropy(logits, labels.long(), reduction="none")
    return _weighted_mean(per_event, weights)


def focal_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    weights: torch.Tensor | None = None,
    *,
    gamma: float = 2.0,
    alpha: float | None = None,
) -> torch.Tensor:
    """Focal loss (Lin, Goyal, Girshick, He, Dollár, arXiv:1708.02002), per-event weighted:

        FL_i = −α_t (1 − p_t)^γ log p_t,   p_t = softmax(f_i)[y_i],
        L = Σ_i w_i FL_i / Σ_i w_i.

    ``alpha`` weights the signal class (label 1) by α and every other class by 1 − α
    (``None``: α_t = 1); ``gamma`` = 0 and ``alpha`` = None give
    :func:`weighted_cross_entropy`. Focal loss is not a proper scoring rule: the trained
    scores are monotone in the likelihood ratio at best but are not probabilities, so
    anything that reads them as probabilities (reweighting, calibration) must recalibrate
    first.
    """
    log_p = F.log_softmax(logits, dim=-1)
    log_pt = log_p.gather(1, labels.long().unsqueeze(1)).squeeze(1)
    pt = log_pt.exp()
    per_event = -((1.0 - pt).clamp_min(0.0) ** gamma) * log_pt
    if alpha is not None:
        alpha_t = torch.where(labels == 1, alpha, 1.0 - alpha).to(per_event.dtype)
        per_event = alpha_t * per_event
    return _weighted_mean(per_event, weights)


def class_balance_weights(labels, weights=None):
    """Per-event weights that give every class the same total weight: for class c,
    w_i ← w_i · W / (K · W_c), with W the total weight, W_c that of class c and K classes
    (the "balanced" class weights of scikit-learn, weighted). Works on numpy arrays.

    A class whose jets carry no positive total weight cannot be balanced: that raises
    :class:`~heplearn.training.config.InvalidConfigError` naming the class."""
    import numpy as np

    from heplearn.training.config import InvalidConfigError

    labels = np.asarray(labels)
    w = np.ones(len(labels)) if weights is None else np.asarray(weights, dtype=float)
    classes = np.unique(labels)
    totals = {c: w[labels == c].sum() for c in classes}
    for c, total_c in totals.items():
        if not total_c > 0:  # also NaN
            raise InvalidConfigError(
                f"balance_classes: the jets of class {c} have total weight {total_c:g}; "
                "every class needs a positive total weight to be balanced"
            )
    total = w.sum()
    out = w.copy()
    for c in classes:
        out[labels == c] *= total / (len(classes) * totals[c])
    return out.astype(np.float32)
