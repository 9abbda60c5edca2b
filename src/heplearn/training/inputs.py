"""From a jet table to the named input arrays the models consume.

Keys (see :mod:`heplearn.models`): ``features`` (N, P, F) particle features and ``mask``
(N, P); ``points`` (N, P, 2) = (Δη, Δφ) for kNN graphs; ``vectors`` (N, P, 4) = (E, px,
py, pz); ``image`` (N, 1, H, W) jet images; ``jet_features`` (N, K) jet observables; plus
``label`` (N,) and ``weight`` (N,) when the table has weights; ``decorrelate`` (N,) the
variable named by ``config.decorrelation`` (the jet mass) when decorrelating. Each array is
built once and shared by every model that needs it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import awkward as ak
import numpy as np

from heplearn.errors import HeplearnError
from heplearn.training.config import TrainConfig

__all__ = ["required_inputs", "build_inputs", "model_dimensions"]


def required_inputs(models: str | Iterable[str], overrides: dict | None = None) -> set[str]:
    """The input keys the named model(s) consume; ``overrides`` (the ``model_overrides`` of
    one model) may add some: ``scalar_features`` of LorentzNet or L-GATr reads its Lorentz
    scalars from the per-particle ``features``."""
    from heplearn import models as registry

    names = [models] if isinstance(models, str) else list(models)
    keys: set[str] = set()
    for name in names:
        keys |= set(registry.model_info(name).inputs)
    if overrides and overrides.get("scalar_features"):
        keys.add("features")
    return keys


def build_inputs(table: ak.Array, keys: Iterable[str], config: TrainConfig) -> dict:
    """Arrays for ``keys`` (and always ``label``, ``mask``, ``weight`` if present)."""
    from heplearn import representations as rep

    keys = set(keys)
    out: dict[str, np.ndarray] = {"label": ak.to_numpy(table["label"]).astype(np.int64)}
    if "weight" in table.fields:
        out["weight"] = ak.to_numpy(table["weight"]).astype(np.float32)
    if config.decorrelation is not None:
        var = config.decorrelation.variable
        if var not in table.fields:
            raise HeplearnError(
                f"decorrelation.variable: the jet table has no field {var!r} "
                f"(fields: {', '.join(f for f in table.fields if f != 'constituents')})"
            )
        out["decorrelate"] = ak.to_numpy(table[var]).astype(np.float32)
    P = config.max_particles
    if keys & {"features", "points", "vectors"} or not keys:
        names = config.particle_features
        angles = tuple(names[:2]) == ("deta", "dphi")
        x, mask = rep.particle_cloud(
            table, max_particles=P, features=names if angles else ("deta", "dphi", *names)
        )
        out["mask"] = mask
        if "features" in keys:
            out["features"] = x if angles else np.ascontiguousarray(x[..., 2:])
        if "points" in keys:
            out["points"] = np.ascontiguousarray(x[..., :2])
    if "vectors" in keys:
        vectors, _ = rep.four_vectors(table, max_particles=P)
        out["vectors"] = vectors.astype(np.float32)
    if "image" in keys:
        out["image"] = rep.jet_image(table, n_pixels=config.image_pixels, R=config.jet_radius)
    if "jet_features" in keys:
        from heplearn.physics.observables import OBSERVABLE_NAMES, jet_observables

        obs = jet_observables(table, R0=config.jet_radius)
        out["jet_features"] = np.stack([obs[k] for k in OBSERVABLE_NAMES], axis=1).astype(
            np.float32
        )
    return out


def model_dimensions(model: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Constructor arguments that depend on the data: the number of particle features,
    of kNN coordinates and the image size, for the constructor parameters that exist."""
    import inspect

    from heplearn import models as registry

    info = registry.model_info(model)
    if info.kind != "torch":
        return {}
    params = inspect.signature(info.constructor()).parameters
    dims: dict[str, Any] = {}
    if "n_features" in params and "features" in arrays:
        dims["n_features"] = int(arrays["features"].shape[-1])
    if "n_coordinates" in params and "points" in arrays:
        dims["n_coordinates"] = int(arrays["points"].shape[-1])
    if "image_size" in params and "image" in arrays:
        dims["image_size"] = [int(n) for n in arrays["image"].shape[-2:]]
    return dims
