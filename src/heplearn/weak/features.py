"""Per-event features of a dijet search, built from a jet table of two jets per event.

The LHC Olympics 2020 R&D features (Kasieczka et al., arXiv:2101.08320), chosen to be
little correlated with m_jj so that a classifier of signal region against sidebands does
not learn m_jj itself (Collins, Howe, Nachman, arXiv:1805.02664): with J1 the lighter and
J2 the heavier of the two leading jets,

* ``mj1`` = m_J1, the lighter jet mass;
* ``delta_mj`` = m_J2 − m_J1 >= 0;
* ``tau21_j1``, ``tau21_j2`` = τ2/τ1 of J1 and J2 (N-subjettiness, β = 1, exclusive-kT
  axes, normalised with R0; Thaler, Van Tilburg, arXiv:1011.2268).
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from heplearn.errors import InvalidJetTable

__all__ = ["DIJET_FEATURES", "dijet_event_features"]

#: classifier inputs of a dijet anomaly search, in a fixed order
DIJET_FEATURES: tuple[str, ...] = ("mj1", "delta_mj", "tau21_j1", "tau21_j2")


def dijet_event_features(table: ak.Array, *, R0: float = 1.0) -> dict[str, np.ndarray]:
    """One row per event from a jet table holding the two leading jets of each event.

    Parameters
    ----------
    table : awkward.Array
        Jet table with fields ``event``, ``rank`` (0 = leading, 1 = subleading), ``mjj``,
        ``label``, ``mass`` and ``constituents`` (as written by ``heplearn generate`` with a
        card whose selection mode is ``dijet``); every event must have exactly ranks 0 and 1.
    R0 : float
        Jet radius in the τ_N normalisation (the card's R).

    Returns
    -------
    dict of numpy.ndarray, each of shape (n_events,)
        ``event``, ``label``, ``mjj`` and :data:`DIJET_FEATURES`, events in increasing
        ``event`` order. Jet masses are computed from the constituents
        (:func:`heplearn.physics.observables.jet_mass`).

    References
    ----------
    Kasieczka et al., arXiv:2101.08320; Collins, Howe, Nachman, arXiv:1805.02664;
    Thaler, Van Tilburg, arXiv:1011.2268.
    """
    from heplearn.physics.observables import jet_mass, n_subjettiness

    missing = [
        f for f in ("event", "rank", "mjj", "label", "constituents") if f not in table.fields
    ]
    if missing:
        raise InvalidJetTable(
            f"dijet_event_features: the jet table lacks field(s) {missing}; generate it with a "
            "card whose selection mode is 'dijet' (e.g. dijet-resonance)"
        )
    event = ak.to_numpy(table["event"]).astype(np.int64)
    rank = ak.to_numpy(table["rank"]).astype(np.int64)
    order = np.lexsort((rank, event))
    event, rank = event[order], rank[order]
    n = len(event)
    if n % 2 or not (
        np.array_equal(rank, np.tile([0, 1], n // 2))
        and np.array_equal(event[0::2], event[1::2])
        and np.all(np.diff(event[0::2]) > 0)
    ):
        raise InvalidJetTable(
            "dijet_event_features: every event must hold exactly two jets, of rank 0 and 1 "
            "(fields 'event' and 'rank'); events from two datasets may share ids, so build "
            "features per dataset"
        )
    jets = table[order]
    mass = jet_mass(jets)
    taus = n_subjettiness(jets, (1, 2), beta=1.0, R0=R0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t21 = np.where(taus[1] > 0, taus[2] / taus[1], 0.0)
    label = ak.to_numpy(jets["label"]).astype(np.int64)
    mjj = ak.to_numpy(jets["mjj"]).astype(np.float64)
    if not (np.array_equal(label[0::2], label[1::2]) and np.array_equal(mjj[0::2], mjj[1::2])):
        raise InvalidJetTable(
            "dijet_event_features: the two jets of an event disagree on 'label' or 'mjj'"
        )
    m_a, m_b = mass[0::2], mass[1::2]
    t_a, t_b = t21[0::2], t21[1::2]
    a_lighter = m_a <= m_b
    return {
        "event": event[0::2],
        "label": label[0::2],
        "mjj": mjj[0::2],
        "mj1": np.where(a_lighter, m_a, m_b),
        "delta_mj": np.abs(m_b - m_a),
        "tau21_j1": np.where(a_lighter, t_a, t_b),
        "tau21_j2": np.where(a_lighter, t_b, t_a),
    }
