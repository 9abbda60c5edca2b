"""Read a pandas ``HDFStore`` DataFrame with h5py, in both of pandas' layouts.

pandas writes a DataFrame either as ``format="fixed"`` (the ``to_hdf`` default: one 2-D
dataset ``block{k}_values`` per dtype, column names in ``block{k}_items``) or as
``format="table"`` (a PyTables compound dataset ``table`` with one ``values_block_{k}``
field per dtype, column names in the attribute ``values_block_{k}_kind``). Reading the
layout directly lets a reader take a row range without loading the file, never goes
through pandas' pickle-based metadata paths, and emits no pandas/PyTables warnings.

The ``*_kind`` attributes of the table layout are pickles of lists of column names. They
are decoded by an unpickler that refuses every global (the "restricting globals" recipe of
the Python ``pickle`` documentation), so only plain lists and strings can come out of them.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import h5py
import numpy as np

from heplearn.errors import FormatError

__all__ = ["PandasFrame"]


class _NoGlobalsUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):  # noqa: D102 - refuse every global
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")


def _decode_names(raw, where: str) -> list[str]:
    data = raw.tobytes() if isinstance(raw, np.ndarray) else bytes(raw)
    try:
        names = _NoGlobalsUnpickler(io.BytesIO(data)).load()
    except Exception as err:
        raise FormatError(f"{where}: cannot decode the column names ({err})") from err
    if not isinstance(names, list) or not all(isinstance(n, (str, int)) for n in names):
        raise FormatError(f"{where}: column names are not a list of strings")
    return [str(n) for n in names]


def _as_str(x) -> str:
    return x.decode() if isinstance(x, bytes) else str(x)


class PandasFrame:
    """Column access to the DataFrame stored under ``key`` of an open HDF5 file.

    Parameters
    ----------
    file
        An open ``h5py.File``.
    key
        The HDFStore key (``"table"`` in the Top Tagging files).
    source
        The file path, named in errors.

    Attributes
    ----------
    layout : {"fixed", "table"}
    columns : list of str
    nrows : int
    """

    def __init__(self, file: h5py.File, key: str, source: Path) -> None:
        self.source = source
        if key not in file or not isinstance(file[key], h5py.Group):
            raise FormatError(
                f"{source}: no pandas HDFStore key {key!r}; keys in the file: {sorted(file.keys())}"
            )
        group = file[key]
        kind = _as_str(group.attrs.get("pandas_type", b""))
        self._where: dict[str, tuple[str, int | None]] = {}
        if kind == "frame":
            self.layout = "fixed"
            nblocks = int(group.attrs.get("nblocks", 0))
            self.nrows = None
            for k in range(nblocks):
                values = group[f"block{k}_values"]
                items = [_as_str(x) for x in group[f"block{k}_items"][()]]
                if values.ndim != 2 or values.shape[1] != len(items):
                    raise FormatError(
                        f"{source}: /{key}/block{k}_values has shape {values.shape}, "
                        f"expected (rows, {len(items)})"
                    )
                self.nrows = values.shape[0]
                for j, name in enumerate(items):
                    self._where[name] = (f"block{k}_values", j)
            self.nrows = 0 if self.nrows is None else int(self.nrows)
            self._group = group
        elif kind == "frame_table":
            self.layout = "table"
            table = group["table"]
            self._table = table
            self.nrows = int(table.shape[0])
            for field in table.dtype.names:
                if field == "index":
                    continue
                raw = table.attrs.get(f"{field}_kind")
                names = [field] if raw is None else _decode_names(raw, f"{source}:/{key}")
                shape = table.dtype[field].shape
                if shape == ():
                    self._where[names[0]] = (field, None)
                else:
                    for j, name in enumerate(names):
                        self._where[name] = (field, j)
        else:
            raise FormatError(
                f"{source}: /{key} is not a pandas DataFrame (pandas_type={kind!r}); "
                "expected a DataFrame written by pandas.HDFStore / DataFrame.to_hdf"
            )
        self.columns = list(self._where)

    def read(self, names: list[str], start: int, stop: int) -> dict[str, np.ndarray]:
        """Rows ``[start, stop)`` of the named columns, as 1-D arrays."""
        missing = [n for n in names if n not in self._where]
        if missing:
            raise FormatError(f"{self.source}: missing column(s) {missing[:8]}")
        by_block: dict[str, list[str]] = {}
        for n in names:
            by_block.setdefault(self._where[n][0], []).append(n)
        out: dict[str, np.ndarray] = {}
        if self.layout == "fixed":
            for block, cols in by_block.items():
                values = self._group[block][start:stop]
                for n in cols:
                    out[n] = values[:, self._where[n][1]]
        else:
            for block, cols in by_block.items():
                values = self._table.fields(block)[start:stop]  # one field: a plain array
                for n in cols:
                    j = self._where[n][1]
                    out[n] = values if j is None else values[:, j]
        return out
