"""The heplearn dataset directory: Parquet shards of a jet table plus ``manifest.json``.

Layout of a dataset directory::

    my-dataset/
      manifest.json          what the dataset is and how it was made (JSON, see below)
      shard-00000.parquet    one jet table each (:mod:`heplearn.data.table`), written by awkward
      shard-00001.parquet
      ...

The manifest is a JSON object::

    {
      "format": "heplearn-dataset", "format_version": 1,
      "complete": true,                 # false while shards are still being written
      "heplearn_version": "0.1.0", "created": "...", "finalized": "...",
      "metadata": {...},                # whatever the producer gives: cards, seed, versions
      "finalize_metadata": {...},       # the part of it given to finalize() (timings...)
      "n_shards": 4,                    # planned number of shards, or null
      "schema": "{pt: float64, ...}",   # awkward type of one jet, the same in every shard
      "shards": [{"index": 0, "file": "shard-00000.parquet", "sha256": "...",
                  "bytes": 123, "n_jets": 1000, "class_counts": {"0": 510, "1": 490}}, ...],
      "n_jets": 4000, "class_counts": {"0": 2010, "1": 1990}
    }

Every file is written under a temporary name in the same directory and renamed into place
(``os.replace``), and the manifest is rewritten after every shard, so an interrupted
producer leaves a valid, incomplete dataset that a new :class:`DatasetWriter` with the same
metadata resumes. A manifest is untrusted input: shard names must stay inside the dataset
directory (:class:`~heplearn.errors.UnsafePathError` otherwise), and only Parquet and JSON
are ever parsed — nothing is unpickled.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import math
import os
import re
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import awkward as ak
import numpy as np

from heplearn.data.table import CONSTITUENT_DTYPES, class_counts, validate_jet_table
from heplearn.errors import (
    ChecksumError,
    FormatError,
    HeplearnError,
    InputFileError,
    InvalidJetTable,
    UnsafePathError,
)

__all__ = [
    "MANIFEST_NAME",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "DatasetConflictError",
    "shard_name",
    "DatasetWriter",
    "write_shard_file",
    "write_dataset",
    "Dataset",
    "open_dataset",
    "read_dataset",
]

MANIFEST_NAME = "manifest.json"
FORMAT_NAME = "heplearn-dataset"
FORMAT_VERSION = 1

_JET_DTYPES = {
    "pt": np.float64,
    "eta": np.float64,
    "phi": np.float64,
    "mass": np.float64,
    "label": np.int64,
}
_SHARD_KEYS = {"file": str, "sha256": str, "n_jets": int, "class_counts": dict}
_CHUNK = 1 << 22
_SHARD_RE = re.compile(r"shard-\d{5,}\.parquet")


class DatasetConflictError(HeplearnError):
    """A dataset directory already holds a dataset made with other settings."""


def shard_name(index: int) -> str:
    """File name of shard ``index``, e.g. ``shard_name(3) == "shard-00003.parquet"``."""
    if index < 0:
        raise ValueError(f"shard index must be >= 0, got {index}")
    return f"shard-{index:05d}.parquet"


# --------------------------------------------------------------------------- helpers


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _heplearn_version() -> str:
    from heplearn import __version__

    return __version__


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _normalise_metadata(metadata: Mapping[str, Any] | None) -> dict:
    """JSON round trip, so tuples/lists and int keys compare equal to what was stored."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    try:
        return json.loads(json.dumps(dict(metadata), sort_keys=True, allow_nan=False))
    except (TypeError, ValueError) as err:
        raise FormatError(
            f"dataset metadata must be JSON-serialisable (str, numbers, lists, dicts): {err}"
        ) from err


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _safe_shard_path(directory: Path, name: Any, manifest: Path) -> Path:
    """Resolve a shard file named by a (possibly foreign) manifest, refusing escapes."""
    if not isinstance(name, str) or not name:
        raise FormatError(f"{manifest}: shard 'file' must be a non-empty string, got {name!r}")
    posix, windows = PurePosixPath(name), PureWindowsPath(name)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or name.startswith("\\"):
        raise UnsafePathError(
            f"{manifest}: shard file {name!r} is an absolute path; a dataset may only name "
            "files inside its own directory"
        )
    if ".." in posix.parts or ".." in windows.parts:
        raise UnsafePathError(
            f"{manifest}: shard file {name!r} climbs out of the dataset directory ('..'); "
            "a dataset may only name files inside its own directory"
        )
    root = Path(os.path.realpath(directory))
    target = Path(os.path.realpath(root / name))
    if target != root and root not in target.parents:
        raise UnsafePathError(
            f"{manifest}: shard file {name!r} resolves to {target}, outside the dataset "
            f"directory {root} (a symbolic link?); refusing to read it"
        )
    return root / name


