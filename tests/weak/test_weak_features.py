"""Per-event dijet features from a tiny handmade jet table."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from heplearn.data.table import from_constituents
from heplearn.errors import InvalidJetTable
from heplearn.physics.observables import tau21
from heplearn.weak import DIJET_FEATURES, dijet_event_features


def massless(pt, y, phi):
    return [pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(y), pt * np.cosh(y)]


# three events, two jets each: (event, rank, constituents as (pt, y, phi))
JETS = [
    (7, 0, [(900, 0.0, 0.0), (300, 0.3, 0.2), (100, -0.2, -0.3)]),
    (7, 1, [(800, 0.5, 3.0), (50, 0.6, 3.1)]),
    (3, 0, [(1000, -0.4, 1.0), (200, -0.1, 1.4)]),
    (3, 1, [(700, 1.0, -2.0), (400, 0.7, -2.3), (30, 1.2, -1.9)]),
    (5, 0, [(1200, 0.1, 0.5), (100, 0.15, 0.55)]),
    (5, 1, [(900, -1.0, -2.6), (250, -1.4, -2.5)]),
]
MJJ = {7: 3400.0, 3: 2900.0, 5: 4100.0}
LABEL = {7: 1, 3: 0, 5: 0}


def make_table(order):
    px, py, pz, e, counts, event, rank = [], [], [], [], [], [], []
    for i in order:
        ev, rk, parts = JETS[i]
        for p in parts:
            a, b, c, d = massless(*p)
            px.append(a), py.append(b), pz.append(c), e.append(d)
        counts.append(len(parts))
        event.append(ev)
        rank.append(rk)
    return from_constituents(
        np.array(px),
        np.array(py),
        np.array(pz),
        np.array(e),
        np.array(counts),
        label=np.array([LABEL[ev] for ev in event]),
        extra={
            "event": np.array(event),
            "rank": np.array(rank),
            "mjj": np.array([MJJ[ev] for ev in event]),
        },
    )


def jet_mass(parts):
    p = np.sum([massless(*q) for q in parts], axis=0)
    return np.sqrt(p[3] ** 2 - p[0] ** 2 - p[1] ** 2 - p[2] ** 2)


def test_features_of_a_handmade_table():
    table = make_table([4, 1, 2, 0, 5, 3])  # rows shuffled: events and ranks out of order
    f = dijet_event_features(table, R0=1.0)
    np.testing.assert_array_equal(f["event"], [3, 5, 7])
    np.testing.assert_array_equal(f["label"], [0, 0, 1])
    np.testing.assert_array_equal(f["mjj"], [2900.0, 4100.0, 3400.0])
    for row, ev in enumerate((3, 5, 7)):
        jets = [j for j in JETS if j[0] == ev]
        masses = [jet_mass(j[2]) for j in jets]
        light = int(np.argmin(masses))
        # constituents are stored in float32: m² = E² − p² loses ~1e-4 of a light jet's mass
        assert f["mj1"][row] == pytest.approx(min(masses), rel=1e-3)
        assert f["delta_mj"][row] == pytest.approx(max(masses) - min(masses), abs=0.05)
        # tau21 of each jet alone, from the observables module
        single = make_table([JETS.index(jets[light]), JETS.index(jets[1 - light])])
        t = tau21(single, R0=1.0)
        assert f["tau21_j1"][row] == pytest.approx(t[0])
        assert f["tau21_j2"][row] == pytest.approx(t[1])
    assert f["delta_mj"].min() >= 0
    assert set(DIJET_FEATURES) <= set(f)
    # two-constituent jets have τ2 = 0 (each constituent its own axis): τ21 = 0
    assert f["tau21_j1"][1] == 0.0 and f["tau21_j2"][1] == 0.0
    assert f["tau21_j2"][0] > 0  # the three-constituent jet of event 3 is the heavier


def test_incomplete_events_and_missing_fields_raise():
    table = make_table([0, 1, 2])  # event 3 has only its leading jet
    with pytest.raises(InvalidJetTable, match="exactly two jets"):
        dijet_event_features(table)
    with pytest.raises(InvalidJetTable, match="mjj"):
        dijet_event_features(ak.without_field(make_table([0, 1]), "mjj"))
