"""Errors raised by heplearn.

Every error names the file, field or option at fault and says what was expected, so a
physicist can fix the input without reading the source.
"""

from __future__ import annotations

__all__ = [
    "HeplearnError",
    "InputFileError",
    "FormatError",
    "InvalidJetTable",
    "ChecksumError",
    "UnsafePathError",
    "UnknownNameError",
    "InvalidCardError",
    "MissingDependencyError",
]


class HeplearnError(Exception):
    """Base class of every error heplearn raises on purpose."""


class InputFileError(HeplearnError):
    """A file or directory is missing, unreadable or truncated."""


class FormatError(HeplearnError):
    """A file exists but is not in the layout the reader expects."""


class InvalidJetTable(HeplearnError):
    """A jet table breaks the contract (missing field, NaN, negative energy, empty jet)."""


class ChecksumError(HeplearnError):
    """A dataset shard does not match the sha256 recorded in its manifest."""


class UnsafePathError(HeplearnError):
    """A manifest names a file outside its own dataset directory."""


class UnknownNameError(HeplearnError, KeyError):
    """A registry was asked for a name it does not know."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class InvalidCardError(HeplearnError):
    """A process or detector card fails validation."""


class MissingDependencyError(HeplearnError, ImportError):
    """An optional dependency is not installed; the message names the extra."""
