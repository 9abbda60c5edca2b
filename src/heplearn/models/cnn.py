"""2D convolutional network on jet (or event) images, optionally circular in φ."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from heplearn.models.layers import mlp

__all__ = ["CNN", "PhiCircularConv2d"]


class PhiCircularConv2d(nn.Conv2d):
    """Stride-1 ``Conv2d`` with "same" output size: zero padding along η (H, axis -2) and, if
    ``circular_phi``, circular padding along φ (W, axis -1), else zero padding.

    With circular padding the layer is a circular convolution in φ, hence equivariant under
    ``torch.roll(image, s, dims=-1)`` for every integer shift ``s``. Even kernel sizes pad
    ``(k - 1) // 2`` before and ``k // 2`` after.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, circular_phi: bool):
        super().__init__(in_channels, out_channels, kernel_size, padding=0)
        self.circular_phi = circular_phi
        k = kernel_size
        self._pad = ((k - 1) // 2, k // 2)

    def forward(self, x: Tensor) -> Tensor:
        lo, hi = self._pad
        if self.circular_phi:
            x = torch.cat([x[..., x.shape[-1] - lo :], x, x[..., :hi]], dim=-1) if lo or hi else x
            x = F.pad(x, (0, 0, lo, hi))
        else:
            x = F.pad(x, (lo, hi, lo, hi))
        return super().forward(x)


class CNN(nn.Module):
    """Jet-image CNN (DeepTop-style).

    Architecture: blocks of ``convs_per_block`` "same" convolutions (``channels`` maps,
    ``kernel_size`` × ``kernel_size``, ReLU), each block followed by 2×2 max pooling; then
    dense layers ``dense`` (ReLU) and a logit layer.

    With ``circular_phi=True`` (full-detector (η, φ) images, φ along W): the convolutions
    pad circularly along φ and with zeros along η, pooling acts along η only (kernel (2, 1)),
    so :meth:`feature_map` is equivariant under a wrap-around shift in φ by any number of
    pixels; the map is then averaged over φ, so the logits are invariant under that shift.

    Inputs: ``image`` ``(B, 1, H, W)`` (``in_channels`` maps, default 1).
    Output: logits ``(B, n_classes)``.

    Defaults follow DeepTop (Kasieczka, Plehn, Russell, Schell, arXiv:1701.08784): 40×40
    images, two blocks of two 8-map 4×4 convolutions with 2×2 max pooling, dense (64, 256,
    256) — 137k parameters.

    References: Kasieczka et al., arXiv:1701.08784; de Oliveira et al., arXiv:1511.05190.
    """

    inputs: tuple[str, ...] = ("image",)

    def __init__(
        self,
        image_size: int | Sequence[int] = 40,
        in_channels: int = 1,
        channels: Sequence[int] = (8, 8, 8, 8),
        kernel_size: int = 4,
        convs_per_block: int = 2,
        dense: Sequence[int] = (64, 256, 256),
        dropout: float = 0.0,
        circular_phi: bool = False,
        n_classes: int = 2,
    ):
        super().__init__()
        h, w = (image_size, image_size) if isinstance(image_size, int) else image_size
        self.circular_phi = bool(circular_phi)
        layers: list[nn.Module] = []
        c_in = in_channels
        for i, c in enumerate(channels):
            layers += [PhiCircularConv2d(c_in, c, kernel_size, self.circular_phi), nn.ReLU()]
            c_in = c
            if (i + 1) % convs_per_block == 0:
                layers.append(nn.MaxPool2d((2, 1) if self.circular_phi else 2))
                h, w = h // 2, (w if self.circular_phi else w // 2)
        if h < 1 or w < 1:
            raise ValueError(f"image_size {image_size} is too small for {len(channels)} convs")
        self.features = nn.Sequential(*layers)
        flat = c_in * h * (1 if self.circular_phi else w)
        self.dense = mlp(flat, dense, dropout=dropout)
        self.head = nn.Linear(dense[-1] if dense else flat, n_classes)

    def feature_map(self, image: Tensor) -> Tensor:
        """Convolutional features ``(B, C, H', W')`` (``W' = W`` when ``circular_phi``)."""
        return self.features(image)

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        x = self.feature_map(batch["image"])
        x = x.mean(dim=-1) if self.circular_phi else x
        return self.head(self.dense(x.flatten(1)))
