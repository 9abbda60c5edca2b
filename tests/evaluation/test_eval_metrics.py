"""Metrics of heplearn.evaluation against hand-computed and statistical cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

import heplearn.evaluation as ev
from heplearn.errors import HeplearnError
from heplearn.evaluation import metrics as M


def _gaussian_sample(n_per_class: int, separation: float, seed: int):
    rng = np.random.default_rng(seed)
    y = np.r_[np.ones(n_per_class, int), np.zeros(n_per_class, int)]
    logit = rng.normal(0.0, 1.0, 2 * n_per_class) + separation * (y - 0.5)
    return 1.0 / (1.0 + np.exp(-logit)), y


def test_public_api_is_pinned():
    assert sorted(ev.__all__) == sorted(
        [
            "BootstrapResult", "CalibrationCurve", "EvaluationError", "InvalidOptionError",
            "InvalidScoresError", "MaxSic", "RejectionResult", "ReportError", "RocCurve",
            "SicCurve", "accuracy", "auc", "background_rejection", "bootstrap",
            "calibration_curve", "combine_trainings", "evaluate_scores",
            "jensen_shannon_divergence", "max_sic", "plot_calibration", "plot_learning_curves",
            "plot_rejection",
            "plot_score_distributions", "plot_sculpting", "plot_sic", "roc_curve",
            "sculpting_jsd", "sic_curve", "summarize_runs", "threshold_at_signal_efficiency",
            "to_jsonable", "triangular_discriminator", "write_json", "write_report",
        ]
    )  # fmt: skip
    for name in ev.__all__:
        assert hasattr(ev, name), name


# ---------------------------------------------------------------- perfect / random / inverted
def test_perfect_classifier_auc_one_and_rejection_is_a_rule_of_three_lower_bound():
    y = np.r_[np.ones(500, int), np.zeros(1000, int)]
    s = np.where(y == 1, 0.9, 0.1) + np.linspace(0, 0.01, len(y))
    assert ev.auc(s, y) == 1.0
    r = ev.background_rejection(s, y, 0.3)
    assert r.estimate == math.inf
    assert r.background_efficiency == 0.0
    assert r.n_background_pass == 0
    assert r.is_lower_bound
    # no background jet passes: 1/eps_B > N_B / 2.996 at 95% CL (the "rule of three")
    assert r.value == pytest.approx(1000 / 2.9957, rel=1e-4)
    assert str(r) == "> 334 (lower bound: 0 bkg jets pass)"
    # the SIC guard keeps the maximum finite
    m = ev.max_sic(s, y)
    assert math.isfinite(m.value) and m.n_background_pass >= 20


def test_random_classifier_auc_half_and_rejection_inverse_efficiency():
    rng = np.random.default_rng(7)
    n = 200_000
    y = np.r_[np.ones(n, int), np.zeros(n, int)]
    s = rng.uniform(size=2 * n)
    # std of a random AUC is sqrt((2n + 1) / (12 n^2)) ~ 0.0009
    assert ev.auc(s, y) == pytest.approx(0.5, abs=0.005)
    for eff in (0.3, 0.5):
        r = ev.background_rejection(s, y, eff)
        # eps_B ~ eff with binomial std sqrt(eff (1 - eff) / n) ~ 0.1%
        assert r.value == pytest.approx(1.0 / eff, rel=0.02)
        assert not r.is_lower_bound


def test_inverted_classifier_auc_zero():
    y = np.r_[np.ones(50, int), np.zeros(50, int)]
    s = np.r_[np.linspace(0.0, 0.4, 50), np.linspace(0.6, 1.0, 50)]
    assert ev.auc(s, y) == 0.0
    assert ev.roc_curve(s, y).auc() == 0.0


def test_roc_curve_hand_values_and_background_counts():
    s = [0.9, 0.8, 0.6, 0.4, 0.7, 0.5, 0.3, 0.2]
    y = [1, 1, 1, 1, 0, 0, 0, 0]
    roc = ev.roc_curve(s, y)
    assert roc.thresholds[0] == np.inf
    np.testing.assert_allclose(roc.signal_efficiency, [0, 0.25, 0.5, 0.5, 0.75, 0.75, 1, 1, 1])
    np.testing.assert_allclose(roc.background_efficiency, [0, 0, 0, 0.25, 0.25, 0.5, 0.5, 0.75, 1])
    assert roc.n_background_pass.tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 4]
    assert roc.auc() == pytest.approx(ev.auc(s, y)) == pytest.approx(0.8125)


# ---------------------------------------------------------------- interpolation on a known ROC
def test_rejection_interpolates_linearly_between_bracketing_roc_points():
    # ROC points (eps_S, eps_B): (0, 0) (0.2, 0) (0.8, 0.5) (0.8, 0.75) (1, 1); the tie at
    # score 0.5 (3 signal, 2 background) makes a diagonal segment
    s = [0.9, 0.5, 0.5, 0.5, 0.1, 0.5, 0.5, 0.2, 0.1]
    y = [1, 1, 1, 1, 1, 0, 0, 0, 0]
    r = ev.background_rejection(s, y, 0.3, min_background=1)
    # eps_B = 0 + (0.3 - 0.2) / (0.8 - 0.2) * 0.5 = 1/12
    assert r.background_efficiency == pytest.approx(1 / 12)
    assert r.estimate == pytest.approx(12.0)
    assert r.threshold == 0.5 and r.n_background_pass == 2
    assert not r.is_lower_bound and r.value == r.estimate
    # exactly on a vertical step: the point of smallest eps_B counts (0.5, not 0.75)
    assert ev.background_rejection(s, y, 0.8, min_background=1).estimate == pytest.approx(2.0)
    # on the flat segment below 0.2 nothing passes
    assert ev.background_rejection(s, y, 0.1, min_background=1).estimate == math.inf


def test_rejection_second_hand_case():
    s = [0.9, 0.8, 0.5, 0.5, 0.1, 0.5, 0.5, 0.2, 0.1]
    y = [1, 1, 1, 1, 1, 0, 0, 0, 0]
    # points (0.4, 0) -> (0.8, 0.5): eps_B(0.5) = 0.125, eps_B(0.6) = 0.25
    assert ev.background_rejection(s, y, 0.5, min_background=1).estimate == pytest.approx(8.0)
    assert ev.background_rejection(s, y, 0.6, min_background=1).estimate == pytest.approx(4.0)
    assert ev.threshold_at_signal_efficiency(s, y, 0.5) == 0.5


def test_lower_bound_flag_when_few_background_jets_pass():
    rng = np.random.default_rng(3)
    sig = rng.uniform(0.5, 1.0, 1000)
    bkg = np.r_[rng.uniform(0.96, 0.99, 10), rng.uniform(0.0, 0.45, 990)]
    s, y = np.r_[sig, bkg], np.r_[np.ones(1000, int), np.zeros(1000, int)]
    r = ev.background_rejection(s, y, 0.3)  # cut near 0.85: exactly the 10 jets above pass
    assert r.n_background_pass == 10
    assert r.is_lower_bound
    assert r.estimate == pytest.approx(100.0)
    # 95% CL Poisson upper limit for 10 observed is 16.96: bound = 1000 / 16.96
    assert r.value == pytest.approx(1000 / 16.962, rel=1e-3)
    assert r.value < r.estimate
    assert str(r) == "> 59.0 (lower bound: 10 bkg jets pass)"
    loose = ev.background_rejection(s, y, 0.3, min_background=10)
    assert not loose.is_lower_bound and loose.value == pytest.approx(100.0)
    assert str(loose) == "100"


# ---------------------------------------------------------------- weights
def test_duplicating_jets_equals_weight_two():
    s, y = _gaussian_sample(300, 1.5, seed=11)
    w = np.ones_like(s)
    dup = np.arange(0, len(s), 3)
    w[dup] = 2.0
    s2, y2 = np.r_[s, s[dup]], np.r_[y, y[dup]]
    roc_w, roc_d = ev.roc_curve(s, y, w), ev.roc_curve(s2, y2)
    np.testing.assert_allclose(roc_w.signal_efficiency, roc_d.signal_efficiency)
    np.testing.assert_allclose(roc_w.background_efficiency, roc_d.background_efficiency)
    assert ev.auc(s, y, w) == pytest.approx(ev.auc(s2, y2))
    assert ev.accuracy(s, y, w) == pytest.approx(ev.accuracy(s2, y2))
    for eff in (0.3, 0.5):
        rw = ev.background_rejection(s, y, eff, weights=w)
        assert rw.estimate == pytest.approx(ev.background_rejection(s2, y2, eff).estimate)
    np.testing.assert_allclose(
        ev.calibration_curve(s, y, w).fraction_positive,
        ev.calibration_curve(s2, y2).fraction_positive,
    )
    # unit weights change nothing; counts of passing jets stay unweighted
    assert ev.auc(s, y, np.ones_like(s)) == pytest.approx(ev.auc(s, y))
    assert ev.roc_curve(s, y, w).n_background_pass[-1] == 300


# ---------------------------------------------------------------- bootstrap
def test_bootstrap_reproducible_and_shrinks_like_inverse_sqrt_n():
    s, y = _gaussian_sample(1000, 1.0, seed=5)
    a = ev.bootstrap(ev.auc, s, y, n=100, seed=42)
    b = ev.bootstrap(ev.auc, s, y, n=100, seed=42)
    c = ev.bootstrap(ev.auc, s, y, n=20, seed=43)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples[:20], c.samples)
    assert a.value == pytest.approx(ev.auc(s, y))
    assert a.interval[0] < a.value < a.interval[1]
    s4, y4 = _gaussian_sample(4000, 1.0, seed=6)
    big = ev.bootstrap(ev.auc, s4, y4, n=100, seed=42)
    # 4x the jets -> half the spread (the std of a 100-sample std is ~7%)
    assert a.std / big.std == pytest.approx(2.0, rel=0.25)


def test_bootstrap_keeps_class_sizes():
    s, y = _gaussian_sample(50, 1.0, seed=1)
    seen = []
    ev.bootstrap(lambda s_, y_, w_: seen.append(int(y_.sum())) or 0.0, s, y, n=5, seed=0)
    assert seen == [50] * 6  # the full sample, then five resamples


def test_rejection_uncertainty_from_bootstrap():
    s, y = _gaussian_sample(5000, 2.5, seed=2)
    r = ev.background_rejection(s, y, 0.5, n_bootstrap=50, seed=1)
    assert not r.is_lower_bound
    assert r.uncertainty is not None and 0 < r.uncertainty < r.value
    # the bootstrap spread matches the spread over independent test sets of the same size
    fresh = [
        ev.background_rejection(*_gaussian_sample(5000, 2.5, seed=100 + i), 0.5).estimate
        for i in range(100)
    ]
    assert r.uncertainty == pytest.approx(np.std(fresh), rel=0.5)
    # and exceeds the background-count (binomial) part alone, 1/sqrt(n_pass)
    assert r.uncertainty / r.value > 0.8 / math.sqrt(r.n_background_pass)
    assert " ± " in str(r)
    assert r == ev.background_rejection(s, y, 0.5, n_bootstrap=50, seed=1)


# ---------------------------------------------------------------- SIC
def test_max_sic_hand_case_and_background_guard():
    s = [0.9, 0.8, 0.6, 0.4, 0.7, 0.5, 0.3, 0.2]
    y = [1, 1, 1, 1, 0, 0, 0, 0]
    m = ev.max_sic(s, y, min_background=1)
    # cut 0.6: eps_S = 3/4, eps_B = 1/4 -> SIC = 1.5
    assert m.value == pytest.approx(1.5)
    assert (m.signal_efficiency, m.background_efficiency, m.threshold) == (0.75, 0.25, 0.6)
    # requiring 2 background jets: best is cut 0.4, eps_S = 1, eps_B = 1/2 -> sqrt(2)
    m2 = ev.max_sic(s, y, min_background=2)
    assert m2.value == pytest.approx(math.sqrt(2)) and m2.threshold == 0.4
    curve = ev.sic_curve(s, y, min_background=2)
    assert np.all(curve.n_background_pass >= 2)
    with pytest.raises(ev.InvalidScoresError, match="min_background=5"):
        ev.max_sic(s, y, min_background=5)


# ---------------------------------------------------------------- calibration
def test_calibration_of_calibrated_probabilities_is_diagonal():
    rng = np.random.default_rng(9)
    p = rng.uniform(size=200_000)
    y = (rng.uniform(size=p.size) < p).astype(int)
    c = ev.calibration_curve(p, y, n_bins=10)
    assert c.counts.sum() == p.size
    # each bin holds ~20k jets: binomial std of the fraction < 0.0036
    np.testing.assert_allclose(c.fraction_positive, c.mean_predicted, atol=0.015)
    assert np.all(c.fraction_uncertainty < 0.004)
    # an overconfident classifier (reports p^2 for signal probability p) is off the diagonal
    over = ev.calibration_curve(p**2, y, n_bins=10)
    assert np.nanmax(np.abs(over.fraction_positive - over.mean_predicted)) > 0.1


def test_calibration_bins_edges_and_empty_bins():
    c = ev.calibration_curve([0.0, 0.05, 1.0, 0.95], [0, 0, 1, 1], n_bins=4)
    assert c.counts.tolist() == [2, 0, 0, 2]  # p = 1 falls in the last bin
    assert np.isnan(c.fraction_positive[1]) and c.fraction_positive[3] == 1.0
    q = ev.calibration_curve(np.linspace(0, 1, 100), np.arange(100) % 2, strategy="quantile",
                             n_bins=4)  # fmt: skip
    assert q.counts.tolist() == [25, 25, 25, 25]


# ---------------------------------------------------------------- repeated trainings
def test_summarize_runs_median_and_percentiles():
    runs = [{"auc": float(v), "rejection_at_0.3_is_lower_bound": False, "note": "x"}
            for v in range(1, 10)]  # fmt: skip
    runs[0]["extra"] = None
    out = ev.summarize_runs(runs)
    assert set(out) == {"auc"}
    assert out["auc"] == pytest.approx({"median": 5.0, "p16": 2.28, "p84": 7.72, "n": 9})


def test_combine_trainings_quotes_medians_spreads_and_conservative_bounds():
    def run(auc, r30, lower, unc, n_pass):
        return {
            "auc": auc, "auc_uncertainty": unc, "accuracy": 0.9, "accuracy_uncertainty": None,
            "rejection_at_0.3": r30, "rejection_at_0.3_uncertainty": None if lower else 10.0,
            "rejection_at_0.3_n_background_pass": n_pass,
            "rejection_at_0.3_is_lower_bound": lower,
            "max_sic": 5.0, "max_sic_uncertainty": 0.1, "max_sic_signal_efficiency": 0.4,
            "n_background": 1000, "seed": 7,
        }  # fmt: skip

    three = [run(0.97, 90.0, False, 0.003, 40), run(0.98, 120.0, False, 0.001, 30),
             run(0.99, 100.0, False, 0.002, 35)]  # fmt: skip
    out = ev.combine_trainings(three)
    assert out["trainings"] == 3
    assert out["auc"] == pytest.approx(0.98) and out["rejection_at_0.3"] == 100.0
    # np.percentile, linear: 16% of the way (0.32 of a step) from the first sorted value
    assert out["auc_spread"] == pytest.approx([0.97 + 0.32 * 0.01, 0.98 + 0.68 * 0.01])
    assert out["rejection_at_0.3_spread"] == pytest.approx([90 + 0.32 * 10, 100 + 0.68 * 20])
    assert out["auc_uncertainty"] == pytest.approx(0.002)  # median of the bootstraps
    assert out["rejection_at_0.3_uncertainty"] == 10.0
    assert out["rejection_at_0.3_n_background_pass"] == 35
    assert out["rejection_at_0.3_is_lower_bound"] is False
    assert out["accuracy_uncertainty"] is None and out["n_background"] == 1000
    # one training with too few passing background jets makes the median a lower bound
    bounded = ev.combine_trainings([*three[:2], run(0.99, 150.0, True, 0.002, 12)])
    assert bounded["rejection_at_0.3"] == 120.0
    assert bounded["rejection_at_0.3_is_lower_bound"] is True
    assert bounded["rejection_at_0.3_uncertainty"] is None
    # a single training is itself, with a zero spread
    one = ev.combine_trainings(three[:1])
    assert one["auc"] == 0.97 and one["auc_spread"] == [0.97, 0.97]
    with pytest.raises(ev.InvalidOptionError, match="at least one training"):
        ev.combine_trainings([])


# ---------------------------------------------------------------- histogram distances
def test_jensen_shannon_divergence_base_two():
    h = np.array([3.0, 1.0, 0.0, 6.0])
    assert ev.jensen_shannon_divergence(h, h) == 0.0
    assert ev.jensen_shannon_divergence(h, 10 * h) == pytest.approx(0.0, abs=1e-15)
    assert ev.jensen_shannon_divergence([1, 2, 0, 0], [0, 0, 5, 1]) == pytest.approx(1.0)
    # by hand: p = (1/2, 1/2), q = (1, 0), m = (3/4, 1/4)
    kl_p = 0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(0.5 / 0.25)
    kl_q = math.log2(1 / 0.75)
    assert ev.jensen_shannon_divergence([1, 1], [1, 0]) == pytest.approx(0.5 * (kl_p + kl_q))
    from scipy.spatial.distance import jensenshannon

    a, b = np.array([1.0, 4, 2, 0.5]), np.array([2.0, 1, 1, 3])
    assert ev.jensen_shannon_divergence(a, b) == pytest.approx(jensenshannon(a, b, base=2) ** 2)


def test_triangular_discriminator_hand_values():
    assert ev.triangular_discriminator([1, 2, 3], [1, 2, 3]) == 0.0
    assert ev.triangular_discriminator([1, 0], [0, 1]) == pytest.approx(1.0)
    assert ev.triangular_discriminator([1, 1], [1, 0]) == pytest.approx(1 / 3)
    # p = (3/4, 1/4), q = (1/2, 1/2): 1/2 [0.0625 / 1.25 + 0.0625 / 0.75]
    assert ev.triangular_discriminator([3, 1], [1, 1]) == pytest.approx(1 / 15)


def test_sculpting_jsd_sees_a_mass_dependent_score():
    rng = np.random.default_rng(4)
    n = 20_000
    y = np.r_[np.ones(n, int), np.zeros(n, int)]
    mass = np.where(y == 1, rng.normal(172, 15, 2 * n), rng.exponential(60, 2 * n))
    independent = rng.normal(size=2 * n) + y
    on_mass = -np.abs(mass - 172.0)
    kw = {"bins": 30, "mass_range": (0.0, 300.0)}
    flat = ev.sculpting_jsd(independent, y, mass, **kw)
    sculpted = ev.sculpting_jsd(on_mass, y, mass, **kw)
    assert flat < 0.01
    assert sculpted > 0.3


# ---------------------------------------------------------------- accuracy
def test_accuracy_conventions():
    y = [1, 1, 0, 0]
    assert ev.accuracy([0.5, 0.49, 0.2, 0.7], y) == 0.5  # 0.5 counts as signal
    assert ev.accuracy([2.0, -0.1, -3.0, -1.0], y, threshold=0.0) == 0.75
    logits = [[0.0, 1.0], [1.0, 1.0], [3.0, -2.0], [0.1, 0.0]]
    assert ev.accuracy(logits, y) == 0.75  # a tie goes to background
    with pytest.raises(ev.InvalidScoresError, match="threshold=0.0"):
        ev.accuracy([2.0, -0.1, -3.0, -1.0], y)
    assert ev.accuracy([0.9, 0.9, 0.1, 0.9], y, [1.0, 1.0, 1.0, 3.0]) == pytest.approx(0.5)


# ---------------------------------------------------------------- evaluate_scores
def test_evaluate_scores_agrees_with_the_single_metrics():
    s, y = _gaussian_sample(6000, 2.5, seed=8)
    out = ev.evaluate_scores(s, y, bootstrap=20, seed=3)
    assert out["auc"] == pytest.approx(ev.auc(s, y))
    assert out["accuracy"] == pytest.approx(ev.accuracy(s, y))
    for eff in (0.3, 0.5):
        r = ev.background_rejection(s, y, eff)
        key = f"rejection_at_{eff}"
        assert out[key] == pytest.approx(r.value)
        assert out[f"{key}_n_background_pass"] == r.n_background_pass
        assert out[f"{key}_is_lower_bound"] == r.is_lower_bound
    assert out["rejection_at_0.3_is_lower_bound"] and out["rejection_at_0.3_uncertainty"] is None
    assert not out["rejection_at_0.5_is_lower_bound"]
    assert out["rejection_at_0.5_uncertainty"] > 0
    assert out["max_sic"] == pytest.approx(ev.max_sic(s, y).value)
    assert 0 < out["auc_uncertainty"] < 0.01
    assert out == ev.evaluate_scores(s, y, bootstrap=20, seed=3)
    assert (out["n_signal"], out["n_background"], out["bootstrap"]) == (6000, 6000, 20)
    plain = ev.evaluate_scores(s, y, bootstrap=0)
    assert plain["auc_uncertainty"] is None and plain["auc"] == out["auc"]


# ---------------------------------------------------------------- errors
def test_error_messages():
    with pytest.raises(ev.InvalidScoresError, match="scores has 3 entries but labels has 2"):
        ev.auc([0.1, 0.2, 0.3], [0, 1])
    with pytest.raises(
        ev.InvalidScoresError,
        match=r"needs both signal \(label 1\) and background \(label 0\) jets; got only label 0",
    ):
        ev.roc_curve([0.1, 0.2], [0, 0])
    with pytest.raises(ev.InvalidScoresError, match="got only label 1"):
        ev.evaluate_scores([0.1, 0.2], [1, 1])
    with pytest.raises(
        ev.InvalidScoresError, match=r"scores contain 1 NaN value \(first at jet 1\)"
    ):
        ev.background_rejection([0.1, np.nan, 0.3], [0, 1, 1])
    with pytest.raises(ev.InvalidScoresError, match="got the values 0, 1, 2"):
        ev.auc([0.1, 0.2, 0.3], [0, 1, 2])
    with pytest.raises(ev.InvalidScoresError, match="non-negative"):
        ev.auc([0.1, 0.2], [0, 1], [1.0, -1.0])
    for bad in (0.0, 1.0, 1.5, -0.2):
        with pytest.raises(ev.InvalidOptionError, match=r"open interval \(0, 1\)"):
            ev.background_rejection([0.1, 0.9], [0, 1], bad)
    with pytest.raises(ev.InvalidOptionError, match="open interval"):
        ev.evaluate_scores([0.1, 0.9], [0, 1], signal_efficiencies=(0.3, 1.2))
    err = pytest.raises(ev.InvalidScoresError, ev.auc, [0.1], [0, 1]).value
    assert isinstance(err, HeplearnError) and isinstance(err, ValueError)
    assert issubclass(M.InvalidOptionError, HeplearnError)
