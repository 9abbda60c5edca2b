"""Jet clustering with FastJet's vectorised awkward interface and the card's selection.

Clustering runs on a whole batch of events at once (``fastjet.ClusterSequence`` on a
jagged array, one list per event); FastJet: Cacciari, Salam, Soyez, arXiv:1111.6097;
anti-kT: arXiv:0802.1189.
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from heplearn.physics import kinematics as kin
from heplearn.simulate.cards import JetDefinition, MuonSelection, Selection

__all__ = ["cluster_events", "select_jets", "select_dimuons"]

_ALGORITHMS = {
    "antikt": "antikt_algorithm",
    "kt": "kt_algorithm",
    "cambridge": "cambridge_algorithm",
}


def _jagged(flat: np.ndarray, counts: np.ndarray) -> ak.Array:
    return ak.unflatten(flat, counts)


def cluster_events(cands: dict[str, np.ndarray], n_events: int, jet_def: JetDefinition):
    """Cluster the candidates of ``n_events`` events.

    Returns ``(jets, constituent_index, offsets)``: jagged per-event jets (px, py, pz, E)
    sorted by decreasing pT, the per-jet indices of their constituents (local to the
    event) and the per-event offsets into the flat candidate arrays.
    """
    import fastjet

    counts = np.bincount(cands["event"], minlength=n_events)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    events = ak.zip(
        {k: _jagged(cands[k].astype(np.float64), counts) for k in ("px", "py", "pz", "E")}
    )
    jd = fastjet.JetDefinition(getattr(fastjet, _ALGORITHMS[jet_def.algorithm]), jet_def.R)
    cs = fastjet.ClusterSequence(events, jd)
    jets = cs.inclusive_jets(min_pt=jet_def.pt_min)
    index = cs.constituent_index(min_pt=jet_def.pt_min)
    order = ak.argsort(np.hypot(jets["px"], jets["py"]), axis=1, ascending=False)
    return jets[order], index[order], offsets


def _passes(sel: Selection, px, py, pz, E):
    pt = kin.pt(px, py)
    ok = pt > sel.pt_min
    if sel.pt_max is not None:
        ok = ok & (pt < sel.pt_max)
    if sel.abs_eta_max is not None:
        ok = ok & (np.abs(kin.eta(px, py, pz)) < sel.abs_eta_max)
    if sel.abs_rapidity_max is not None:
        ok = ok & (np.abs(kin.rapidity(pz, E)) < sel.abs_rapidity_max)
    return ok


def select_jets(jets: ak.Array, index: ak.Array, offsets: np.ndarray, sel: Selection):
    """Apply the selection (see :class:`~heplearn.simulate.cards.Selection`).

    Returns flat per-jet arrays ``event, rank`` (0 = hardest of its event), the jet
    four-momenta, ``mjj`` for ``dijet`` mode, and the flat *global* constituent indices with
    their per-jet counts.
    """
    n_jets = ak.num(jets, axis=1)
    comp = {k: jets[k] for k in ("px", "py", "pz", "E")}
    if sel.mode == "all":
        keep = _passes(sel, *comp.values())
    else:
        need = 1 if sel.mode == "leading" else 2
        lead = ak.fill_none(ak.firsts(_passes(sel, *comp.values())), False) & (n_jets >= need)
        rank = ak.local_index(jets["px"], axis=1)
        keep = (rank < need) & lead
    event = ak.to_numpy(ak.flatten(ak.broadcast_arrays(np.arange(len(jets)), jets["px"])[0][keep]))
    rank = ak.to_numpy(ak.flatten(ak.local_index(jets["px"], axis=1)[keep]))
    flat = {k: ak.to_numpy(ak.flatten(v[keep])) for k, v in comp.items()}
    out = {"event": event, "rank": rank, **flat}
    if sel.mode == "dijet":
        pair = {k: ak.to_numpy(ak.sum(v[keep], axis=1)) for k, v in comp.items()}
        mjj = kin.mass(pair["px"], pair["py"], pair["pz"], pair["E"])
        out["mjj"] = mjj[event]
    idx = index[keep]
    n_const = ak.to_numpy(ak.flatten(ak.num(idx, axis=2)))
    local = ak.to_numpy(ak.flatten(idx, axis=None))
    out["constituents"] = local + np.repeat(offsets[event], n_const)
    out["n_constituents"] = n_const
    return out


def select_dimuons(cands: dict[str, np.ndarray], n_events: int, sel: MuonSelection):
    """The two hardest muons of each event if they pass the cuts and have opposite
    charges. Returns ``(has_pair (n_events,), dimuon four-momentum per event,
    is_pair_muon (n_candidates,) mask)``."""
    pt = kin.pt(cands["px"], cands["py"])
    is_mu = (
        (np.abs(cands["pid"]) == 13)
        & (pt > sel.pt_min)
        & (np.abs(kin.eta(cands["px"], cands["py"], cands["pz"])) < sel.abs_eta_max)
    )
    mu = np.flatnonzero(is_mu)
    order = mu[np.lexsort((-pt[mu], cands["event"][mu]))]
    ev = cands["event"][order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = ev[1:] != ev[:-1]
    rank = np.arange(len(order)) - np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    lead = order[rank < 2]
    n_mu = np.bincount(cands["event"][lead], minlength=n_events)
    q = np.bincount(cands["event"][lead], weights=cands["charge"][lead], minlength=n_events)
    has_pair = (n_mu == 2) & (q == 0)
    in_pair = np.zeros(len(pt), dtype=bool)
    in_pair[lead[has_pair[cands["event"][lead]]]] = True
    four = {
        k: np.bincount(cands["event"][in_pair], weights=cands[k][in_pair], minlength=n_events)
        for k in ("px", "py", "pz", "E")
    }
    return has_pair, four, in_pair
