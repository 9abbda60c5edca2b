"""Classifier-based density ratio (the likelihood-ratio trick) as a reweighter.

:class:`ClassifierReweighter` trains any registered model (a set network on particle
clouds, a CNN on images, ``bdt``/``logreg`` on jet observables) to separate *target*
events (label 1, e.g. data) from *source* events (label 0, e.g. simulation) through the
training engine (:func:`heplearn.training.train_on_arrays`), then turns its output f(x)
into weights for source events, w(x) = f/(1 − f) · N_source/N_target
(:func:`heplearn.reweighting.weights.probabilities_to_weights`).

Inputs (``X``) may be

* a jet table (awkward Array): the model's inputs are built with
  :func:`heplearn.training.build_inputs` and the config (``max_particles``,
  ``jet_radius``, ...); the table's own ``label`` and ``weight`` fields are ignored;
* a dict of input arrays as :func:`~heplearn.training.build_inputs` returns them;
* a plain ``(N, K)`` float matrix, for the tabular models (fitted on it as their
  ``jet_features``): the fast path for low-dimensional problems.

Weights must be learned on one set of events and applied to another: :meth:`fit` never
sees the events :meth:`ClassifierReweighter.predict_weights` is evaluated on in a proper
analysis, and :func:`cross_fit_weights` gives out-of-fold weights for every source event
(k-fold) when no events can be spared.

Only proper scoring rules give probabilities. A config whose ``loss`` is not
``"cross_entropy"`` (e.g. ``"focal"``, arXiv:1708.02002) is recalibrated on a held-out
split (isotonic regression by default) with a :class:`RecalibrationWarning`;
``calibration="none"`` refuses such a config instead.

References
----------
Cranmer, Pavez, Louppe, arXiv:1506.02169; Andreassen & Nachman, arXiv:1907.08209;
isotonic calibration: Zadrozny & Elkan, KDD 2002, doi:10.1145/775047.775151; Platt
scaling: Platt, in *Advances in Large Margin Classifiers* (MIT Press, 1999).
"""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike

from heplearn.reweighting.weights import (
    ReweightingError,
    _check_epsilon,
    _check_max_weight,
    _check_quantile,
    check_weights,
    probabilities_to_weights,
)

if TYPE_CHECKING:
    import awkward as ak

    from heplearn.training.config import TrainConfig

__all__ = [
    "ClassifierReweighter",
    "RecalibrationWarning",
    "Samples",
    "cross_fit_weights",
    "stratified_split",
]

#: What the reweighter accepts as events: a jet table, a dict of input arrays or an
#: ``(N, K)`` matrix (tabular models only).
Samples: TypeAlias = "ak.Array | Mapping[str, np.ndarray] | np.ndarray"

_CALIBRATIONS = ("auto", "isotonic", "platt", "none")
# keys of an input dict that are not model inputs
_NOT_INPUTS = ("label", "weight", "decorrelate")


class RecalibrationWarning(UserWarning):
    """The classifier was trained with a loss that is not a proper scoring rule and its
    outputs were recalibrated on a held-out split before being read as probabilities."""


# --------------------------------------------------------------------------------------
# events in any of the three forms
# --------------------------------------------------------------------------------------
def _is_table(x: Any) -> bool:
    try:
        import awkward as ak
    except ImportError:  # pragma: no cover - core dependency
        return False
    return isinstance(x, ak.Array)


def _n_events(x: Any, name: str) -> int:
    if _is_table(x):
        return len(x)
    if isinstance(x, Mapping):
        lengths = {k: len(v) for k, v in x.items() if k not in _NOT_INPUTS}
        if not lengths:
            raise ReweightingError(f"{name}: the dict of input arrays holds no model inputs")
        if len(set(lengths.values())) > 1:
            raise ReweightingError(f"{name}: input arrays differ in length: {lengths}")
        return next(iter(lengths.values()))
    if isinstance(x, np.ndarray):
        return len(x)
    raise _type_error(x, name)


def _type_error(x: Any, name: str) -> ReweightingError:
    return ReweightingError(
        f"{name}: expected a jet table (awkward Array), a dict of input arrays or an (N, K) "
        f"numpy matrix; got {type(x).__name__}"
    )