def _shard_record_ok(record: Any) -> bool:
    return isinstance(record, dict) and all(
        isinstance(record.get(k), t) and not isinstance(record.get(k), bool)
        for k, t in _SHARD_KEYS.items()
    )


def _load_manifest(directory: Path) -> dict:
    """Read and structurally validate ``manifest.json``; raise heplearn errors naming it."""
    path = directory / MANIFEST_NAME
    if not directory.exists():
        raise InputFileError(f"dataset directory {directory} does not exist")
    if not directory.is_dir():
        raise InputFileError(f"{directory} is not a directory; expected a heplearn dataset")
    if not path.is_file():
        raise InputFileError(
            f"{path} not found: {directory} is not a heplearn dataset (no {MANIFEST_NAME})"
        )
    try:
        text = path.read_text(encoding="utf-8")
        manifest = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise FormatError(f"{path}: not valid JSON ({err}); expected a heplearn manifest") from err
    except OSError as err:
        raise InputFileError(f"{path}: cannot be read ({err})") from err
    if not isinstance(manifest, dict):
        raise FormatError(f"{path}: expected a JSON object, got {type(manifest).__name__}")
    if manifest.get("format") != FORMAT_NAME:
        raise FormatError(
            f"{path}: field 'format' is {manifest.get('format')!r}, expected {FORMAT_NAME!r}"
        )
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise FormatError(
            f"{path}: field 'format_version' is {version!r}; this heplearn reads versions "
            f"1..{FORMAT_VERSION} (a newer heplearn may have written it)"
        )
    shards = manifest.get("shards")
    if not isinstance(shards, list):
        raise FormatError(f"{path}: field 'shards' must be a list")
    for i, record in enumerate(shards):
        index = record.get("index", i) if isinstance(record, dict) else None
        if not _shard_record_ok(record) or not isinstance(index, int) or isinstance(index, bool):
            raise FormatError(
                f"{path}: shards[{i}] must be an object with {sorted(_SHARD_KEYS)} "
                f"(str, str, int, object) and an integer 'index', got {record!r}"
            )
        _safe_shard_path(directory, record["file"], path)
    if not isinstance(manifest.get("metadata", {}), dict):
        raise FormatError(f"{path}: field 'metadata' must be a JSON object")
    if not isinstance(manifest.get("complete"), bool):
        raise FormatError(f"{path}: field 'complete' must be true or false")
    return manifest


def _to_contract_dtypes(table: ak.Array) -> ak.Array:
    """Cast the contract fields to their storage dtypes so every shard has one schema."""
    fields = {}
    for name in table.fields:
        column = table[name]
        if name in _JET_DTYPES:
            column = ak.values_astype(column, _JET_DTYPES[name])
        elif name == "constituents":
            cons = {
                f: (
                    ak.values_astype(column[f], CONSTITUENT_DTYPES[f])
                    if f in CONSTITUENT_DTYPES
                    else column[f]
                )
                for f in column.fields
            }
            column = ak.zip(cons, depth_limit=2) if cons else column
        fields[name] = column
    return ak.zip(fields, depth_limit=1)


def _strip_unmasked(array: ak.Array) -> ak.Array:
    """Drop the option type pyarrow adds to a record when only some of its fields are read."""

    def visit(layout, **_):
        if isinstance(layout, ak.contents.UnmaskedArray):
            return ak.transform(visit, layout.content, highlevel=False)
        return None

    return ak.transform(visit, array)


def _parquet_columns(pq_file, columns: Sequence[str], source: Path) -> list[str]:
    """Map jet-table column names (``"pt"``, ``"constituents.px"``) to Parquet column paths."""
    paths = [pq_file.schema.column(i).path for i in range(len(pq_file.schema))]
    stripped = {}
    for p in paths:
        parts = [s for s in p.split(".") if s not in ("list", "item", "element")]
        stripped[p] = ".".join(parts)
    selected: list[str] = []
    for column in columns:
        if not isinstance(column, str):
            raise TypeError(f"column names must be strings, got {column!r}")
        match = [p for p, s in stripped.items() if s == column or s.startswith(column + ".")]
        if not match:
            available = sorted(set(stripped.values()))
            raise FormatError(f"{source}: no column {column!r}; available columns are {available}")
        selected.extend(m for m in match if m not in selected)
    return selected


