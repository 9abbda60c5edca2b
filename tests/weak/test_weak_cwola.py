"""Mixtures and CWoLa training: the Gaussian toy of Metodiev, Nachman, Thaler
(arXiv:1708.02949), where the optimal classifier is known in closed form."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import norm

from heplearn.evaluation.metrics import auc
from heplearn.models.tabular import BoostedTrees, LogisticRegressionTagger
from heplearn.weak import (
    IdenticalFractionsWarning,
    MixtureError,
    fit_cwola,
    hide_labels,
    make_mixtures,
    mixture_auc,
    train_cwola,
    unmix_auc,
)

DIM = 3


def gaussian_sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Half signal N(+1, 1), half background N(-1, 1), in DIM dimensions."""
    rng = np.random.default_rng(seed)
    y = np.repeat([1, 0], n // 2)
    x = rng.normal(size=(len(y), DIM)) + np.where(y == 1, 1.0, -1.0)[:, None]
    return x, y


# the likelihood ratio is monotone in sum(x): AUC = Phi(|mu_S - mu_B| / sqrt(2))
OPTIMAL_AUC = float(norm.cdf(2.0 * np.sqrt(DIM) / np.sqrt(2.0)))


def test_mixtures_have_the_requested_fractions_and_are_disjoint():
    _, y = gaussian_sample(10_000, seed=1)
    mix = make_mixtures(y, (0.8, 0.2), n_per_mixture=2000, seed=3)
    assert mix.sizes == (2000, 2000)
    assert len(np.unique(mix.index)) == len(mix.index)  # no row in two mixtures
    for k, f in enumerate((0.8, 0.2)):
        assert mix.true_label[mix.mixture == k].mean() == pytest.approx(f)
    np.testing.assert_array_equal(mix.true_label, y[mix.index])
    np.testing.assert_array_equal(mix.cwola_label, (mix.mixture == 0).astype(int))
    again = make_mixtures(y, (0.8, 0.2), n_per_mixture=2000, seed=3)
    np.testing.assert_array_equal(again.index, mix.index)  # seeded
    other = make_mixtures(y, (0.8, 0.2), n_per_mixture=2000, seed=4)
    assert not np.array_equal(other.index, mix.index)


def test_default_size_uses_the_scarcer_class():
    y = np.array([1] * 1200 + [0] * 800)
    mix = make_mixtures(y, (0.8, 0.4), seed=0)
    # 1.2 n signal <= 1200 and 0.8 n background <= 800  ->  n = 1000
    assert mix.sizes == (1000, 1000)
    assert mix.realised_fractions == (0.8, 0.4)


def test_hide_labels_replaces_the_truth_by_the_mixture_label():
    from heplearn.data.table import from_constituents

    y = np.array([1, 1, 1, 0, 0, 0, 1, 0])
    n = len(y)
    table = from_constituents(
        np.ones(n), np.zeros(n), np.zeros(n), np.full(n, 2.0), np.ones(n, dtype=int), label=y
    )
    mix = make_mixtures(y, (0.75, 0.25), n_per_mixture=4, seed=2)
    hidden = hide_labels(table, mix)
    np.testing.assert_array_equal(np.asarray(hidden["label"]), mix.cwola_label)
    np.testing.assert_array_equal(np.asarray(hidden["true_label"]), y[mix.index])
    np.testing.assert_array_equal(np.asarray(hidden["mixture"]), mix.mixture)
    with pytest.raises(MixtureError, match="labels differ"):
        hide_labels(table[::-1], mix)


def test_identical_fractions_warn():
    _, y = gaussian_sample(1000, seed=1)
    with pytest.warns(IdenticalFractionsWarning, match="nothing to learn"):
        make_mixtures(y, (0.5, 0.5), seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_mixtures(y, (0.5, 0.4), seed=0)  # different fractions: no warning


@pytest.mark.parametrize("fractions", [(1.2, 0.3), (0.5, -0.1), (float("nan"), 0.3), (0.5,)])
def test_bad_fractions_raise(fractions):
    _, y = gaussian_sample(1000, seed=1)
    with pytest.raises(MixtureError, match="fractions"):
        make_mixtures(y, fractions, seed=0)


def test_single_class_raises():
    with pytest.raises(MixtureError, match="single class"):
        make_mixtures(np.ones(100, dtype=int), (0.8, 0.2), seed=0)
    with pytest.raises(MixtureError, match="only mixture label"):
        fit_cwola(np.zeros((10, 2)), np.ones(10, dtype=int))


def test_not_enough_jets_raises():
    y = np.array([1] * 100 + [0] * 1000)
    with pytest.raises(MixtureError, match="not enough signal rows"):
        make_mixtures(y, (0.8, 0.4), n_per_mixture=200, seed=0)  # needs 240 signal rows
    y = np.array([1] * 1000 + [0] * 100)
    with pytest.raises(MixtureError, match="not enough background rows"):
        make_mixtures(y, (0.8, 0.4), n_per_mixture=200, seed=0)  # needs 160 background rows


def _train_and_test(n_train: int, estimator_factory, seed: int = 11):
    x, y = gaussian_sample(n_train * 3, seed=seed)
    mix = make_mixtures(y, (0.8, 0.2), n_per_mixture=n_train // 2, seed=seed)
    cwola = fit_cwola(x[mix.index], mix.cwola_label, estimator=estimator_factory(), seed=seed)
    # the supervised reference: the same number of rows, the true labels
    sup_rows = np.random.default_rng(seed).permutation(len(y))[:n_train]
    supervised = estimator_factory().fit(x[sup_rows], y[sup_rows])
    x_test, y_test = gaussian_sample(40_000, seed=seed + 1)
    a_cwola = auc(cwola.predict_proba(x_test)[:, 1], y_test)
    a_sup = auc(supervised.predict_proba(x_test)[:, 1], y_test)
    return cwola, a_cwola, a_sup


def test_cwola_matches_supervised_on_the_gaussian_toy():
    # The optimal classifier is linear (monotone in sum x): logistic regression learns it
    # with direction error δ² ~ dim / N_eff, N_eff ~ (f1 − f2)² N = 0.36 × 8000, so the AUC
    # loss ~ Δ δ² φ(Δ/√2) ~ 1e-4; both are scored on the same 40k pure test rows (AUC
    # standard error ≈ 5e-4, common to both). 0.003 is therefore a loose bound.
    _, a_cwola, a_sup = _train_and_test(8000, LogisticRegressionTagger)
    assert a_sup == pytest.approx(OPTIMAL_AUC, abs=0.003)
    assert a_cwola == pytest.approx(a_sup, abs=0.003)


def test_cwola_with_the_default_boosted_trees():
    # trees approximate the linear boundary by steps: looser (0.01) than the linear model
    _, a_cwola, a_sup = _train_and_test(
        8000, lambda: BoostedTrees(n_estimators=200, max_depth=3, n_jobs=1, random_state=0)
    )
    assert a_sup > OPTIMAL_AUC - 0.01
    assert a_cwola == pytest.approx(a_sup, abs=0.01)


def test_mixture_auc_relation_holds_for_a_trained_classifier():
    cwola, a_cwola, _ = _train_and_test(8000, LogisticRegressionTagger)
    x, y = gaussian_sample(60_000, seed=99)
    held_out = make_mixtures(y, (0.8, 0.2), seed=5)
    s = cwola.predict_proba(x[held_out.index])[:, 1]
    a_mixed = auc(s, held_out.cwola_label)
    # AUC(M1 vs M2) = 1/2 + (f1 - f2)(A - 1/2): here 1/2 + 0.6 (0.99 - 0.5) ≈ 0.79
    assert a_mixed == pytest.approx(float(mixture_auc(a_cwola, 0.8, 0.2)), abs=0.006)
    assert float(unmix_auc(mixture_auc(0.9, 0.7, 0.3), 0.7, 0.3)) == pytest.approx(0.9)
    with pytest.raises(MixtureError, match="f1 = f2"):
        unmix_auc(0.6, 0.5, 0.5)


def test_train_cwola_runs_through_the_training_engine(tmp_path):
    from heplearn.training.engine import load_tagger, predict

    x, y = gaussian_sample(6000, seed=21)
    mix = make_mixtures(y, (0.8, 0.2), seed=21)
    arrays = {"jet_features": x[mix.index].astype(np.float32), "label": mix.cwola_label}
    result = train_cwola(arrays, {"model": "logreg", "progress": False}, tmp_path / "run")
    tagger = load_tagger(result.run_dir)
    x_test, y_test = gaussian_sample(20_000, seed=22)
    assert auc(predict(tagger, {"jet_features": x_test}), y_test) > OPTIMAL_AUC - 0.005
    with pytest.raises(MixtureError, match="true_label"):
        train_cwola({**arrays, "true_label": y[mix.index]}, None, tmp_path / "bad")


def test_import_weak_is_cheap():
    import subprocess
    import sys

    code = (
        "import sys, heplearn.weak; heavy = [m for m in ('torch', 'fastjet', 'pyhf', "
        "'matplotlib', 'xgboost', 'lightning', 'sklearn') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
