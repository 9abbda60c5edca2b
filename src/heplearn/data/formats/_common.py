"""Helpers shared by the readers: file checks, magic numbers, PDG-id lookups, ranges."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from heplearn.errors import FormatError, InputFileError

__all__ = [
    "HDF5_MAGIC",
    "ZIP_MAGIC",
    "ROOT_MAGIC",
    "check_file",
    "magic",
    "entry_range",
    "pid_mass_charge",
    "list_names",
]

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"
ROOT_MAGIC = b"root"


def check_file(path: str | os.PathLike) -> Path:
    """Return ``path`` as a Path; :class:`InputFileError` naming it if it is not a file."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"input file {path} does not exist")
    if not path.is_file():
        raise InputFileError(f"{path} is not a file")
    if not os.access(path, os.R_OK):
        raise InputFileError(f"input file {path} is not readable (permissions)")
    return path


def magic(path: Path, n: int = 8) -> bytes:
    """The first ``n`` bytes of a file (its format signature)."""
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError as err:
        raise InputFileError(f"input file {path} cannot be read ({err})") from err


def entry_range(n: int, start: int | None, stop: int | None, source: Path) -> tuple[int, int]:
    """Clip a ``[start, stop)`` entry range to ``[0, n)`` (negative values count from the end)."""
    start = 0 if start is None else int(start)
    stop = n if stop is None else int(stop)
    if start < 0:
        start += n
    if stop < 0:
        stop += n
    start, stop = min(max(start, 0), n), min(max(stop, 0), n)
    if stop < start:
        raise ValueError(f"{source}: empty entry range start={start} > stop={stop}")
    return start, stop


def list_names(names: Iterable[str], limit: int = 60) -> str:
    """Comma-separated, sorted names, shortened to ``limit`` entries."""
    names = sorted(names)
    text = ", ".join(names[:limit])
    if len(names) > limit:
        text += f", ... ({len(names) - limit} more)"
    return text


def pid_mass_charge(pid: np.ndarray, source: Path | str) -> tuple[np.ndarray, np.ndarray]:
    """Mass (GeV) and electric charge of each PDG id, from the ``particle`` package (PDG tables).

    Vectorised over the distinct ids (a final state holds a few dozen), so the per-id
    lookup never runs per particle. Neutrinos get mass 0.

    Raises
    ------
    FormatError
        An id that is not a valid PDG particle id, naming ``source``.
    """
    from particle import Particle
    from particle.particle import InvalidParticle, ParticleNotFound

    pid = np.asarray(pid, dtype=np.int64)
    unique, inverse = np.unique(pid, return_inverse=True)
    masses = np.zeros(len(unique), dtype=np.float64)
    charges = np.zeros(len(unique), dtype=np.int8)
    for i, code in enumerate(unique):
        try:
            particle = Particle.from_pdgid(int(code))
        except (InvalidParticle, ParticleNotFound) as err:
            raise FormatError(
                f"{source}: particle id {int(code)} is not a known PDG id ({err}); expected the "
                "PDG ids of stable final-state particles"
            ) from err
        masses[i] = (particle.mass or 0.0) * 1e-3  # MeV -> GeV
        charges[i] = int(round(particle.charge or 0))
    return masses[inverse].reshape(pid.shape), charges[inverse].reshape(pid.shape)
