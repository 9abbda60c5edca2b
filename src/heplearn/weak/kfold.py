"""Out-of-fold scores: no row is ever scored by a model that saw it.

A weakly supervised search trains on the very data it then selects from, so a classifier
must never score a row it was trained (or early-stopped) on, or it would select its own
statistical fluctuations (Collins, Howe, Nachman, arXiv:1805.02664, who split the data
into k folds). :func:`kfold_scores` assigns every row to one of k folds; the model of
fold i is fitted on rows of the other folds (one of them, fold i + 1 mod k, held out as
its validation set) and scores exactly the rows of fold i. Rows not ``trainable`` (e.g.
events outside the signal region and sidebands) are scored too, by the model of their
fold, which never saw them either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from heplearn.weak.errors import WeakSupervisionError

__all__ = ["KFoldScores", "assign_folds", "kfold_scores"]

#: ``fit(train_rows, val_rows) -> score(rows)``: row indices in, one score per row out
FitFunction = Callable[[np.ndarray, np.ndarray | None], Callable[[np.ndarray], np.ndarray]]


@dataclass(frozen=True)
class KFoldScores:
    """Out-of-fold scores and the bookkeeping that proves them out-of-fold.

    Attributes
    ----------
    scores : numpy.ndarray, shape (n,)
        Score of each row, from the model of its fold.
    fold : numpy.ndarray, shape (n,)
        Fold of each row (0 .. k − 1); the model ``fold[i]`` scored row i.
    train_indices, val_indices : list of numpy.ndarray
        Rows each fold's model was fitted / early-stopped on (``val_indices[i]`` is empty
        without validation).
    """

    scores: np.ndarray
    fold: np.ndarray
    train_indices: list[np.ndarray]
    val_indices: list[np.ndarray]

    @property
    def k(self) -> int:
        return len(self.train_indices)


def assign_folds(
    n: int,
    k: int,
    *,
    seed: int,
    stratify: ArrayLike | None = None,
    groups: ArrayLike | None = None,
) -> np.ndarray:
    """Fold id in 0 .. k − 1 of each of ``n`` rows, fixed by ``seed``.

    Folds are as equal in size as possible; with ``stratify`` (a class per row) each class
    is spread evenly over the folds; with ``groups`` (e.g. an event id per jet) rows of a
    group share a fold (folds are then assigned to groups; ``stratify`` must be constant
    within a group and is taken from its first row).
    """
    if k < 2:
        raise WeakSupervisionError(f"k (number of folds) must be >= 2, got {k}")
    if n < k:
        raise WeakSupervisionError(f"cannot split {n} rows into k={k} folds")
    rng = np.random.default_rng(seed)
    if groups is not None:
        g = np.asarray(groups)
        if g.shape != (n,):
            raise WeakSupervisionError(f"groups must have shape ({n},), got {g.shape}")
        uniq, first, inverse = np.unique(g, return_index=True, return_inverse=True)
        strat = None if stratify is None else np.asarray(stratify)[first]
        return assign_folds(len(uniq), k, seed=seed, stratify=strat)[inverse]
    fold = np.empty(n, dtype=np.int64)
    classes = np.zeros(n, dtype=np.int64) if stratify is None else np.asarray(stratify)
    if classes.shape != (n,):
        raise WeakSupervisionError(f"stratify must have shape ({n},), got {classes.shape}")
    offset = 0
    for c in np.unique(classes):
        rows = rng.permutation(np.flatnonzero(classes == c))
        # continue the round robin across classes so that fold sizes stay balanced
        fold[rows] = (offset + np.arange(len(rows))) % k
        offset += len(rows)
    return fold


def kfold_scores(
    fit: FitFunction,
    n: int,
    *,
    k: int = 5,
    seed: int,
    trainable: ArrayLike | None = None,
    stratify: ArrayLike | None = None,
    groups: ArrayLike | None = None,
    validation: bool = True,
) -> KFoldScores:
    """Score every row with a model that never saw it (k-fold cross-fitting).

    For each fold i: the model is ``fit(train_rows, val_rows)``, with ``val_rows`` the
    trainable rows of fold (i + 1) mod k (``None`` without ``validation``) and
    ``train_rows`` the trainable rows of the remaining folds; the returned scorer is
    called once with the rows of fold i (trainable or not). The row sets passed to
    ``fit`` never contain a row of fold i, so each row's score is out-of-fold; every row
    is scored exactly once. The scheme of Collins, Howe, Nachman, arXiv:1805.02664.

    Parameters
    ----------
    fit : callable
        ``fit(train_rows, val_rows) -> score`` where ``score(rows)`` returns one float per
        row; row indices refer to ``range(n)``.
    n : int
        Number of rows.
    k : int
        Number of folds (>= 3 with ``validation``).
    seed : int
        Seed of the fold assignment (see :func:`assign_folds`).
    trainable : array_like of bool, shape (n,), optional
        Rows models may be fitted on (default: all).
    stratify, groups : array_like, shape (n,), optional
        See :func:`assign_folds`.

    Returns
    -------
    KFoldScores
    """
    if validation and k < 3:
        raise WeakSupervisionError(
            f"k={k} folds with validation leaves no training fold; use k >= 3 or validation=False"
        )
    fold = assign_folds(n, k, seed=seed, stratify=stratify, groups=groups)
    use = np.ones(n, dtype=bool) if trainable is None else np.asarray(trainable, dtype=bool)
    if use.shape != (n,):
        raise WeakSupervisionError(f"trainable must have shape ({n},), got {use.shape}")
    scores = np.full(n, np.nan)
    train_indices, val_indices = [], []
    for i in range(k):
        val_fold = (i + 1) % k if validation else -1
        train_rows = np.flatnonzero(use & (fold != i) & (fold != val_fold))
        val_rows = np.flatnonzero(use & (fold == val_fold))
        if len(train_rows) == 0:
            raise WeakSupervisionError(f"fold {i}: no trainable rows left to fit on")
        score = fit(train_rows, val_rows if validation else None)
        rows = np.flatnonzero(fold == i)
        out = np.asarray(score(rows), dtype=np.float64)
        if out.shape != (len(rows),):
            raise WeakSupervisionError(
                f"fold {i}: the scorer returned shape {out.shape} for {len(rows)} rows"
            )
        scores[rows] = out
        train_indices.append(train_rows)
        val_indices.append(val_rows if validation else np.zeros(0, dtype=np.int64))
    return KFoldScores(scores, fold, train_indices, val_indices)
