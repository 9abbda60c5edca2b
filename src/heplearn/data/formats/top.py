"""Top Quark Tagging Reference Dataset (HDF5, pandas HDFStore key ``table``).

Each row is one jet: the leading 200 constituents as ``E_i, PX_i, PY_i, PZ_i``
(``i = 0..199``, pT-ordered, zero-padded), the truth top four-vector
``truthE, truthPX, truthPY, truthPZ`` (zero for QCD jets), ``ttv`` (0/1/2 = the
train/test/validation origin) and ``is_signal_new`` (1 = top, 0 = QCD).

References
----------
Kasieczka, Plehn et al., "The Machine Learning Landscape of Top Taggers",
SciPost Phys. 7, 014 (2019), arXiv:1902.09914; data: Zenodo 2603256.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import awkward as ak
import h5py
import numpy as np

from heplearn.data.formats._common import HDF5_MAGIC, check_file, entry_range, magic
from heplearn.data.formats.pandas_hdf import PandasFrame
from heplearn.data.table import from_constituents, validate_jet_table
from heplearn.errors import FormatError, InputFileError
from heplearn.physics import kinematics as kin

__all__ = [
    "TOP_KEY",
    "TOP_LABELS",
    "read_top_tagging",
    "iter_top_tagging",
    "count_top_tagging",
    "is_top_tagging",
]

TOP_KEY = "table"
TOP_LABELS = ("qcd", "top")
_LABEL = "is_signal_new"
_TRUTH = ("truthE", "truthPX", "truthPY", "truthPZ")
_SLOT = re.compile(r"E_(\d+)")


def _open(path: Path) -> h5py.File:
    if magic(path) != HDF5_MAGIC:
        raise FormatError(f"{path}: not an HDF5 file; expected the Top Tagging HDF5 layout")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise InputFileError(f"{path}: cannot open as HDF5 ({err}); truncated?") from err


def _frame(file: h5py.File, path: Path, key: str) -> tuple[PandasFrame, int]:
    frame = PandasFrame(file, key, path)
    cols = set(frame.columns)
    slots = sorted(int(m.group(1)) for c in cols if (m := _SLOT.fullmatch(c)))
    need = ["E_0", "PX_0", "PY_0", "PZ_0", _LABEL]
    missing = [c for c in need if c not in cols]
    if missing or slots != list(range(len(slots))):
        raise FormatError(
            f"{path}:/{key} lacks the Top Tagging columns {missing or 'E_i (contiguous)'}; "
            "expected E_i, PX_i, PY_i, PZ_i (i = 0..199) and is_signal_new"
        )
    n_slots = len(slots)
    for q in ("PX", "PY", "PZ"):
        absent = [f"{q}_{i}" for i in range(n_slots) if f"{q}_{i}" not in cols]
        if absent:
            raise FormatError(f"{path}:/{key} lacks column(s) {absent[:5]}")
    return frame, n_slots


def is_top_tagging(path: str | os.PathLike) -> bool:
    """True when ``path`` is an HDF5 file with a pandas frame ``table`` in the Top Tagging
    layout (``E_0`` ... and ``is_signal_new`` columns)."""
    path = Path(path)
    if magic(path) != HDF5_MAGIC:
        return False
    try:
        with h5py.File(path, "r") as f:
            _frame(f, path, TOP_KEY)
        return True
    except (FormatError, OSError, KeyError):
        return False


def count_top_tagging(path: str | os.PathLike, *, key: str = TOP_KEY) -> int:
    """Number of jets (rows) in a Top Tagging file, read from its metadata only."""
    path = check_file(path)
    with _open(path) as f:
        return _frame(f, path, key)[0].nrows


def _convert(
    cols: dict[str, np.ndarray],
    n_slots: int,
    path: Path,
    start: int,
    max_constituents: int | None,
) -> ak.Array:
    def stack(q: str) -> np.ndarray:
        return np.stack([cols[f"{q}_{i}"] for i in range(n_slots)], axis=1)

    E = stack("E")
    # Zero padding: an all-zero slot has E == 0. Negative or NaN energies are kept so that
    # validation reports them instead of silently dropping them.
    mask = E != 0
    counts = mask.sum(axis=1)
    extra: dict[str, np.ndarray] = {}
    if all(t in cols for t in _TRUTH):
        tE, tx, ty, tz = (cols[t].astype(np.float64) for t in _TRUTH)
        tpt = kin.pt(tx, ty)
        none = (tpt == 0) & (tz == 0)  # QCD jets: no truth top, all-zero four-vector
        extra["truth_pt"] = tpt
        extra["truth_eta"] = np.where(none, 0.0, kin.eta(tx, ty, tz))
        extra["truth_phi"] = kin.phi(tx, ty)
        extra["truth_mass"] = np.where(none, 0.0, kin.mass(tx, ty, tz, tE))
    if "ttv" in cols:
        extra["ttv"] = cols["ttv"].astype(np.int64)
    source = f"{path} (jets {start}..{start + len(E)})"
    table = from_constituents(
        stack("PX")[mask],
        stack("PY")[mask],
        stack("PZ")[mask],
        E[mask],
        counts,
        label=cols[_LABEL].astype(np.int64),
        extra=extra,
        max_constituents=max_constituents,
        source=source,
    )
    return validate_jet_table(table, source=source)


def iter_top_tagging(
    path: str | os.PathLike,
    *,
    chunk_size: int = 100_000,
    start: int | None = None,
    stop: int | None = None,
    max_constituents: int | None = None,
    key: str = TOP_KEY,
) -> Iterator[ak.Array]:
    """Yield jet tables of at most ``chunk_size`` jets from a Top Tagging HDF5 file.

    Only one chunk of rows is in memory at a time (a 1.2M-jet training file is 3.9 GB of
    float32), so this is the way to stream the full files.

    Parameters
    ----------
    path
        ``train.h5``, ``val.h5`` or ``test.h5`` (pandas ``fixed`` or ``table`` layout).
    chunk_size
        Jets per yielded table.
    start, stop
        Row range ``[start, stop)`` to read (Python slice semantics).
    max_constituents
        Keep only the hardest constituents of each jet.

    Yields
    ------
    ak.Array
        Jet tables (:mod:`heplearn.data.table`): ``label`` = ``is_signal_new`` (1 = top),
        ``truth_pt, truth_eta, truth_phi, truth_mass`` of the truth top (all zero for QCD
        jets), ``ttv``; constituents with ``charge = pid = 0`` (not stored in the files).

    References
    ----------
    arXiv:1902.09914 (Kasieczka, Plehn et al.).
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    path = check_file(path)
    with _open(path) as f:
        frame, n_slots = _frame(f, path, key)
        lo, hi = entry_range(frame.nrows, start, stop, path)
        names = [f"{q}_{i}" for q in ("E", "PX", "PY", "PZ") for i in range(n_slots)]
        names += [_LABEL] + [c for c in (*_TRUTH, "ttv") if c in frame.columns]
        for a in range(lo, hi, chunk_size):
            b = min(a + chunk_size, hi)
            yield _convert(frame.read(names, a, b), n_slots, path, a, max_constituents)


def read_top_tagging(
    path: str | os.PathLike,
    *,
    start: int | None = None,
    stop: int | None = None,
    max_constituents: int | None = None,
    key: str = TOP_KEY,
) -> ak.Array:
    """Read rows ``[start, stop)`` of a Top Tagging HDF5 file as one jet table.

    See :func:`iter_top_tagging` for the fields; use it for files that do not fit in memory.

    References
    ----------
    arXiv:1902.09914 (Kasieczka, Plehn et al.).
    """
    n = count_top_tagging(path, key=key)
    lo, hi = entry_range(n, start, stop, Path(path))
    parts = list(
        iter_top_tagging(
            path,
            chunk_size=max(hi - lo, 1),
            start=lo,
            stop=hi,
            max_constituents=max_constituents,
            key=key,
        )
    )
    if not parts:
        raise FormatError(f"{path}: no jets in rows [{lo}, {hi})")
    return parts[0]
