"""Tabular taggers on jet observables: boosted decision trees and logistic regression.

Both follow scikit-learn: hyper-parameters in ``__init__``, learning in
``fit(X, y, sample_weight=None, eval_set=None)``, learned state in attributes ending in ``_``,
``predict_proba(X) -> (N, n_classes)``. They read ``jet_features`` ``(N, K)`` (as numpy or
torch) and save/load as JSON (never pickle). xgboost and scikit-learn are imported on first
use, not by ``import heplearn.models``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from heplearn.errors import FormatError, HeplearnError

__all__ = ["BoostedTrees", "LogisticRegressionTagger"]


class _NotFittedError(HeplearnError):
    pass


def _as_2d(x: Any, name: str = "X") -> np.ndarray:
    x = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x, dtype=np.float64)
    if x.ndim != 2:
        raise HeplearnError(f"{name}: expected jet_features of shape (jets, K), got {x.shape}")
    return x


def _atomic_write(path: str | os.PathLike, text: str) -> None:
    from heplearn.data.dataset import _atomic_write_bytes  # fsync, no leftover on failure

    _atomic_write_bytes(Path(path), text.encode())


class _Base:
    inputs: tuple[str, ...] = ("jet_features",)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._param_names}

    def set_params(self, **params: Any) -> _Base:
        for k, v in params.items():
            if k not in self._param_names:
                raise HeplearnError(f"unknown parameter {k!r}; known: {self._param_names}")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._param_names)
        return f"{type(self).__name__}({args})"

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each jet: ``(N,)`` int."""
        return np.argmax(self.predict_proba(X), axis=1)


