"""Recurrent tagger over the pT-ordered constituents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor, nn

from heplearn.models.layers import ensure_mask, mlp

__all__ = ["LSTMTagger"]


class LSTMTagger(nn.Module):
    """LSTM over the constituent sequence, classifier on the last hidden state.

    The data pipeline orders the real particles by decreasing pT; they are read from the
    softest to the hardest (``read_order="softest_first"``, the default) or in their given
    order (``"hardest_first"``). Padded entries may sit anywhere and are moved behind the
    real ones before the LSTM runs. The LSTM state after the last real particle read —
    which depends only on the real particles — feeds a dense head (``dense``, ReLU) and the
    logit layer. This avoids packed sequences, so the model exports to ONNX unchanged.

    ``read_order``: an LSTM's last state remembers best what it read last. Read
    hardest-first, the classifier sees the soft tail most clearly, and more constituents
    push the hard core further back; read softest-first, the hard core comes last.
    Measured on the medium landscape's sample (small preset, every constituent up to 128,
    100k training jets, AUC / 1/ε_B at ε_S = 0.3 on the 40k held-out jets): softest-first
    0.9702 / 125 and 0.9697 / 119 (seeds 1, 2), hardest-first 0.9653 / 99 (seed 1;
    hardest-first on the 48 hardest: 0.9676 / 111).

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
        read_order: Literal["hardest_first", "softest_first"] = "softest_first",
    ):
        super().__init__()
        if read_order not in ("hardest_first", "softest_first"):
            raise ValueError(
                f"read_order must be 'hardest_first' or 'softest_first', not {read_order!r}"
            )
        self.reverse = read_order == "softest_first"
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
        # real particles first, in their order (or reversed), padding behind them
        pos = torch.arange(p, device=x.device).expand(b, p)
        key = torch.where(mask, -pos if self.reverse else pos, pos + p)
        order = torch.argsort(key, dim=1)
        x = torch.gather(x, 1, order.unsqueeze(-1).expand_as(x))
        x = x * torch.gather(mask, 1, order).unsqueeze(-1).to(x.dtype)
        out, _ = self.lstm(x)
        last = (mask.sum(dim=1) - 1).clamp(min=0)
        h = torch.gather(out, 1, last.view(b, 1, 1).expand(b, 1, out.shape[-1])).squeeze(1)
        return self.head(self.dense(h))
