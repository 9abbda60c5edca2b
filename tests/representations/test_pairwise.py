"""Particle Transformer pairwise features."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from repr_helpers import massless, random_table

from heplearn.representations import (
    MOMENTUM_FEATURES,
    PAIRWISE_FEATURES,
    four_vectors,
    pairwise_features,
    pairwise_features_from_table,
    particle_cloud,
)

KT, Z, DELTA, M2 = (PAIRWISE_FEATURES.index(n) for n in ("ln_kt", "ln_z", "ln_delta", "ln_m2"))


def _p4(pt, eta, phi, dtype=np.float64):
    return np.stack(massless(pt, eta, phi), axis=-1).astype(dtype)[None]  # (1, P, 4)


@pytest.mark.parametrize("phi", [(0.3, -0.4), (3.0, -3.0)])  # second case crosses φ = ±π
def test_hand_computed_massless_pair(phi):
    pt, eta = np.array([120.0, 35.0]), np.array([0.4, -0.3])
    features, pairs = pairwise_features(_p4(pt, eta, phi), np.ones((1, 2), bool))
    dphi = np.angle(np.exp(1j * (phi[0] - phi[1])))
    dy = eta[0] - eta[1]  # massless: rapidity = pseudorapidity
    delta = np.hypot(dy, dphi)
    expected = {
        KT: np.log(35.0 * delta),
        Z: np.log(35.0 / 155.0),
        DELTA: np.log(delta),
        M2: np.log(2 * 120.0 * 35.0 * (np.cosh(dy) - np.cos(dphi))),
    }
    for channel, value in expected.items():
        assert features[0, channel, 0, 1] == pytest.approx(value, rel=1e-9)
        assert features[0, channel, 1, 0] == pytest.approx(value, rel=1e-9)
    assert pairs.all()
    # self-pairs: Δ = 0 and m² = 4 m² = 0 clamp at eps = 1e-8, z = 1/2
    assert features[0, DELTA, 0, 0] == pytest.approx(np.log(1e-8))
    assert features[0, Z, 1, 1] == pytest.approx(np.log(0.5))


def test_float32_close_to_float64():
    table = random_table(20, seed=2)
    p32, mask = particle_cloud(table, max_particles=12, features=MOMENTUM_FEATURES)
    f32, _ = pairwise_features(p32, mask)
    f64, pairs = pairwise_features(p32.astype(np.float64), mask)
    assert f32.dtype == np.float32 and f32.shape == (20, 4, 12, 12)
    off_diagonal = pairs & ~np.eye(12, dtype=bool)
    for c in (KT, Z, DELTA):
        np.testing.assert_allclose(f32[:, c][off_diagonal], f64[:, c][off_diagonal], atol=2e-3)


def test_padding_zero_symmetry_and_layouts():
    table = random_table(30, seed=4)
    features, pairs = pairwise_features_from_table(table, max_particles=16)
    _, mask = particle_cloud(table, max_particles=16, features=("E",))
    np.testing.assert_array_equal(pairs, mask[:, :, None] & mask[:, None, :])
    assert (features.transpose(1, 0, 2, 3)[:, ~pairs] == 0).all()
    assert np.isfinite(features).all()
    np.testing.assert_allclose(features, features.transpose(0, 1, 3, 2), atol=1e-5)
    # (E, px, py, pz) layout of four_vectors gives the same numbers
    p, mask4 = four_vectors(table, max_particles=16)
    same, _ = pairwise_features(p, mask4, energy_first=True)
    np.testing.assert_array_equal(same, features)


def test_permuting_particles_permutes_the_matrix():
    table = random_table(10, seed=5)
    p4, mask = particle_cloud(table, max_particles=20, features=MOMENTUM_FEATURES)
    perm = np.random.default_rng(0).permutation(20)
    f, pairs = pairwise_features(p4, mask)
    g, pairs_g = pairwise_features(p4[:, perm], mask[:, perm])
    np.testing.assert_array_equal(g, f[:, :, perm][:, :, :, perm])
    np.testing.assert_array_equal(pairs_g, pairs[:, perm][:, :, perm])


def test_torch_matches_numpy_and_has_gradients():
    table = random_table(8, seed=6)
    p4, mask = particle_cloud(table, max_particles=10, features=MOMENTUM_FEATURES)
    expected, pairs = pairwise_features(p4, mask)
    t = torch.from_numpy(p4).requires_grad_(True)
    got, got_pairs = pairwise_features(t, torch.from_numpy(mask))
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(got_pairs.numpy(), pairs)
    got.sum().backward()
    assert torch.isfinite(t.grad).all() and (t.grad[torch.from_numpy(mask)] != 0).any()


def test_bad_shape_is_refused():
    with pytest.raises(ValueError, match=r"\(N, P, 4\)"):
        pairwise_features(np.zeros((2, 3, 5), np.float32))
