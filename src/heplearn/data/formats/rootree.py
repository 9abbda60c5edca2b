"""Any flat ROOT TTree of jets, read through a user-given branch mapping.

One entry per jet. ``mapping`` maps contract names to branch names:

* constituents (jagged branches): ``px, py, pz, E`` or ``pt, eta, phi`` plus ``mass`` or
  ``E`` (massless when neither); optional ``charge``, ``pid``, ``vertex``;
* jets (flat branches): optional ``label`` (default 0), ``weight``, and any other name,
  stored as a jet field of that name (e.g. ``{"truth_pt": "gen_pt"}``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import awkward as ak
import numpy as np

from heplearn.data.formats._common import check_file, entry_range
from heplearn.data.formats._root import check_branches, open_tree
from heplearn.data.table import from_constituents, validate_jet_table
from heplearn.errors import FormatError
from heplearn.physics import kinematics as kin

__all__ = ["read_root_tree", "iter_root_tree", "count_root_tree", "CONSTITUENT_KEYS"]

CONSTITUENT_KEYS = ("px", "py", "pz", "E", "pt", "eta", "phi", "mass", "charge", "pid", "vertex")
_CARTESIAN = ("px", "py", "pz", "E")
_POLAR = ("pt", "eta", "phi")


def _check_mapping(mapping: Mapping[str, str], path: Path) -> None:
    if not isinstance(mapping, Mapping) or not mapping:
        raise FormatError(
            f"{path}: a root-tree read needs mapping={{contract name: branch}}, e.g. "
            "{'px': 'part_px', 'py': 'part_py', 'pz': 'part_pz', 'E': 'part_e', "
            "'label': 'is_signal'}"
        )
    keys = set(mapping)
    if not (set(_CARTESIAN) <= keys or set(_POLAR) <= keys):
        raise FormatError(
            f"{path}: mapping {dict(mapping)} names neither all of {list(_CARTESIAN)} nor all "
            f"of {list(_POLAR)} (+ 'mass' or 'E') for the constituents"
        )
    bad = [k for k, v in mapping.items() if not isinstance(v, str)]
    if bad:
        raise FormatError(f"{path}: mapping values must be branch names (str); bad keys {bad}")


def count_root_tree(path: str | os.PathLike, tree: str) -> int:
    """Number of entries (jets) of ``tree``."""
    with open_tree(check_file(path), tree) as t:
        return int(t.num_entries)


def _convert(
    arrays: dict,
    mapping: Mapping[str, str],
    path: Path,
    tree: str,
    start: int,
    max_constituents: int | None,
) -> ak.Array:
    n = len(next(iter(arrays.values())))
    source = f"{path}:{tree} (entries {start}..{start + n})"
    jagged, flat = {}, {}
    for key, branch in mapping.items():
        a = arrays[branch]
        if a.ndim == 2:
            jagged[key] = a
        elif a.ndim == 1:
            flat[key] = ak.to_numpy(a)
        else:
            raise FormatError(
                f"{source}: branch {branch!r} ({key!r}) has {a.ndim} dimensions; expected a "
                "flat jet branch or a jagged constituent branch"
            )
    cons_keys = [k for k in mapping if k in CONSTITUENT_KEYS]
    wrong = [f"{k} -> {mapping[k]}" for k in cons_keys if k not in jagged]
    wrong += [f"{k} -> {mapping[k]}" for k in mapping if k not in CONSTITUENT_KEYS and k in jagged]
    if wrong:
        raise FormatError(
            f"{source}: branch shape does not fit its role: {wrong}; constituent quantities "
            f"({', '.join(CONSTITUENT_KEYS)}) need jagged branches, jet quantities flat ones"
        )
    counts = ak.to_numpy(ak.num(jagged[cons_keys[0]], axis=1))
    for k in cons_keys:
        if not np.array_equal(ak.to_numpy(ak.num(jagged[k], axis=1)), counts):
            raise FormatError(
                f"{source}: jagged branch {mapping[k]!r} has other per-jet lengths than "
                f"{mapping[cons_keys[0]]!r}"
            )
    c = {k: ak.to_numpy(ak.flatten(v)).astype(np.float64) for k, v in jagged.items()}
    if all(k in c for k in _CARTESIAN):
        px, py, pz, E = (c[k] for k in _CARTESIAN)
    elif "mass" in c or "E" not in c:
        m = c.get("mass", np.zeros_like(c["pt"]))
        px, py, pz, E = kin.ptetaphim_to_pxpypze(c["pt"], c["eta"], c["phi"], m)
    else:
        px, py, pz, _ = kin.ptetaphim_to_pxpypze(c["pt"], c["eta"], c["phi"], 0.0)
        E = c["E"]
    optional = {
        k: (np.rint(c[k]).astype(t) if k in c else None)
        for k, t in (("charge", np.int8), ("pid", np.int32), ("vertex", np.int32))
    }
    label = flat.pop("label", None)
    table = from_constituents(
        px,
        py,
        pz,
        E,
        counts,
        label=None if label is None else np.rint(label).astype(np.int64),
        extra=flat,
        max_constituents=max_constituents,
        source=source,
        **optional,
    )
    return validate_jet_table(table, source=source)


def iter_root_tree(
    path: str | os.PathLike,
    tree: str,
    mapping: Mapping[str, str],
    *,
    chunk_size: int = 100_000,
    start: int | None = None,
    stop: int | None = None,
    max_constituents: int | None = None,
) -> Iterator[ak.Array]:
    """Yield jet tables of at most ``chunk_size`` entries of a TTree read via ``mapping``.

    See :func:`read_root_tree`.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    path = check_file(path)
    _check_mapping(mapping, path)
    with open_tree(path, tree) as t:
        branches = list(dict.fromkeys(mapping.values()))
        check_branches(t, branches, path, tree)
        lo, hi = entry_range(t.num_entries, start, stop, path)
        for a in range(lo, hi, chunk_size):
            b = min(a + chunk_size, hi)
            arrays = t.arrays(branches, entry_start=a, entry_stop=b, how=dict)
            yield _convert(arrays, mapping, path, tree, a, max_constituents)


