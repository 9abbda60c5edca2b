"""Recurrent tagger over the pT-ordered constituents."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from heplearn.models.layers import ensure_mask, mlp

__all__ = ["LSTMTagger"]


class LSTMTagger(nn.Module):
    """LSTM over the constituent sequence, classifier on the last hidden state.

    Real particles are read in their given order (the data pipeline orders them by
    decreasing pT); padded entries may sit anywhere and are moved behind the real ones
    before the LSTM runs. The LSTM state after the last real particle — which depends only
    on the real particles — feeds a dense head (``dense``, ReLU) and the logit layer. This
    avoids packed sequences, so the model exports to ONNX unchanged.

    Inputs: ``features`` ``(B, P, F)``, ``mask`` ``(B, P)``. Output: logits ``(B, n_classes)``.

    Defaults (ours, in the spirit of the references): one LSTM layer of 128 units, a dense
    layer of 64 units.

    References: Guest et al., "Jet flavor classification in high-energy physics with deep
    neural networks", arXiv:1607.08633 (track-sequence LSTM, the RNNIP idea); Egan et al.,
    "LSTM networks with jet constituents for boosted top tagging", arXiv:1711.09059.
    """

    inputs: tuple[str, ...] = ("features",)

    def __init__(
        self,
        n_features: int,
        hidden: int = 128,
        num_layers: int = 1,
        dense: Sequence[int] = (64,),
        dropout: float = 0.0,
        n_classes: int = 2,
    ):
        super().__init__()
        self.lstm = nn.LSTM(
            n_features,
            hidden,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.dense = mlp(hidden, dense, dropout=dropout)
        self.head = nn.Linear(dense[-1] if dense else hidden, n_classes)

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        x = batch["features"]
        mask = ensure_mask(batch, "features")
        b, p, _ = x.shape
        # stable "real first": real particles keep their order, padding goes to the end
        pos = torch.arange(p, device=x.device).expand(b, p)
        order = torch.argsort(pos + (~mask).long() * p, dim=1)
        x = torch.gather(x, 1, order.unsqueeze(-1).expand_as(x))
        x = x * torch.gather(mask, 1, order).unsqueeze(-1).to(x.dtype)
        out, _ = self.lstm(x)
        last = (mask.sum(dim=1) - 1).clamp(min=0)
        h = torch.gather(out, 1, last.view(b, 1, 1).expand(b, 1, out.shape[-1])).squeeze(1)
        return self.head(self.dense(h))
