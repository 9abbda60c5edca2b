"""Jet observables against closed forms, brute force and FastJet's own implementations."""

from __future__ import annotations

import itertools
import warnings

import awkward as ak
import numpy as np
import pytest

from heplearn.data import from_constituents
from heplearn.errors import InvalidJetTable
from heplearn.physics import kinematics as kin
from heplearn.physics import observables as obs


def _table(jets, charges=None):
    """Jet table from a list of jets, each a list of massless (pT, y, φ) constituents."""
    counts = [len(j) for j in jets]
    pt, y, phi = (np.array([c[i] for j in jets for c in j], dtype=float) for i in range(3))
    px, py, pz, E = kin.ptetaphim_to_pxpypze_rapidity(pt, y, phi, np.zeros_like(pt))
    charge = None if charges is None else np.concatenate(charges)
    return from_constituents(px, py, pz, E, counts, charge=charge)


def _random_jets(n_jets, lo, hi, seed, phi0=0.0):
    """Collimated random jets (synthetic), returned as a list of (pT, y, φ) lists."""
    rng = np.random.default_rng(seed)
    jets = []
    for _ in range(n_jets):
        n = int(rng.integers(lo, hi + 1))
        pt = rng.exponential(20.0, n) + 0.5
        y = rng.normal(0.0, 0.25, n)
        phi = phi0 + rng.normal(0.0, 0.25, n)
        jets.append(list(zip(pt, y, phi, strict=True)))
    return jets


@pytest.fixture(scope="module")
def random_table():
    rng = np.random.default_rng(11)
    jets = _random_jets(30, 1, 40, seed=5)
    charges = [rng.integers(-1, 2, len(j)).astype(np.int8) for j in jets]
    return _table(jets, charges)


def _flat_jet(table, j):
    """(z, y, φ) of jet j's constituents in float64, for brute-force references."""
    c = table["constituents"][j]
    px, py, pz, E = (ak.to_numpy(c[k]).astype(np.float64) for k in ("px", "py", "pz", "E"))
    pt = np.hypot(px, py)
    return pt / pt.sum(), kin.rapidity(pz, E), kin.phi(px, py)


def _theta(y, phi, a, b):
    return np.hypot(y[a] - y[b], kin.delta_phi(phi[a], phi[b]))


def test_public_api_and_keys(random_table):
    assert obs.OBSERVABLE_NAMES == (
        "mass", "multiplicity", "tau1", "tau2", "tau3", "tau21", "tau32", "softdrop_mass",
        "c2", "d2", "girth", "ptd", "c_beta", "charged_fraction",
    )  # fmt: skip
    import heplearn.physics as physics

    assert set(obs.__all__) <= set(physics.__all__)
    assert "delta_r" in physics.__all__
    out = obs.jet_observables(random_table)
    assert tuple(out) == obs.OBSERVABLE_NAMES
    for v in out.values():
        assert v.dtype == np.float64 and v.shape == (len(random_table),)
        assert np.isfinite(v).all()


def test_single_particle():
    t = _table([[(100.0, 0.5, 1.0)]], [np.array([1], np.int8)])
    out = obs.jet_observables(t)
    assert out["multiplicity"][0] == 1
    assert out["girth"][0] == pytest.approx(0.0, abs=1e-6)
    assert out["ptd"][0] == pytest.approx(1.0, rel=1e-12)
    for key in ("tau1", "tau2", "tau3", "tau21", "tau32", "c2", "d2", "c_beta"):
        assert out[key][0] == 0.0, key
    assert out["charged_fraction"][0] == 1.0
    # Massless up to the float32 rounding of the stored (px, py, pz, E).
    assert abs(out["mass"][0]) < 0.1
    assert out["softdrop_mass"][0] == pytest.approx(out["mass"][0], rel=1e-9)