def read_root_tree(
    path: str | os.PathLike,
    tree: str,
    mapping: Mapping[str, str],
    *,
    start: int | None = None,
    stop: int | None = None,
    max_constituents: int | None = None,
) -> ak.Array:
    """Read a TTree with one entry per jet as a jet table, through a branch mapping.

    Parameters
    ----------
    path, tree
        The ROOT file and the TTree's name.
    mapping
        ``{contract name: branch name}``: jagged branches for constituents (``px, py, pz, E``
        or ``pt, eta, phi`` + ``mass``/``E``; optional ``charge, pid, vertex``), flat ones
        for jet fields (``label``, ``weight`` or any other name).
    start, stop
        Entry range ``[start, stop)``.
    max_constituents
        Keep only the hardest constituents.

    Raises
    ------
    FormatError
        A branch is missing (naming it and listing the tree's branches), a branch's shape
        does not fit its role, or the mapping lacks the constituent momenta.

    Examples
    --------
    >>> read_root_tree("jets.root", "Events",
    ...     {"pt": "pf_pt", "eta": "pf_eta", "phi": "pf_phi", "mass": "pf_m",
    ...      "label": "is_top"})  # doctest: +SKIP
    """
    path = check_file(path)
    lo, hi = entry_range(count_root_tree(path, tree), start, stop, path)
    parts = list(
        iter_root_tree(
            path,
            tree,
            mapping,
            chunk_size=max(hi - lo, 1),
            start=lo,
            stop=hi,
            max_constituents=max_constituents,
        )
    )
    if not parts:
        raise FormatError(f"{path}:{tree}: no entries in [{lo}, {hi})")
    return parts[0]
