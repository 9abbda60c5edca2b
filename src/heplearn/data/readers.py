"""Readers for jet data made elsewhere, all producing the jet table of :mod:`heplearn.data.table`.

Formats (the registry :data:`FORMATS`, name -> :class:`Format`):

==================  ======================================================================
``top-hdf5``        Top Quark Tagging Reference Dataset, pandas HDFStore (arXiv:1902.09914)
``energyflow-npz``  energyflow quark/gluon jets, ``X``/``y`` .npz (arXiv:1810.05165)
``jetclass-root``   JetClass ROOT files, tree ``tree`` (arXiv:2202.03772)
``delphes-root``    Delphes output, tree ``Delphes``: jets + EFlow constituents (arXiv:1307.6346)
``root-tree``       any TTree of jets, through a branch mapping (``tree=``, ``mapping=``)
``heplearn-dataset`` a heplearn dataset directory (:mod:`heplearn.data.dataset`)
==================  ======================================================================

:func:`read` reads a whole file (or an entry range) into memory; :func:`iter_jet_tables`
streams it in chunks; :func:`detect_format` recognises a file by its content;
:func:`inspect` summarises it (``heplearn inspect``), :func:`format_inspection` prints that.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from heplearn.data.formats._common import (
    HDF5_MAGIC,
    ROOT_MAGIC,
    ZIP_MAGIC,
    check_file,
    list_names,
    magic,
)
from heplearn.data.formats._root import open_root, open_tree, root_trees
from heplearn.data.formats.delphes import (
    DELPHES_CONSTITUENTS,
    DELPHES_TREE,
    count_delphes,
    is_delphes,
    iter_delphes,
    read_delphes,
    read_delphes_events,
)
from heplearn.data.formats.energyflow import (
    QG_LABELS,
    count_energyflow,
    is_energyflow,
    iter_energyflow,
    read_energyflow,
)
from heplearn.data.formats.jetclass import (
    JETCLASS_LABELS,
    JETCLASS_TREE,
    count_jetclass,
    is_jetclass,
    iter_jetclass,
    jetclass_pid,
    read_jetclass,
)
from heplearn.data.formats.rootree import count_root_tree, iter_root_tree, read_root_tree
from heplearn.data.formats.top import (
    TOP_KEY,
    TOP_LABELS,
    count_top_tagging,
    is_top_tagging,
    iter_top_tagging,
    read_top_tagging,
)
from heplearn.errors import FormatError, InputFileError, UnknownNameError

__all__ = [
    "Format",
    "FORMATS",
    "READERS",
    "register_format",
    "get_format",
    "read",
    "iter_jet_tables",
    "count_entries",
    "detect_format",
    "inspect",
    "format_inspection",
    "class_names",
    "read_top_tagging",
    "iter_top_tagging",
    "read_energyflow",
    "iter_energyflow",
    "read_jetclass",
    "iter_jetclass",
    "jetclass_pid",
    "read_delphes",
    "read_delphes_events",
    "iter_delphes",
    "read_root_tree",
    "iter_root_tree",
    "JETCLASS_LABELS",
    "TOP_LABELS",
    "QG_LABELS",
    "DELPHES_CONSTITUENTS",
]


@dataclass(frozen=True)
class Format:
    """One input format: how to recognise, count, read and stream it.

    Attributes
    ----------
    name
        Registry name (``"top-hdf5"`` ...).
    description
        One line for listings, with the paper's arXiv id.
    read
        ``read(path, *, start, stop, max_constituents, **options) -> jet table``.
    iterate
        ``iterate(path, *, chunk_size, start, stop, max_constituents, **options)`` yielding
        jet tables.
    count
        ``count(path, **options) -> int``: entries (jets; events for ``delphes-root``).
    detect
        ``detect(path) -> bool`` from the file's content.
    class_names
        Names of the label values (index = label), or None when the file defines none.
    options
        Names of the format-specific keyword options its reader takes.
    """

    name: str
    description: str
    read: Callable[..., ak.Array]
    iterate: Callable[..., Iterator[ak.Array]]
    count: Callable[..., int]
    detect: Callable[[Path], bool]
    class_names: tuple[str, ...] | None = None
    options: tuple[str, ...] = field(default=())


FORMATS: dict[str, Format] = {}
#: name -> whole-file reader, the same functions as ``FORMATS[name].read``.
READERS: dict[str, Callable[..., ak.Array]] = {}


def register_format(fmt: Format) -> Format:
    """Add a format to :data:`FORMATS` (and its reader to :data:`READERS`); names are unique."""
    if fmt.name in FORMATS:
        raise ValueError(f'format "{fmt.name}" is already registered')
    FORMATS[fmt.name] = fmt
    READERS[fmt.name] = fmt.read
    return fmt


def get_format(name: str) -> Format:
    """The registered :class:`Format` called ``name``; :class:`UnknownNameError` listing the
    known ones otherwise."""
    try:
        return FORMATS[name]
    except (KeyError, TypeError):
        raise UnknownNameError(
            f'Unknown format "{name}". Known formats: {", ".join(sorted(FORMATS))}'
        ) from None


# --------------------------------------------------------------------------- heplearn datasets


def _is_dataset(path: Path) -> bool:
    return path.is_dir() and (path / "manifest.json").is_file()


def _dataset_read(path, *, start=None, stop=None, max_constituents=None) -> ak.Array:
    from heplearn.data.dataset import open_dataset

    table = open_dataset(path).read()[start:stop]
    if max_constituents is not None:
        table = ak.with_field(table, table["constituents"][:, :max_constituents], "constituents")
    return table


def _dataset_iter(path, *, chunk_size=None, start=None, stop=None, max_constituents=None):
    from heplearn.data.dataset import open_dataset

    if start is not None or stop is not None:
        yield _dataset_read(path, start=start, stop=stop, max_constituents=max_constituents)
        return
    for shard in open_dataset(path).iter_shards():
        if max_constituents is not None:
            shard = ak.with_field(
                shard, shard["constituents"][:, :max_constituents], "constituents"
            )
        yield shard


def _dataset_count(path) -> int:
    from heplearn.data.dataset import open_dataset

    return open_dataset(path).n_jets


# --------------------------------------------------------------------------- the registry

register_format(
    Format(
        "top-hdf5",
        "Top Quark Tagging Reference Dataset, pandas HDFStore (arXiv:1902.09914)",
        read_top_tagging,
        iter_top_tagging,
        count_top_tagging,
        is_top_tagging,
        TOP_LABELS,
        ("key",),
    )
)
register_format(
    Format(
        "energyflow-npz",
        "energyflow quark/gluon jets, .npz with X (pt, y, phi, pid) and y (arXiv:1810.05165)",
        read_energyflow,
        iter_energyflow,
        count_energyflow,
        is_energyflow,
        QG_LABELS,
    )
)
register_format(
    Format(
        "jetclass-root",
        "JetClass ROOT file, tree 'tree' (arXiv:2202.03772)",
        read_jetclass,
        iter_jetclass,
        count_jetclass,
        is_jetclass,
        JETCLASS_LABELS,
    )
)
register_format(
    Format(
        "delphes-root",
        "Delphes ROOT output, jets with energy-flow constituents (arXiv:1307.6346)",
        read_delphes,
        iter_delphes,
        count_delphes,
        is_delphes,
        None,
        ("jets", "constituents", "label"),
    )
)
register_format(
    Format(
        "root-tree",
        "any ROOT TTree of jets via a branch mapping (needs tree=, mapping=)",
        read_root_tree,
        iter_root_tree,
        count_root_tree,
        lambda path: magic(path, 4) == ROOT_MAGIC,
        None,
        ("tree", "mapping"),
    )
)
register_format(
    Format(
        "heplearn-dataset",
        "heplearn dataset directory (Parquet shards + manifest.json)",
        _dataset_read,
        _dataset_iter,
        _dataset_count,
        _is_dataset,
    )
)


# --------------------------------------------------------------------------- dispatch


def _resolve(path: str | os.PathLike, format: str | None) -> tuple[Path, Format]:
    path = Path(path)
    if format is None:
        format = detect_format(path)
    fmt = get_format(format)
    if fmt.name == "heplearn-dataset":
        if not path.exists():
            raise InputFileError(f"dataset directory {path} does not exist")
    else:
        check_file(path)
    return path, fmt


def _positional(fmt: Format, kw: dict[str, Any], path: Path) -> tuple:
    tree, mapping = kw.pop("tree", None), kw.pop("mapping", None)
    if fmt.name != "root-tree":
        if tree is not None or mapping is not None:
            raise FormatError(
                f"{path}: tree= and mapping= apply to the root-tree format only, not {fmt.name}"
            )
        return ()
    if tree is None or mapping is None:
        raise FormatError(
            f"{path}: the root-tree format needs tree= (the TTree name) and mapping= "
            "({contract name: branch}); see heplearn.data.readers.read_root_tree"
        )
    return (tree, mapping)


def read(path: str | os.PathLike, format: str | None = None, **kw: Any) -> ak.Array:
    """Read a file of any registered format as a jet table.

    Parameters
    ----------
    path
        The input file (or heplearn dataset directory).
    format
        A name of :data:`FORMATS`; None detects it from the content (:func:`detect_format`).
    **kw
        Passed to the format's reader: ``start``, ``stop``, ``max_constituents`` for all;
        ``tree`` and ``mapping`` for ``root-tree``; ``jets``, ``constituents``, ``label``
        for ``delphes-root``; ``key`` for ``top-hdf5``.

    Raises
    ------
    UnknownNameError
        ``format`` is not registered (the message lists the known ones).
    InputFileError, FormatError, InvalidJetTable
        Missing file, wrong layout, or constituents breaking the contract (naming the file).
    """
    path, fmt = _resolve(path, format)
    args = _positional(fmt, kw, path)
    return fmt.read(path, *args, **kw)


def iter_jet_tables(
    path: str | os.PathLike,
    format: str | None = None,
    *,
    chunk_size: int = 100_000,
    **kw: Any,
) -> Iterator[ak.Array]:
    """Stream a file as jet tables of about ``chunk_size`` jets (one chunk in memory).

    Same options as :func:`read`. For ``heplearn-dataset`` the chunks are the shards.
    """
    path, fmt = _resolve(path, format)
    args = _positional(fmt, kw, path)
    yield from fmt.iterate(path, *args, chunk_size=chunk_size, **kw)


def count_entries(path: str | os.PathLike, format: str | None = None, **kw: Any) -> int:
    """Number of entries: jets, or events for ``delphes-root``."""
    path, fmt = _resolve(path, format)
    if fmt.name == "root-tree":
        tree = kw.get("tree")
        if tree is None:
            raise FormatError(f"{path}: counting a root-tree needs tree=")
        return fmt.count(path, tree)
    if fmt.name == "top-hdf5" and "key" in kw:
        return fmt.count(path, key=kw["key"])
    return fmt.count(path)


def class_names(format: str) -> tuple[str, ...] | None:
    """Names of the label values of a format (``class_names("jetclass-root")[3] == "Hgg"``)."""
    return get_format(format).class_names


# --------------------------------------------------------------------------- detection


def detect_format(path: str | os.PathLike) -> str:
    """Name of the format of ``path``, recognised from its content (not its extension).

    HDF5 files must hold the Top Tagging frame, zip files energyflow's ``X``/``y``; ROOT
    files are ``delphes-root`` (tree ``Delphes`` with ``Jet``), ``jetclass-root`` (tree
    ``tree`` with ``part_*`` and ``label_*`` branches) or else ``root-tree``; a directory
    with ``manifest.json`` is a ``heplearn-dataset``.

    Raises
    ------
    InputFileError
        ``path`` does not exist.
    FormatError
        The content matches no known format (the message says what was found).
    """
    path = Path(path)
    if path.is_dir():
        if _is_dataset(path):
            return "heplearn-dataset"
        raise FormatError(f"{path} is a directory without manifest.json, not a heplearn dataset")
    check_file(path)
    head = magic(path, 8)
    if head == HDF5_MAGIC:
        if is_top_tagging(path):
            return "top-hdf5"
        import h5py

        with h5py.File(path, "r") as f:
            keys = sorted(f.keys())
        raise FormatError(
            f"{path}: HDF5 file without a Top Tagging pandas frame under key {TOP_KEY!r} "
            f"(keys: {keys}); expected columns E_i, PX_i, PY_i, PZ_i, is_signal_new"
        )
    if head.startswith(ZIP_MAGIC):
        if is_energyflow(path):
            return "energyflow-npz"
        raise FormatError(
            f"{path}: zip/.npz file without energyflow's X (jets, particles, 4) and y arrays"
        )
    if head.startswith(ROOT_MAGIC):
        if is_delphes(path):
            return "delphes-root"
        if is_jetclass(path):
            return "jetclass-root"
        with open_root(path) as f:
            if not root_trees(f):
                raise FormatError(f"{path}: ROOT file without any TTree")
        return "root-tree"
    raise FormatError(
        f"{path}: unrecognised content (first bytes {head!r}); known formats: "
        f"{', '.join(sorted(FORMATS))}"
    )


# --------------------------------------------------------------------------- inspection


def _fields(table: ak.Array) -> dict[str, list[str]]:
    jet = [f for f in table.fields if f != "constituents"]
    cons = list(table["constituents"].fields) if "constituents" in table.fields else []
    return {"jet": jet, "constituents": cons}


def _counts(labels: np.ndarray) -> dict[int, int]:
    values, counts = np.unique(np.asarray(labels), return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts, strict=True)}


def inspect(
    path: str | os.PathLike,
    *,
    format: str | None = None,
    tree: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Summarise a file: format, its trees/keys, numbers of events and jets, the jet-table
    fields a read gives, and the class counts.

    Cheap: reads metadata, the label column and the first entry only.

    Returns
    -------
    dict
        ``path, format, description, bytes, contents`` (HDF5 keys / npz arrays / ROOT trees
        with entries), ``n_events`` (None when events are not stored), ``n_jets``,
        ``fields`` (``{"jet": [...], "constituents": [...]}``), ``class_counts``
        (``{label: n}`` or None), ``class_names``.
    """
    path = Path(path)
    fmt = get_format(format if format is not None else detect_format(path))
    info: dict[str, Any] = {
        "path": str(path),
        "format": fmt.name,
        "description": fmt.description,
        "bytes": None,
        "contents": {},
        "n_events": None,
        "n_jets": None,
        "fields": None,
        "class_counts": None,
        "class_names": list(fmt.class_names) if fmt.class_names else None,
    }
    name = fmt.name
    if name == "heplearn-dataset":
        from heplearn.data.dataset import open_dataset

        ds = open_dataset(path)
        info["bytes"] = sum(int(r.get("bytes", 0)) for r in ds.shards)
        info["contents"] = {"shards": len(ds.shards), **_metadata_summary(ds.metadata)}
        info["metadata"] = ds.metadata
        info["n_jets"] = ds.n_jets
        info["class_counts"] = dict(ds.class_counts)
        names = ds.metadata.get("class_names")
        if not names and isinstance(ds.metadata.get("labels"), dict):  # generated datasets
            labels = {int(k): v for k, v in ds.metadata["labels"].items()}
            names = [labels.get(i, "") for i in range(max(labels) + 1)]
        info["class_names"] = list(names) if names else None
        if ds.shards:
            info["fields"] = _fields(ds.read_shard(0)[:1])
        return info
    check_file(path)
    info["bytes"] = path.stat().st_size
    opts: dict[str, Any] = {}
    if name == "top-hdf5":
        import h5py

        from heplearn.data.formats.pandas_hdf import PandasFrame

        with h5py.File(path, "r") as f:
            frame = PandasFrame(f, TOP_KEY, path)
            info["contents"] = {
                "keys": sorted(f.keys()),
                "layout": f"pandas {frame.layout}",
                "columns": len(frame.columns),
            }
            info["n_jets"] = frame.nrows
            info["class_counts"] = _counts(
                frame.read(["is_signal_new"], 0, frame.nrows)["is_signal_new"]
            )
    elif name == "energyflow-npz":
        with np.load(path, allow_pickle=False) as npz:
            y = npz["y"]
            arrays = list(npz.files)
        info["contents"] = {"arrays": arrays, "X shape": [count_energyflow(path), *_x_dims(path)]}
        info["n_jets"] = len(y)
        info["class_counts"] = _counts(np.rint(y).astype(np.int64))
    elif name in ("jetclass-root", "delphes-root", "root-tree"):
        with open_root(path) as f:
            info["contents"] = {
                "trees": {t: int(f[t].num_entries) for t in root_trees(f)},
            }
        if name == "jetclass-root":
            with open_tree(path, JETCLASS_TREE) as t:
                branches = [f"label_{c}" for c in JETCLASS_LABELS]
                onehot = np.stack([t[b].array(library="np") for b in branches], axis=1).astype(bool)
            info["n_jets"] = len(onehot)
            info["class_counts"] = _counts(np.argmax(onehot, axis=1))
        elif name == "delphes-root":
            with open_tree(path, DELPHES_TREE) as t:
                sizes = t["Jet_size"].array(library="np")
            info["n_events"] = len(sizes)
            info["n_jets"] = int(sizes.sum())
            info["class_counts"] = {0: int(sizes.sum())}
        else:
            trees = info["contents"]["trees"]
            if tree is None and len(trees) == 1:
                tree = next(iter(trees))
            if tree is not None:
                with open_tree(path, tree) as t:
                    info["contents"]["branches"] = list(t.keys())
                    info["n_jets"] = int(t.num_entries)
                    if mapping and "label" in mapping:
                        labels = t[mapping["label"]].array(library="np")
                        info["class_counts"] = _counts(np.rint(labels).astype(np.int64))
            if tree is None or not mapping:
                return info  # no mapping: the jet table a read would give is unknown
            opts = {"tree": tree, "mapping": mapping}
    if info["n_jets"]:
        first = read(path, name, stop=1, **opts)
        info["fields"] = _fields(first)
        if name == "root-tree" and info["class_counts"] is None:
            info["class_counts"] = {0: info["n_jets"]} if "label" not in (mapping or {}) else None
    return info


