"""Toy batches and model constructors shared by the model tests."""

from __future__ import annotations

import math

import torch

from heplearn import models
from heplearn.errors import MissingDependencyError

N_FEATURES = 5
IMAGE_SIZE = 16

#: torch models whose output must not depend on the order of the particles
SET_MODELS = ("pfn", "efn", "particlenet", "particlenet-lite", "part", "lorentznet", "lgatr")
TORCH_MODELS = tuple(n for n in models.available_models() if models.model_info(n).kind == "torch")


def dims(name: str) -> dict:
    """Input dimensions of ``name`` for the toy batches."""
    if name == "cnn":
        return {"image_size": IMAGE_SIZE}
    if name in ("efn", "lorentznet", "lgatr"):
        return {}
    return {"n_features": N_FEATURES}


def build(name: str, seed: int = 0, **overrides) -> torch.nn.Module:
    """The ``small`` preset of ``name`` (skips when an optional dependency is missing)."""
    import pytest

    torch.manual_seed(seed)
    try:
        return models.create(name, preset="small", **dims(name), **overrides)
    except MissingDependencyError as err:
        pytest.skip(str(err))


def inputs_of(model, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The entries of ``batch`` that ``model`` reads (its ``inputs`` and the mask)."""
    keys = set(model.inputs) | {"mask"}
    return {k: v for k, v in batch.items() if k in keys}


def make_batch(
    n_real=(12, 5, 9, 1), n_particles: int = 14, seed: int = 0, dtype=torch.float32
) -> dict[str, torch.Tensor]:
    """Consistent toy jets: pT-ordered particles near the jet axis, zero padding behind."""
    g = torch.Generator().manual_seed(seed)
    b = len(n_real)
    mask = torch.arange(n_particles)[None, :] < torch.tensor(n_real)[:, None]
    pt = torch.sort(
        torch.rand(b, n_particles, generator=g, dtype=torch.float64) * 100 + 1,
        dim=1,
        descending=True,
    ).values
    deta = 0.4 * torch.randn(b, n_particles, generator=g, dtype=torch.float64)
    dphi = 0.4 * torch.randn(b, n_particles, generator=g, dtype=torch.float64)
    eta, phi = deta + 0.3, dphi + 1.0
    mass = 0.14 * torch.rand(b, n_particles, generator=g, dtype=torch.float64)
    px, py, pz = pt * torch.cos(phi), pt * torch.sin(phi), pt * torch.sinh(eta)
    e = torch.sqrt(px**2 + py**2 + pz**2 + mass**2)
    m = mask.to(torch.float64)
    vectors = torch.stack([e, px, py, pz], dim=-1) * m[..., None]
    feats = (
        torch.stack(
            [deta, dphi, torch.log(pt), torch.log(e), torch.sqrt(deta**2 + dphi**2)], dim=-1
        )
        * m[..., None]
    )
    image = torch.rand(b, 1, IMAGE_SIZE, IMAGE_SIZE, generator=g, dtype=torch.float64)
    return {
        "features": feats.to(dtype),
        "points": torch.stack([deta, dphi], -1).mul(m[..., None]).to(dtype),
        "vectors": vectors.to(dtype),
        "image": image.to(dtype),
        "jet_features": torch.randn(b, 4, generator=g, dtype=torch.float64).to(dtype),
        "mask": mask,
    }


def permute_particles(batch: dict, perm: torch.Tensor) -> dict:
    """Apply the per-jet permutation ``perm`` ``(B, P)`` to every particle tensor."""
    out = dict(batch)
    for key in ("features", "points", "vectors"):
        x = batch[key]
        out[key] = torch.gather(x, 1, perm.unsqueeze(-1).expand_as(x))
    out["mask"] = torch.gather(batch["mask"], 1, perm)
    return out


def add_padding(batch: dict, extra: int) -> dict:
    """Append ``extra`` padded particles to every jet."""
    out = dict(batch)
    for key in ("features", "points", "vectors"):
        out[key] = torch.nn.functional.pad(batch[key], (0, 0, 0, extra))
    out["mask"] = torch.nn.functional.pad(batch["mask"], (0, extra), value=False)
    return out


def boost_z(v: torch.Tensor, rapidity: float) -> torch.Tensor:
    """Boost four-vectors ``(E, px, py, pz)`` along z."""
    ch, sh = math.cosh(rapidity), math.sinh(rapidity)
    e, px, py, pz = v.unbind(-1)
    return torch.stack([ch * e + sh * pz, px, py, sh * e + ch * pz], dim=-1)


def rotate_z(v: torch.Tensor, angle: float) -> torch.Tensor:
    """Rotate four-vectors about z."""
    c, s = math.cos(angle), math.sin(angle)
    e, px, py, pz = v.unbind(-1)
    return torch.stack([e, c * px - s * py, s * px + c * py, pz], dim=-1)


def general_lorentz(v: torch.Tensor) -> torch.Tensor:
    """A fixed Lorentz transformation mixing every axis: boost along x, rotation about y,
    boost along z, rotation about z."""

    def boost_x(v, r):
        ch, sh = math.cosh(r), math.sinh(r)
        e, px, py, pz = v.unbind(-1)
        return torch.stack([ch * e + sh * px, sh * e + ch * px, py, pz], dim=-1)

    def rot_y(v, a):
        c, s = math.cos(a), math.sin(a)
        e, px, py, pz = v.unbind(-1)
        return torch.stack([e, c * px + s * pz, py, -s * px + c * pz], dim=-1)

    return rotate_z(boost_z(rot_y(boost_x(v, 0.7), 0.9), -0.5), 2.1)
