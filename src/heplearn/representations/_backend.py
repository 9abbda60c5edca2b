"""The few array operations where NumPy and torch spell things differently.

Pairwise features and kNN are written once against this tiny namespace, so the same code
runs on NumPy arrays (data preparation) and on torch tensors (on the fly, on the GPU,
differentiable). torch is imported only when a tensor is passed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["namespace", "is_torch"]


def is_torch(x: Any) -> bool:
    """True for a ``torch.Tensor`` (checked without importing torch)."""
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


class _NumpyOps:
    log = staticmethod(np.log)
    sqrt = staticmethod(np.sqrt)
    atan2 = staticmethod(np.arctan2)
    minimum = staticmethod(np.minimum)
    isfinite = staticmethod(np.isfinite)

    @staticmethod
    def clamp_min(x, value):
        return np.maximum(x, np.asarray(value, dtype=x.dtype))

    @staticmethod
    def stack(xs, axis):
        return np.stack(xs, axis=axis)

    @staticmethod
    def where(cond, x, y):
        return np.where(cond, x, np.asarray(y, dtype=x.dtype))

    @staticmethod
    def arange(n, like):
        return np.arange(n)

    @staticmethod
    def smallest_k(d, k):
        """Values and indices of the k smallest entries along the last axis, ascending."""
        idx = np.argpartition(d, k - 1, axis=-1)[..., :k]
        vals = np.take_along_axis(d, idx, axis=-1)
        order = np.argsort(vals, axis=-1, kind="stable")
        return np.take_along_axis(vals, order, axis=-1), np.take_along_axis(idx, order, axis=-1)


class _TorchOps:
    def __init__(self) -> None:
        import torch

        self.torch = torch
        self.log = torch.log
        self.sqrt = torch.sqrt
        self.atan2 = torch.atan2
        self.minimum = torch.minimum
        self.isfinite = torch.isfinite

    @staticmethod
    def clamp_min(x, value):
        return x.clamp(min=value)

    def stack(self, xs, axis):
        return self.torch.stack(xs, dim=axis)

    def where(self, cond, x, y):
        return self.torch.where(cond, x, self.torch.as_tensor(y, dtype=x.dtype, device=x.device))

    def arange(self, n, like):
        return self.torch.arange(n, device=like.device)

    @staticmethod
    def smallest_k(d, k):
        vals, idx = d.topk(k, dim=-1, largest=False, sorted=True)
        return vals, idx


_NUMPY = _NumpyOps()
_TORCH: _TorchOps | None = None


def namespace(x: Any):
    """The operations namespace matching ``x`` (NumPy array or torch tensor)."""
    global _TORCH
    if is_torch(x):
        if _TORCH is None:
            _TORCH = _TorchOps()
        return _TORCH
    return _NUMPY
