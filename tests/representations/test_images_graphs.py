"""Jet images, event images and kNN graphs."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
import torch
from repr_helpers import random_table, table_from_ptetaphi

from heplearn.representations import event_image, jet_image, knn_indices

PLAIN = {"centre": "jet", "rotate": False, "flip": False}


def test_normalised_image_sums_to_pt_fraction_inside():
    inside = [(100.0, 0.05, 0.05), (40.0, -0.3, 0.2), (10.0, 0.1, -0.4)]
    outside = [(30.0, 0.9, 0.0), (20.0, 0.0, -1.1)]
    table = table_from_ptetaphi([inside, inside + outside])
    # jet 1's axis moves with the outer particles; measure "inside" in its own frame
    eta_j, phi_j = ak.to_numpy(table.eta), ak.to_numpy(table.phi)
    image = jet_image(table, n_pixels=25, extent=0.6, **PLAIN)
    assert image.shape == (2, 1, 25, 25) and image.dtype == np.float32
    assert image[0].sum() == pytest.approx(1.0, rel=1e-6)
    pts = np.array([p[0] for p in inside + outside])
    deta = np.array([p[1] for p in inside + outside]) - eta_j[1]
    dphi = np.array([p[2] for p in inside + outside]) - phi_j[1]
    in_extent = (np.abs(deta) < 0.6) & (np.abs(dphi) < 0.6)
    assert 0 < in_extent.sum() < len(pts)
    assert image[1].sum() == pytest.approx(pts[in_extent].sum() / pts.sum(), rel=1e-5)
    raw = jet_image(table, n_pixels=25, extent=0.6, normalise=False, **PLAIN)
    assert raw[0].sum() == pytest.approx(150.0, rel=1e-5)
    np.testing.assert_array_equal(jet_image(table, n_pixels=25, R=0.6, **PLAIN), image)


@pytest.mark.parametrize("centre", ["pt_weighted", "leading"])
def test_centred_jet_has_its_maximum_in_the_central_pixel(centre):
    # hard core at (0.4, -1.0) with a symmetric soft halo: centroid = core = leading
    jet = [(200.0, 0.4, -1.0), (10.0, 0.6, -1.0), (10.0, 0.2, -1.0), (5.0, 0.4, -0.8),
           (5.0, 0.4, -1.2)]  # fmt: skip
    image = jet_image(table_from_ptetaphi([jet]), n_pixels=33, extent=0.8, centre=centre,
                      rotate=False, flip=False)  # fmt: skip
    assert np.unravel_index(image[0, 0].argmax(), (33, 33)) == (16, 16)


def test_rotation_puts_the_principal_axis_along_eta_rows():
    # particles on a 45° line through the core; after rotation: one column (Δφ' = 0)
    line = [(50.0 / (1 + abs(t)), 0.1 + 0.1 * t, 0.5 + 0.1 * t) for t in range(-3, 4)]
    image = jet_image(table_from_ptetaphi([line]), n_pixels=21, extent=0.7, flip=False)
    columns = np.flatnonzero(image[0, 0].sum(axis=0))
    rows = np.flatnonzero(image[0, 0].sum(axis=1))
    np.testing.assert_array_equal(columns, [10])
    assert len(rows) == 7
    unrotated = jet_image(table_from_ptetaphi([line]), n_pixels=21, extent=0.7, rotate=False,
                          flip=False)  # fmt: skip
    assert len(np.flatnonzero(unrotated[0, 0].sum(axis=0))) == 7


def test_flip_puts_the_harder_half_at_positive_eta_and_phi():
    jet = [(100.0, 0.0, 0.0), (60.0, -0.3, -0.1), (10.0, 0.2, 0.05)]
    table = table_from_ptetaphi([jet])
    flipped = jet_image(table, n_pixels=21, extent=0.8, centre="leading", rotate=False)[0, 0]
    plain = jet_image(table, n_pixels=21, extent=0.8, centre="leading", rotate=False,
                      flip=False)[0, 0]  # fmt: skip
    assert plain[:10].sum() > plain[11:].sum()  # the 60 GeV particle is at negative Δη
    assert flipped[11:].sum() > flipped[:10].sum()
    assert flipped[:, 11:].sum() >= flipped[:, :10].sum()
    np.testing.assert_allclose(flipped, plain[::-1, ::-1], atol=1e-7)


def test_images_are_computed_independently_per_jet():
    table = random_table(25, seed=7)
    together = jet_image(table, n_pixels=16, extent=0.8)
    for j in (0, 11, 24):
        np.testing.assert_allclose(together[j], jet_image(table[j : j + 1], 16, 0.8)[0],
                                   atol=1e-7)  # fmt: skip


def test_event_image_phi_shift_rolls_the_image():
    rng = np.random.default_rng(8)
    n_phi, n_eta, n_events = 16, 10, 4
    width = 2 * np.pi / n_phi
    counts = rng.integers(5, 30, n_events)
    m = int(counts.sum())
    phi = -np.pi + (rng.integers(0, n_phi, m) + rng.uniform(0.1, 0.9, m)) * width
    eta = rng.uniform(-2.4, 2.4, m)
    pt = rng.exponential(10.0, m)
    jag = [ak.unflatten(a, counts) for a in (eta, phi, pt)]
    image = event_image(*jag, eta_range=(-2.5, 2.5), n_eta=n_eta, n_phi=n_phi)
    assert image.shape == (n_events, 1, n_eta, n_phi)
    shifted = event_image(jag[0], jag[1] + width, jag[2], (-2.5, 2.5), n_eta, n_phi)
    np.testing.assert_allclose(shifted, np.roll(image, 1, axis=-1), rtol=1e-6)
    np.testing.assert_allclose(image.sum(axis=(1, 2, 3)), ak.to_numpy(ak.sum(jag[2], axis=1)),
                               rtol=1e-5)  # fmt: skip
    # φ = π and φ = −π are the same place: column 0
    edge = event_image(np.array([[0.0, 0.0]]), np.array([[np.pi, -np.pi]]),
                       np.array([[1.0, 2.0]]), n_eta=n_eta, n_phi=n_phi)  # fmt: skip
    assert edge[0, 0, :, 0].sum() == pytest.approx(3.0)
    # padded (N, M) input with pt = 0 padding gives the same image
    padded = [ak.to_numpy(ak.fill_none(ak.pad_none(a, 30), 0.0)) for a in jag]
    np.testing.assert_allclose(event_image(*padded, n_eta=n_eta, n_phi=n_phi), image,
                               rtol=1e-6)  # fmt: skip


def _random_cloud(n, p, seed):
    rng = np.random.default_rng(seed)
    points = rng.normal(0.0, 0.3, (n, p, 2))
    counts = rng.integers(0, p + 1, n)
    counts[:3] = [0, 1, 3]  # empty, single-particle and fewer-than-k+1 jets
    mask = np.arange(p) < counts[:, None]
    points[~mask] = 0.0  # padded points sit at the origin, right among the real ones
    return points, mask


def _brute_force(points, mask, k):
    n, p, _ = points.shape
    out = np.repeat(np.arange(p)[None, :, None], n, axis=0).repeat(k, axis=2)
    for j in range(n):
        real = np.flatnonzero(mask[j])
        for i in real:
            others = real[real != i]
            d = ((points[j, others] - points[j, i]) ** 2).sum(-1)
            nearest = others[np.argsort(d)[:k]]
            out[j, i, : len(nearest)] = nearest
    return out


def test_knn_matches_brute_force_and_never_picks_padding_or_self():
    points, mask = _random_cloud(40, 24, seed=9)
    k = 5
    idx, valid = knn_indices(points, mask, k, return_valid=True)
    assert idx.shape == (40, 24, k) and idx.dtype == np.int64
    np.testing.assert_array_equal(idx, _brute_force(points, mask, k))
    self_index = np.arange(24)[None, :, None]
    neighbour_real = np.take_along_axis(mask[:, None, :].repeat(24, 1), idx, axis=2)
    assert neighbour_real[valid].all()
    assert (idx[valid] != np.broadcast_to(self_index, idx.shape)[valid]).all()
    assert (idx[~valid] == np.broadcast_to(self_index, idx.shape)[~valid]).all()
    np.testing.assert_array_equal(
        valid.sum(-1)[mask], np.minimum(k, mask.sum(1)[:, None] - 1).repeat(24, 1)[mask]
    )
    assert not valid[~mask].any()


def test_knn_torch_matches_numpy():
    points, mask = _random_cloud(12, 16, seed=10)
    expected = knn_indices(points, mask, 4)
    got = knn_indices(torch.from_numpy(points), torch.from_numpy(mask), 4)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.int64
    np.testing.assert_array_equal(got.numpy(), expected)


def test_knn_rejects_k_too_large():
    points, mask = _random_cloud(4, 6, seed=11)
    with pytest.raises(ValueError, match="k < P"):
        knn_indices(points, mask, 6)
