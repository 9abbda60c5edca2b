"""Delphes ROOT output (tree ``Delphes``): jets with their energy-flow constituents.

A Delphes jet stores its constituents as a ``TRefArray`` (``Jet.Constituents``) of ROOT
object numbers. uproot reads those numbers (``refs``); every written candidate carries its
own number in the low 24 bits of ``fUniqueID`` (the high 8 bits are the process-id index).
Constituents are resolved exactly by matching, per event, each reference to the
``fUniqueID`` of the candidates of the constituent collections (by default ``EFlowTrack``,
``EFlowPhoton``, ``EFlowNeutralHadron``, the inputs of the default cards' jet finder), in
one vectorised ``searchsorted`` over (event, object number) keys — no ΔR matching.

Constituent four-momenta are rebuilt from what the branches store:

* tracks (``PT, Eta, Phi``; ``Mass`` when present, else the π± mass): the pT/η/φ/m formula;
* towers and EFlow photons / neutral hadrons (``ET, Eta, Phi, E``): massless direction
  ``px = ET cos φ, py = ET sin φ, pz = ET sinh η`` with the stored ``E``;
* generator ``Particle`` (``Px, Py, Pz, E``): as stored.

``pid``: tracks keep Delphes' ``PID`` (the PDG id of the generator particle that made the
track — truth information), EFlow photons get 22, EFlow neutral hadrons 130 (K⁰_L, as a
representative neutral hadron), towers 0. The jet four-momentum is recomputed as the sum of
the constituents; Delphes' own values (after its jet-energy-scale correction, if the card
applies one) are kept as ``delphes_pt, delphes_eta, delphes_phi, delphes_mass``.

References
----------
de Favereau et al. (DELPHES 3), JHEP 02 (2014) 057, arXiv:1307.6346.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import awkward as ak
import numpy as np

from heplearn.data.formats._common import check_file, entry_range
from heplearn.data.formats._root import check_branches, open_tree
from heplearn.data.table import flatten_events, from_constituents, validate_jet_table
from heplearn.errors import FormatError, InputFileError
from heplearn.physics import kinematics as kin

__all__ = [
    "DELPHES_TREE",
    "DELPHES_CONSTITUENTS",
    "read_delphes_events",
    "read_delphes",
    "iter_delphes",
    "count_delphes",
    "is_delphes",
    "event_ranges",
]

DELPHES_TREE = "Delphes"
DELPHES_CONSTITUENTS = ("EFlowTrack", "EFlowPhoton", "EFlowNeutralHadron")
_PION_MASS = 0.13957039  # GeV
_OBJECT_BITS = 24  # TProcessID object numbers live in the low 24 bits of fUniqueID
_NEUTRAL_PID = {"EFlowPhoton": 22, "Photon": 22, "EFlowNeutralHadron": 130}
_JET_EXTRA = {"Flavor": "truth_flavor", "BTag": "btag", "Charge": "charge"}


def _b(collection: str, leaf: str) -> str:
    return f"{collection}/{collection}.{leaf}"


def is_delphes(path: str | os.PathLike) -> bool:
    """True when ``path`` is a ROOT file with a ``Delphes`` tree holding a ``Jet`` branch."""
    try:
        with open_tree(Path(path), DELPHES_TREE) as t:
            return "Jet" in t.keys(recursive=False)
    except (FormatError, InputFileError, OSError):
        return False


def count_delphes(path: str | os.PathLike) -> int:
    """Number of events in a Delphes file."""
    with open_tree(check_file(path), DELPHES_TREE) as t:
        return int(t.num_entries)


def _collection_branches(t, collection: str, path: Path, keys: set[str]) -> tuple[str, list[str]]:

    def has(*leaves):
        return all(_b(collection, leaf) in keys for leaf in leaves)

    check_branches(t, [_b(collection, "fUniqueID")], path, DELPHES_TREE, keys)
    if has("Px", "Py", "Pz", "E"):
        kind, leaves = "particle", ["Px", "Py", "Pz", "E", "PID", "Charge"]
    elif has("ET", "Eta", "Phi", "E"):
        kind, leaves = "tower", ["ET", "Eta", "Phi", "E"]
    elif has("PT", "Eta", "Phi"):
        kind, leaves = "track", ["PT", "Eta", "Phi", "Mass", "PID", "Charge"]
    else:
        raise FormatError(
            f"{path}: collection {collection!r} has neither (Px, Py, Pz, E), (ET, Eta, Phi, E) "
            "nor (PT, Eta, Phi) leaves; cannot build constituent four-momenta from it"
        )
    leaves = [leaf for leaf in leaves if has(leaf)]
    return kind, [_b(collection, "fUniqueID")] + [_b(collection, leaf) for leaf in leaves]


def _candidates(arrays: dict, collection: str, kind: str) -> dict[str, np.ndarray]:
    """Flat per-candidate arrays of one collection, with their event index."""

    def get(leaf, default=None):
        name = _b(collection, leaf)
        if name not in arrays:
            return default
        return ak.to_numpy(ak.flatten(arrays[name])).astype(np.float64)

    uid = arrays[_b(collection, "fUniqueID")]
    counts = ak.to_numpy(ak.num(uid, axis=1))
    n = int(counts.sum())
    out = {
        "event": np.repeat(np.arange(len(counts)), counts),
        "number": ak.to_numpy(ak.flatten(uid)).astype(np.int64) & ((1 << _OBJECT_BITS) - 1),
    }
    if kind == "particle":
        px, py, pz, E = get("Px"), get("Py"), get("Pz"), get("E")
    elif kind == "tower":
        et, eta_, phi_ = get("ET"), get("Eta"), get("Phi")
        px, py, pz, E = et * np.cos(phi_), et * np.sin(phi_), et * np.sinh(eta_), get("E")
    else:
        mass = get("Mass", np.full(n, _PION_MASS))
        pt_, eta_ = get("PT"), get("Eta")
        # Delphes writes tracks it could not measure with PT = 0 and Eta = ±1000 (sinh
        # overflows): give them a null four-vector instead of inf/NaN.
        null = pt_ == 0
        eta_ = np.where(null, 0.0, eta_)
        px, py, pz, E = kin.ptetaphim_to_pxpypze(pt_, eta_, get("Phi"), mass)
        E = np.where(null, 0.0, E)
    out.update(px=px, py=py, pz=pz, E=E)
    charge = get("Charge", np.zeros(n))
    pid = get("PID", np.full(n, _NEUTRAL_PID.get(collection, 0), dtype=np.float64))
    out["charge"] = np.rint(charge).astype(np.int8)
    out["pid"] = np.rint(pid).astype(np.int32)
    return out


def _events(
    t,
    path: Path,
    start: int,
    stop: int,
    jets: str,
    constituents: Sequence[str],
    max_constituents: int | None,
    label: int,
) -> ak.Array:
    source = f"{path} (events {start}..{stop})"
    keys = set(t.keys())
    check_branches(
        t,
        [_b(jets, leaf) for leaf in ("PT", "Eta", "Phi", "Mass", "Constituents")],
        path,
        DELPHES_TREE,
        keys,
    )
    kinds = {c: _collection_branches(t, c, path, keys) for c in constituents}
    jet_leaves = ["PT", "Eta", "Phi", "Mass", "Constituents"]
    jet_leaves += [leaf for leaf in _JET_EXTRA if _b(jets, leaf) in keys]
    names = [_b(jets, leaf) for leaf in jet_leaves]
    for _, branches in kinds.values():
        names += branches
    event_leaves = [b for b in ("Event/Event.Weight", "Event/Event.Number") if b in keys]
    arrays = t.arrays(names + event_leaves, entry_start=start, entry_stop=stop, how=dict)

    # All candidates of the constituent collections, sorted by (event, object number).
    parts = [_candidates(arrays, c, kind) for c, (kind, _) in kinds.items()]
    cand = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    cand_key = (cand["event"] << _OBJECT_BITS) | cand["number"]
    order = np.argsort(cand_key, kind="stable")
    cand = {k: v[order] for k, v in cand.items()}
    cand_key = cand_key[order]
    if len(cand_key) > 1 and (np.diff(cand_key) == 0).any():
        raise FormatError(
            f"{source}: two candidates of {list(constituents)} share an object number in one "
            "event; the collections overlap (e.g. Tower and EFlowPhoton) — pick one set"
        )

    refs = arrays[_b(jets, "Constituents")].refs  # events * jets * refs
    jets_per_event = ak.to_numpy(ak.num(refs, axis=1))
    refs_per_jet = ak.to_numpy(ak.num(ak.flatten(refs, axis=1), axis=1))
    ref_event = np.repeat(np.repeat(np.arange(len(refs)), jets_per_event), refs_per_jet)
    ref_key = (ref_event << _OBJECT_BITS) | ak.to_numpy(ak.flatten(refs, axis=None)).astype(
        np.int64
    )
    pos = np.searchsorted(cand_key, ref_key)
    pos_c = np.minimum(pos, max(len(cand_key) - 1, 0))
    found = (
        (pos < len(cand_key)) & (cand_key[pos_c] == ref_key)
        if len(cand_key)
        else (np.zeros(len(ref_key), bool))
    )
    if not found.all():
        raise FormatError(
            f"{source}: {int((~found).sum())} of {len(found)} constituent references of "
            f"{jets!r} do not point to candidates of {list(constituents)}; pass "
            "constituents=(...) naming the collections the jets were clustered from"
        )
    if (refs_per_jet == 0).any():
        bad = int(np.argmax(refs_per_jet == 0))
        raise FormatError(f"{source}: jet {bad} of {jets!r} has no constituent references")

    def jet_field(leaf):
        return ak.to_numpy(ak.flatten(arrays[_b(jets, leaf)])).astype(np.float64)

    extra = {
        f"delphes_{k}": jet_field(leaf)
        for k, leaf in (("pt", "PT"), ("eta", "Eta"), ("phi", "Phi"), ("mass", "Mass"))
    }
    for leaf, name in _JET_EXTRA.items():
        if _b(jets, leaf) in arrays:
            extra[name] = jet_field(leaf).astype(np.int64)
    table = from_constituents(
        cand["px"][pos],
        cand["py"][pos],
        cand["pz"][pos],
        cand["E"][pos],
        refs_per_jet,
        label=np.full(len(refs_per_jet), label, dtype=np.int64),
        charge=cand["charge"][pos],
        pid=cand["pid"][pos],
        extra=extra,
        max_constituents=max_constituents,
        source=source,
    )
    table = validate_jet_table(table, source=source)
    event = {"jets": ak.unflatten(table, jets_per_event)}
    if "Event/Event.Weight" in arrays:
        w = arrays["Event/Event.Weight"]
        event["weight"] = ak.to_numpy(ak.fill_none(ak.firsts(w), 1.0)).astype(np.float64)
    if "Event/Event.Number" in arrays:
        num = arrays["Event/Event.Number"]
        event["event_number"] = ak.to_numpy(ak.fill_none(ak.firsts(num), -1)).astype(np.int64)
    return ak.zip(event, depth_limit=1)


def read_delphes_events(
    path: str | os.PathLike,
    *,
    start: int | None = None,
    stop: int | None = None,
    jets: str = "Jet",
    constituents: Sequence[str] = DELPHES_CONSTITUENTS,
    max_constituents: int | None = None,
    label: int = 0,
) -> ak.Array:
    """Read events ``[start, stop)`` of a Delphes file as an event table.

    Parameters
    ----------
    path
        Delphes ROOT output (tree ``Delphes``).
    jets
        The jet collection (``Jet``, ``FatJet``, ``ParticleFlowJet08`` ...).
    constituents
        Collections the jets' ``Constituents`` references point to (see the module doc).
    max_constituents
        Keep only the hardest constituents of each jet.
    label
        Class index given to every jet (Delphes files carry no class; one file per process).

    Returns
    -------
    ak.Array
        One record per event: ``jets`` (jagged jet records of the jet-table contract, with
        ``delphes_pt/eta/phi/mass`` and, when stored, ``truth_flavor``, ``btag``, ``charge``),
        ``weight`` (``Event.Weight``) and ``event_number`` (``Event.Number``).

    References
    ----------
    arXiv:1307.6346 (DELPHES 3).
    """
    path = check_file(path)
    with open_tree(path, DELPHES_TREE) as t:
        lo, hi = entry_range(t.num_entries, start, stop, path)
        return _events(t, path, lo, hi, jets, tuple(constituents), max_constituents, label)


def _flat(events: ak.Array, offset: int) -> ak.Array:
    fields = tuple(f for f in ("weight",) if f in events.fields)
    table = flatten_events(events, event_fields=fields)
    return ak.with_field(table, table["event"] + offset, "event")


def iter_delphes(
    path: str | os.PathLike,
    *,
    chunk_size: int = 100_000,
    start: int | None = None,
    stop: int | None = None,
    jets: str = "Jet",
    constituents: Sequence[str] = DELPHES_CONSTITUENTS,
    max_constituents: int | None = None,
    label: int = 0,
) -> Iterator[ak.Array]:
    """Yield flat jet tables of whole events, about ``chunk_size`` jets each
    (:func:`event_ranges`); events without jets yield nothing.

    Each jet carries ``event`` (index of its event in the file) and ``weight``. See
    :func:`read_delphes_events` for the parameters.

    References
    ----------
    arXiv:1307.6346 (DELPHES 3).
    """
    path = check_file(path)
    with open_tree(path, DELPHES_TREE) as t:
        check_branches(t, [f"{jets}_size"], path, DELPHES_TREE)
        lo, hi = entry_range(t.num_entries, start, stop, path)
        sizes = t[f"{jets}_size"].array(entry_start=lo, entry_stop=hi, library="np")
        for a, b in event_ranges(sizes, chunk_size):
            events = _events(
                t, path, lo + a, lo + b, jets, tuple(constituents), max_constituents, label
            )
            yield _flat(events, lo + a)


def event_ranges(jets_per_event: np.ndarray, chunk_size: int) -> list[tuple[int, int]]:
    """Split events into consecutive ``[a, b)`` ranges of about ``chunk_size`` jets.

    An event goes to range ``k`` when the number of jets before it lies in
    ``[k·chunk_size, (k+1)·chunk_size)``, so a range holds fewer than ``chunk_size`` plus one
    event's jets. Ranges without jets are left out.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    sizes = np.asarray(jets_per_event, dtype=np.int64)
    if len(sizes) == 0:
        return []
    before = np.cumsum(sizes) - sizes
    cuts = np.flatnonzero(np.diff(before // chunk_size)) + 1
    starts = np.concatenate([[0], cuts])
    stops = np.concatenate([cuts, [len(sizes)]])
    jets = np.add.reduceat(sizes, starts)
    return [(int(a), int(b)) for a, b, n in zip(starts, stops, jets, strict=True) if n > 0]


def read_delphes(
    path: str | os.PathLike,
    *,
    start: int | None = None,
    stop: int | None = None,
    jets: str = "Jet",
    constituents: Sequence[str] = DELPHES_CONSTITUENTS,
    max_constituents: int | None = None,
    label: int = 0,
) -> ak.Array:
    """Flat jet table of events ``[start, stop)``: :func:`heplearn.data.table.flatten_events`
    of :func:`read_delphes_events`, with ``event`` and ``weight`` per jet.

    References
    ----------
    arXiv:1307.6346 (DELPHES 3).
    """
    path = check_file(path)
    with open_tree(path, DELPHES_TREE) as t:
        lo, hi = entry_range(t.num_entries, start, stop, path)
        events = _events(t, path, lo, hi, jets, tuple(constituents), max_constituents, label)
    return _flat(events, lo)