class BoostedTrees(_Base):
    """Gradient-boosted decision trees (xgboost ``XGBClassifier``) on jet observables.

    Defaults (ours, typical of the observable BDTs in the top-tagging comparison
    arXiv:1902.09914): 500 trees of depth 4, learning rate 0.1, row subsampling 0.8,
    histogram method, binary logistic loss; with ``eval_set``, training stops after
    ``early_stopping_rounds`` rounds without improvement of the validation log-loss.
    ``predict_proba`` returns ``(N, 2)``.

    References: Chen & Guestrin, "XGBoost", arXiv:1603.02754.
    """

    _param_names = (
        "n_estimators",
        "max_depth",
        "learning_rate",
        "subsample",
        "early_stopping_rounds",
        "n_jobs",
        "random_state",
    )

    def __init__(
        self,
        n_estimators: int = 500,
        max_depth: int = 4,
        learning_rate: float = 0.1,
        subsample: float = 0.8,
        early_stopping_rounds: int | None = 20,
        n_jobs: int | None = None,
        random_state: int = 0,
    ):
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.early_stopping_rounds = early_stopping_rounds
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _new_model(self, early_stopping: bool) -> Any:
        import xgboost

        return xgboost.XGBClassifier(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            learning_rate=self.learning_rate,
            subsample=self.subsample,
            tree_method="hist",
            objective="binary:logistic",
            eval_metric="logloss",
            early_stopping_rounds=self.early_stopping_rounds if early_stopping else None,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
        )

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        eval_set: tuple[Any, Any] | None = None,
    ) -> BoostedTrees:
        """Fit on ``X`` ``(N, K)``, labels ``y`` ``(N,)`` in {0, 1}; optional per-jet weights and
        a validation set ``(X_val, y_val)`` for early stopping."""
        X = _as_2d(X)
        y = np.asarray(y).astype(np.int64)
        self.model_ = self._new_model(early_stopping=eval_set is not None)
        kw: dict[str, Any] = {"verbose": False}
        if eval_set is not None:
            kw["eval_set"] = [(_as_2d(eval_set[0], "eval_set X"), np.asarray(eval_set[1]))]
        self.model_.fit(X, y, sample_weight=sample_weight, **kw)
        self.n_features_in_ = X.shape[1]
        return self

    def _check(self) -> None:
        if not hasattr(self, "model_"):
            raise _NotFittedError("BoostedTrees is not fitted: call fit() or load_json() first")

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(N, 2)``."""
        self._check()
        return self.model_.predict_proba(_as_2d(X))

    def n_parameters(self) -> int:
        """Number of tree nodes (the closest analogue of a parameter count)."""
        self._check()
        return int(len(self.model_.get_booster().trees_to_dataframe()))

    def save_json(self, path: str | os.PathLike) -> None:
        """Write the fitted booster as xgboost JSON (atomically)."""
        self._check()
        raw = self.model_.get_booster().save_raw(raw_format="json")
        _atomic_write(path, bytes(raw).decode())

    def load_json(self, path: str | os.PathLike) -> BoostedTrees:
        """Load a booster written by :meth:`save_json`."""
        import xgboost

        model = self._new_model(early_stopping=False)
        try:
            model.load_model(os.fspath(path))
        except xgboost.core.XGBoostError as err:
            raise FormatError(f"{path}: not an xgboost JSON model ({err})") from None
        self.model_ = model
        self.n_features_in_ = int(model.get_booster().num_features())
        return self


class LogisticRegressionTagger(_Base):
    """Logistic regression on standardised jet observables (scikit-learn
    ``StandardScaler`` + ``LogisticRegression`` pipeline).

    Defaults: L2 penalty with ``C = 1``, lbfgs, up to 1000 iterations. ``eval_set`` is
    accepted for a uniform interface and ignored (there is nothing to stop early).
    ``predict_proba`` returns ``(N, 2)``.
    """

    _param_names = ("C", "max_iter")

    def __init__(self, C: float = 1.0, max_iter: int = 1000):
        self.C = C
        self.max_iter = max_iter

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        eval_set: tuple[Any, Any] | None = None,
    ) -> LogisticRegressionTagger:
        """Fit on ``X`` ``(N, K)``, labels ``y`` ``(N,)``, optional per-jet weights."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        X = _as_2d(X)
        self.model_ = make_pipeline(
            StandardScaler(), LogisticRegression(C=self.C, max_iter=self.max_iter)
        )
        self.model_.fit(X, np.asarray(y), logisticregression__sample_weight=sample_weight)
        self.n_features_in_ = X.shape[1]
        return self

    def _check(self) -> None:
        if not hasattr(self, "model_"):
            raise _NotFittedError(
                "LogisticRegressionTagger is not fitted: call fit() or load_json() first"
            )

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(N, 2)``."""
        self._check()
        return self.model_.predict_proba(_as_2d(X))

    def n_parameters(self) -> int:
        """Coefficients plus intercepts."""
        self._check()
        lr = self.model_[-1]
        return int(lr.coef_.size + lr.intercept_.size)

    def save_json(self, path: str | os.PathLike) -> None:
        """Write scaler statistics and coefficients as JSON (atomically)."""
        self._check()
        scaler, lr = self.model_[0], self.model_[-1]
        state = {
            "format": "heplearn-logreg-1",
            "mean": scaler.mean_.tolist(),
            "scale": scaler.scale_.tolist(),
            "var": scaler.var_.tolist(),
            "coef": lr.coef_.tolist(),
            "intercept": lr.intercept_.tolist(),
            "classes": lr.classes_.tolist(),
        }
        _atomic_write(path, json.dumps(state))

    def load_json(self, path: str | os.PathLike) -> LogisticRegressionTagger:
        """Load a model written by :meth:`save_json`."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        try:
            state = json.loads(Path(path).read_text())
            if state.get("format") != "heplearn-logreg-1":
                raise KeyError("format")
            scaler = StandardScaler()
            scaler.mean_ = np.asarray(state["mean"])
            scaler.scale_ = np.asarray(state["scale"])
            scaler.var_ = np.asarray(state["var"])
            scaler.n_features_in_ = len(state["mean"])
            lr = LogisticRegression(C=self.C, max_iter=self.max_iter)
            lr.coef_ = np.asarray(state["coef"])
            lr.intercept_ = np.asarray(state["intercept"])
            lr.classes_ = np.asarray(state["classes"])
            lr.n_features_in_ = scaler.n_features_in_
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise FormatError(f"{path}: not a heplearn logistic-regression JSON ({err})") from None
        self.model_ = make_pipeline(scaler, lr)
        self.n_features_in_ = scaler.n_features_in_
        return self
