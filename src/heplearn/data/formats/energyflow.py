"""energyflow quark/gluon jets (``.npz`` with ``X`` and ``y``).

``X`` has shape ``(jets, particles, 4)`` with per-particle ``(pt, y, phi, pid)`` — rapidity
``y``, not pseudorapidity — zero-padded to the largest multiplicity of the file; ``y`` holds
the labels, **1 = quark, 0 = gluon** (energyflow's ``qg_jets`` convention, kept as is).

References
----------
Komiske, Metodiev, Thaler, "Energy Flow Networks: Deep Sets for Particle Jets",
JHEP 01 (2019) 121, arXiv:1810.05165; data: Zenodo 3164691.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import awkward as ak
import numpy as np

from heplearn.data.formats._common import (
    ZIP_MAGIC,
    check_file,
    entry_range,
    magic,
    pid_mass_charge,
)
from heplearn.data.table import from_constituents, validate_jet_table
from heplearn.errors import FormatError, InputFileError
from heplearn.physics import kinematics as kin

__all__ = [
    "QG_LABELS",
    "read_energyflow",
    "iter_energyflow",
    "count_energyflow",
    "is_energyflow",
]

QG_LABELS = ("gluon", "quark")


def _members(path: Path) -> set[str]:
    if magic(path, 4) != ZIP_MAGIC:
        raise FormatError(f"{path}: not a .npz (zip) file; expected energyflow's X/y arrays")
    try:
        with zipfile.ZipFile(path) as z:
            return {n.removesuffix(".npy") for n in z.namelist()}
    except zipfile.BadZipFile as err:
        raise InputFileError(f"{path}: broken .npz archive ({err}); truncated?") from err


def _header(fp, path: Path, name: str) -> tuple[tuple[int, ...], np.dtype, bool]:
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        raise FormatError(f"{path}: member {name!r} has unsupported .npy version {version}")
    if dtype.hasobject:
        raise FormatError(f"{path}: member {name!r} holds Python objects; refusing to unpickle")
    return shape, dtype, fortran


def _x_shape(path: Path) -> tuple[tuple[int, ...], np.dtype]:
    members = _members(path)
    missing = [m for m in ("X", "y") if m not in members]
    if missing:
        raise FormatError(
            f"{path}: no array(s) {missing} in the .npz (it has {sorted(members)}); expected "
            "energyflow's X (jets, particles, 4) and y"
        )
    with zipfile.ZipFile(path) as z, z.open("X.npy") as fp:
        shape, dtype, _ = _header(fp, path, "X")
    if len(shape) != 3 or shape[2] not in (3, 4):
        raise FormatError(
            f"{path}: X has shape {shape}; expected (jets, particles, 4) = (pt, y, phi, pid)"
        )
    return shape, dtype


def is_energyflow(path: str | os.PathLike) -> bool:
    """True when ``path`` is a .npz with ``X`` of shape (jets, particles, 3 or 4) and ``y``."""
    try:
        _x_shape(Path(path))
        return True
    except (FormatError, InputFileError, OSError, ValueError):
        return False


def count_energyflow(path: str | os.PathLike) -> int:
    """Number of jets in an energyflow .npz, read from the ``X`` header only."""
    path = check_file(path)
    return int(_x_shape(path)[0][0])


def _read_rows(path: Path, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows [start, stop) of X (seeking inside the zip member, not loading all of X) and y."""
    with zipfile.ZipFile(path) as z:
        with z.open("X.npy") as fp:
            shape, dtype, fortran = _header(fp, path, "X")
            row = int(np.prod(shape[1:])) * dtype.itemsize
            if fortran:  # never written by np.savez of a C array; read whole and slice
                with np.load(path, allow_pickle=False) as npz:
                    X = npz["X"][start:stop]
            else:
                fp.seek(fp.tell() + start * row)
                buf = fp.read((stop - start) * row)
                if len(buf) != (stop - start) * row:
                    raise InputFileError(f"{path}: member X is truncated")
                X = np.frombuffer(buf, dtype=dtype).reshape((stop - start, *shape[1:]))
    with np.load(path, allow_pickle=False) as npz:
        y = np.asarray(npz["y"])
    if y.ndim != 1 or len(y) != shape[0]:
        raise FormatError(f"{path}: y has shape {y.shape}; expected ({shape[0]},) labels")
    return X, y[start:stop]


