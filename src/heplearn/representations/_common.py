"""Shared machinery: a flat, pT-ordered view of a jet table's constituents, and padding.

Every representation starts from the same place: all constituents of all jets concatenated
into flat NumPy arrays plus per-jet counts (no per-jet Python loop anywhere). Padding to
``(jets, P, ...)`` is one boolean-mask assignment per column (kept constituents are in
jet, position order, the order in which the mask visits the padded array).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import awkward as ak
import numpy as np

from heplearn.errors import InvalidJetTable
from heplearn.physics import kinematics as kin

__all__ = ["FlatConstituents", "ORDER_RTOL"]

#: Relative pT tolerance of the ordering check (float32 rounding of stored components).
ORDER_RTOL = 1e-6

_MOMENTUM = ("px", "py", "pz", "E")


def _flat_field(constituents: ak.Array, name: str, source: str) -> np.ndarray:
    if name not in constituents.fields:
        raise InvalidJetTable(
            f"{source}: 'constituents' lacks field {name!r} (it has {constituents.fields})"
        )
    flat = ak.to_numpy(ak.flatten(constituents[name], axis=1), allow_missing=False)
    return np.asarray(flat)


def _constituents_of(table: ak.Array, source: str) -> ak.Array:
    if not isinstance(table, ak.Array) or "constituents" not in (table.fields or []):
        raise InvalidJetTable(
            f"{source}: expected a jet table (awkward Array of jet records with a jagged "
            f"'constituents' field), got {type(table).__name__}"
        )
    return table["constituents"]


class FlatConstituents:
    """Flat view of the (pT-ordered, optionally truncated) constituents of a jet table.

    Attributes hold one entry per *kept* constituent, jets concatenated in order:
    ``px, py, pz, E`` (float32), ``pt, eta, phi`` (float32, computed lazily),
    ``jet_index`` and ``position`` (index of the jet and rank of the constituent in it,
    0 = hardest). Per-jet arrays ``jet_pt, jet_eta, jet_phi, jet_E`` (float64, shape
    ``(jets,)``) are the table's jet fields when present, else the E-scheme sum of *all*
    constituents (before truncation). ``counts`` is the number of kept constituents per jet.

    Constituents are re-sorted by decreasing pT (stable, per jet) only when the table breaks
    the contract's ordering by more than a relative :data:`ORDER_RTOL` between neighbours
    (one vectorised comparison); swaps of near-equal pT within float32 rounding are left.

    This object is what a registered particle-cloud feature receives (see
    :func:`heplearn.representations.register_feature`).
    """

    def __init__(
        self, table: ak.Array, max_particles: int | None = None, source: str = "jet table"
    ) -> None:
        if max_particles is not None and max_particles < 1:
            raise ValueError(f"max_particles must be >= 1, got {max_particles}")
        self.source = source
        self._memo: dict = {}
        self._constituents = _constituents_of(table, source)
        counts = ak.to_numpy(ak.num(self._constituents, axis=1)).astype(np.int64)
        self.n_jets = len(counts)
        self.max_particles = max_particles
        raw = {k: _flat_field(self._constituents, k, source) for k in _MOMENTUM}
        raw = {k: v.astype(np.float32, copy=False) for k, v in raw.items()}
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        n_total = int(offsets[-1])
        jet_index = np.repeat(np.arange(self.n_jets, dtype=np.int64), counts)
        pt_all = kin.pt(raw["px"], raw["py"])

        # Contract says hardest first; check it (O(M)) and sort only a table that breaks it.
        # pT recomputed from float32 components can swap near-equal neighbours: tolerate
        # that rounding (ORDER_RTOL) rather than pay for a sort that changes nothing.
        order = None
        if n_total > 1:
            rising = pt_all[1:] > pt_all[:-1] * np.float32(1.0 + ORDER_RTOL)
            rising &= jet_index[1:] == jet_index[:-1]  # jet boundaries do not count
            if rising.any():
                # per-jet stable sort in awkward's C++ kernels (~10x faster than np.lexsort)
                local = ak.argsort(
                    ak.unflatten(pt_all, counts), axis=1, ascending=False, stable=True
                )
                order = ak.to_numpy(ak.flatten(local, axis=1)) + np.repeat(offsets[:-1], counts)

        self._jet_axis(table, raw, jet_index)

        position = np.arange(n_total, dtype=np.int64) - np.repeat(offsets[:-1], counts)
        take = order
        if max_particles is not None and counts.size and counts.max() > max_particles:
            keep = np.flatnonzero(position < max_particles)
            take = keep if order is None else order[keep]
            position = position[keep]
            jet_index = jet_index[keep]
            counts = np.minimum(counts, max_particles)
        self._take = take
        self.counts = counts
        self.jet_index = jet_index
        self.position = position
        for k, v in raw.items():
            setattr(self, k, v if take is None else v[take])
        if take is None:
            self.pt = pt_all

    def _jet_axis(self, table: ak.Array, raw: dict, jet_index: np.ndarray) -> None:
        fields = table.fields
        if all(f in fields for f in ("pt", "eta", "phi")):
            self.jet_pt = ak.to_numpy(table["pt"]).astype(np.float64)
            self.jet_eta = ak.to_numpy(table["eta"]).astype(np.float64)
            self.jet_phi = ak.to_numpy(table["phi"]).astype(np.float64)
            if "mass" in fields:
                m = ak.to_numpy(table["mass"]).astype(np.float64)
                self.jet_E = kin.ptetaphim_to_pxpypze(self.jet_pt, self.jet_eta, 0.0, m)[3]
                return
        sums = [np.bincount(jet_index, weights=raw[k], minlength=self.n_jets) for k in _MOMENTUM]
        if not all(f in fields for f in ("pt", "eta", "phi")):
            self.jet_pt = kin.pt(sums[0], sums[1])
            self.jet_eta = kin.eta(sums[0], sums[1], sums[2])
            self.jet_phi = kin.phi(sums[0], sums[1])
        self.jet_E = sums[3]

    # -- lazily computed per-constituent quantities ---------------------------------------
    @cached_property
    def pt(self) -> np.ndarray:  # set directly in __init__ when already known
        return kin.pt(self.px, self.py)

    @cached_property
    def eta(self) -> np.ndarray:
        return kin.eta(self.px, self.py, self.pz)

    @cached_property
    def phi(self) -> np.ndarray:
        return kin.phi(self.px, self.py)

    def memo(self, key: str, compute):
        """``compute()`` once per key and object: features that share a term reuse it."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def per_constituent(self, jet_values: np.ndarray) -> np.ndarray:
        """Broadcast a ``(jets,)`` array to the kept constituents (float32)."""
        return np.asarray(jet_values, dtype=np.float32)[self.jet_index]

    def field(self, name: str) -> np.ndarray:
        """Another constituent field (e.g. ``charge``, ``pid``), flat, in the same order."""
        values = _flat_field(self._constituents, name, self.source)
        return values if self._take is None else values[self._take]

    # -- padding --------------------------------------------------------------------------
    def pad(self, columns: Sequence[np.ndarray], dtype=np.float32) -> np.ndarray:
        """Stack flat ``columns`` into a zero-padded ``(jets, P, len(columns))`` array."""
        if self.max_particles is None:
            raise ValueError("padding needs max_particles")
        out = np.zeros((self.n_jets, self.max_particles, len(columns)), dtype=dtype)
        mask = self.mask()
        # kept constituents are contiguous and in jet/position order, exactly the order in
        # which a boolean mask visits the padded array (measured faster than a fancy scatter)
        for k, column in enumerate(columns):
            out[..., k][mask] = column
        return out

    def mask(self) -> np.ndarray:
        """``(jets, P)`` bool, True for real constituents."""
        if self.max_particles is None:
            raise ValueError("padding needs max_particles")
        return np.arange(self.max_particles) < self.counts[:, None]