def _x_dims(path: Path) -> list[int]:
    import zipfile

    from heplearn.data.formats.energyflow import _header

    with zipfile.ZipFile(path) as z, z.open("X.npy") as fp:
        return list(_header(fp, path, "X")[0][1:])


def _human_bytes(n: int | None) -> str:
    if n is None:
        return "?"
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


def _metadata_summary(md: Mapping[str, Any]) -> dict[str, str]:
    """One line per fact a physicist asks of a dataset: where it came from, how it was made."""
    out: dict[str, str] = {}
    process = md.get("process")
    if isinstance(process, Mapping):
        out["process"] = str(process.get("name"))
        out["reference"] = " ".join(str(process.get("reference", "")).split())
    detector = md.get("detector")
    if isinstance(detector, Mapping):
        out["detector"] = str(detector.get("name"))
    for key in ("seed", "pileup_mu", "source_file", "source_format", "source_sha256"):
        if md.get(key) is not None:
            out[key] = str(md[key])
    versions = md.get("versions")
    if isinstance(versions, Mapping):
        out["versions"] = ", ".join(f"{k} {v}" for k, v in versions.items())
    return out


def format_inspection(info: Mapping[str, Any]) -> str:
    """Plain-text rendering of :func:`inspect`'s dict (what ``heplearn inspect`` prints)."""
    lines = [
        f"{info['path']}",
        f"  format        {info['format']}  ({info.get('description', '')})",
        f"  size          {_human_bytes(info.get('bytes'))}",
    ]
    contents = info.get("contents") or {}
    for key, value in contents.items():
        if key == "trees":
            text = ", ".join(f"{t} ({n} entries)" for t, n in value.items()) or "none"
        elif key == "branches":
            text = list_names(value, limit=20)
        elif isinstance(value, (list, tuple)):
            text = ", ".join(map(str, value))
        else:
            text = str(value)
        lines.append(f"  {key:<13} {text}")
    if info.get("n_events") is not None:
        lines.append(f"  events        {info['n_events']}")
    lines.append(f"  jets          {info['n_jets'] if info.get('n_jets') is not None else '?'}")
    fields = info.get("fields")
    if fields:
        lines.append(f"  jet fields    {', '.join(fields['jet'])}")
        lines.append(f"  constituents  {', '.join(fields['constituents'])}")
    counts = info.get("class_counts")
    if counts:
        names = info.get("class_names") or []
        total = sum(counts.values())
        lines.append("  classes")
        for label, n in sorted(counts.items()):
            label = int(label)
            name = f" {names[label]}" if 0 <= label < len(names) else ""
            lines.append(f"    {label}{name:<10} {n:>10}  ({100 * n / total:.1f}%)")
    return "\n".join(lines)
