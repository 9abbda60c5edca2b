import numpy as np
import pytest
import vector

from heplearn.physics import kinematics as kin


def test_wrap_phi_range_and_fixed_points():
    phi = np.array([np.pi, -np.pi, 3 * np.pi, -3 * np.pi + 1e-9, 0.0, 7.0])
    w = kin.wrap_phi(phi)
    assert np.all(w > -np.pi) and np.all(w <= np.pi)
    assert w[0] == pytest.approx(np.pi) and w[1] == pytest.approx(np.pi)
    assert w[5] == pytest.approx(7.0 - 2 * np.pi)


def test_delta_r_across_the_phi_boundary():
    # two particles at φ = ±(π − 0.1) are 0.2 apart, not 2π − 0.2
    assert kin.delta_r(0.0, np.pi - 0.1, 0.3, -np.pi + 0.1) == pytest.approx(np.hypot(0.3, 0.2))


def test_kinematics_agree_with_vector():
    rng = np.random.default_rng(1)
    px, py, pz = rng.normal(0, 50, (3, 100))
    m = rng.uniform(0, 10, 100)
    E = np.sqrt(px**2 + py**2 + pz**2 + m**2)
    v = vector.array({"px": px, "py": py, "pz": pz, "E": E})
    np.testing.assert_allclose(kin.pt(px, py), v.pt)
    np.testing.assert_allclose(kin.eta(px, py, pz), v.eta, rtol=1e-10)
    np.testing.assert_allclose(kin.rapidity(pz, E), v.rapidity, rtol=1e-8)
    np.testing.assert_allclose(kin.phi(px, py), v.phi)
    np.testing.assert_allclose(kin.mass(px, py, pz, E), m, atol=1e-9)
    back = kin.ptetaphim_to_pxpypze(v.pt, v.eta, v.phi, m)
    np.testing.assert_allclose(back, (px, py, pz, E), rtol=1e-9, atol=1e-9)
    back_y = kin.ptetaphim_to_pxpypze_rapidity(v.pt, v.rapidity, v.phi, m)
    np.testing.assert_allclose(back_y, (px, py, pz, E), rtol=1e-8, atol=1e-8)


def test_boost_z_matches_vector_and_keeps_mass():
    E, pz = np.array([10.0, 200.0]), np.array([3.0, -150.0])
    px, py = np.array([1.0, 20.0]), np.array([2.0, -5.0])
    pz2, E2 = kin.boost_z(pz, E, 0.6)
    ref = vector.array({"px": px, "py": py, "pz": pz, "E": E}).boostZ(beta=0.6)
    np.testing.assert_allclose(pz2, ref.pz)
    np.testing.assert_allclose(E2, ref.E)
    np.testing.assert_allclose(kin.mass(px, py, pz2, E2), kin.mass(px, py, pz, E))
    with pytest.raises(ValueError, match="beta"):
        kin.boost_z(pz, E, 1.0)


def test_invariant_mass_of_two_back_to_back_photons():
    # two massless 45.6 GeV photons back to back: m = 91.2 GeV
    px = np.array([[45.6, -45.6]])
    zero = np.zeros_like(px)
    assert kin.invariant_mass(px, zero, zero, np.abs(px))[0] == pytest.approx(91.2)
