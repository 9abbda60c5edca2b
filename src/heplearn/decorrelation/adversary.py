"""The adversary of "Learning to Pivot with Adversarial Networks" (Louppe, Kagan & Cranmer,
arXiv:1611.01046), for mass decorrelation of jet taggers (as in Shimmin et al.,
arXiv:1703.03507): a small network r that predicts the jet-mass bin of a background jet
from the classifier output f(x). The classifier is trained on L_clf − λ L_adv, so it is
rewarded for outputs from which the mass cannot be inferred.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["MassAdversary", "mass_bin_edges", "mass_bin_index"]


class MassAdversary(nn.Module):
    """r(f): the classifier's signal score f ∈ [0, 1] → logits over ``n_bins`` mass bins
    (a categorical posterior p(m-bin | f); the binned variant of the paper's adversary)."""

    def __init__(self, n_bins: int = 20, hidden: int = 64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(1, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_bins),
        )

    def forward(self, score: torch.Tensor) -> torch.Tensor:
        return self.net(score.unsqueeze(-1))


def mass_bin_edges(mass: np.ndarray, n_bins: int) -> np.ndarray:
    """Inner edges of ``n_bins`` equally populated bins (quantiles of ``mass``), so each bin
    holds the same share of (background) jets and an ignorant adversary scores log(n_bins)."""
    qs = np.linspace(0, 1, n_bins + 1)[1:-1]
    return np.quantile(np.asarray(mass, dtype=float), qs).astype(np.float32)


def mass_bin_index(mass: torch.Tensor, inner_edges: torch.Tensor) -> torch.Tensor:
    """Bin index 0..len(inner_edges) of each mass."""
    return torch.bucketize(mass.contiguous(), inner_edges.to(mass.dtype))
