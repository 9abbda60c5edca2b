"""Classification without labels (CWoLa): train mixture 1 against mixture 2.

With M1 = f1 S + (1 − f1) B and M2 = f2 S + (1 − f2) B (f1 > f2), the likelihood ratio

    p_M1 / p_M2 = (f1 L + 1 − f1) / (f2 L + 1 − f2),    L = p_S / p_B,

is a monotone increasing function of L, so the optimal M1-vs-M2 classifier is also the
optimal S-vs-B classifier, although neither fraction is known (Metodiev, Nachman, Thaler,
arXiv:1708.02949). CWoLa training is therefore ordinary training with the mixture as the
label; what differs is only that the validation set (early stopping, model selection) is
mixed too: the truth is never read.

Two entry points: :func:`fit_cwola` for tabular features (xgboost
:class:`~heplearn.models.tabular.BoostedTrees` by default), :func:`train_cwola` for any
model of the registry through :func:`heplearn.training.engine.train_on_arrays`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from heplearn.weak.errors import MixtureError
from heplearn.weak.mixtures import binary_labels

if TYPE_CHECKING:
    from heplearn.training.config import TrainConfig
    from heplearn.training.engine import TrainResult

__all__ = ["check_cwola_labels", "fit_cwola", "train_cwola", "mixture_auc", "unmix_auc"]


def check_cwola_labels(labels: ArrayLike, where: str = "mixture labels") -> np.ndarray:
    """Mixture labels as int64 ``(n,)``; both mixtures (1 and 0) must be present."""
    return binary_labels(
        labels,
        where,
        classes="1 (mixture 1) or 0 (mixture 2)",
        both="only mixture label of one kind; CWoLa trains one mixture against another "
        "and needs rows of both",
    )


def _stratified_split(y: np.ndarray, val_fraction: float, seed: int):
    if not 0.0 < val_fraction < 1.0:
        raise MixtureError(f"val_fraction must be in (0, 1), got {val_fraction}")
    rng = np.random.default_rng(seed)
    val = []
    for c in (0, 1):
        rows = rng.permutation(np.flatnonzero(y == c))
        n_val = int(round(val_fraction * len(rows)))
        if n_val == 0 or n_val == len(rows):
            raise MixtureError(
                f"val_fraction={val_fraction} leaves the {len(rows)} rows of mixture label {c} "
                "without training or validation rows; give more rows"
            )
        val.append(rows[:n_val])
    val = np.sort(np.concatenate(val))
    train = np.setdiff1d(np.arange(len(y)), val, assume_unique=True)
    return train, val


def fit_cwola(
    X: ArrayLike,
    mixture_labels: ArrayLike,
    *,
    estimator: Any = None,
    sample_weight: ArrayLike | None = None,
    val_fraction: float | None = 0.2,
    seed: int = 0,
) -> Any:
    """Fit a tabular classifier of mixture 1 (label 1) against mixture 2 (label 0).

    The CWoLa classifier (arXiv:1708.02949) is an ordinary classifier trained on mixture
    labels; a stratified ``val_fraction`` of the (mixed) rows, drawn with ``seed``, is
    its early-stopping set (``val_fraction=None``: every row is fitted on, for estimators
    that do not stop early). Its ``predict_proba(X)[:, 1]`` ranks rows like the signal
    likelihood ratio p_S/p_B when mixture 1 is the signal-richer one.

    Parameters
    ----------
    X : array_like, shape (n, K)
        Features of the mixed rows.
    mixture_labels : array_like, shape (n,)
        1 for rows of mixture 1, 0 for mixture 2 (e.g. :attr:`Mixtures.cwola_label`).
    estimator : optional
        Unfitted scikit-learn-like estimator with ``fit(X, y, sample_weight=None,
        eval_set=None)``; default ``BoostedTrees(n_jobs=1, random_state=seed)`` (one
        thread: xgboost's all-core default is far slower on a busy CPU).
    sample_weight : array_like, shape (n,), optional
        Per-row weights.

    Returns
    -------
    The fitted estimator.
    """
    from heplearn.models.tabular import BoostedTrees

    y = check_cwola_labels(mixture_labels)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) != len(y):
        raise MixtureError(
            f"X must have shape (n, K) with n = {len(y)} rows (one per label), got {X.shape}"
        )
    est = BoostedTrees(n_jobs=1, random_state=seed) if estimator is None else estimator
    w_all = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if val_fraction is None:
        est.fit(X, y, sample_weight=w_all)
        return est
    train, val = _stratified_split(y, val_fraction, seed)
    w = None if w_all is None else w_all[train]
    est.fit(X[train], y[train], sample_weight=w, eval_set=(X[val], y[val]))
    return est


def train_cwola(
    arrays: dict[str, np.ndarray],
    config: TrainConfig | dict | None,
    run_dir: str | os.PathLike,
    *,
    mixture_labels: ArrayLike | None = None,
) -> TrainResult:
    """Train any registered model on mixture labels with the training engine.

    ``arrays`` are the model inputs of the mixed rows (see
    :func:`heplearn.training.inputs.build_inputs`; built from a table made by
    :func:`~heplearn.weak.mixtures.hide_labels` their ``label`` already is the mixture
    label, otherwise pass ``mixture_labels``). The rows are split into training and
    validation by ``config.val_fraction`` and ``config.split_seed`` (the validation set is
    mixed too: CWoLa never reads the truth; ``config.test_fraction`` is ignored, evaluate
    on a separate pure sample), then :func:`heplearn.training.engine.train_on_arrays`
    writes ``run_dir``. Load the result with
    :func:`heplearn.training.engine.load_tagger` and score with
    :func:`~heplearn.training.engine.predict`.

    References: Metodiev, Nachman, Thaler, arXiv:1708.02949.
    """
    from heplearn.training.config import TrainConfig
    from heplearn.training.engine import split_indices, subset, train_on_arrays

    config = TrainConfig.cast(config)
    arrays = dict(arrays)
    if "true_label" in arrays:
        raise MixtureError(
            "arrays hold 'true_label': CWoLa must not see the truth; drop it before training"
        )
    if mixture_labels is not None:
        arrays["label"] = np.asarray(mixture_labels)
    if "label" not in arrays:
        raise MixtureError("arrays have no 'label'; pass mixture_labels")
    arrays["label"] = check_cwola_labels(arrays["label"], "arrays['label'] (mixture labels)")
    n = len(arrays["label"])
    bad = [k for k, v in arrays.items() if len(v) != n]
    if bad:
        raise MixtureError(f"arrays {bad} do not have one row per label ({n} rows)")
    splits = split_indices(n, config.val_fraction, 0.0, config.split_seed)
    return train_on_arrays(
        subset(arrays, splits["train"]),
        subset(arrays, splits["val"]),
        config,
        run_dir,
        source={"source": "CWoLa mixtures (labels = mixture ids)"},
    )


def mixture_auc(auc_signal_background: float | np.ndarray, f1: float, f2: float):
    """AUC of a classifier on mixture 1 vs mixture 2, from its signal-vs-background AUC.

    With M_k = f_k S + (1 − f_k) B, P(score_M1 > score_M2) expands into the four pairs
    (S, S), (S, B), (B, S), (B, B), whose probabilities are 1/2, A, 1 − A, 1/2, so

        AUC(M1 vs M2) = 1/2 + (f1 − f2) (A − 1/2),    A = AUC(S vs B).

    The mixture AUC is thus a fixed affine function of the pure one: the classifier that
    maximises one maximises the other (Metodiev, Nachman, Thaler, arXiv:1708.02949).
    """
    a = np.asarray(auc_signal_background, dtype=np.float64)
    return 0.5 + (f1 - f2) * (a - 0.5)


def unmix_auc(auc_mixtures: float | np.ndarray, f1: float, f2: float):
    """Inverse of :func:`mixture_auc`: A = 1/2 + (AUC_M1M2 − 1/2) / (f1 − f2).

    Needs the fractions (which CWoLa training does not); useful for checks on
    simulation. Raises :class:`MixtureError` when f1 = f2.
    """
    if f1 == f2:
        raise MixtureError(f"unmix_auc: f1 = f2 = {f1}; the mixtures carry no information")
    a = np.asarray(auc_mixtures, dtype=np.float64)
    return 0.5 + (a - 0.5) / (f1 - f2)