def _take(x: Any, index: np.ndarray) -> Any:
    if _is_table(x) or isinstance(x, np.ndarray):
        return x[index]
    return {k: np.asarray(v)[index] for k, v in x.items()}


def stratified_split(
    labels: ArrayLike, fractions: Mapping[str, float], seed: int
) -> dict[str, np.ndarray]:
    """Disjoint index arrays, one per name in ``fractions``, each holding that fraction of
    every class (the rest goes to ``"train"``); a pure function of the labels and ``seed``.

    Every split gets at least one event of each class; :class:`ReweightingError` if a
    class is too small for that.
    """
    y = np.asarray(labels)
    rng = np.random.default_rng(seed)
    out: dict[str, list[np.ndarray]] = {"train": [], **{k: [] for k in fractions}}
    for cls in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == cls))
        if len(idx) < len(out):
            raise ReweightingError(
                f"class {int(cls)} has {len(idx)} events; splitting it into "
                f"{sorted(out)} needs at least {len(out)}"
            )
        start = 0
        for name, frac in fractions.items():
            n = min(max(1, int(round(frac * len(idx)))), len(idx) - start - 1)
            out[name].append(idx[start : start + n])
            start += n
        out["train"].append(idx[start:])
    return {k: np.sort(np.concatenate(v)) for k, v in out.items()}


def _check_labels(y: ArrayLike, n: int) -> np.ndarray:
    labels = np.asarray(y)
    if labels.ndim != 1 or len(labels) != n:
        raise ReweightingError(
            f"y: expected one label per event, shape ({n},); got shape {labels.shape}"
        )
    if n == 0:
        raise ReweightingError("X, y: empty (no events); need source and target events")
    values = set(np.unique(labels).tolist())
    if not values <= {0, 1}:
        raise ReweightingError(f"y: labels must be 0 (source) or 1 (target); got {sorted(values)}")
    if len(values) < 2:
        only = "source (label 0)" if values == {0} else "target (label 1)"
        raise ReweightingError(
            f"y: single-class sample, only {only} events; the density-ratio classifier "
            "needs both source (label 0) and target (label 1) events"
        )
    return labels.astype(np.int64)


def _loss_of(config: Any) -> str:
    if isinstance(config, Mapping):
        return str(config.get("loss", "cross_entropy"))
    return str(getattr(config, "loss", "cross_entropy"))


def _cast_config(config: Any) -> TrainConfig:
    from heplearn.training.config import TrainConfig

    if config is None:
        return TrainConfig.cast(model="bdt", progress=False)
    if not isinstance(config, TrainConfig):
        config = TrainConfig.cast(config)
    if getattr(config, "decorrelation", None) is not None:
        raise ReweightingError(
            "config.decorrelation: a classifier trained to be decorrelated from a variable "
            "does not estimate p(target | x), so it cannot give density-ratio weights; "
            "remove the decorrelation option"
        )
    return config


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


