"""JetClass ROOT files (uproot; tree ``tree``, one entry per jet).

Constituents: jagged ``part_px, part_py, part_pz, part_energy, part_charge`` and the
particle-type flags ``part_isChargedHadron, part_isNeutralHadron, part_isPhoton,
part_isElectron, part_isMuon``; jet fields ``jet_pt, jet_eta, jet_phi, jet_energy,
jet_nparticles, jet_sdmass, jet_tau1..4``; one-hot labels ``label_QCD, label_Hbb, ...``.

References
----------
Qu, Li, Qian, "Particle Transformer for Jet Tagging", ICML 2022, arXiv:2202.03772;
data: Zenodo 6619768.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import awkward as ak
import numpy as np

from heplearn.data.formats._common import check_file, entry_range
from heplearn.data.formats._root import check_branches, open_tree
from heplearn.data.table import from_constituents, validate_jet_table
from heplearn.errors import FormatError, InputFileError

__all__ = [
    "JETCLASS_LABELS",
    "JETCLASS_TREE",
    "read_jetclass",
    "iter_jetclass",
    "count_jetclass",
    "is_jetclass",
    "jetclass_pid",
]

JETCLASS_TREE = "tree"
#: Class names in label order: ``label == i`` means ``label_{JETCLASS_LABELS[i]}`` was true.
JETCLASS_LABELS = ("QCD", "Hbb", "Hcc", "Hgg", "H4q", "Hqql", "Zqq", "Wqq", "Tbqq", "Tbl")
_PART = ("part_px", "part_py", "part_pz", "part_energy", "part_charge")
_FLAGS = (
    "part_isChargedHadron",
    "part_isNeutralHadron",
    "part_isPhoton",
    "part_isElectron",
    "part_isMuon",
)
_JET_EXTRA = {
    "jet_sdmass": "sdmass",
    "jet_tau1": "tau1",
    "jet_tau2": "tau2",
    "jet_tau3": "tau3",
    "jet_tau4": "tau4",
}


def is_jetclass(path: str | os.PathLike) -> bool:
    """True when ``path`` is a ROOT file whose tree ``tree`` has JetClass branches."""
    try:
        with open_tree(Path(path), JETCLASS_TREE) as t:
            keys = set(t.keys())
    except (FormatError, InputFileError, OSError):
        return False
    return {"part_px", "part_energy", "label_QCD"} <= keys


def count_jetclass(path: str | os.PathLike) -> int:
    """Number of jets (tree entries) in a JetClass file."""
    with open_tree(check_file(path), JETCLASS_TREE) as t:
        return int(t.num_entries)


def jetclass_pid(flags: dict[str, np.ndarray], charge: np.ndarray) -> np.ndarray:
    """Representative PDG id from JetClass' particle-type flags and charge.

    Photon 22; electron −11·q (e⁻ is 11); muon −13·q; charged hadron 211·q (π±);
    neutral hadron 130 (K⁰_L); anything else 0. This is an approximation: Delphes'
    particle flow only knows the type, so a charged kaon or proton is labelled π±, a
    neutron K⁰_L.
    """
    q = np.asarray(charge).astype(np.int32)
    pid = np.zeros(len(q), np.int32)
    pid = np.where(flags["part_isNeutralHadron"] != 0, 130, pid)
    pid = np.where(flags["part_isChargedHadron"] != 0, 211 * q, pid)
    pid = np.where(flags["part_isMuon"] != 0, -13 * q, pid)
    pid = np.where(flags["part_isElectron"] != 0, -11 * q, pid)
    pid = np.where(flags["part_isPhoton"] != 0, 22, pid)
    return pid.astype(np.int32)


def _convert(arrays: dict, path: Path, start: int, max_constituents) -> ak.Array:
    n = len(arrays["part_px"])
    source = f"{path} (jets {start}..{start + n})"
    counts = ak.to_numpy(ak.num(arrays["part_px"], axis=1))
    flat = {k: ak.to_numpy(ak.flatten(arrays[k])) for k in (*_PART, *_FLAGS)}
    onehot = np.stack([ak.to_numpy(arrays[f"label_{c}"]) for c in JETCLASS_LABELS], axis=1)
    onehot = onehot.astype(bool)
    bad = np.flatnonzero(onehot.sum(axis=1) != 1)
    if len(bad):
        raise FormatError(
            f"{source}: jet {int(bad[0]) + start} has {int(onehot[bad[0]].sum())} true "
            f"label_* branches; expected exactly one of {list(JETCLASS_LABELS)}"
        )
    extra = {
        new: ak.to_numpy(arrays[old]).astype(np.float64)
        for old, new in _JET_EXTRA.items()
        if old in arrays
    }
    charge = np.rint(flat["part_charge"]).astype(np.int8)
    table = from_constituents(
        flat["part_px"],
        flat["part_py"],
        flat["part_pz"],
        flat["part_energy"],
        counts,
        label=np.argmax(onehot, axis=1),
        charge=charge,
        pid=jetclass_pid(flat, charge),
        extra=extra,
        max_constituents=max_constituents,
        source=source,
    )
    return validate_jet_table(table, source=source)


def iter_jetclass(
    path: str | os.PathLike,
    *,
    chunk_size: int = 100_000,
    start: int | None = None,
    stop: int | None = None,
    max_constituents: int | None = None,
) -> Iterator[ak.Array]:
    """Yield jet tables of at most ``chunk_size`` jets from a JetClass ROOT file.

    ``label`` is the index in :data:`JETCLASS_LABELS` of the true ``label_*`` branch
    (0 = QCD, 1 = H→bb, ..., 9 = t→bℓν). Constituents carry ``charge`` and an approximate
    ``pid`` from the particle-type flags (:func:`jetclass_pid`); the impact-parameter
    branches (``part_d0val`` ...) are not part of the jet-table contract and are not read.
    Jet fields ``sdmass`` and ``tau1..tau4`` keep ``jet_sdmass`` and ``jet_tau1..4``.

    References
    ----------
    arXiv:2202.03772 (Qu, Li, Qian).
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    path = check_file(path)
    labels = [f"label_{c}" for c in JETCLASS_LABELS]
    with open_tree(path, JETCLASS_TREE) as t:
        check_branches(t, [*_PART, *_FLAGS, *labels], path, JETCLASS_TREE)
        names = [*_PART, *_FLAGS, *labels, *(b for b in _JET_EXTRA if b in t.keys())]
        lo, hi = entry_range(t.num_entries, start, stop, path)
        for a in range(lo, hi, chunk_size):
            b = min(a + chunk_size, hi)
            arrays = t.arrays(names, entry_start=a, entry_stop=b, library="ak", how=dict)
            yield _convert(arrays, path, a, max_constituents)


def read_jetclass(
    path: str | os.PathLike,
    *,
    start: int | None = None,
    stop: int | None = None,
    max_constituents: int | None = None,
) -> ak.Array:
    """Read jets ``[start, stop)`` of a JetClass ROOT file as one jet table.

    See :func:`iter_jetclass`; class names are :data:`JETCLASS_LABELS`.

    References
    ----------
    arXiv:2202.03772 (Qu, Li, Qian).
    """
    path = check_file(path)
    lo, hi = entry_range(count_jetclass(path), start, stop, path)
    parts = list(
        iter_jetclass(
            path, chunk_size=max(hi - lo, 1), start=lo, stop=hi, max_constituents=max_constituents
        )
    )
    if not parts:
        raise FormatError(f"{path}: no jets in entries [{lo}, {hi})")
    return parts[0]
