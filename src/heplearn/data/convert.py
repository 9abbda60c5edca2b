"""Convert a file of any reader format into a heplearn dataset directory, chunk by chunk.

The input is read one shard's worth at a time (``shard_size`` jets; for Delphes files, the
events holding about that many jets), converted to the jet table and written with
:class:`heplearn.data.dataset.DatasetWriter`, so a file larger than memory converts in
bounded memory and an interrupted conversion resumes where it stopped. The manifest's
metadata records the source file's name, size, sha256 and format.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from heplearn.data.formats._root import open_tree
from heplearn.data.formats.delphes import DELPHES_TREE, event_ranges
from heplearn.data.readers import _positional, _resolve, count_entries
from heplearn.errors import FormatError

__all__ = ["convert", "sha256_file"]


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    """Hex sha256 of a file, read in ``chunk``-byte pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def _ranges(path: Path, fmt_name: str, n: int, shard_size: int, kw: dict) -> list[tuple[int, int]]:
    if fmt_name == "delphes-root":
        jets = kw.get("jets", "Jet")
        with open_tree(path, DELPHES_TREE) as t:
            sizes = t[f"{jets}_size"].array(library="np")
        return event_ranges(sizes, shard_size)
    return [(a, min(a + shard_size, n)) for a in range(0, n, shard_size)]


def convert(
    path: str | os.PathLike,
    out: str | os.PathLike,
    *,
    format: str | None = None,
    tree: str | None = None,
    mapping: Mapping[str, str] | None = None,
    shard_size: int = 100_000,
    max_constituents: int | None = None,
    resume: bool = True,
    progress: Callable[[int, int], None] | None = None,
    **options: Any,
) -> Path:
    """Stream ``path`` into the heplearn dataset directory ``out``.

    Parameters
    ----------
    path
        Input file in any format of :data:`heplearn.data.readers.FORMATS`.
    out
        Output dataset directory (created; an interrupted conversion with the same
        settings is resumed, a different dataset there raises ``DatasetConflictError``).
    format
        Format name; None detects it from the content.
    tree, mapping
        For ``root-tree`` inputs (see :func:`heplearn.data.readers.read_root_tree`).
    shard_size
        Jets per shard (Delphes: whole events, about this many jets per shard).
    max_constituents
        Keep only the hardest constituents of each jet.
    resume
        Keep the valid shards of an interrupted conversion with the same settings.
    progress
        Called as ``progress(shards_done, n_shards)`` after every shard.
    **options
        Further reader options (``jets``, ``constituents``, ``label`` for Delphes; ``key``
        for Top Tagging).

    Returns
    -------
    Path
        The dataset directory; open it with :func:`heplearn.data.dataset.open_dataset`.
    """
    from heplearn.data.dataset import DatasetWriter

    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size}")
    path, fmt = _resolve(path, format)
    if fmt.name == "heplearn-dataset":
        raise FormatError(f"{path} is already a heplearn dataset; nothing to convert")
    kw: dict[str, Any] = {"tree": tree, "mapping": mapping, **options}
    args = _positional(fmt, kw, path)
    n = count_entries(path, fmt.name, tree=tree, **({"key": kw["key"]} if "key" in kw else {}))
    ranges = _ranges(path, fmt.name, n, shard_size, kw)
    if not ranges:
        raise FormatError(f"{path}: no jets to convert")
    metadata = {
        "source_file": path.name,
        "source_bytes": path.stat().st_size,
        "source_sha256": sha256_file(path),
        "source_format": fmt.name,
        "class_names": list(fmt.class_names) if fmt.class_names else None,
        "max_constituents": max_constituents,
        "shard_size": shard_size,
        "reader_options": {
            **({"tree": tree} if tree is not None else {}),
            **({"mapping": dict(mapping)} if mapping is not None else {}),
            **{k: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()},
        },
    }
    writer = DatasetWriter(out, metadata=metadata, n_shards=len(ranges), resume=resume)
    done = writer.completed_shards()
    for index, (a, b) in enumerate(ranges):
        if index not in done:
            table = fmt.read(path, *args, start=a, stop=b, max_constituents=max_constituents, **kw)
            writer.write_shard(index, table)
        if progress is not None:
            progress(index + 1, len(ranges))
    writer.finalize()
    return Path(out)