def test_two_prong_closed_forms():
    a, R0 = 0.25, 0.8
    # Equal pT at y = ±a, φ = 0: the 1-kT axis (E-scheme sum) sits at y = 0, φ = 0.
    t = _table([[(100.0, a, 0.0), (100.0, -a, 0.0)]])
    taus = obs.n_subjettiness(t, (1, 2, 3), R0=R0)
    assert taus[1][0] == pytest.approx(a / R0, rel=1e-5)
    assert taus[2][0] == 0.0 and taus[3][0] == 0.0
    assert obs.girth(t)[0] == pytest.approx(a, rel=1e-5)
    assert obs.ptd(t)[0] == pytest.approx(np.sqrt(2) / 2, rel=1e-6)
    # Unequal pT: z = 2/3, 1/3 at θ = 0.3, so e2^(β) = 2/9 0.3^β and e3 = 0.
    t = _table([[(100.0, 0.0, 0.0), (50.0, 0.0, 0.3)]])
    for beta in (1.0, 2.0, 0.5):
        e2, e3 = obs.energy_correlations(t, beta=beta)
        assert e2[0] == pytest.approx(2 / 9 * 0.3**beta, rel=1e-5)
        assert e3[0] == 0.0
    assert obs.c_beta(t)[0] == pytest.approx(2 / 9 * 0.3**0.2, rel=1e-5)
    # τ1 with β = 2 against the pT-weighted squared distances to the E-scheme axis.
    px, py, pz, E = (
        ak.to_numpy(ak.sum(t["constituents"][k], axis=1)) for k in "px py pz E".split()
    )
    z, y, phi = _flat_jet(t, 0)
    d2 = (y - kin.rapidity(pz, E)) ** 2 + kin.delta_phi(phi, kin.phi(px, py)) ** 2
    assert obs.n_subjettiness(t, 1, beta=2.0, R0=R0)[0] == pytest.approx(
        np.sum(z * d2) / R0**2, rel=1e-5
    )


def test_ecf_brute_force_and_ratios(random_table):
    e2, e3 = obs.energy_correlations(random_table)
    for j in range(len(random_table)):
        z, y, phi = _flat_jet(random_table, j)
        idx = range(len(z))
        ref2 = sum(z[a] * z[b] * _theta(y, phi, a, b) for a, b in itertools.combinations(idx, 2))
        ref3 = sum(
            z[a] * z[b] * z[c] * _theta(y, phi, a, b) * _theta(y, phi, a, c) * _theta(y, phi, b, c)
            for a, b, c in itertools.combinations(idx, 3)
        )
        assert e2[j] == pytest.approx(ref2, rel=1e-5, abs=1e-12)
        assert e3[j] == pytest.approx(ref3, rel=1e-5, abs=1e-12)
    ok = e2 > 0
    assert ok.sum() > 20
    np.testing.assert_allclose(obs.c2(random_table)[ok], e3[ok] / e2[ok] ** 2, rtol=1e-12)
    np.testing.assert_allclose(obs.d2(random_table)[ok], e3[ok] / e2[ok] ** 3, rtol=1e-12)
    out = obs.jet_observables(random_table)
    np.testing.assert_allclose(out["c2"], obs.c2(random_table), rtol=1e-12)
    np.testing.assert_allclose(out["c_beta"], obs.c_beta(random_table, 0.2), rtol=1e-12)


def test_big_jets_cross_buckets():
    """Jets above 64 and 256 constituents take other padded sizes; e2 stays exact."""
    t = _table(_random_jets(3, 60, 300, seed=2))
    e2, _ = obs.energy_correlations(t, beta=2.0)
    for j in range(len(t)):
        z, y, phi = _flat_jet(t, j)
        th2 = (y[:, None] - y[None, :]) ** 2 + kin.delta_phi(phi[:, None], phi[None, :]) ** 2
        assert e2[j] == pytest.approx(0.5 * z @ th2 @ z, rel=1e-5)


def test_tau_matches_fastjet_contrib(random_table):
    import fastjet

    ours = obs.n_subjettiness(random_table, (1, 2, 3), beta=1.0, R0=0.8)
    cons = random_table["constituents"]
    events = ak.zip({k: ak.values_astype(cons[k], np.float64) for k in ("px", "py", "pz", "E")})
    cs = fastjet.ClusterSequence(events, fastjet.JetDefinition(fastjet.kt_algorithm, 1.0))
    ref = ak.to_numpy(cs.njettiness(axes_definition="KT_Axes", njets=[1, 2, 3], R0=0.8))
    for k, n in enumerate((1, 2, 3)):
        np.testing.assert_allclose(ours[n], ref[:, k], rtol=1e-9, atol=1e-12)
    t21, t32 = obs.tau21(random_table), obs.tau32(random_table)
    ok = ours[2] > 0
    assert ok.sum() > 20 and (t21[~ok] == 0).all() and (t32[~ok] == 0).all()
    np.testing.assert_allclose(t21[ok], ours[2][ok] / ours[1][ok], rtol=1e-12)
    np.testing.assert_allclose(t32[ok], ours[3][ok] / ours[2][ok], rtol=1e-12)


