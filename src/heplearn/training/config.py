"""Training configuration: one typed object, validated once at the boundary.

``TrainConfig.cast`` accepts a config, a dict or nothing (defaults); an invalid field raises
:class:`~heplearn.errors.InvalidConfigError` naming its path (``optimizer.lr``-style).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from heplearn.errors import HeplearnError

__all__ = ["InvalidConfigError", "TrainConfig", "DecorrelationConfig", "PARTICLE_FEATURE_SETS"]

#: Named per-particle feature sets for ``TrainConfig.particle_features``:
#: ``kinematic``, the seven ParticleNet/ParT kinematic inputs (all a four-momentum gives: the
#: Top Quark Tagging Reference Dataset's information content), and ``kinpid``, those plus
#: charge and particle type (ParT's JetClass "kinematics + PID" inputs), and ``topodnn``,
#: TopoDNN's pT and angles in its aligned frame (arXiv:1704.02124).
PARTICLE_FEATURE_SETS = ("kinematic", "kinpid", "topodnn")


class InvalidConfigError(HeplearnError):
    """A training configuration field is invalid; the message names the field."""


class DecorrelationConfig(BaseModel):
    """Decorrelate the score from a jet variable (the mass) on background jets.

    ``method``: ``pearson`` (penalty λ ρ²), ``disco`` (penalty λ dCorr², Kasieczka & Shih,
    arXiv:2001.05310) or ``adversary`` (learning to pivot, Louppe, Kagan & Cranmer,
    arXiv:1611.01046: the classifier minimises L_clf − λ L_adv). See
    :mod:`heplearn.decorrelation`.
    """

    model_config = ConfigDict(extra="forbid")

    method: Literal["pearson", "disco", "adversary"]
    strength: float = Field(10.0, ge=0, description="λ")
    variable: str = Field("mass", description="jet-table field to decorrelate from")
    background_only: bool = Field(True, description="penalise on label-0 jets only")
    adversary_bins: int = Field(20, ge=2, description="mass bins the adversary predicts")
    adversary_hidden: int = Field(64, gt=0)
    adversary_lr: float = Field(1e-3, gt=0)
    adversary_steps: int = Field(5, gt=0, description="adversary updates per classifier update")
    pretrain_epochs: int = Field(
        1, ge=0, description="epochs of classifier (then adversary) pre-training before λ > 0"
    )
    bias_corrected: bool = Field(
        False,
        description="disco: the bias-corrected dCorr² (Székely & Rizzo, arXiv:1310.2926) "
        "instead of the V-statistic, whose ~2.5-3/N bias on a batch's N background jets rewards "
        "a constant score; unweighted jets only",
    )

    @model_validator(mode="after")
    def _bias_correction_is_for_disco(self):
        if self.bias_corrected and self.method != "disco":
            raise ValueError(
                f"decorrelation.bias_corrected applies to method 'disco', not '{self.method}'"
            )
        return self


class TrainConfig(BaseModel):
    """Everything that fixes a training run (with the dataset and the model name).

    Splits: ``val_fraction`` and ``test_fraction`` of the jets, drawn by ``split_seed``
    (independent of ``seed``, so repeated trainings share one test set). The test set is
    never used for model selection: early stopping and the best checkpoint use the
    validation loss.
    """

    model_config = ConfigDict(extra="forbid")

    model: str = "pfn"
    preset: Literal["default", "small"] = "small"
    model_overrides: dict[str, Any] = Field(default_factory=dict)
    seed: int = 1
    split_seed: int = 12345
    val_fraction: float = Field(0.2, gt=0, lt=1)
    test_fraction: float = Field(0.2, ge=0, lt=1)
    max_train_jets: int | None = Field(None, gt=0, description="learning curves")
    max_particles: int = Field(128, gt=0)
    image_pixels: int = Field(40, gt=0)
    jet_radius: float = Field(0.8, gt=0, description="R0 for observables and images")
    batch_size: int = Field(256, gt=0)
    epochs: int = Field(20, gt=0)
    optimizer: Literal["adamw", "sgd"] = "adamw"
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(1e-2, ge=0)
    momentum: float = Field(0.9, ge=0, lt=1)
    gradient_clip_norm: float | None = Field(
        None, gt=0, description="clip the gradients' global L2 norm to this value"
    )
    schedule: Literal["cosine", "onecycle", "constant"] = "cosine"
    warmup_fraction: float = Field(
        0.05, ge=0, lt=1, description="warm-up share of the cosine and one-cycle schedules"
    )
    early_stopping_patience: int | None = Field(5, gt=0)
    batch_norm_calibration_batches: int = Field(
        20,
        ge=0,
        description="training batches over which every BatchNorm's statistics are "
        "recomputed before each validation (precise BatchNorm, arXiv:2105.07576); 0: off",
    )
    devices: int | Literal["auto"] = "auto"
    num_nodes: int = Field(1, gt=0)
    accelerator: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    precision: Literal["auto", "32", "bf16-mixed"] = "auto"
    num_workers: int = Field(0, ge=0)
    progress: bool = True
    loss: Literal["cross_entropy", "focal"] = "cross_entropy"
    focal_gamma: float = Field(2.0, ge=0, description="γ of the focal loss")
    focal_alpha: float | None = Field(None, gt=0, lt=1, description="α of the signal class")
    balance_classes: bool = Field(False, description="weight classes to equal total weight")
    decorrelation: DecorrelationConfig | None = None
    particle_features: tuple[str, ...] = Field(
        "kinpid",
        validate_default=True,
        description="per-particle features of the `features` input: a name of "
        "PARTICLE_FEATURE_SETS or names registered in heplearn.representations.FEATURES",
    )

    @field_validator("particle_features", mode="before")
    @classmethod
    def _feature_names(cls, value: Any) -> tuple[str, ...]:
        from heplearn.representations import cloud

        sets = {
            "kinematic": cloud.DEFAULT_FEATURES,
            "kinpid": cloud.KINPID_FEATURES,
            "topodnn": cloud.TOPODNN_FEATURES,
        }
        if isinstance(value, str):
            value = sets.get(value, (value,))
        names = tuple(value)
        unknown = [n for n in names if n not in cloud.FEATURES]
        if unknown or not names:
            raise ValueError(
                f"unknown particle feature(s) {unknown or '(none given)'}; give one of "
                f"{', '.join(PARTICLE_FEATURE_SETS)} or names from "
                f"{', '.join(sorted(cloud.FEATURES))}"
            )
        return names

    @model_validator(mode="after")
    def _fractions(self) -> TrainConfig:
        if self.val_fraction + self.test_fraction >= 1:
            raise ValueError("val_fraction + test_fraction must leave jets for training")
        return self

    @classmethod
    def cast(cls, config: TrainConfig | dict[str, Any] | None = None, **updates) -> TrainConfig:
        """A validated config from a config, a dict or ``None``, with ``updates`` applied."""
        if isinstance(config, TrainConfig):
            data = config.model_dump()
        elif config is None:
            data = {}
        elif isinstance(config, dict):
            data = dict(config)
        else:
            raise InvalidConfigError(
                f"training config must be a TrainConfig or a dict, got {type(config).__name__}"
            )
        data.update({k: v for k, v in updates.items() if v is not None})
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '<config>'}: {e['msg']}"
                for e in err.errors()
            )
            raise InvalidConfigError(f"invalid training config: {problems}") from None
