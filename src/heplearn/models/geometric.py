"""L-GATr tagger through the optional ``lgatr`` package (``pip install heplearn[lgatr]``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from heplearn.errors import MissingDependencyError
from heplearn.models.layers import ensure_mask, masked_mean, trim_padding

__all__ = ["LGATrTagger", "import_lgatr"]


def import_lgatr() -> Any:
    """Import the ``lgatr`` package or raise :class:`~heplearn.errors.MissingDependencyError`
    naming the extra that installs it."""
    try:
        import lgatr
    except ImportError as err:
        raise MissingDependencyError(
            'Model "lgatr" needs the optional package lgatr: '
            "pip install 'heplearn[lgatr]' (or pip install lgatr)"
        ) from err
    return lgatr


class LGATrTagger(nn.Module):
    """Lorentz-equivariant Geometric Algebra Transformer tagger (Spinner et al.,
    arXiv:2405.14806), built from ``lgatr.LGATr``.

    Each particle is one token; its four-momentum ``(E, px, py, pz)`` (times
    ``momentum_scale``) is embedded as a grade-1 multivector, and the reference multivectors
    from ``lgatr.get_spurions(beam_spurion, add_time_spurion)`` are appended as extra
    multivector channels of every token — this is how the package breaks the Lorentz
    symmetry down to the one of the beam (default: the x–y-plane bivector and the time
    direction, leaving rotations about z). Optional scalar channels are the columns
    ``scalar_features`` of ``features``. Padded tokens are masked out of the attention; the
    output scalars (and the scalar part of the output multivector) are averaged over the
    real particles and a linear layer gives the logits.

    Inputs: ``vectors`` ``(B, P, 4)``, ``mask`` ``(B, P)``; ``features`` ``(B, P, F)`` when
    ``scalar_features`` is not empty. Output: logits ``(B, n_classes)``.

    Defaults: 12 blocks, 16 multivector and 32 scalar hidden channels, 8 heads (our reading of
    the top-tagging setup of arXiv:2405.14806); ``momentum_scale`` = 0.05 GeV⁻¹, i.e. momenta
    in units of 20 GeV (ours).

    References: Spinner, Bresó, Haan, Plehn, Thaler, Brehmer, "Lorentz-Equivariant Geometric
    Algebra Transformers for High-Energy Physics", arXiv:2405.14806; Brehmer et al.,
    arXiv:2411.00446.
    """

    inputs: tuple[str, ...] = ("vectors",)

    def __init__(
        self,
        num_blocks: int = 12,
        hidden_mv_channels: int = 16,
        hidden_s_channels: int = 32,
        num_heads: int = 8,
        beam_spurion: str | None = "xyplane",
        add_time_spurion: bool = True,
        scalar_features: Sequence[int] = (),
        momentum_scale: float = 0.05,
        dropout: float = 0.0,
        n_classes: int = 2,
    ):
        super().__init__()
        lgatr = import_lgatr()
        self._embed_vector = lgatr.embed_vector
        self.scalar_features = tuple(int(i) for i in scalar_features)
        if self.scalar_features:
            self.inputs = ("vectors", "features")
        self.momentum_scale = float(momentum_scale)
        spurions = lgatr.get_spurions(beam_spurion, add_time_spurion)
        self.register_buffer("spurions", spurions, persistent=False)
        self.net = lgatr.LGATr(
            num_blocks=num_blocks,
            in_mv_channels=1 + spurions.shape[0],
            out_mv_channels=1,
            hidden_mv_channels=hidden_mv_channels,
            in_s_channels=len(self.scalar_features),
            out_s_channels=hidden_s_channels,
            hidden_s_channels=hidden_s_channels,
            attention={"num_heads": num_heads},
            mlp={},
            dropout_prob=dropout if dropout > 0 else None,
        )
        self._extract_scalar = lgatr.extract_scalar
        self.head = nn.Linear(hidden_s_channels + 1, n_classes)

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        mask = ensure_mask(batch, "vectors")
        keys = [batch["vectors"]] + ([batch["features"]] if self.scalar_features else [])
        mask, v, *rest = trim_padding(mask, *keys)
        v = v * self.momentum_scale * mask.unsqueeze(-1).to(v.dtype)
        mv = self._embed_vector(v).unsqueeze(-2)  # (B, P, 1, 16)
        ref = self.spurions.to(mv.dtype).expand(*mv.shape[:2], -1, -1)
        mv = torch.cat([mv, ref], dim=-2)
        scalars = rest[0][..., list(self.scalar_features)].to(v.dtype) if rest else None
        out_mv, out_s = self.net(mv, scalars=scalars, attn_mask=mask[:, None, None, :])
        invariants = torch.cat([out_s, self._extract_scalar(out_mv)[..., 0, :]], dim=-1)
        return self.head(masked_mean(invariants, mask))