def _two_prong(soft_pt):
    hard = [(300.0, 0.0, 0.0), (200.0, 0.05, 0.03)]
    soft = [(0.6 * soft_pt, 0.4, 0.1), (0.4 * soft_pt, 0.42, 0.12)]
    return hard, soft


def test_softdrop_two_prong():
    hard, soft = _two_prong(20.0)  # z = 20 / 520 < 0.1: the soft prong is dropped
    t_fail = _table([hard + soft])
    hard_only = _table([hard])
    assert obs.softdrop_mass(t_fail)[0] == pytest.approx(obs.jet_mass(hard_only)[0], rel=1e-6)
    assert obs.jet_mass(t_fail)[0] > 1.5 * obs.jet_mass(hard_only)[0]
    hard, soft = _two_prong(100.0)  # z = 100 / 600 > 0.1: nothing is groomed
    t_pass = _table([hard + soft])
    assert obs.softdrop_mass(t_pass)[0] == pytest.approx(obs.jet_mass(t_pass)[0], rel=1e-9)
    # zcut = 0 never grooms; a huge zcut grooms down to a single (massless) constituent.
    assert obs.softdrop_mass(t_fail, zcut=0.0)[0] == pytest.approx(obs.jet_mass(t_fail)[0])
    assert abs(obs.softdrop_mass(t_fail, zcut=0.9)[0]) < 1e-2


def test_permutation_invariance(random_table):
    ref = obs.jet_observables(random_table)
    rng = np.random.default_rng(0)
    counts = ak.to_numpy(ak.num(random_table["constituents"], axis=1))
    perm = ak.unflatten(np.concatenate([rng.permutation(n) for n in counts]), counts)
    shuffled = ak.with_field(random_table, random_table["constituents"][perm], "constituents")
    assert not ak.all(shuffled["constituents", "px"] == random_table["constituents", "px"])
    out = obs.jet_observables(shuffled)
    for key in obs.OBSERVABLE_NAMES:
        np.testing.assert_allclose(out[key], ref[key], rtol=1e-5, atol=1e-9, err_msg=key)


def test_phi_wrap():
    """A jet straddling φ = ±π gives the observables of the same jet rotated to φ ≈ 0.3."""
    base = _random_jets(12, 2, 40, seed=9)
    at_pi = _table([[(p, y, kin.wrap_phi(np.pi + f)) for p, y, f in j] for j in base])
    away = _table([[(p, y, 0.3 + f) for p, y, f in j] for j in base])
    phis = ak.to_numpy(
        ak.flatten(kin.phi(at_pi["constituents", "px"], at_pi["constituents", "py"]))
    )
    assert (phis > 2.5).any() and (phis < -2.5).any()
    a, b = obs.jet_observables(at_pi), obs.jet_observables(away)
    for key in obs.OBSERVABLE_NAMES:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-4, atol=1e-6, err_msg=key)


def test_no_warnings_escape(random_table):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        obs.jet_observables(random_table)
        obs.n_subjettiness(random_table, 3)


def test_bad_input():
    with pytest.raises(InvalidJetTable, match="jet table"):
        obs.jet_mass({"constituents": []})
    with pytest.raises(InvalidJetTable, match="'constituents'"):
        obs.girth(ak.Array([{"pt": 1.0}]))
    no_pz = ak.Array([{"constituents": [{"px": 1.0, "py": 0.0, "E": 1.0}]}])
    with pytest.raises(InvalidJetTable, match="pz"):
        obs.ptd(no_pz)
    t = _table([[(10.0, 0.0, 0.0)]])
    no_charge = ak.with_field(t, t["constituents"][["px", "py", "pz", "E"]], "constituents")
    with pytest.raises(InvalidJetTable, match="charge"):
        obs.charged_fraction(no_charge)
    empty = ak.Array([{"constituents": [{"px": 1.0, "py": 0.0, "pz": 0.0, "E": 1.0}]},
                      {"constituents": []}])  # fmt: skip
    with pytest.raises(InvalidJetTable, match="jet 1 has no constituents"):
        obs.multiplicity(empty)
    with pytest.raises(ValueError, match="axes"):
        obs.n_subjettiness(t, 1, axes="wta")
