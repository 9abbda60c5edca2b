import numpy as np
import pytest

from heplearn.errors import UnknownNameError
from heplearn.physics import kinematics as kin
from heplearn.simulate.detector import apply_detector, get_detector


def _particles(pid, charge, pt, eta, phi, m, n_events):
    """The same particle list repeated in ``n_events`` events."""
    k = len(pid)
    px, py, pz, E = kin.ptetaphim_to_pxpypze(
        np.tile(pt, n_events), np.tile(eta, n_events), np.tile(phi, n_events), np.tile(m, n_events)
    )
    return {
        "event": np.repeat(np.arange(n_events), k),
        "px": px,
        "py": py,
        "pz": pz,
        "E": E,
        "m": np.tile(np.asarray(m, float), n_events),
        "pid": np.tile(np.asarray(pid, np.int32), n_events),
        "charge": np.tile(np.asarray(charge, np.int8), n_events),
        "vertex": np.zeros(k * n_events, np.int32),
    }


def test_particle_level_drops_only_neutrinos():
    p = _particles(
        [22, 12, 211, -14], [0, 0, 1, 0], [10, 20, 30, 40], [0] * 4, [0] * 4, [0, 0, 0.1396, 0], 3
    )
    out = apply_detector(p, get_detector("none"), np.random.default_rng(0))
    assert list(np.unique(np.abs(out["pid"]))) == [22, 211]
    assert len(out["E"]) == 6
    assert "m" not in out


def test_photon_energy_resolution_matches_the_atlas_formula():
    E = 100.0
    p = _particles([22], [0], [E], [0.0], [0.3], [0.0], 4000)
    out = apply_detector(p, get_detector("atlas-like"), np.random.default_rng(1))
    assert np.all(out["pid"] == 22) and np.all(out["charge"] == 0)
    sigma = np.sqrt((0.0017 * E) ** 2 + 0.101**2 * E)  # Delphes ATLAS ECal, |eta| <= 3.2
    assert out["E"].mean() == pytest.approx(E, abs=4 * sigma / np.sqrt(len(out["E"])))
    assert out["E"].std() == pytest.approx(sigma, rel=0.05)
    # tower centre smeared inside its 0.0174 x 1 degree cell
    assert np.all(np.abs(kin.eta(out["px"], out["py"], out["pz"])) < 0.0175)


def test_muons_leave_tracks_and_neutrinos_nothing():
    p = _particles([13, 14], [-1, 0], [50, 50], [0.2, 0.2], [1.0, -1.0], [0.1057, 0], 500)
    out = apply_detector(p, get_detector("cms-like"), np.random.default_rng(2))
    assert set(np.abs(out["pid"])) == {13}
    assert 0.97 < len(out["E"]) / 500 <= 1.0  # CMS-like muon tracking efficiency 0.99


def test_charged_pion_tracking_efficiency_and_energy_flow():
    n = 4000
    p = _particles([211], [1], [50.0], [0.1], [0.0], [0.1396], n)
    out = apply_detector(p, get_detector("atlas-like"), np.random.default_rng(3))
    tracks = out["charge"] != 0
    assert tracks.sum() / n == pytest.approx(0.95, abs=0.015)  # |eta| < 1.5, pT > 1 GeV
    # a pion without a track is seen by the HCAL as a neutral hadron
    lost = np.setdiff1d(np.arange(n), out["event"][tracks])
    neutral_events = out["event"][~tracks]
    assert np.isin(lost, neutral_events).mean() > 0.9
    assert np.all(out["pid"][~tracks] == 130)


def test_curling_tracks_never_reach_the_calorimeter():
    # ATLAS-like: B = 2 T, R = 1.15 m -> pT < 0.345 GeV loops inside the tracker
    p = _particles([211], [1], [0.3], [0.0], [0.0], [0.1396], 300)
    out = apply_detector(p, get_detector("atlas-like"), np.random.default_rng(4))
    assert np.all(out["charge"] != 0)  # only tracks, never a neutral tower


def test_energy_is_conserved_on_average_for_a_jet_like_spray():
    rng = np.random.default_rng(5)
    k, n = 40, 200
    pid = rng.choice([211, -211, 22, 130, 2112, 11], size=k)
    charge = np.select([pid == 211, pid == -211, pid == 11], [1, -1, -1], 0)
    pt = rng.exponential(10, size=k) + 1
    eta, phi = rng.normal(0.5, 0.2, k), rng.normal(0.0, 0.2, k)
    p = _particles(pid, charge, pt, eta, phi, np.zeros(k), n)
    out = apply_detector(p, get_detector("atlas-like"), rng)
    e_in = np.bincount(p["event"], p["E"]).mean()
    e_out = np.bincount(out["event"], out["E"]).mean()
    assert e_out / e_in == pytest.approx(1.0, abs=0.05)


def test_detector_is_reproducible_for_a_seed():
    p = _particles([211, 22], [1, 0], [20, 30], [0, 0.5], [0, 1], [0.1396, 0], 50)
    a = apply_detector(p, get_detector("atlas-like"), np.random.default_rng(7))
    b = apply_detector(p, get_detector("atlas-like"), np.random.default_rng(7))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_unknown_detector_lists_known_ones():
    with pytest.raises(UnknownNameError, match="Known detectors: none, atlas-like, cms-like"):
        get_detector("delphes")
