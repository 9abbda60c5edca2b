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

__all__ = ["cluster_events", "select_jets", "select_dimuons", "ranges"]

_ALGORITHMS = {
    "antikt": "antikt_algorithm",
    "kt": "kt_algorithm",
    "cambridge": "cambridge_algorithm",
}


def cluster_events(cands: dict[str, np.ndarray], n_events: int, jet_def: JetDefinition):
    """Cluster the candidates of ``n_events`` events with FastJet.

    Returns a dict of flat per-jet arrays: ``event``, ``rank`` (0 = hardest jet of its
    event), ``px, py, pz, E``, ``n_constituents``, and ``constituents``: the flat indices of
    each jet's constituents into the candidate arrays, jet after jet.
    """
    import fastjet

    counts = np.bincount(cands["event"], minlength=n_events)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    events = ak.zip(
        {k: ak.unflatten(cands[k].astype(np.float64), counts) for k in ("px", "py", "pz", "E")}
    )
    jd = fastjet.JetDefinition(getattr(fastjet, _ALGORITHMS[jet_def.algorithm]), jet_def.R)
    cs = fastjet.ClusterSequence(events, jd)
    jets = cs.inclusive_jets(min_pt=jet_def.pt_min)
    index = cs.constituent_index(min_pt=jet_def.pt_min)

    n_jets = ak.to_numpy(ak.num(jets, axis=1))
    event = np.repeat(np.arange(n_events), n_jets)
    flat = {k: ak.to_numpy(ak.flatten(jets[k])) for k in ("px", "py", "pz", "E")}
    n_const = ak.to_numpy(ak.flatten(ak.num(index, axis=2)))
    local = ak.to_numpy(ak.flatten(index, axis=None))
    # order jets by event, then decreasing pT
    order = np.lexsort((-kin.pt(flat["px"], flat["py"]), event))
    starts = (np.cumsum(n_const) - n_const)[order]
    take = ranges(starts, n_const[order])
    global_index = local + np.repeat(offsets[event], n_const)
    first = np.concatenate([[0], np.cumsum(n_jets)[:-1]])
    return {
        "event": event,  # already sorted, the lexsort keeps it so
        "rank": np.arange(len(event)) - np.repeat(first, n_jets),
        **{k: v[order] for k, v in flat.items()},
        "n_constituents": n_const[order],
        "constituents": global_index[take],
    }


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + n)`` for each (s, n), vectorised."""
    shift = starts - (np.cumsum(lengths) - lengths)
    return np.arange(int(lengths.sum())) + np.repeat(shift, lengths)


def _passes(sel: Selection, px, py, pz, E):
    pt = kin.pt(px, py)
    ok = pt > sel.pt_min
    if sel.pt_max is not None:
        ok &= pt < sel.pt_max
    if sel.abs_eta_max is not None:
        ok &= np.abs(kin.eta(px, py, pz)) < sel.abs_eta_max
    if sel.abs_rapidity_max is not None:
        ok &= np.abs(kin.rapidity(pz, E)) < sel.abs_rapidity_max
    return ok


def select_jets(jets: dict[str, np.ndarray], n_events: int, sel: Selection) -> dict:
    """Apply the selection (see :class:`~heplearn.simulate.cards.Selection`) to the output
    of :func:`cluster_events`; same keys, plus ``mjj`` in ``dijet`` mode."""
    passes = _passes(sel, jets["px"], jets["py"], jets["pz"], jets["E"])
    if sel.mode == "all":
        keep = passes
    else:
        need = 1 if sel.mode == "leading" else 2
        n_jets = np.bincount(jets["event"], minlength=n_events)
        lead_ok = np.zeros(n_events, dtype=bool)
        lead = jets["rank"] == 0
        lead_ok[jets["event"][lead]] = passes[lead]
        keep = (jets["rank"] < need) & lead_ok[jets["event"]] & (n_jets[jets["event"]] >= need)
    starts = np.cumsum(jets["n_constituents"]) - jets["n_constituents"]
    out = {k: v[keep] for k, v in jets.items() if k != "constituents"}
    out["constituents"] = jets["constituents"][ranges(starts[keep], out["n_constituents"])]
    if sel.mode == "dijet":
        pair = {
            k: np.bincount(out["event"], weights=out[k], minlength=n_events)
            for k in ("px", "py", "pz", "E")
        }
        out["mjj"] = kin.mass(pair["px"], pair["py"], pair["pz"], pair["E"])[out["event"]]
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