def _read_parquet(path: Path, columns: Sequence[str] | None, sha256: str | None) -> ak.Array:
    """Read one shard; verify the checksum first when ``sha256`` is given."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        data = path.read_bytes()
    except FileNotFoundError as err:
        raise InputFileError(f"shard file {path} is missing (named in the manifest)") from err
    except OSError as err:
        raise InputFileError(f"shard file {path} cannot be read ({err})") from err
    if sha256 is not None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise ChecksumError(
                f"shard file {path} is corrupted: sha256 {actual} does not match {sha256} "
                f"recorded in {path.parent / MANIFEST_NAME}; regenerate or re-download it"
            )
    try:
        pq_file = pq.ParquetFile(pa.BufferReader(data))
        selected = None if columns is None else _parquet_columns(pq_file, columns, path)
        table = pq_file.read(columns=selected, use_threads=True)
    except (pa.ArrowException, OSError, ValueError) as err:
        raise InputFileError(
            f"shard file {path} is not a readable Parquet file (truncated or corrupted?): {err}"
        ) from err
    array = ak.from_arrow(table)
    if columns is not None:
        array = _strip_unmasked(array)
    return array


def _write_parquet_atomic(path: Path, table: ak.Array) -> tuple[str, int]:
    """Write ``table`` to ``path`` via a temporary file in the same directory; (sha256, bytes)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        ak.to_parquet(table, tmp, compression="zstd")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        digest = _sha256_file(Path(tmp))
        size = os.path.getsize(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return digest, size


def _sum_counts(records: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    total: dict[int, int] = {}
    for record in records:
        for key, value in record["class_counts"].items():
            total[int(key)] = total.get(int(key), 0) + int(value)
    return {str(k): total[k] for k in sorted(total)}


# --------------------------------------------------------------------------- writing


def write_shard_file(directory: str | os.PathLike, index: int, table: ak.Array) -> tuple[dict, str]:
    """Validate ``table`` and write it atomically as ``directory/shard_name(index)``.

    For workers that write their own shards (a Dask worker on the same file system): the
    returned ``(record, schema)`` goes to :meth:`DatasetWriter.record_shard`, which checks
    the file's sha256 before accepting it. Contract fields get their contract dtypes.
    """
    if not isinstance(index, (int, np.integer)) or isinstance(index, bool) or index < 0:
        raise ValueError(f"shard index must be an int >= 0, got {index!r}")
    index = int(index)
    directory = Path(directory)
    name = shard_name(index)
    table = validate_jet_table(table, source=f"{directory / name}")
    table = _to_contract_dtypes(table)
    digest, size = _write_parquet_atomic(directory / name, table)
    record = {
        "index": index,
        "file": name,
        "sha256": digest,
        "bytes": size,
        "n_jets": len(table),
        "class_counts": {str(k): v for k, v in class_counts(table).items()},
    }
    return record, str(table.type.content)


class DatasetWriter:
    """Write a dataset shard by shard, resumably.

    Parameters
    ----------
    directory
        Dataset directory; created (with parents) if missing.
    metadata
        JSON-serialisable description of how the data were made (process card, detector
        card, seed, software versions...). Stored in the manifest and compared on resume.
    n_shards
        Planned number of shards, or None when unknown. :meth:`finalize` checks that all
        ``0..n_shards-1`` were written.
    resume
        When the directory already holds a manifest with the same metadata (and
        ``n_shards``), keep its complete shards whose sha256 still matches; otherwise start
        from scratch (shards of the old manifest are deleted).

    Raises
    ------
    DatasetConflictError
        The directory holds a dataset made with other metadata; it is never overwritten.
    FormatError, UnsafePathError
        The existing manifest is malformed or names files outside the directory.

    Notes
    -----
    One writer per directory: :meth:`write_shard` may be called from several threads of
    one process (the Parquet writes run in parallel, manifest updates are serialised), but
    two writers (or processes) on one directory would overwrite each other's manifest.
    Workers of other processes can write shard files themselves and hand the records to
    :meth:`record_shard`.
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        *,
        metadata: dict,
        n_shards: int | None = None,
        resume: bool = True,
    ) -> None:
        self.directory = Path(directory)
        if n_shards is not None and n_shards < 0:
            raise ValueError(f"n_shards must be >= 0 or None, got {n_shards}")
        self.metadata = _normalise_metadata(metadata)
        self.n_shards = n_shards
        self._lock = threading.Lock()
        self._records: dict[int, dict] = {}
        self._schema: str | None = None
        self._created = _now()
        # the finalisation time of a complete dataset resumed as it is: finalising it again
        # without a new shard then rewrites the very same manifest (its digest identifies
        # the data, e.g. for caches)
        self._finalized: str | None = None
        if self.directory.exists() and not self.directory.is_dir():
            raise InputFileError(f"{self.directory} exists and is not a directory")
        self.directory.mkdir(parents=True, exist_ok=True)
        manifest_path = self.directory / MANIFEST_NAME
        if manifest_path.exists():
            self._adopt(manifest_path, resume)
        self._write_manifest(complete=False)

    def _adopt(self, manifest_path: Path, resume: bool) -> None:
        old = _load_manifest(self.directory)
        # Keys added by finalize(**extra) describe one run, not the settings: not compared.
        added = old.get("finalize_metadata")
        added = added if isinstance(added, dict) else {}
        old_meta = {k: v for k, v in old.get("metadata", {}).items() if k not in added}
        old_n = old.get("n_shards")
        other_n = resume and None not in (old_n, self.n_shards) and old_n != self.n_shards
        if old_meta != self.metadata or other_n:
            differ = sorted(
                k
                for k in set(old_meta) | set(self.metadata)
                if old_meta.get(k) != self.metadata.get(k)
            )
            if other_n:
                differ.append("n_shards")
            raise DatasetConflictError(
                f"{self.directory} already holds a dataset made with other settings "
                f"(differing: {', '.join(differ)}); choose another output directory "
                "(--out) or delete it to start over"
            )
        records = [
            (r, _safe_shard_path(self.directory, r["file"], manifest_path)) for r in old["shards"]
        ]
        if not resume:
            # Start over: delete the old shards, but only files this module names itself.
            for record, path in records:
                if _SHARD_RE.fullmatch(record["file"]) and path.is_file():
                    path.unlink()
            return
        self._created = old.get("created", self._created)
        if old.get("complete") is True and isinstance(old.get("finalized"), str):
            self._finalized = old["finalized"]
        schema = old.get("schema")
        for record, path in records:
            index = record.get("index")
            if not isinstance(index, int) or record["file"] != shard_name(index):
                continue  # not written by a DatasetWriter; rewrite rather than trust
            if path.is_file() and _sha256_file(path) == record["sha256"]:
                self._records[index] = dict(record)
        if self._records and isinstance(schema, str):
            self._schema = schema

    def completed_shards(self) -> set[int]:
        """Indices of the shards already written (and, when resumed, checksum-valid)."""
        with self._lock:
            return set(self._records)

    def write_shard(self, index: int, table: ak.Array) -> dict:
        """Validate ``table``, write it as shard ``index`` and record it in the manifest.

        The constituent and jet fields of the contract are stored with their contract
        dtypes (:mod:`heplearn.data.table`); every other field is stored as given.

        Returns
        -------
        dict
            The shard record ``{"index", "file", "sha256", "bytes", "n_jets",
            "class_counts"}`` as written to the manifest.
        """
        is_int = isinstance(index, (int, np.integer)) and not isinstance(index, bool)
        if self.n_shards is not None and is_int and index >= self.n_shards:
            raise ValueError(f"shard index {index} is out of range for n_shards={self.n_shards}")
        record, schema = write_shard_file(self.directory, index, table)
        self._add(record, schema)
        return dict(record)

    def record_shard(
        self, index: int, record: Mapping[str, Any], schema: str | None = None
    ) -> None:
        """Record a shard file another process wrote into this directory as ``shard_name(index)``.

        The file's sha256 is checked against ``record["sha256"]`` before it is accepted.
        """
        name = shard_name(index)
        if not _shard_record_ok(dict(record)) or record["file"] != name:
            raise FormatError(
                f"shard record for index {index} must name {name!r} and hold "
                f"{sorted(_SHARD_KEYS)}, got {dict(record)!r}"
            )
        path = self.directory / name
        if not path.is_file():
            raise InputFileError(f"shard file {path} does not exist")
        actual = _sha256_file(path)
        if actual != record["sha256"]:
            raise ChecksumError(f"shard file {path}: sha256 {actual} != {record['sha256']}")
        full = {"index": int(index), "bytes": path.stat().st_size, **dict(record)}
        self._add(full, schema)

    def _add(self, record: dict, schema: str | None) -> None:
        with self._lock:
            if schema is not None:
                if self._schema is not None and schema != self._schema:
                    raise InvalidJetTable(
                        f"{self.directory / record['file']}: jet type {schema} differs from "
                        f"the other shards' {self._schema}; every shard needs the same fields"
                    )
                self._schema = schema
            self._records[record["index"]] = record
            self._finalized = None
            self._write_manifest(complete=False)

    def _write_manifest(self, *, complete: bool, extra: Mapping[str, Any] | None = None) -> Path:
        shards = [self._records[i] for i in sorted(self._records)]
        manifest = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "complete": complete,
            "heplearn_version": _heplearn_version(),
            "created": self._created,
            "metadata": self.metadata,
            "n_shards": self.n_shards,
            "schema": self._schema,
            "shards": shards,
            "n_jets": sum(r["n_jets"] for r in shards),
            "class_counts": _sum_counts(shards),
        }
        if complete:
            manifest["finalized"] = self._finalized or _now()
        if extra:
            extra = _normalise_metadata(extra)
            clash = sorted(k for k in extra if k in self.metadata)
            if clash:
                raise ValueError(
                    f"finalize() metadata {clash} would overwrite the writer's metadata"
                )
            manifest["metadata"] = {**self.metadata, **extra}
            manifest["finalize_metadata"] = extra
        path = self.directory / MANIFEST_NAME
        text = json.dumps(manifest, indent=1, allow_nan=False) + "\n"
        _atomic_write_bytes(path, text.encode("utf-8"))
        return path

    def finalize(self, **extra_metadata: Any) -> Path:
        """Mark the dataset complete; ``extra_metadata`` is merged into the metadata.

        Extra keys (timings, dates) are recorded as such and are not compared when a later
        writer resumes the directory; they may not overwrite the writer's own metadata.

        Raises :class:`~heplearn.errors.HeplearnError` when ``n_shards`` was given and some
        shards are missing. Returns the manifest path.
        """
        with self._lock:
            if self.n_shards is not None:
                missing = sorted(set(range(self.n_shards)) - set(self._records))
                if missing:
                    raise HeplearnError(
                        f"{self.directory}: cannot finalize, shard(s) {missing[:10]}"
                        f"{' ...' if len(missing) > 10 else ''} of {self.n_shards} not written"
                    )
            return self._write_manifest(complete=True, extra=extra_metadata)


def write_dataset(
    table: ak.Array,
    directory: str | os.PathLike,
    *,
    metadata: dict | None = None,
    shard_size: int = 100_000,
) -> Path:
    """Write an in-memory jet table as a complete dataset of ``shard_size``-jet shards.

    Re-running with the same metadata rewrites the dataset; a directory holding a dataset
    made with other metadata raises :class:`DatasetConflictError`. Returns the manifest
    path.
    """
    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size}")
    n_shards = max(1, math.ceil(len(table) / shard_size))
    writer = DatasetWriter(directory, metadata=metadata or {}, n_shards=n_shards, resume=False)
    for index in range(n_shards):
        writer.write_shard(index, table[index * shard_size : (index + 1) * shard_size])
    return writer.finalize()


# --------------------------------------------------------------------------- reading


class Dataset:
    """A heplearn dataset on disk, as returned by :func:`open_dataset`.

    Attributes
    ----------
    directory : Path
    manifest : dict
        The parsed ``manifest.json``.
    shards : list of dict
        Shard records, ordered by shard index.
    n_jets : int
    class_counts : dict[int, int]
    metadata : dict
        How the dataset was made (process card, detector card, seed...).
    """

    def __init__(self, directory: Path, manifest: dict, *, verify: bool = True) -> None:
        self.directory = directory
        self.manifest = manifest
        self.shards: list[dict] = sorted(
            manifest["shards"], key=lambda r: (r.get("index", 0), r["file"])
        )
        self.n_jets = int(sum(r["n_jets"] for r in self.shards))
        self.class_counts = {int(k): int(v) for k, v in _sum_counts(self.shards).items()}
        self.metadata: dict = manifest.get("metadata", {})
        self.verify = verify

    def __len__(self) -> int:
        return self.n_jets

    def __repr__(self) -> str:
        return (
            f"Dataset({str(self.directory)!r}, n_jets={self.n_jets}, "
            f"shards={len(self.shards)}, class_counts={self.class_counts})"
        )

    def shard_path(self, index: int) -> Path:
        """Path of ``shards[index]``, checked to lie inside the dataset directory."""
        return _safe_shard_path(
            self.directory, self.shards[index]["file"], self.directory / MANIFEST_NAME
        )

    def read_shard(self, index: int, columns: Sequence[str] | None = None) -> ak.Array:
        """Jet table of ``shards[index]`` (position in :attr:`shards`, 0-based).

        ``columns`` selects fields, e.g. ``["label", "constituents.px", "constituents.E"]``;
        None reads them all. The sha256 is verified when the dataset was opened with
        ``verify=True``.
        """
        if not -len(self.shards) <= index < len(self.shards):
            raise IndexError(f"{self.directory} has {len(self.shards)} shards, no shard {index}")
        record = self.shards[index]
        array = _read_parquet(
            self.shard_path(index), columns, record["sha256"] if self.verify else None
        )
        if len(array) != record["n_jets"]:
            raise FormatError(
                f"{self.shard_path(index)} holds {len(array)} jets, the manifest says "
                f"{record['n_jets']}"
            )
        return array

    def iter_shards(self, columns: Sequence[str] | None = None) -> Iterator[ak.Array]:
        """Yield each shard's jet table in order; one shard in memory at a time."""
        for index in range(len(self.shards)):
            yield self.read_shard(index, columns)

    def read(
        self, columns: Sequence[str] | None = None, *, max_jets: int | None = None
    ) -> ak.Array:
        """The whole jet table (or its first ``max_jets`` jets) in memory."""
        parts = []
        n = 0
        for index in range(len(self.shards)):
            if max_jets is not None and n >= max_jets:
                break
            part = self.read_shard(index, columns)
            if max_jets is not None:
                part = part[: max_jets - n]
            parts.append(part)
            n += len(part)
        if not parts:
            return ak.Array([])
        return parts[0] if len(parts) == 1 else ak.concatenate(parts)


def open_dataset(
    directory: str | os.PathLike, *, verify: bool = True, allow_incomplete: bool = False
) -> Dataset:
    """Open a dataset directory: read and check its manifest, check its shard files exist.

    Parameters
    ----------
    verify
        Verify each shard's sha256 whenever it is read (one pass over bytes already in
        memory); also check file sizes now.
    allow_incomplete
        Open a dataset whose generation was interrupted (only its finished shards).

    Raises
    ------
    InputFileError
        Missing directory, manifest or shard file; unfinished dataset.
    FormatError
        Malformed manifest.
    UnsafePathError
        The manifest names a file outside the directory.
    """
    directory = Path(directory)
    manifest = _load_manifest(directory)
    if not manifest["complete"] and not allow_incomplete:
        raise InputFileError(
            f"{directory}: dataset is incomplete — its generation was interrupted after "
            f"{len(manifest['shards'])}"
            + (f" of {manifest['n_shards']}" if manifest.get("n_shards") else "")
            + " shards; re-running the same command finishes it (finished shards are kept)"
        )
    dataset = Dataset(directory, manifest, verify=verify)
    for index, record in enumerate(dataset.shards):
        path = dataset.shard_path(index)
        if not path.is_file():
            raise InputFileError(
                f"shard file {path} named in {directory / MANIFEST_NAME} is missing"
            )
        size = record.get("bytes")
        if verify and isinstance(size, int) and path.stat().st_size != size:
            raise ChecksumError(
                f"shard file {path} has {path.stat().st_size} bytes, the manifest records "
                f"{size} (truncated or replaced?)"
            )
    return dataset


def read_dataset(directory: str | os.PathLike, columns: Sequence[str] | None = None) -> ak.Array:
    """Read a whole dataset into memory: ``open_dataset(directory).read(columns)``."""
    return open_dataset(directory).read(columns)
