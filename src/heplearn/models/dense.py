"""Fully connected network on the flattened, pT-ordered constituents (TopoDNN)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from heplearn.models.layers import ensure_mask, mlp

__all__ = ["DNN"]


class DNN(nn.Module):
    """TopoDNN-like fully connected tagger.

    The features of the ``n_particles`` leading (pT-ordered) constituents are flattened into
    one vector of length ``n_particles * n_features`` (padded particles contribute zeros,
    jets with fewer particles are zero-padded, extra particles beyond ``n_particles`` are
    ignored) and fed through ``hidden`` ReLU layers with dropout to ``n_classes`` logits.

    Default sizes are TopoDNN's (arXiv:1704.02124; top-tagging landscape arXiv:1902.09914):
    30 constituents, hidden layers (300, 102, 12, 6) — 59k parameters as published (59,330
    here, with two output logits) with the original 3 inputs per constituent: pT and the
    angles in TopoDNN's aligned frame (hardest constituent at the origin, second-hardest
    directly below it, harder side at η' > 0), ``particle_features="topodnn"``
    (:data:`heplearn.representations.TOPODNN_FEATURES`), which the top landscape gives this
    model at its default preset. The dropout rate (0.1) is our choice.

    Inputs: ``features`` ``(B, P, F)`` float, ``mask`` ``(B, P)`` bool (optional).
    Output: logits ``(B, n_classes)``; binary tasks use 2 logits and cross-entropy.

    References: Pearkes, Fedorko, Lister, Gay, arXiv:1704.02124; Kasieczka et al.,
    arXiv:1902.09914.
    """

    inputs: tuple[str, ...] = ("features",)

    def __init__(
        self,
        n_features: int,
        n_particles: int = 30,
        hidden: Sequence[int] = (300, 102, 12, 6),
        dropout: float = 0.1,
        n_classes: int = 2,
    ):
        super().__init__()
        self.n_particles = int(n_particles)
        self.n_features = int(n_features)
        self.net = mlp(n_particles * n_features, hidden, dropout=dropout)
        self.head = nn.Linear(hidden[-1], n_classes)

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        x = batch["features"]
        mask = ensure_mask(batch, "features")
        x = x * mask.unsqueeze(-1).to(x.dtype)
        p = x.shape[1]
        if p >= self.n_particles:
            x = x[:, : self.n_particles]
        else:
            x = torch.nn.functional.pad(x, (0, 0, 0, self.n_particles - p))
        return self.head(self.net(x.flatten(1)))