def _convert(X: np.ndarray, y: np.ndarray, path: Path, start: int, max_constituents):
    source = f"{path} (jets {start}..{start + len(X)})"
    pt = X[..., 0]
    if (pt < 0).any():
        jet = int(np.argwhere(pt < 0)[0, 0]) + start
        raise FormatError(f"{source}: negative particle pt in jet {jet}")
    mask = pt != 0  # zero padding
    counts = mask.sum(axis=1)
    p = X[mask].astype(np.float64)
    if X.shape[2] == 4:
        pid = np.rint(p[:, 3]).astype(np.int32)
        mass, charge = pid_mass_charge(pid, path)
    else:
        pid = np.zeros(len(p), np.int32)
        mass, charge = np.zeros(len(p)), np.zeros(len(p), np.int8)
    px, py, pz, E = kin.ptetaphim_to_pxpypze_rapidity(p[:, 0], p[:, 1], p[:, 2], mass)
    table = from_constituents(
        px,
        py,
        pz,
        E,
        counts,
        label=np.rint(y).astype(np.int64),
        charge=charge,
        pid=pid,
        max_constituents=max_constituents,
        source=source,
    )
    return validate_jet_table(table, source=source)


def iter_energyflow(
    path: str | os.PathLike,
    *,
    chunk_size: int = 100_000,
    start: int | None = None,
    stop: int | None = None,
    max_constituents: int | None = None,
) -> Iterator[ak.Array]:
    """Yield jet tables of at most ``chunk_size`` jets from an energyflow q/g ``.npz``.

    Particle masses and charges come from the PDG id (``particle`` package); the
    four-momenta use the stored rapidity: with mT = sqrt(pT² + m²), px = pT cos φ,
    py = pT sin φ, pz = mT sinh y, E = mT cosh y. Zero-padded particles (pt = 0) are
    dropped. ``label`` is energyflow's ``y``: 1 = quark, 0 = gluon; constituents keep
    ``pid`` and ``charge``.

    Parameters
    ----------
    path
        A ``QG_jets*.npz`` file: ``X`` (jets, particles, 4) = (pt, y, phi, pid) and ``y``.
    chunk_size
        Jets per yielded table; only that many rows of ``X`` are read at a time.
    start, stop
        Jet range ``[start, stop)`` (Python slice semantics).
    max_constituents
        Keep only the hardest constituents.

    References
    ----------
    arXiv:1810.05165 (Komiske, Metodiev, Thaler).
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    path = check_file(path)
    n = count_energyflow(path)
    lo, hi = entry_range(n, start, stop, path)
    for a in range(lo, hi, chunk_size):
        b = min(a + chunk_size, hi)
        X, y = _read_rows(path, a, b)
        yield _convert(X, y, path, a, max_constituents)


def read_energyflow(
    path: str | os.PathLike,
    *,
    start: int | None = None,
    stop: int | None = None,
    max_constituents: int | None = None,
) -> ak.Array:
    """Read jets ``[start, stop)`` of an energyflow q/g ``.npz`` as one jet table.

    See :func:`iter_energyflow` for the conversion.

    References
    ----------
    arXiv:1810.05165 (Komiske, Metodiev, Thaler).
    """
    path = check_file(path)
    lo, hi = entry_range(count_energyflow(path), start, stop, path)
    X, y = _read_rows(path, lo, hi)
    return _convert(X, y, path, lo, max_constituents)
