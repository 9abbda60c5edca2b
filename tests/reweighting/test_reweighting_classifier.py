"""ClassifierReweighter: the analytic density ratio of shifted Gaussians, clipping, caps,
k-fold, recalibration of non-proper losses, particle clouds, and the errors."""

import numpy as np
import pytest

from heplearn.reweighting import (
    ClassifierReweighter,
    RecalibrationWarning,
    ReweightingError,
    cross_fit_weights,
    effective_sample_size,
)
from heplearn.reweighting.classifier import _apply_calibrator, _fit_calibrator
from heplearn.training import TrainConfig

MU0, MU1, SIGMA = 0.0, 0.5, 1.0
N = 10000


def exact_ratio(x):
    """N(μ1, σ)/N(μ0, σ) = exp[((μ1 − μ0) x − (μ1² − μ0²)/2) / σ²]."""
    return np.exp(((MU1 - MU0) * x - (MU1**2 - MU0**2) / 2) / SIGMA**2)


@pytest.fixture(scope="module")
def gaussians():
    rng = np.random.default_rng(7)
    source = rng.normal(MU0, SIGMA, (2 * N, 1))
    target = rng.normal(MU1, SIGMA, (N, 1))
    # first half of the source to fit, second half held out to apply the weights
    return source[:N], target, source[N:]


def quiet(model, **kw):
    return {"model": model, "progress": False, **kw}


def test_logistic_path_recovers_the_analytic_ratio(gaussians):
    fit_source, target, held_out = gaussians
    rw = ClassifierReweighter(quiet("logreg")).fit_samples(fit_source, target)
    grid = np.linspace(-1.5, 2.0, 15)[:, None]
    # log-linear family: the exact ratio is inside it, so the fit is tight
    np.testing.assert_allclose(rw.predict_weights(grid), exact_ratio(grid[:, 0]), rtol=0.04)
    w = rw.predict_weights(held_out)
    assert np.average(held_out[:, 0], weights=w) == pytest.approx(MU1, abs=0.04)
    assert rw.prior_ratio_ == pytest.approx(1.0, rel=0.01)  # equal sample sizes
    assert rw.n_source_ == N and rw.n_target_ == N


def test_xgboost_path_recovers_the_analytic_ratio(gaussians):
    fit_source, target, held_out = gaussians
    rw = ClassifierReweighter(quiet("bdt")).fit_samples(fit_source, target)
    grid = np.linspace(-1.0, 1.5, 11)[:, None]  # where both samples are dense
    # a piecewise-constant ratio from 10k events per sample: over training seeds 0-7 the
    # median deviation was 4-6% and the largest on this grid 11-18%
    deviation = np.abs(rw.predict_weights(grid) / exact_ratio(grid[:, 0]) - 1)
    assert np.median(deviation) < 0.08 and deviation.max() < 0.25
    w = rw.predict_weights(held_out)
    # unweighted mean 0; trees flatten the ratio in the far tail, hence the tolerance
    assert np.average(held_out[:, 0], weights=w) == pytest.approx(MU1, abs=0.075)
    assert 0.5 * N < effective_sample_size(w) < N


