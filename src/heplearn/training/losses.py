"""Training losses."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["weighted_cross_entropy"]


def weighted_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Per-event weighted cross-entropy, L = Σ_i w_i (−log softmax(f_i)[y_i]) / Σ_i w_i.

    ``logits`` (batch, classes), ``labels`` (batch,) integer classes, ``weights`` (batch,)
    event weights (``None``: all 1). Normalising by Σw keeps the loss scale independent of
    the weights' overall normalisation.
    """
    per_event = F.cross_entropy(logits, labels.long(), reduction="none")
    if weights is None:
        return per_event.mean()
    weights = weights.to(per_event.dtype)
    return (weights * per_event).sum() / weights.sum().clamp_min(torch.finfo(weights.dtype).tiny)
