import numpy as np

from heplearn.simulate.truth import hard_partons, match_jets, resonance_decays


def _record():
    """A hand-made event record: t -> b W+, W+ -> u dbar, plus an outgoing gluon.

    Index: 0 system, 1-2 beams, 3-4 incoming (-21), 5 top (-22), 6 gluon (23),
    7 b (23, mother 5), 8 W (-22, mother 5), 9 u (23, mother 8), 10 dbar (23, mother 8).
    """
    ids = [90, 2212, 2212, 21, 21, 6, 21, 5, 24, 2, -1]
    status = [-11, -12, -12, -21, -21, -22, 23, 23, -22, 23, 23]
    mother1 = [0, 0, 0, 1, 2, 3, 3, 5, 5, 8, 8]
    # directions (y, phi): top decay products near (0.5, 1.0); gluon at (-0.5, -2)
    y = [0, 0, 0, 0, 0, 0.5, -0.5, 0.6, 0.45, 0.3, 0.7]
    phi = [0, 0, 0, 0, 0, 1.0, -2.0, 1.2, 0.9, 0.6, 1.1]
    pt = np.array([1, 1, 1, 1, 1, 600, 600, 200, 400, 200, 200], float)
    px, py = pt * np.cos(phi), pt * np.sin(phi)
    mt = pt  # massless directions are all that matter here
    pz, E = mt * np.sinh(y), mt * np.cosh(y)
    return {
        "event": np.zeros(11, dtype=np.int64),
        "id": np.array(ids),
        "status": np.array(status),
        "mother1": np.array(mother1),
        "px": px,
        "py": py,
        "pz": pz,
        "E": E,
        "offsets": np.array([0, 11]),
    }


def test_resonance_decays_follow_the_chain():
    dec = resonance_decays(_record(), 6)
    assert len(dec["res_event"]) == 1
    assert len(dec["q_event"]) == 3  # b, u, dbar, not the hard gluon
    np.testing.assert_allclose(sorted(dec["q_eta"]), [0.3, 0.6, 0.7], atol=1e-9)
    w = resonance_decays(_record(), 24)
    assert len(w["q_event"]) == 2


def test_match_requires_every_decay_quark_inside():
    dec = resonance_decays(_record(), 6)
    jets_y = np.array([0.5, 0.5, -0.5])
    jets_phi = np.array([1.0, 1.0, -2.0])
    matched = match_jets(np.zeros(3, int), jets_y, jets_phi, dec, max_dr=0.8)
    assert matched.tolist() == [True, True, False]
    # with a radius that leaves the u quark (dR = 0.45 from the axis) outside: unmatched
    assert not match_jets(np.zeros(1, int), jets_y[:1], jets_phi[:1], dec, max_dr=0.42)[0]


def test_hard_partons_are_the_outgoing_partons_of_the_hard_process():
    hp = hard_partons(_record())
    assert sorted(hp["pid"].tolist()) == [6, 21]