def test_unequal_sample_sizes_are_corrected_by_the_prior_ratio(gaussians):
    fit_source, target, held_out = gaussians
    rw = ClassifierReweighter(quiet("logreg")).fit_samples(fit_source, target[: N // 4])
    assert rw.prior_ratio_ == pytest.approx(4.0, rel=0.02)
    grid = np.linspace(-1.0, 1.5, 6)[:, None]
    np.testing.assert_allclose(rw.predict_weights(grid), exact_ratio(grid[:, 0]), rtol=0.08)


def test_probability_clipping_bounds_the_weights():
    rng = np.random.default_rng(1)
    source, target = rng.normal(0, 1, (2000, 1)), rng.normal(8, 1, (2000, 1))
    eps = 0.01
    rw = ClassifierReweighter(quiet("logreg"), epsilon=eps).fit_samples(source, target)
    w = rw.predict_weights(np.array([[-5.0], [4.0], [20.0]]))
    hi = (1 - eps) / eps * rw.prior_ratio_
    assert w.max() == pytest.approx(hi)  # far in the target's tail: clipped
    assert w.min() == pytest.approx(eps / (1 - eps) * rw.prior_ratio_)


def test_weight_quantile_cap_is_fixed_at_fit_time(gaussians):
    fit_source, target, held_out = gaussians
    free = ClassifierReweighter(quiet("logreg")).fit_samples(fit_source, target)
    capped = ClassifierReweighter(quiet("logreg"), weight_quantile=0.95).fit_samples(
        fit_source, target
    )
    assert np.isinf(free.weight_cap_) and np.isfinite(capped.weight_cap_)
    w_free, w_cap = free.predict_weights(held_out), capped.predict_weights(held_out)
    assert w_cap.max() == pytest.approx(capped.weight_cap_)
    assert w_cap.max() < w_free.max()
    assert effective_sample_size(w_cap) > effective_sample_size(w_free)
    # a weight depends only on its own event, not on what it is applied with
    assert capped.predict_weights(held_out[:10]) == pytest.approx(w_cap[:10])
    both = ClassifierReweighter(quiet("logreg"), max_weight=1.5, weight_quantile=0.999)
    assert both.fit_samples(fit_source, target).predict_weights(held_out).max() <= 1.5


def test_cross_fit_gives_out_of_fold_weights_for_every_source_event(gaussians):
    fit_source, target, _ = gaussians
    X = np.concatenate([fit_source, target])
    y = np.r_[np.zeros(N, int), np.ones(N, int)]
    w = cross_fit_weights(ClassifierReweighter(quiet("logreg")), X, y, n_folds=3, seed=2)
    assert w.shape == (2 * N,)
    assert np.all(w[y == 1] == 1.0)
    assert np.average(X[y == 0, 0], weights=w[y == 0]) == pytest.approx(MU1, abs=0.04)
    with pytest.raises(ReweightingError, match="n_folds"):
        cross_fit_weights(ClassifierReweighter(quiet("logreg")), X, y, n_folds=1)


# -- bad input -----------------------------------------------------------------------
def test_single_class_and_empty_samples_are_refused():
    X = np.zeros((10, 2))
    rw = ClassifierReweighter(quiet("logreg"))
    with pytest.raises(ReweightingError, match="single-class.*source"):
        rw.fit(X, np.zeros(10, int))
    with pytest.raises(ReweightingError, match="single-class.*target"):
        rw.fit(X, np.ones(10, int))
    with pytest.raises(ReweightingError, match="labels must be 0"):
        rw.fit(X, np.arange(10))
    with pytest.raises(ReweightingError, match="source: empty"):
        rw.fit_samples(np.zeros((0, 2)), X)
    with pytest.raises(ReweightingError, match="target: empty"):
        rw.fit_samples(X, np.zeros((0, 2)))


def test_mismatched_feature_dimensions_are_refused(gaussians):
    rng = np.random.default_rng(0)
    rw = ClassifierReweighter(quiet("logreg"))
    with pytest.raises(ReweightingError, match="feature dimension mismatch.*jet_features"):
        rw.fit_samples(rng.normal(size=(50, 2)), rng.normal(size=(50, 3)))
    fit_source, target, _ = gaussians
    rw.fit_samples(fit_source[:500], target[:500])
    with pytest.raises(ReweightingError, match="feature dimension mismatch"):
        rw.predict_weights(np.zeros((4, 2)))
    with pytest.raises(ReweightingError, match="empty"):
        rw.predict_weights(np.zeros((0, 1)))


def test_bad_options_and_weights_are_refused_before_training():
    X, y = np.zeros((20, 1)), np.r_[np.zeros(10, int), np.ones(10, int)]
    for kw, match in [
        ({"epsilon": 0.7}, "epsilon"),
        ({"max_weight": -1.0}, "max_weight"),
        ({"weight_quantile": 0.0}, "weight_quantile"),
        ({"calibration": "magic"}, "calibration"),
        ({"calibration_fraction": 1.0}, "calibration_fraction"),
    ]:
        with pytest.raises(ReweightingError, match=match):
            ClassifierReweighter(quiet("logreg"), **kw).fit(X, y)
    rw = ClassifierReweighter(quiet("logreg"))
    with pytest.raises(ReweightingError, match="sample_weight: all 20 weights are zero"):
        rw.fit(X, y, np.zeros(20))
    with pytest.raises(ReweightingError, match="sample_weight: all target weights are zero"):
        rw.fit(X, y, np.r_[np.ones(10), np.zeros(10)])
    with pytest.raises(ReweightingError, match="NaN or infinite"):
        rw.fit(X, y, np.r_[np.ones(19), np.nan])
    with pytest.raises(ReweightingError, match="input 'jet_features' holds NaN"):
        rw.fit(np.full((20, 1), np.nan), y)
    with pytest.raises(ReweightingError, match="tabular model"):
        ClassifierReweighter(quiet("pfn")).fit(X, y)
    with pytest.raises(ReweightingError, match="expected a jet table.*got list"):
        rw.fit(X.tolist(), y)
    with pytest.raises(ReweightingError, match="not fitted"):
        rw.predict_weights(X)
    with pytest.raises(ReweightingError, match="decorrelation"):
        ClassifierReweighter(quiet("pfn", decorrelation={"method": "disco"})).fit(X, y)


# -- proper scoring only --------------------------------------------------------------
def test_isotonic_recalibration_recovers_distorted_probabilities():
    rng = np.random.default_rng(3)
    x = rng.normal(0, 2, 40000)
    p_true = 1 / (1 + np.exp(-x))
    labels = (rng.random(x.size) < p_true).astype(int)
    distorted = p_true**3  # monotone, like the outputs of a non-proper loss
    for method in ("isotonic", "platt"):
        cal = _fit_calibrator(distorted[:20000], labels[:20000], None, method)
        fixed = _apply_calibrator(cal, distorted[20000:])
        err = np.abs(fixed - p_true[20000:])
        assert np.median(err) < 0.03, method
        assert np.median(np.abs(distorted[20000:] - p_true[20000:])) > 0.1


def test_explicit_recalibration_keeps_the_ratio(gaussians):
    fit_source, target, _ = gaussians
    rw = ClassifierReweighter(quiet("logreg"), calibration="platt").fit_samples(fit_source, target)
    assert rw.calibration_ == "platt"
    grid = np.linspace(-1.0, 1.5, 6)[:, None]
    np.testing.assert_allclose(rw.predict_weights(grid), exact_ratio(grid[:, 0]), rtol=0.06)


FAST = {"epochs": 1, "batch_size": 64, "max_particles": 16, "progress": False, "lr": 3e-3}


def test_focal_loss_is_recalibrated_with_a_warning(toy_jets, tmp_path):
    table = toy_jets(400, seed=5)
    source, target = table[table.label == 0], table[table.label == 1]
    config = TrainConfig.cast(model="pfn", loss="focal", **FAST)
    rw = ClassifierReweighter(config, run_dir=tmp_path / "run")
    with pytest.warns(RecalibrationWarning, match="focal.*isotonic"):
        rw.fit_samples(source, target)
    assert rw.calibration_ == "isotonic" and rw.calibrator_ is not None
    f = rw.predict_proba(source)
    assert f.shape == (len(source), 2) and np.all((f >= 0) & (f <= 1))
    assert np.allclose(f.sum(axis=1), 1.0)
    assert (tmp_path / "run" / "checkpoints" / "best.ckpt").is_file()


def test_focal_loss_is_refused_without_recalibration(toy_jets):
    table = toy_jets(50, seed=5)
    config = TrainConfig.cast(model="pfn", loss="focal", **FAST)
    rw = ClassifierReweighter(config, calibration="none")
    with pytest.raises(ReweightingError, match="not a proper scoring rule"):
        rw.fit_samples(table[table.label == 0], table[table.label == 1])


# -- particle clouds through the training engine -------------------------------------
def test_particle_cloud_reweighter_on_toy_jets(toy_jets):
    table = toy_jets(600, seed=11)
    src, tgt = table[table.label == 0], table[table.label == 1]
    n_s, n_t = len(src) // 2, len(tgt) // 2
    rw = ClassifierReweighter(TrainConfig.cast(model="pfn", **{**FAST, "epochs": 3}))
    rw.fit_samples(src[:n_s], tgt[:n_t])
    assert rw.input_shapes_["features"] == (rw.input_shapes_["features"][0],)
    w_src = rw.predict_weights(src[n_s:])
    assert w_src.shape == (len(src) - n_s,) and np.all(np.isfinite(w_src) & (w_src > 0))
    # one-core jets (source) look unlike two-prong jets (target): their density ratio
    # is small; jets of the target sample itself look like the target
    w_tgt = rw.predict_weights(tgt[n_t:])
    assert np.median(w_src) < 1.0 < np.median(w_tgt)
    # a dict of input arrays with another particle-feature count is refused
    from heplearn.training import build_inputs, required_inputs

    arrays = build_inputs(src[n_s:], required_inputs("pfn"), rw.config_)
    arrays["features"] = arrays["features"][..., :-1]
    with pytest.raises(ReweightingError, match="feature dimension mismatch for 'features'"):
        rw.predict_weights(arrays)


@pytest.mark.parametrize(
    ("kw", "ratio"),
    [
        ({"calibration": "platt"}, 4.0),  # calibrated on a split with the fit's odds
        ({"config": quiet("logreg", balance_classes=True)}, 1.0),  # engine balances
        # balanced training, but the calibration restores the fit's odds
        ({"config": quiet("logreg", balance_classes=True), "calibration": "platt"}, 4.0),
    ],
)
def test_prior_ratio_follows_what_the_output_means(gaussians, kw, ratio):
    fit_source, target, _ = gaussians
    kw = {"config": quiet("logreg"), **kw}
    rw = ClassifierReweighter(kw.pop("config"), **kw).fit_samples(fit_source, target[: N // 4])
    assert rw.prior_ratio_ == pytest.approx(ratio, rel=0.03)
    grid = np.linspace(-1.0, 1.5, 6)[:, None]
    np.testing.assert_allclose(rw.predict_weights(grid), exact_ratio(grid[:, 0]), rtol=0.2)