# --------------------------------------------------------------------------------------
# the reweighter
# --------------------------------------------------------------------------------------
class ClassifierReweighter:
    """Source → target density ratio from a classifier (scikit-learn style).

    Parameters
    ----------
    config : TrainConfig or dict, optional
        The classifier: ``model`` (any name of :func:`heplearn.models.available_models`),
        ``preset``, training options; ``val_fraction`` of the fit events (drawn per class
        by ``split_seed``) is held out for early stopping and model selection. Default:
        ``bdt`` (small preset), no progress bar.
    epsilon : float
        Clip the classifier output into [ε, 1 − ε] before forming f/(1 − f), in (0, 0.5).
    max_weight : float, optional
        Cap every weight at this value.
    weight_quantile : float, optional
        Cap weights at this quantile (in (0, 1]) of the weights of the held-out source
        events of :meth:`fit` (fixed at fit time, so a weight depends only on its event).
    calibration : {"auto", "isotonic", "platt", "none"}
        ``"auto"``: recalibrate (isotonic) only when ``config.loss`` is not
        ``"cross_entropy"``, with a :class:`RecalibrationWarning`; ``"isotonic"`` /
        ``"platt"``: always recalibrate with that method; ``"none"``: never, and refuse a
        non-proper loss.
    calibration_fraction : float
        Fraction of the fit events held out (per class) to fit the calibration, in (0, 1).
    run_dir : path-like, optional
        Where the engine writes the classifier's run directory (checkpoints, config); a
        temporary directory (removed after fitting) when not given.

    Attributes
    ----------
    classifier_ : torch module or tabular estimator
        The trained classifier (eval mode).
    prior_ratio_ : float
        Σ w_source / Σ w_target of the events the classifier was trained on (of the
        calibration split when recalibrated; 1 with ``config.balance_classes``).
    weight_cap_ : float
        The resolved weight cap (``inf`` when none).
    calibration_ : str or None
        The calibration applied (``"isotonic"``, ``"platt"`` or None).
    input_shapes_ : dict
        Per-event shape of every input array, checked at prediction time.
    n_source_, n_target_ : int
        Events of each class given to :meth:`fit`.

    References
    ----------
    Cranmer, Pavez, Louppe, arXiv:1506.02169; Andreassen & Nachman, arXiv:1907.08209.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> source, target = rng.normal(0, 1, (4000, 1)), rng.normal(0.5, 1, (4000, 1))
    >>> rw = ClassifierReweighter({"model": "logreg", "progress": False})
    >>> rw = rw.fit_samples(source, target)
    >>> w = rw.predict_weights(np.array([[0.0], [1.0]]))  # exact: exp(0.5 x - 0.125)
    >>> bool(w[1] > w[0])
    True
    """

    _param_names = (
        "config",
        "epsilon",
        "max_weight",
        "weight_quantile",
        "calibration",
        "calibration_fraction",
        "run_dir",
    )

    def __init__(
        self,
        config: TrainConfig | dict[str, Any] | None = None,
        *,
        epsilon: float = 1e-3,
        max_weight: float | None = None,
        weight_quantile: float | None = None,
        calibration: Literal["auto", "isotonic", "platt", "none"] = "auto",
        calibration_fraction: float = 0.2,
        run_dir: str | os.PathLike | None = None,
    ):
        self.config = config
        self.epsilon = epsilon
        self.max_weight = max_weight
        self.weight_quantile = weight_quantile
        self.calibration = calibration
        self.calibration_fraction = calibration_fraction
        self.run_dir = run_dir

    # -- scikit-learn conventions ------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._param_names}

    def set_params(self, **params: Any) -> ClassifierReweighter:
        for k, v in params.items():
            if k not in self._param_names:
                raise ReweightingError(f"unknown parameter {k!r}; known: {self._param_names}")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        model = _cast_config(self.config).model if self.config is not None else "bdt"
        return (
            f"ClassifierReweighter(model={model!r}, epsilon={self.epsilon!r}, "
            f"max_weight={self.max_weight!r}, weight_quantile={self.weight_quantile!r}, "
            f"calibration={self.calibration!r})"
        )

    # -- option checks -------------------------------------------------------------------
    def _resolve_calibration(self, loss: str) -> str | None:
        if self.calibration not in _CALIBRATIONS:
            raise ReweightingError(
                f"calibration must be one of {list(_CALIBRATIONS)}, got {self.calibration!r}"
            )
        proper = loss == "cross_entropy"
        if self.calibration == "none":
            if not proper:
                raise ReweightingError(
                    f"config.loss = {loss!r} is not a proper scoring rule, so the classifier "
                    "outputs are not probabilities and f/(1-f) is not a density ratio; train "
                    "with loss='cross_entropy' or let the reweighter recalibrate "
                    "(calibration='auto', 'isotonic' or 'platt')"
                )
            return None
        if self.calibration == "auto":
            return None if proper else "isotonic"
        return self.calibration

    def _check_options(self) -> None:
        _check_epsilon(self.epsilon)
        if self.max_weight is not None:
            _check_max_weight(self.max_weight)
        if self.weight_quantile is not None:
            _check_quantile(self.weight_quantile)
        if not (0 < self.calibration_fraction < 1):
            raise ReweightingError(
                f"calibration_fraction must lie in (0, 1), got {self.calibration_fraction!r}"
            )

    # -- inputs --------------------------------------------------------------------------
    def _inputs(self, X: Samples, name: str) -> dict[str, np.ndarray]:
        """The model's input arrays for ``X`` (labels and weights stripped)."""
        from heplearn.training.inputs import build_inputs, required_inputs

        config = self.config_
        needed = required_inputs(config.model, config.model_overrides)
        if _is_table(X):
            arrays = build_inputs(X, needed, config)
        elif isinstance(X, Mapping):
            arrays = {k: np.asarray(v) for k, v in X.items()}
        elif isinstance(X, np.ndarray):
            if needed != {"jet_features"}:
                raise ReweightingError(
                    f"{name}: a plain (N, K) matrix can only feed a tabular model on "
                    f"jet_features (bdt, logreg); model {config.model!r} reads "
                    f"{sorted(needed)}: pass a jet table or a dict of input arrays"
                )
            if X.ndim != 2:
                raise ReweightingError(
                    f"{name}: expected a matrix of shape (events, features), got {X.shape}"
                )
            arrays = {"jet_features": np.asarray(X, dtype=np.float64)}
        else:
            raise _type_error(X, name)
        arrays = {k: v for k, v in arrays.items() if k not in _NOT_INPUTS}
        missing = sorted(
            (needed | ({"mask"} if needed & {"features", "points", "vectors"} else set()))
            - set(arrays)
        )
        if missing:
            raise ReweightingError(
                f"{name}: model {config.model!r} needs the input arrays {missing}; got "
                f"{sorted(arrays)}"
            )
        for key in needed:
            x = arrays[key]
            if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
                raise ReweightingError(f"{name}: input {key!r} holds NaN or infinite values")
        return {k: arrays[k] for k in sorted(needed | ({"mask"} & set(arrays)))}

    @staticmethod
    def _event_shape(key: str, x: np.ndarray) -> tuple[int, ...]:
        # particle arrays may be padded to any length; their feature axis must agree
        if key in ("features", "points", "vectors"):
            return (int(x.shape[-1]),)
        return tuple(int(n) for n in x.shape[1:])

    def _check_shapes(self, arrays: dict[str, np.ndarray], name: str) -> None:
        for key, shape in self.input_shapes_.items():
            got = self._event_shape(key, arrays[key])
            if got != shape:
                raise ReweightingError(
                    f"{name}: feature dimension mismatch for {key!r}: the reweighter was "
                    f"fitted on per-event shape {shape}, got {got}"
                )

    # -- fitting -------------------------------------------------------------------------
    def _prior_ratio(self, arrays: dict[str, np.ndarray], balanced: bool | None = None) -> float:
        """Σ w_source / Σ w_target of ``arrays``: the class odds the classifier output
        carries (1 when the engine balances the classes, ``config.balance_classes``)."""
        if balanced is None:
            balanced = bool(getattr(self.config_, "balance_classes", False))
        if balanced:
            return 1.0
        w = arrays.get("weight", np.ones(len(arrays["label"])))
        return float(w[arrays["label"] == 0].sum() / w[arrays["label"] == 1].sum())

    def fit(
        self, X: Samples, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> ClassifierReweighter:
        """Train the classifier on events ``X`` with ``y`` = 1 for target and 0 for
        source events (optionally weighted) and fix the weight cap and calibration."""
        from heplearn.training.engine import load_tagger, predict, subset, train_on_arrays

        self._check_options()
        loss = _loss_of(self.config)
        calibration = self._resolve_calibration(loss)
        self.config_ = _cast_config(self.config)
        n = _n_events(X, "X")
        labels = _check_labels(y, n)
        arrays = self._inputs(X, "X")
        if sample_weight is not None:
            w = check_weights(sample_weight, "sample_weight")
            if len(w) != n:
                raise ReweightingError(f"sample_weight: expected {n} weights, got {len(w)}")
            for cls, what in ((0, "source"), (1, "target")):
                if not (w[labels == cls] > 0).any():
                    raise ReweightingError(f"sample_weight: all {what} weights are zero")
            arrays["weight"] = w.astype(np.float32)
        arrays["label"] = labels
        self.input_shapes_ = {
            k: self._event_shape(k, v) for k, v in arrays.items() if k not in _NOT_INPUTS
        }
        if calibration is not None and self.calibration == "auto":
            warnings.warn(
                f"config.loss = {loss!r} is not a proper scoring rule: recalibrating the "
                f"classifier with isotonic regression on a held-out "
                f"{self.calibration_fraction:.0%} of the events before reading it as a "
                "probability",
                RecalibrationWarning,
                stacklevel=2,
            )
        fractions = {"val": self.config_.val_fraction}
        if calibration is not None:
            fractions["calibration"] = self.calibration_fraction
        if sum(fractions.values()) >= 1:
            raise ReweightingError(
                f"config.val_fraction + calibration_fraction = {sum(fractions.values()):.2f} "
                "leaves no events for training"
            )
        split = stratified_split(labels, fractions, self.config_.split_seed)
        train = subset(arrays, split["train"])
        self.prior_ratio_ = self._prior_ratio(train)
        if calibration is not None:
            # calibrated outputs are posteriors under the calibration split's priors
            self.prior_ratio_ = self._prior_ratio(subset(arrays, split["calibration"]), False)
        self.n_source_ = int((labels == 0).sum())
        self.n_target_ = int((labels == 1).sum())

        with tempfile.TemporaryDirectory(prefix="heplearn-reweight-") as tmp:
            run_dir = Path(self.run_dir) if self.run_dir is not None else Path(tmp)
            self.train_result_ = train_on_arrays(
                train,
                subset(arrays, split["val"]),
                self.config_,
                run_dir,
                source={"source": "heplearn.reweighting.ClassifierReweighter"},
            )
            self.classifier_ = load_tagger(run_dir)
        self.calibration_ = calibration
        self.calibrator_ = None
        if calibration is not None:
            cal = subset(arrays, split["calibration"])
            raw = predict(self.classifier_, cal)
            self.calibrator_ = _fit_calibrator(raw, cal["label"], cal.get("weight"), calibration)
        # weight cap: the quantile of the weights of held-out source events
        cap = math.inf
        if self.max_weight is not None:
            cap = float(self.max_weight)
        if self.weight_quantile is not None:
            val = subset(arrays, split["val"])
            held = {k: v[val["label"] == 0] for k, v in val.items()}
            w_val = self._uncapped_weights(held)
            cap = min(cap, float(np.quantile(w_val, self.weight_quantile)))
        self.weight_cap_ = cap
        return self

    def fit_samples(
        self,
        source: Samples,
        target: Samples,
        source_weight: ArrayLike | None = None,
        target_weight: ArrayLike | None = None,
    ) -> ClassifierReweighter:
        """:meth:`fit` on two samples: ``source`` (label 0) and ``target`` (label 1).

        The samples must have the same kind and per-event feature dimensions."""
        self._check_options()
        self.config_ = _cast_config(self.config)
        n_s, n_t = _n_events(source, "source"), _n_events(target, "target")
        for name, n_events in (("source", n_s), ("target", n_t)):
            if n_events == 0:
                raise ReweightingError(f"{name}: empty sample (no events)")
        a, b = self._inputs(source, "source"), self._inputs(target, "target")
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                raise ReweightingError(f"source and target differ in their inputs: {key!r}")
            sa, sb = a[key].shape[1:], b[key].shape[1:]
            if sa != sb:
                raise ReweightingError(
                    f"feature dimension mismatch for {key!r}: source has per-event shape "
                    f"{tuple(sa)}, target {tuple(sb)}"
                )
        X = {k: np.concatenate([a[k], b[k]]) for k in a}
        y = np.concatenate([np.zeros(n_s, np.int64), np.ones(n_t, np.int64)])
        w = None
        if source_weight is not None or target_weight is not None:
            ws = (
                np.ones(n_s)
                if source_weight is None
                else check_weights(source_weight, "source_weight")
            )
            wt = (
                np.ones(n_t)
                if target_weight is None
                else check_weights(target_weight, "target_weight")
            )
            for name, arr, n_events in (("source_weight", ws, n_s), ("target_weight", wt, n_t)):
                if len(arr) != n_events:
                    raise ReweightingError(f"{name}: expected {n_events} weights, got {len(arr)}")
            w = np.concatenate([ws, wt])
        if isinstance(source, np.ndarray):
            X = X["jet_features"]
        return self.fit(X, y, w)

    # -- prediction ----------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "classifier_"):
            raise ReweightingError("ClassifierReweighter is not fitted: call fit() first")

    def _raw_proba(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        from heplearn.training.engine import predict

        f = predict(self.classifier_, arrays)
        if self.calibrator_ is not None:
            f = _apply_calibrator(self.calibrator_, f)
        return np.asarray(f, dtype=np.float64)

    def _uncapped_weights(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        return probabilities_to_weights(
            self._raw_proba(arrays), prior_ratio=self.prior_ratio_, epsilon=self.epsilon
        )

    def _prepare(self, X: Samples) -> dict[str, np.ndarray]:
        self._check_fitted()
        if _n_events(X, "X") == 0:
            raise ReweightingError("X: empty (no events to weight)")
        arrays = self._inputs(X, "X")
        self._check_shapes(arrays, "X")
        return arrays

    def predict_proba(self, X: Samples) -> np.ndarray:
        """Class probabilities ``(N, 2)``: column 1 is p(target | x) (calibrated when a
        calibration was fitted), column 0 its complement."""
        f = self._raw_proba(self._prepare(X))
        return np.stack([1.0 - f, f], axis=1)

    def predict_weights(self, X: Samples) -> np.ndarray:
        """Weights ``(N,)`` that morph source events ``X`` into the target distribution:
        f/(1 − f) · N_source/N_target with f clipped into [ε, 1 − ε], capped at
        :attr:`weight_cap_` (see :func:`~heplearn.reweighting.probabilities_to_weights`)."""
        w = self._uncapped_weights(self._prepare(X))
        return np.minimum(w, self.weight_cap_)


# --------------------------------------------------------------------------------------
# calibration
# --------------------------------------------------------------------------------------
def _fit_calibrator(scores: np.ndarray, labels: np.ndarray, weights, method: str):
    """Isotonic regression (Zadrozny & Elkan 2002) or Platt scaling (a logistic fit on
    the logit of the score, Platt 1999) of the labels on held-out scores."""
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True)
        iso.fit(scores, labels, sample_weight=weights)
        return ("isotonic", iso)
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e6, max_iter=1000)
    lr.fit(_logit(scores)[:, None], labels, sample_weight=weights)
    return ("platt", lr)


def _apply_calibrator(calibrator, scores: np.ndarray) -> np.ndarray:
    method, model = calibrator
    if method == "isotonic":
        return np.asarray(model.predict(scores), dtype=np.float64)
    return model.predict_proba(_logit(scores)[:, None])[:, 1]


# --------------------------------------------------------------------------------------
# k-fold
# --------------------------------------------------------------------------------------
def cross_fit_weights(
    reweighter: ClassifierReweighter,
    X: Samples,
    y: ArrayLike,
    sample_weight: ArrayLike | None = None,
    *,
    n_folds: int = 5,
    seed: int = 0,
) -> np.ndarray:
    """Out-of-fold weights for every source event (k-fold cross-fitting).

    The events are split into ``n_folds`` folds (per class, seeded); for each fold a fresh
    copy of ``reweighter`` (same parameters; its ``run_dir``, if any, gets a ``fold{k}``
    subdirectory) is fitted on the other folds and weights that fold's source events, so
    no weight comes from a classifier that saw its event. Target events get weight 1.

    Returns
    -------
    numpy.ndarray, shape (N,)
    """
    if not isinstance(n_folds, (int, np.integer)) or n_folds < 2:
        raise ReweightingError(f"n_folds must be an integer >= 2, got {n_folds!r}")
    n = _n_events(X, "X")
    labels = _check_labels(y, n)
    w_in = None if sample_weight is None else check_weights(sample_weight, "sample_weight")
    rng = np.random.default_rng(seed)
    fold = np.empty(n, dtype=np.int64)
    for cls in (0, 1):
        idx = np.flatnonzero(labels == cls)
        if len(idx) < n_folds:
            raise ReweightingError(
                f"n_folds = {n_folds} exceeds the {len(idx)} events of class {cls}"
            )
        fold[rng.permutation(idx)] = np.arange(len(idx)) % n_folds
    out = np.ones(n)
    for k in range(n_folds):
        params = reweighter.get_params()
        if params["run_dir"] is not None:
            params["run_dir"] = Path(params["run_dir"]) / f"fold{k}"
        model = ClassifierReweighter(**params)
        train = np.flatnonzero(fold != k)
        model.fit(_take(X, train), labels[train], None if w_in is None else w_in[train])
        apply = np.flatnonzero((fold == k) & (labels == 0))
        out[apply] = model.predict_weights(_take(X, apply))
    return out
