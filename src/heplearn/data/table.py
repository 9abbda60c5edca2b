"""The jet table: the one contract every reader, generator and representation shares.

A jet table is an ``awkward.Array`` with one record per jet::

    pt, eta, phi, mass      float64  jet four-momentum (GeV, radians; φ in (−π, π])
    label                   int64    class index (0 = background, 1 = signal for binary sets)
    weight                  float64  optional per-jet event weight
    truth_*                 optional truth fields (e.g. truth_pt, parton_pid)
    constituents            jagged records, pT-ordered (hardest first):
        px, py, pz, E       float32  GeV
        charge              int8     electric charge (0 for neutral or unknown)
        pid                 int32    PDG id (0 when unknown)
        vertex              int32    0 = primary interaction, k > 0 = k-th pileup vertex

An event table (dijet resonances, Z+jets) has one record per event with a jagged ``jets``
field of such records; :func:`flatten_events` gives its jet table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import awkward as ak
import numpy as np

from heplearn.errors import InvalidJetTable
from heplearn.physics import kinematics as kin

__all__ = [
    "JET_FIELDS",
    "CONSTITUENT_FIELDS",
    "CONSTITUENT_DTYPES",
    "from_constituents",
    "validate_jet_table",
    "flatten_events",
    "class_counts",
]

JET_FIELDS = ("pt", "eta", "phi", "mass", "label")
CONSTITUENT_FIELDS = ("px", "py", "pz", "E", "charge", "pid", "vertex")
CONSTITUENT_DTYPES = {
    "px": np.float32,
    "py": np.float32,
    "pz": np.float32,
    "E": np.float32,
    "charge": np.int8,
    "pid": np.int32,
    "vertex": np.int32,
}


def _jagged(values, counts: np.ndarray, dtype) -> ak.Array:
    flat = np.ascontiguousarray(np.asarray(values, dtype=dtype).reshape(-1))
    return ak.unflatten(flat, counts)


def from_constituents(
    px,
    py,
    pz,
    E,
    counts=None,
    *,
    label=None,
    charge=None,
    pid=None,
    vertex=None,
    extra: Mapping[str, Any] | None = None,
    max_constituents: int | None = None,
    source: str = "input",
) -> ak.Array:
    """Build a jet table from constituent four-momenta.

    The jet four-momentum is the sum of its constituents (E-scheme recombination, as in
    FastJet's default), constituents are sorted by decreasing pT and optionally truncated
    to the hardest ``max_constituents``.

    Parameters
    ----------
    px, py, pz, E
        Either jagged awkward arrays ``(jets, var)`` (then ``counts`` is None), or flat
        arrays of all constituents with ``counts`` giving the number per jet.
    label
        ``(jets,)`` integer class per jet; defaults to 0.
    charge, pid, vertex
        Same structure as ``px``; default 0.
    extra
        Further per-jet fields (``(jets,)`` arrays), e.g. ``weight`` or ``truth_pt``.
    source
        Named in error messages (a file name or a process name).
    """
    if counts is None:
        counts = ak.to_numpy(ak.num(px, axis=1))
        flat = [
            ak.to_numpy(ak.flatten(x)) if x is not None else None
            for x in (px, py, pz, E, charge, pid, vertex)
        ]
    else:
        counts = np.asarray(counts, dtype=np.int64)
        flat = [
            np.asarray(x).reshape(-1) if x is not None else None
            for x in (px, py, pz, E, charge, pid, vertex)
        ]
    n_total = int(counts.sum())
    fields = {}
    for name, values in zip(CONSTITUENT_FIELDS, flat, strict=True):
        if values is None:
            values = np.zeros(n_total, dtype=CONSTITUENT_DTYPES[name])
        if len(values) != n_total:
            raise InvalidJetTable(
                f"{source}: constituent field {name!r} has {len(values)} entries, "
                f"expected {n_total} (the sum of the per-jet counts)"
            )
        fields[name] = np.asarray(values)

    # pT ordering (hardest first) within each jet; inputs that are already ordered (most
    # files are) skip the sort, others use awkward's per-list argsort (exact, vectorised).
    pt_flat = kin.pt(fields["px"], fields["py"])
    starts_flat = np.cumsum(counts) - counts
    same_jet = np.ones(n_total, dtype=bool)
    same_jet[starts_flat[counts > 0]] = False
    if n_total and np.any(same_jet[1:] & (np.diff(pt_flat) > 0)):
        local = ak.argsort(ak.unflatten(pt_flat, counts), axis=1, ascending=False, stable=True)
        order = ak.to_numpy(ak.flatten(local)) + np.repeat(starts_flat, counts)
        fields = {k: v[order] for k, v in fields.items()}
    if max_constituents is not None:
        start = np.repeat(np.cumsum(counts) - counts, counts)
        keep = (np.arange(n_total) - start) < max_constituents
        fields = {k: v[keep] for k, v in fields.items()}
        counts = np.minimum(counts, max_constituents)

    constituents = ak.zip({k: _jagged(v, counts, CONSTITUENT_DTYPES[k]) for k, v in fields.items()})
    # Jet four-momentum in float64 from the stored (float32) constituents.
    sums = {
        k: ak.to_numpy(ak.sum(ak.values_astype(constituents[k], np.float64), axis=1))
        for k in ("px", "py", "pz", "E")
    }
    jet = {
        "pt": kin.pt(sums["px"], sums["py"]),
        "eta": kin.eta(sums["px"], sums["py"], sums["pz"]),
        "phi": kin.phi(sums["px"], sums["py"]),
        "mass": kin.mass(sums["px"], sums["py"], sums["pz"], sums["E"]),
        "label": (
            np.zeros(len(counts), np.int64) if label is None else np.asarray(label).astype(np.int64)
        ),
    }
    if len(jet["label"]) != len(counts):
        raise InvalidJetTable(
            f"{source}: 'label' has {len(jet['label'])} entries for {len(counts)} jets"
        )
    for key, value in (extra or {}).items():
        value = np.asarray(value)
        if len(value) != len(counts):
            raise InvalidJetTable(
                f"{source}: field {key!r} has {len(value)} entries for {len(counts)} jets"
            )
        jet[key] = value
    jet["constituents"] = constituents
    return ak.zip(jet, depth_limit=1)


def validate_jet_table(table: ak.Array, source: str = "jet table") -> ak.Array:
    """Check a jet table against the contract and return it unchanged.

    Raises :class:`~heplearn.errors.InvalidJetTable` naming ``source`` and the field when a
    required field is missing, a constituent has a NaN/inf component or negative energy,
    or a jet has no constituents.
    """
    if not isinstance(table, ak.Array) or table.fields == []:
        raise InvalidJetTable(f"{source}: expected an awkward Array of jet records")
    missing = [f for f in (*JET_FIELDS, "constituents") if f not in table.fields]
    if missing:
        raise InvalidJetTable(
            f"{source}: missing jet field(s) {missing}; a jet table needs {list(JET_FIELDS)} "
            "and 'constituents'"
        )
    cons = table["constituents"]
    missing = [f for f in ("px", "py", "pz", "E") if f not in cons.fields]
    if missing:
        raise InvalidJetTable(f"{source}: 'constituents' lacks field(s) {missing}")
    counts = ak.to_numpy(ak.num(cons, axis=1))
    if len(counts) and counts.min() == 0:
        bad = int(np.argmin(counts))
        raise InvalidJetTable(f"{source}: jet {bad} has no constituents")
    for name in ("px", "py", "pz", "E"):
        flat = ak.to_numpy(ak.flatten(cons[name]))
        finite = np.isfinite(flat)
        if not finite.all():
            jet = int(np.searchsorted(np.cumsum(counts), np.argmin(finite), side="right"))
            raise InvalidJetTable(f"{source}: constituent field {name!r} has NaN/inf in jet {jet}")
    energy = ak.to_numpy(ak.flatten(cons["E"]))
    if (energy < 0).any():
        jet = int(np.searchsorted(np.cumsum(counts), np.argmax(energy < 0), side="right"))
        raise InvalidJetTable(f"{source}: constituent field 'E' is negative in jet {jet}")
    for name in ("pt", "eta", "phi", "mass"):
        if not np.isfinite(ak.to_numpy(table[name])).all():
            raise InvalidJetTable(f"{source}: jet field {name!r} has NaN/inf")
    return table


def flatten_events(events: ak.Array, event_fields: tuple[str, ...] = ()) -> ak.Array:
    """Flat jet table from an event table's jagged ``jets`` field.

    Event-level fields named in ``event_fields`` (e.g. ``weight``) are broadcast to every
    jet of their event, and ``event`` (the event index) is added.
    """
    if "jets" not in events.fields:
        raise InvalidJetTable("event table: missing the jagged 'jets' field")
    jets = events["jets"]
    counts = ak.to_numpy(ak.num(jets, axis=1))
    flat = ak.flatten(jets, axis=1)
    extra = {"event": np.repeat(np.arange(len(events)), counts)}
    for name in event_fields:
        extra[name] = np.repeat(ak.to_numpy(events[name]), counts)
    return ak.zip({**{f: flat[f] for f in flat.fields}, **extra}, depth_limit=1)


def class_counts(table: ak.Array) -> dict[int, int]:
    """Number of jets per label, as ``{label: count}``."""
    labels, counts = np.unique(ak.to_numpy(table["label"]), return_counts=True)
    return {int(k): int(v) for k, v in zip(labels, counts, strict=True)}
