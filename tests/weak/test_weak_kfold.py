"""k-fold scoring: no row is ever scored by a model that saw it."""

from __future__ import annotations

import numpy as np
import pytest

from heplearn.weak import WeakSupervisionError, assign_folds, kfold_scores


class Recorder:
    """A fake estimator factory: remembers what each model was fitted on and scored."""

    def __init__(self):
        self.seen: list[set[int]] = []
        self.scored: list[np.ndarray] = []

    def fit(self, train, val):
        seen = set(train.tolist()) | set(() if val is None else val.tolist())
        model = len(self.seen)
        self.seen.append(seen)

        def score(rows):
            self.scored.append((model, rows.copy()))
            return np.full(len(rows), float(model))

        return score


@pytest.mark.parametrize("validation", [True, False])
def test_every_row_is_scored_once_by_a_model_that_never_saw_it(validation):
    n, k = 1003, 5
    rng = np.random.default_rng(0)
    trainable = rng.random(n) < 0.7  # e.g. events in the signal region or sidebands
    rec = Recorder()
    out = kfold_scores(rec.fit, n, k=k, seed=7, trainable=trainable, validation=validation)
    assert len(rec.seen) == k
    counts = np.zeros(n, dtype=int)
    for model, rows in rec.scored:
        counts[rows] += 1
        assert not (set(rows.tolist()) & rec.seen[model]), "a model scored a row it saw"
        np.testing.assert_array_equal(out.scores[rows], model)  # the score came from it
        np.testing.assert_array_equal(out.fold[rows], model)
    np.testing.assert_array_equal(counts, 1)  # every row scored exactly once
    for i in range(k):
        tr, va = set(out.train_indices[i].tolist()), set(out.val_indices[i].tolist())
        assert not tr & va
        assert tr | va == rec.seen[i]
        assert trainable[list(tr | va)].all()  # only trainable rows are fitted on
        if validation:
            np.testing.assert_array_equal(out.fold[out.val_indices[i]], (i + 1) % k)
        else:
            assert not va
    # each trainable row is used by k - 1 models (training or validation)
    used = sum(np.isin(np.arange(n), list(s)).astype(int) for s in rec.seen)
    np.testing.assert_array_equal(used[trainable], k - 1)
    np.testing.assert_array_equal(used[~trainable], 0)


def test_a_memorising_model_cannot_leak_labels():
    # a lookup table returns the label of a row it was trained on, 0.5 otherwise: the
    # out-of-fold scores must all be 0.5
    n = 500
    y = np.random.default_rng(1).integers(0, 2, n).astype(float)

    def fit(train, val):
        memory = dict(zip(train.tolist(), y[train], strict=True))
        return lambda rows: np.array([memory.get(r, 0.5) for r in rows.tolist()])

    out = kfold_scores(fit, n, k=4, seed=3)
    np.testing.assert_array_equal(out.scores, 0.5)


def test_folds_are_balanced_stratified_grouped_and_seeded():
    n, k = 1000, 5
    fold = assign_folds(n, k, seed=2)
    np.testing.assert_array_equal(np.bincount(fold), [200] * 5)
    np.testing.assert_array_equal(fold, assign_folds(n, k, seed=2))
    assert not np.array_equal(fold, assign_folds(n, k, seed=3))
    y = np.array([1] * 100 + [0] * 900)
    fold = assign_folds(n, k, seed=2, stratify=y)
    np.testing.assert_array_equal(np.bincount(fold[y == 1]), [20] * 5)
    groups = np.repeat(np.arange(500), 2)  # two jets per event
    fold = assign_folds(n, k, seed=2, groups=groups)
    np.testing.assert_array_equal(fold[0::2], fold[1::2])
    np.testing.assert_array_equal(np.bincount(fold), [200] * 5)


def test_bad_fold_options_raise():
    with pytest.raises(WeakSupervisionError, match="k >= 3"):
        kfold_scores(lambda t, v: lambda r: r, 10, k=2, seed=0)
    with pytest.raises(WeakSupervisionError, match="must be >= 2"):
        assign_folds(10, 1, seed=0)
    with pytest.raises(WeakSupervisionError, match="returned shape"):
        kfold_scores(lambda t, v: lambda r: np.zeros(1), 30, k=3, seed=0)
