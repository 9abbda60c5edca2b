"""The model registry: one name -> one architecture, its paper, inputs and presets.

Every model, torch network or tabular estimator, is registered here once with the
hyper-parameters of its paper (preset ``"default"``) and a smaller CPU-sized preset
(``"small"``). :func:`create` builds it; :func:`model_info` says what it needs.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from heplearn.errors import HeplearnError, UnknownNameError

__all__ = [
    "ModelInfo",
    "register_model",
    "create",
    "available_models",
    "model_info",
]

Kind = Literal["torch", "tabular"]


@dataclass(frozen=True)
class ModelInfo:
    """What the registry knows about a model.

    Attributes
    ----------
    name
        Registry name (``"particlenet"``).
    target
        ``"module:Class"`` of the constructor, imported only when the model is created, so
        that optional dependencies (xgboost, lgatr) stay out of ``import heplearn.models``.
    kind
        ``"torch"`` (an ``nn.Module`` whose ``forward(batch)`` returns logits
        ``(batch, n_classes)``) or ``"tabular"`` (a scikit-learn-style estimator on
        ``jet_features``).
    paper
        Citation with arXiv id.
    inputs
        Batch keys the model reads (``"mask"`` is always allowed in addition).
    presets
        Preset name -> keyword arguments; ``"default"`` holds the published sizes.
    extra
        Optional dependency group (``pip install heplearn[extra]``) the model needs, if any.
    """

    name: str
    target: str
    kind: Kind
    paper: str
    inputs: tuple[str, ...]
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    extra: str | None = None

    def constructor(self) -> Callable[..., Any]:
        """Import and return the class that builds this model."""
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


_REGISTRY: dict[str, ModelInfo] = {}


def register_model(
    name: str,
    target: str,
    *,
    kind: Kind,
    paper: str,
    inputs: tuple[str, ...],
    presets: Mapping[str, Mapping[str, Any]],
    extra: str | None = None,
) -> ModelInfo:
    """Add a model to the registry; a name already taken is refused.

    ``presets`` must contain ``"default"`` (the published hyper-parameters).
    """
    if name in _REGISTRY:
        raise HeplearnError(
            f'Model "{name}" is already registered (by {_REGISTRY[name].target}); '
            "choose another name"
        )
    if kind not in ("torch", "tabular"):
        raise HeplearnError(f'Model "{name}": kind must be "torch" or "tabular", got {kind!r}')
    if "default" not in presets:
        raise HeplearnError(f'Model "{name}": presets must include "default"')
    info = ModelInfo(
        name=name,
        target=target,
        kind=kind,
        paper=paper,
        inputs=tuple(inputs),
        presets={k: dict(v) for k, v in presets.items()},
        extra=extra,
    )
    _REGISTRY[name] = info
    return info


def available_models() -> list[str]:
    """Sorted names of every registered model."""
    return sorted(_REGISTRY)


def model_info(name: str) -> ModelInfo:
    """The registry entry of ``name``; unknown names raise
    :class:`~heplearn.errors.UnknownNameError` listing the known ones."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownNameError(
            f'Unknown model "{name}". Known models: {", ".join(available_models())}'
        ) from None


def create(name: str, preset: str = "default", **overrides: Any) -> Any:
    """Build model ``name`` with the keyword arguments of ``preset`` updated by ``overrides``.

    Parameters
    ----------
    name
        Registry name, see :func:`available_models`.
    preset
        ``"default"`` (published sizes) or ``"small"`` (CPU-sized); see
        ``model_info(name).presets``.
    **overrides
        Constructor arguments: input dimensions (``n_features``, ``image_size``, ...) and any
        hyper-parameter to change.

    Raises
    ------
    UnknownNameError
        Unknown model, preset or constructor argument (the message lists the allowed ones).
    MissingDependencyError
        The model needs an optional dependency that is not installed.
    """
    info = model_info(name)
    if preset not in info.presets:
        raise UnknownNameError(
            f'Unknown preset "{preset}" for model "{name}". '
            f"Known presets: {', '.join(sorted(info.presets))}"
        )
    cls = info.constructor()
    kwargs = {**info.presets[preset], **overrides}
    params = inspect.signature(cls).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        unknown = sorted(set(kwargs) - set(params))
        if unknown:
            raise UnknownNameError(
                f"Unknown option{'s' if len(unknown) > 1 else ''} "
                f'{", ".join(repr(u) for u in unknown)} for model "{name}". '
                f"Known options: {', '.join(sorted(params))}"
            )
    missing = [
        p.name
        for p in params.values()
        if p.default is inspect.Parameter.empty
        and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and p.name not in kwargs
    ]
    if missing:
        raise HeplearnError(
            f'Model "{name}" needs the input dimension{"s" if len(missing) > 1 else ""} '
            f"{', '.join(missing)} (e.g. create({name!r}, {missing[0]}=...)); "
            "they come from the data, not from a preset"
        )
    return cls(**kwargs)
