"""Particle clouds and four-vector inputs."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
from repr_helpers import jets_3_1_5 as make_jets_3_1_5
from repr_helpers import massless, random_table, table_from_ptetaphi

import heplearn.representations as rep
from heplearn.errors import InvalidJetTable, UnknownNameError
from heplearn.physics import kinematics as kin


@pytest.fixture
def jets_3_1_5():
    return make_jets_3_1_5()


def test_public_api():
    assert sorted(rep.__all__) == [
        "DEFAULT_FEATURES", "FEATURES", "KINPID_FEATURES", "MOMENTUM_FEATURES",
        "PAIRWISE_FEATURES", "PID_FEATURES", "TOPODNN_FEATURES", "beam_vectors", "event_image",
        "four_vectors", "jet_image", "knn_indices", "pair_mask", "pairwise_features",
        "pairwise_features_from_table", "particle_cloud", "register_feature", "with_beams",
    ]  # fmt: skip
    for name in rep.__all__:
        assert hasattr(rep, name)


def test_import_does_not_pull_torch():
    import subprocess
    import sys

    code = "import sys, heplearn.representations; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_shapes_mask_and_zero_padding(jets_3_1_5):
    x, mask = rep.particle_cloud(jets_3_1_5, max_particles=4, features=rep.KINPID_FEATURES)
    assert x.shape == (3, 4, len(rep.KINPID_FEATURES)) and x.dtype == np.float32
    assert mask.shape == (3, 4) and mask.dtype == bool
    np.testing.assert_array_equal(mask.sum(axis=1), [3, 1, 4])
    assert (mask[:, :-1] >= mask[:, 1:]).all()  # real particles first
    assert (x[~mask] == 0).all()  # padding exactly zero
    assert (np.abs(x[mask]).sum(axis=-1) > 0).all()


def test_deta_dphi_of_hand_made_jet():
    pt, eta, phi = [100.0, 50.0, 25.0], [0.3, 0.5, 0.1], [1.0, 1.2, 0.7]
    table = table_from_ptetaphi([list(zip(pt, eta, phi, strict=True))])
    x, _ = rep.particle_cloud(table, max_particles=3, features=("deta", "dphi", "delta_r"))
    jet_eta, jet_phi = float(table.eta[0]), float(table.phi[0])
    np.testing.assert_allclose(x[0, :, 0], np.array(eta) - jet_eta, atol=2e-6)
    np.testing.assert_allclose(x[0, :, 1], np.array(phi) - jet_phi, atol=2e-6)
    np.testing.assert_allclose(x[0, :, 2], np.hypot(x[0, :, 0], x[0, :, 1]), rtol=1e-6)


def test_dphi_across_the_phi_boundary():
    # jet axis near +π, one constituent just past −π: Δφ is small, not ~2π
    table = table_from_ptetaphi([[(100.0, 0.0, 3.1), (100.0, 0.0, -3.1)]])
    x, _ = rep.particle_cloud(table, max_particles=2, features=("dphi", "phi"))
    assert abs(float(table.phi[0])) == pytest.approx(np.pi, abs=1e-6)
    expected = kin.delta_phi(np.array([3.1, -3.1]), float(table.phi[0]))
    np.testing.assert_allclose(np.sort(x[0, :, 0]), np.sort(expected), atol=2e-6)
    np.testing.assert_allclose(np.sort(np.abs(x[0, :, 0])), [0.0416, 0.0416], atol=1e-3)


def test_truncation_keeps_the_hardest_even_for_unsorted_tables():
    rng = np.random.default_rng(3)
    counts = np.array([7, 2, 12])
    pt = rng.uniform(1.0, 100.0, counts.sum())
    px, py, pz, E = massless(pt, rng.normal(0, 0.2, pt.size), rng.normal(0, 0.2, pt.size))
    values = dict(px=px, py=py, pz=pz, E=E)
    rec = {k: ak.unflatten(v.astype(np.float32), counts) for k, v in values.items()}
    table = ak.zip({"constituents": ak.zip(rec)}, depth_limit=1)  # deliberately unsorted
    x, mask = rep.particle_cloud(table, max_particles=5, features=("pt",))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for j, (s, c) in enumerate(zip(starts, counts, strict=True)):
        hardest = np.sort(pt[s : s + c])[::-1][:5]
        np.testing.assert_allclose(x[j, : len(hardest), 0], hardest, rtol=1e-5)
        assert mask[j].sum() == len(hardest)


def test_log_features_and_jet_axis_fallback(jets_3_1_5):
    names = ("log_pt", "log_e", "log_pt_rel", "log_e_rel")
    x, mask = rep.particle_cloud(jets_3_1_5, max_particles=5, features=names)
    cons = jets_3_1_5.constituents
    pt = ak.to_numpy(ak.flatten(kin.pt(cons.px, cons.py)))
    e = ak.to_numpy(ak.flatten(cons.E))
    jet_pt = np.repeat(ak.to_numpy(jets_3_1_5.pt), [3, 1, 5])
    jet_e = np.repeat(ak.to_numpy(ak.sum(cons.E, axis=1)), [3, 1, 5])
    np.testing.assert_allclose(x[mask], np.log(np.stack([pt, e, pt / jet_pt, e / jet_e], 1)),
                               rtol=1e-5, atol=1e-5)  # fmt: skip
    # without the jet fields the axis is the constituent sum: same numbers here
    only_constituents = ak.zip({"constituents": cons}, depth_limit=1)
    y, _ = rep.particle_cloud(only_constituents, max_particles=5, features=names)
    np.testing.assert_allclose(y, x, rtol=1e-5, atol=1e-5)


def test_pid_one_hot():
    pid = [22, 211, -11, 13, 130, 0]
    charge = [0, 1, -1, -1, 0, 1]
    table = table_from_ptetaphi([[(60.0 - i, 0.0, 0.0) for i in range(6)]], pid=pid,
                                charge=charge)  # fmt: skip
    names = ("is_photon", "is_charged_hadron", "is_electron", "is_muon", "is_neutral_hadron")
    x, _ = rep.particle_cloud(table, max_particles=6, features=("charge", *names))
    np.testing.assert_array_equal(x[0, :, 0], charge)
    np.testing.assert_array_equal(x[0, :, 1:], np.vstack([np.eye(5), np.zeros(5)]))


def test_unknown_feature_lists_known_ones(jets_3_1_5):
    with pytest.raises(UnknownNameError, match="log_pt_rel") as err:
        rep.particle_cloud(jets_3_1_5, features=("deta", "rapidity_of_doom"))
    assert "rapidity_of_doom" in str(err.value)


def test_missing_pid_field_is_named():
    rec = {k: ak.Array([[1.0, 2.0]]) for k in ("px", "py", "pz", "E")}
    table = ak.zip({"constituents": ak.zip(rec)}, depth_limit=1)
    with pytest.raises(InvalidJetTable, match="pid"):
        rep.particle_cloud(table, features=("is_photon",))


def test_register_feature_refuses_duplicates():
    with pytest.raises(ValueError, match="already registered"):
        rep.register_feature("deta", lambda c: c.eta)


def test_random_table_matches_jagged_reference():
    table = random_table(200, seed=1)
    x, mask = rep.particle_cloud(table, max_particles=16, features=("px", "E", "dphi"))
    cons = table.constituents
    for k, name in enumerate(("px", "E")):
        padded = ak.to_numpy(ak.fill_none(ak.pad_none(cons[name], 16, clip=True), 0.0))
        np.testing.assert_array_equal(x[..., k], padded.astype(np.float32))
    padded = ak.pad_none(cons.px, 16, clip=True)
    np.testing.assert_array_equal(mask, ~ak.to_numpy(ak.is_none(padded, axis=1)))
    assert np.abs(x[..., 2]).max() < 2.5  # wrapped even though φ_J ≈ 2.9


def test_four_vectors_order_scale_and_dtype(jets_3_1_5):
    p, mask = rep.four_vectors(jets_3_1_5, max_particles=4, dtype=np.float64)
    assert p.shape == (3, 4, 4) and p.dtype == np.float64
    cons = jets_3_1_5.constituents
    np.testing.assert_array_equal(p[0, :3, 0], ak.to_numpy(cons.E[0]))
    np.testing.assert_array_equal(p[0, :3, 3], ak.to_numpy(cons.pz[0]))
    assert (p[~mask] == 0).all()
    # Minkowski norm (+,-,-,-) of massless constituents vanishes
    m2 = p[..., 0] ** 2 - (p[..., 1:] ** 2).sum(-1)
    assert np.abs(m2[mask]).max() < 1e-2
    q, _ = rep.four_vectors(jets_3_1_5, max_particles=4, scale=0.01)
    np.testing.assert_allclose(q, 0.01 * p, rtol=1e-6)


def test_beams_prepended():
    p = np.zeros((2, 3, 4), np.float32)
    mask = np.array([[True, False, False], [True, True, False]])
    out, out_mask, is_beam = rep.with_beams(p, mask)
    assert out.shape == (2, 5, 4)
    np.testing.assert_allclose(out[0, :2], [[np.sqrt(2), 0, 0, 1], [np.sqrt(2), 0, 0, -1]],
                               rtol=1e-6)  # fmt: skip
    beam_m2 = out[:, :2, 0] ** 2 - (out[:, :2, 1:] ** 2).sum(-1)
    np.testing.assert_allclose(beam_m2, 1.0, rtol=1e-6)  # LorentzNet beam mass 1
    np.testing.assert_array_equal(out_mask[:, 2:], mask)
    assert is_beam[:, :2].all() and not is_beam[:, 2:].any()


def test_topodnn_frame_of_hand_made_jet():
    # hardest at the origin; the second, 0.3 above in η, rotates to φ' = −atan(sinh 0.3)
    # (η' = 0, "directly below") with pT' = pT cosh 0.3 (the rotation keeps |p|); the
    # third, 0.3 beside in φ, rotates to η' = asinh(tan 0.3), pT' = p_x = pT cos 0.3
    table = table_from_ptetaphi([[(100.0, 0.5, 1.0), (50.0, 0.8, 1.0), (20.0, 0.5, 1.3)]])
    x, _ = rep.particle_cloud(table, max_particles=3, features=rep.TOPODNN_FEATURES)
    expected_pt = np.array([100.0, 50.0 * np.cosh(0.3), 20.0 * np.cos(0.3)])
    np.testing.assert_allclose(x[0, :, 0], expected_pt / float(table.pt[0]), rtol=1e-5)
    np.testing.assert_allclose(x[0, :, 1], [0.0, 0.0, np.arcsinh(np.tan(0.3))], atol=2e-6)
    np.testing.assert_allclose(x[0, :, 2], [0.0, -np.arctan(np.sinh(0.3)), 0.0], atol=2e-6)


def test_topodnn_frame_flips_the_harder_side_to_positive_eta():
    # mirror image of the jet above in φ: the third constituent lands at η' < 0 before the
    # flip, which makes Σ pT' η' ≥ 0 and gives the same picture as the original
    jets = [[(100.0, 0.5, 1.0), (50.0, 0.8, 1.0), (20.0, 0.5, s)] for s in (1.3, 0.7)]
    x, _ = rep.particle_cloud(table_from_ptetaphi(jets), 3, rep.TOPODNN_FEATURES)
    np.testing.assert_allclose(x[0], x[1], atol=2e-6)
    assert x[1, 2, 1] > 0


def test_topodnn_frame_is_invariant_under_the_jet_symmetries():
    # rotation about the beam, longitudinal boost (η shift of massless particles) and the
    # reflections η → −η and φ → −φ leave the aligned frame unchanged
    table = random_table(40, seed=3)
    c = table.constituents
    pt = np.hypot(ak.flatten(c.px), ak.flatten(c.py)).to_numpy()
    eta = kin.eta(*(ak.flatten(c[k]).to_numpy() for k in ("px", "py", "pz")))
    phi = np.arctan2(ak.flatten(c.py), ak.flatten(c.px)).to_numpy()
    counts = ak.num(c).to_numpy()

    def cloud(eta_, phi_):
        px, py, pz, E = massless(pt, eta_, phi_)
        from heplearn.data.table import from_constituents

        return rep.particle_cloud(
            from_constituents(px, py, pz, E, counts), 64, rep.TOPODNN_FEATURES
        )[0]

    reference = cloud(eta, phi)
    for eta_, phi_ in [(eta, phi + 2.0), (eta + 1.5, phi), (-eta, phi), (eta, -phi)]:
        np.testing.assert_allclose(cloud(eta_, phi_), reference, atol=2e-5)
    assert np.abs(reference[:, 1:, 2]).max() > 0.05  # the jets are not degenerate


def test_topodnn_single_constituent_jet_is_at_the_origin(jets_3_1_5):
    x, mask = rep.particle_cloud(jets_3_1_5, max_particles=5, features=rep.TOPODNN_FEATURES)
    np.testing.assert_allclose(x[1, 0], [1.0, 0.0, 0.0], atol=1e-6)  # its pT is the jet's
    assert (x[~mask] == 0).all()
    assert np.isfinite(x).all()


def test_topodnn_frame_is_built_from_the_kept_constituents_in_any_stored_order():
    # the η flip is decided by Σ pT' η' over the kept constituents: a soft fourth
    # constituent on the other side flips the jet only when it is kept
    jet = [(100.0, 0.0, 0.0), (50.0, 0.3, 0.0), (20.0, 0.0, 0.1), (19.0, 0.0, -0.4)]
    x3, _ = rep.particle_cloud(table_from_ptetaphi([jet]), 3, rep.TOPODNN_FEATURES)
    x4, _ = rep.particle_cloud(table_from_ptetaphi([jet]), 4, rep.TOPODNN_FEATURES)
    assert x3[0, 2, 1] > 0 and x4[0, 2, 1] < 0  # the third's side depends on the flip
    np.testing.assert_allclose(np.abs(x4[0, :3]), np.abs(x3[0]), atol=2e-6)
    # a table stored softest-first gives the same frame (hardest and second found by pT)
    shuffled, _ = rep.particle_cloud(table_from_ptetaphi([jet[::-1]]), 4, rep.TOPODNN_FEATURES)
    np.testing.assert_allclose(shuffled, x4, atol=2e-6)
    # two constituents: the second lands directly below the first, η' = 0
    x2, _ = rep.particle_cloud(table_from_ptetaphi([jet[:2]]), 2, rep.TOPODNN_FEATURES)
    np.testing.assert_allclose(x2[0, :, 1], 0.0, atol=2e-6)
    assert x2[0, 1, 2] < 0
