"""Errors and warnings of :mod:`heplearn.weak`."""

from __future__ import annotations

from heplearn.errors import HeplearnError

__all__ = [
    "WeakSupervisionError",
    "MixtureError",
    "BumpHuntError",
    "IdenticalFractionsWarning",
]


class WeakSupervisionError(HeplearnError):
    """Base class of the errors raised by :mod:`heplearn.weak`."""


class MixtureError(WeakSupervisionError):
    """Mixtures cannot be built or trained on: a single class, a fraction outside [0, 1],
    too few jets of a class, or mixture labels that are not two classes."""


class BumpHuntError(WeakSupervisionError):
    """A bump hunt is ill-posed: bad window or binning, too few events to fit, a fit that
    did not converge."""


class IdenticalFractionsWarning(UserWarning):
    """Two mixtures have the same signal fraction: CWoLa has nothing to learn.

    A warning, not an error, because such mixtures are a legitimate null test (the trained
    classifier must come out at AUC 0.5 on pure labels); turn it into an error with
    ``warnings.simplefilter("error", IdenticalFractionsWarning)``.
    """
