"""uproot helpers shared by the ROOT readers: open files and trees with heplearn errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from heplearn.data.formats._common import ROOT_MAGIC, list_names, magic
from heplearn.errors import FormatError, InputFileError

__all__ = ["open_root", "root_trees", "open_tree", "check_branches"]


def open_root(path: Path):
    """Open a ROOT file with uproot (use as a context manager); heplearn errors naming it."""
    import uproot

    if magic(path, 4) != ROOT_MAGIC:
        raise FormatError(f"{path}: not a ROOT file (no 'root' signature)")
    try:
        return uproot.open(path)
    except Exception as err:  # uproot raises many types for broken files
        raise InputFileError(f"{path}: cannot open as a ROOT file ({err}); truncated?") from err


def root_trees(file) -> list[str]:
    """Names of the TTrees in an open uproot file (without cycle numbers)."""
    names = [k.split(";")[0] for k, c in file.classnames().items() if c.startswith("TTree")]
    return list(dict.fromkeys(names))


@contextmanager
def open_tree(path: Path, tree: str) -> Iterator:
    """Context manager yielding ``tree`` of a ROOT file; closes the file afterwards."""
    with open_root(path) as file:
        trees = root_trees(file)
        if tree not in trees:
            raise FormatError(
                f"{path}: no TTree {tree!r}; trees in the file: {list_names(trees) or 'none'}"
            )
        yield file[tree]


def check_branches(t, names, path: Path, tree: str, keys: set[str] | None = None) -> None:
    """Raise :class:`FormatError` naming the missing branches and listing the available ones.

    ``keys`` (the tree's branch names, if already listed) saves listing them again.
    """
    keys = set(t.keys()) if keys is None else keys
    missing = [n for n in names if n not in keys]
    if missing:
        raise FormatError(
            f"{path}: tree {tree!r} has no branch(es) {missing}; available branches: "
            f"{list_names(keys)}"
        )
