"""The symmetries the models claim: particle order, Lorentz subgroups, φ wrap-around."""

from __future__ import annotations

import pytest
import torch

from heplearn import models

from .helpers import (
    SET_MODELS,
    boost_z,
    build,
    general_lorentz,
    make_batch,
    permute_particles,
    rotate_z,
)


def _run(model, batch):
    keys = set(model.inputs) | {"mask"}
    with torch.no_grad():
        return model({k: v for k, v in batch.items() if k in keys})


@pytest.mark.parametrize("name", SET_MODELS)
def test_particle_order_and_padding_position_do_not_matter(name):
    model = build(name).eval().double()
    batch = make_batch(dtype=torch.float64)
    g = torch.Generator().manual_seed(7)
    b, p = batch["mask"].shape
    # a different random order per jet, padding scattered between real particles
    perm = torch.stack([torch.randperm(p, generator=g) for _ in range(b)])
    shuffled = permute_particles(batch, perm)
    assert not torch.equal(shuffled["mask"], batch["mask"])
    torch.testing.assert_close(_run(model, shuffled), _run(model, batch), rtol=1e-9, atol=1e-9)


def _rel_change(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


def _lorentznet(beams):
    torch.manual_seed(0)
    return models.create("lorentznet", preset="small", beams=beams).eval().double()


@pytest.mark.parametrize("beams", ["spurions", "transverse", None])
def test_lorentznet_invariant_under_rotations_about_z(beams):
    model = _lorentznet(beams)
    batch = make_batch(dtype=torch.float64)
    ref = _run(model, batch)
    for angle in (0.3, 2.0, -2.9):
        rotated = dict(batch, vectors=rotate_z(batch["vectors"], angle))
        assert _rel_change(_run(model, rotated), ref) < 1e-6


@pytest.mark.parametrize("beams", ["transverse", None])
def test_lorentznet_invariant_under_boosts_along_z(beams):
    model = _lorentznet(beams)
    batch = make_batch(dtype=torch.float64)
    ref = _run(model, batch)
    for rapidity in (0.5, -1.5):
        boosted = dict(batch, vectors=boost_z(batch["vectors"], rapidity))
        assert _rel_change(_run(model, boosted), ref) < 1e-6


def test_lorentznet_beam_spurions_break_boosts_along_z():
    # the paper's spurions (sqrt(2), 0, 0, ±1) are fixed vectors, not boosted with the jet
    model = _lorentznet("spurions")
    batch = make_batch(dtype=torch.float64)
    boosted = dict(batch, vectors=boost_z(batch["vectors"], 1.5))
    assert _rel_change(_run(model, boosted), _run(model, batch)) > 1e-4


def test_lorentznet_without_beams_is_lorentz_invariant():
    model = _lorentznet(None)
    batch = make_batch(dtype=torch.float64)
    moved = dict(batch, vectors=general_lorentz(batch["vectors"]))
    assert _rel_change(_run(model, moved), _run(model, batch)) < 1e-6


@pytest.mark.parametrize("beams", ["spurions", "transverse"])
def test_lorentznet_with_beams_is_not_lorentz_invariant(beams):
    model = _lorentznet(beams)
    batch = make_batch(dtype=torch.float64)
    moved = dict(batch, vectors=general_lorentz(batch["vectors"]))
    assert _rel_change(_run(model, moved), _run(model, batch)) > 1e-4


def test_lgatr_invariant_under_rotations_about_z():
    model = build("lgatr").eval().double()
    batch = make_batch(dtype=torch.float64)
    rotated = dict(batch, vectors=rotate_z(batch["vectors"], 1.1))
    assert _rel_change(_run(model, rotated), _run(model, batch)) < 1e-6


def test_circular_cnn_is_phi_shift_equivariant_then_invariant():
    torch.manual_seed(0)
    model = models.create("cnn", image_size=(16, 24), circular_phi=True).eval().double()
    image = torch.rand(3, 1, 16, 24, dtype=torch.float64)
    with torch.no_grad():
        fmap = model.feature_map(image)
        assert fmap.shape[-1] == 24
        ref = model({"image": image})
        for shift in (1, 5, 13, -7):
            rolled = torch.roll(image, shift, dims=-1)
            torch.testing.assert_close(model.feature_map(rolled), torch.roll(fmap, shift, -1))
            torch.testing.assert_close(model({"image": rolled}), ref, rtol=1e-10, atol=1e-12)
        # not invariant under a shift in η, and the plain CNN is not φ-invariant
        assert not torch.allclose(model({"image": torch.roll(image, 3, dims=-2)}), ref)
        plain = models.create("cnn", image_size=(16, 24)).eval().double()
        rolled = torch.roll(image, 5, dims=-1)
        assert not torch.allclose(plain({"image": rolled}), plain({"image": image}))


@pytest.mark.parametrize("latent_norm", [True, False])
def test_efn_is_infrared_and_collinear_safe(latent_norm):
    torch.manual_seed(0)
    model = models.create("efn", preset="small", latent_norm=latent_norm).eval().double()
    batch = make_batch(n_real=(6,), n_particles=8, dtype=torch.float64)
    ref = _run(model, batch)
    # collinear split of particle 0 into two halves with the same direction
    split = {k: v.clone() for k, v in batch.items()}
    split["vectors"][0, 0] *= 0.5
    split["vectors"][0, 6] = split["vectors"][0, 0]
    split["points"][0, 6] = split["points"][0, 0]
    split["mask"][0, 6] = True
    torch.testing.assert_close(_run(model, split), ref)
    # an infinitely soft extra particle
    soft = {k: v.clone() for k, v in batch.items()}
    soft["vectors"][0, 7] = batch["vectors"][0, 1] * 1e-12
    soft["points"][0, 7] = torch.tensor([0.3, -0.2], dtype=torch.float64)
    soft["mask"][0, 7] = True
    torch.testing.assert_close(_run(model, soft), ref)


@pytest.mark.parametrize("name", ["pfn", "efn"])
def test_deep_set_phi_starts_homogeneous_about_the_jet_axis(name):
    """``phi_init="energyflow"`` (EnergyFlow's He-uniform weights, zero biases) gives a
    ``Phi`` with Φ(λx) = λΦ(x) for λ > 0 before training, so its ReLUs switch at the jet
    axis whatever unit the angles have; PyTorch's default initialisation does not. A
    ``phi_init`` that is not known is named."""
    x = make_batch(dtype=torch.float64)["features" if name == "pfn" else "points"]
    for init, homogeneous in (("energyflow", True), ("torch", False)):
        phi = build(name, phi_init=init).double().phi
        first = phi[0]
        assert bool(first.bias.abs().max() == 0) is homogeneous
        # He-uniform weights reach beyond PyTorch's default bound 1 / sqrt(fan_in)
        assert bool(first.weight.abs().max() > first.in_features**-0.5) is homogeneous
        with torch.no_grad():
            for scale in (0.1, 7.0):
                same = torch.allclose(phi(scale * x), scale * phi(x), rtol=1e-12, atol=1e-12)
                assert same is homogeneous
    with pytest.raises(ValueError, match="phi_init"):
        build(name, phi_init="xavier")


def test_lstm_softest_first_reads_the_real_particles_in_reverse():
    """``read_order="softest_first"`` equals the default reading of the same jets with their
    real particles reversed (padding behind), and differs from the default on the jets as
    given; a reading order that is not known is named."""
    hardest = build("lstm", read_order="hardest_first").eval().double()
    softest = build("lstm").eval().double()  # the default
    softest.load_state_dict(hardest.state_dict())
    batch = make_batch(dtype=torch.float64)
    b, p = batch["mask"].shape
    n = batch["mask"].sum(dim=1, keepdim=True)
    pos = torch.arange(p).expand(b, p)
    perm = torch.where(pos < n, n - 1 - pos, pos)  # reverse the real ones in place
    reversed_batch = permute_particles(batch, perm)
    torch.testing.assert_close(
        _run(softest, batch), _run(hardest, reversed_batch), rtol=1e-12, atol=1e-12
    )
    assert not torch.allclose(_run(softest, batch), _run(hardest, batch))
    with pytest.raises(ValueError, match="read_order"):
        build("lstm", read_order="random")
