"""Parton-level truth from the Pythia event record, vectorised over events.

Two facts are extracted per event:

* decaying resonances (e.g. top, W) with the quarks of their decay chain, for the
  truth matching of the Top Quark Tagging Reference Dataset (Kasieczka et al.,
  arXiv:1902.09914): a jet is matched to a resonance when the resonance and all its decay
  quarks lie within ΔR < R of the jet axis;
* the outgoing partons of the hard process (status ±23 with an incoming-parton mother),
  for the quark/gluon origin of a jet.

Pythia status codes (Pythia 8 manual, "Particle Properties"): 21 incoming and 23 outgoing
of the hardest process (resonance decay products are also 23), negative once the entry has
been branched or decayed.
"""

from __future__ import annotations

import numpy as np

from heplearn.physics import kinematics as kin

__all__ = ["resonance_decays", "hard_partons", "match_jets"]

_MAX_CHAIN = 64


def resonance_decays(record: dict[str, np.ndarray], pid: int) -> dict[str, np.ndarray]:
    """Resonances of |PDG id| ``pid`` and the decay quarks that descend from them.

    ``record`` is :attr:`heplearn.simulate.pythia.EventBatch.record`. Every quark
    (|id| ≤ 5) with |status| = 23 is followed up its ``mother1`` chain (a
    vectorised walk over all events at once) to the nearest ancestor with |id| = ``pid``;
    that ancestor is the last copy of the resonance before its decay. For t → b W,
    W → q q' this collects b, q and q' under the top.

    Returns flat arrays: resonances ``res_event, res_index, res_eta, res_phi`` and quarks
    ``q_event, q_owner`` (position in the resonance arrays), ``q_eta, q_phi``.
    """
    f, offsets = record, record["offsets"]
    is_quark = (np.abs(f["id"]) <= 5) & (np.abs(f["id"]) >= 1) & (np.abs(f["status"]) == 23)
    cand = np.flatnonzero(is_quark)
    owner_global = np.full(len(cand), -1)
    cur = cand.copy()
    active = np.ones(len(cand), dtype=bool)
    for _ in range(_MAX_CHAIN):
        mother_local = f["mother1"][cur]
        has_mother = active & (mother_local > 0)
        cur = np.where(has_mother, offsets[f["event"][cur]] + mother_local, cur)
        found = has_mother & (np.abs(f["id"][cur]) == pid)
        owner_global[found] = cur[found]
        active &= has_mother & ~found
        if not active.any():
            break
    keep = owner_global >= 0
    cand, owner_global = cand[keep], owner_global[keep]
    res_global, q_owner = np.unique(owner_global, return_inverse=True)

    def direction(idx):
        px, py, pz = f["px"][idx], f["py"][idx], f["pz"][idx]
        return kin.rapidity(pz, f["E"][idx]), kin.phi(px, py)

    res_y, res_phi = direction(res_global)
    q_y, q_phi = direction(cand)
    return {
        "res_event": f["event"][res_global],
        "res_eta": res_y,
        "res_phi": res_phi,
        "q_event": f["event"][cand],
        "q_owner": q_owner,
        "q_eta": q_y,
        "q_phi": q_phi,
    }


def hard_partons(record: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Outgoing partons (quarks, including top, or gluons) of the hardest process:
    |status| = 22 or 23 whose mother is an incoming parton (|status| = 21).

    Flat arrays ``event, pid, eta, phi`` (``eta`` is the rapidity)."""
    f, offsets = record, record["offsets"]
    abs_id = np.abs(f["id"])
    parton = ((abs_id <= 6) & (abs_id >= 1)) | (abs_id == 21)
    mother = offsets[f["event"]] + np.maximum(f["mother1"], 0)
    status = np.abs(f["status"])
    sel = parton & ((status == 22) | (status == 23)) & (np.abs(f["status"][mother]) == 21)
    idx = np.flatnonzero(sel)
    return {
        "event": f["event"][idx],
        "pid": f["id"][idx].astype(np.int32),
        "eta": kin.rapidity(f["pz"][idx], f["E"][idx]),
        "phi": kin.phi(f["px"][idx], f["py"][idx]),
    }


def match_jets(
    jet_event: np.ndarray,
    jet_y: np.ndarray,
    jet_phi: np.ndarray,
    decays: dict[str, np.ndarray],
    max_dr: float,
) -> np.ndarray:
    """For each jet, whether some resonance of its event and all of that resonance's decay
    quarks lie within ``max_dr`` of the jet axis (ΔR in rapidity–azimuth).

    ``jet_event`` gives each jet's event index; the arrays may hold several jets per event.
    """
    n_res = len(decays["res_event"])
    matched = np.zeros(len(jet_event), dtype=bool)
    if n_res == 0 or len(jet_event) == 0:
        return matched
    # all (jet, resonance) pairs of the same event
    res_order = np.argsort(decays["res_event"], kind="stable")
    res_sorted_event = decays["res_event"][res_order]
    lo = np.searchsorted(res_sorted_event, jet_event, side="left")
    hi = np.searchsorted(res_sorted_event, jet_event, side="right")
    n_pairs = hi - lo
    pair_jet = np.repeat(np.arange(len(jet_event)), n_pairs)
    start = np.repeat(lo - np.cumsum(n_pairs) + n_pairs, n_pairs)
    pair_res = res_order[np.arange(len(pair_jet)) + start]
    ok = (
        kin.delta_r(
            jet_y[pair_jet],
            jet_phi[pair_jet],
            decays["res_eta"][pair_res],
            decays["res_phi"][pair_res],
        )
        < max_dr
    )
    # every quark of the pair's resonance within max_dr of the pair's jet
    q_order = np.argsort(decays["q_owner"], kind="stable")
    q_sorted_owner = decays["q_owner"][q_order]
    qlo = np.searchsorted(q_sorted_owner, pair_res, side="left")
    qhi = np.searchsorted(q_sorted_owner, pair_res, side="right")
    n_q = qhi - qlo
    q_pair = np.repeat(np.arange(len(pair_res)), n_q)
    q_idx = q_order[np.arange(len(q_pair)) + np.repeat(qlo - np.cumsum(n_q) + n_q, n_q)]
    q_dr = kin.delta_r(
        jet_y[pair_jet[q_pair]],
        jet_phi[pair_jet[q_pair]],
        decays["q_eta"][q_idx],
        decays["q_phi"][q_idx],
    )
    far = np.bincount(q_pair, weights=(q_dr >= max_dr), minlength=len(pair_res)) > 0
    ok &= ~far & (n_q > 0)
    np.logical_or.at(matched, pair_jet[ok], True)
    return matched
