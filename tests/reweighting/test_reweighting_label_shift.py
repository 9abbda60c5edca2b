"""Label shift: EM priors (Saerens, Latinne, Decaestecker 2002) and their weights."""

import numpy as np
import pytest

from heplearn.reweighting import (
    ReweightingError,
    adjust_posteriors,
    em_target_priors,
    estimate_target_priors,
    label_shift_weights,
)


def gaussian_mixture(n, prior1, seed):
    """Class 0 ~ N(−1, 1), class 1 ~ N(+1, 1); returns x, y and the exact posterior
    p(1 | x) for a sample with prior 0.5: log-odds = 2x."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prior1).astype(int)
    x = rng.normal(2.0 * y - 1.0, 1.0)
    return x, y, 1.0 / (1.0 + np.exp(-2.0 * x))


def test_em_recovers_an_injected_prior_within_its_error():
    x, y, post = gaussian_mixture(20000, 0.3, seed=1)
    est = estimate_target_priors(post, 0.5, n_bootstrap=60, seed=3)
    assert est.converged and est.priors.sum() == pytest.approx(1.0)
    err = est.uncertainty[1]
    assert 0.001 < err < 0.02
    assert abs(est.priors[1] - 0.3) < 3 * err
    # the realised fraction of the sample is what EM estimates (the pull is statistical)
    assert abs(est.priors[1] - y.mean()) < 3 * err
    # naive counting (mean posterior) is biased towards the source prior
    assert post.mean() > 0.3 + 3 * err


def test_em_with_equal_priors_returns_the_source_prior():
    _, _, post = gaussian_mixture(20000, 0.5, seed=2)
    est = estimate_target_priors(post, 0.5, n_bootstrap=50, seed=0)
    assert abs(est.priors[1] - 0.5) < 3 * est.uncertainty[1]
    # exactly at the fixed point: posteriors whose mean is the source prior
    pi, n_iter, ok = em_target_priors([0.9, 0.1, 0.7, 0.3], [0.5, 0.5])
    assert ok and n_iter == 1 and pi == pytest.approx([0.5, 0.5])
    pi, _, _ = em_target_priors(np.full(10, 0.2), 0.2)
    assert pi == pytest.approx([0.8, 0.2])


def test_em_three_classes():
    rng = np.random.default_rng(4)
    means = np.array([-2.0, 0.0, 2.0])
    pi_true = np.array([0.6, 0.3, 0.1])
    y = rng.choice(3, size=10000, p=pi_true)
    x = rng.normal(means[y], 1.0)
    loglik = -0.5 * (x[:, None] - means[None, :]) ** 2  # source priors uniform
    post = np.exp(loglik - loglik.max(axis=1, keepdims=True))
    post /= post.sum(axis=1, keepdims=True)
    est = estimate_target_priors(post, np.full(3, 1 / 3), n_bootstrap=30, seed=1)
    assert np.all(np.abs(est.priors - pi_true) < 3 * est.uncertainty + 1e-3)


def test_bootstrap_is_seeded():
    _, _, post = gaussian_mixture(2000, 0.3, seed=5)
    a = estimate_target_priors(post, 0.5, n_bootstrap=20, seed=9)
    b = estimate_target_priors(post, 0.5, n_bootstrap=20, seed=9)
    c = estimate_target_priors(post, 0.5, n_bootstrap=20, seed=10)
    assert np.array_equal(a.bootstrap, b.bootstrap)
    assert not np.array_equal(a.bootstrap, c.bootstrap)


def test_adjusted_posteriors_and_weights_hand_values():
    # p_s = 0.5 under π_s = 0.5; π_t = 0.2: p_t = 0.2
    assert adjust_posteriors([0.5], 0.5, 0.2)[0] == pytest.approx([0.8, 0.2])
    # odds scale by (0.2/0.8)/(0.5/0.5) = 1/4: p_s = 0.8 (odds 4) -> odds 1
    assert adjust_posteriors([0.8], 0.5, 0.2)[0, 1] == pytest.approx(0.5)
    same = adjust_posteriors([0.1, 0.7], [0.4, 0.6], [0.4, 0.6])
    assert same[:, 1] == pytest.approx([0.1, 0.7])
    w = label_shift_weights([0, 1, 1, 0], 0.5, 0.3)
    assert w == pytest.approx([1.4, 0.6, 0.6, 1.4])
    # weighting a labelled source by them gives the target prior
    _, y, _ = gaussian_mixture(1000, 0.5, seed=6)
    w = label_shift_weights(y, y.mean(), 0.3)
    assert np.average(y, weights=w) == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([], 0.5), "empty"),
        (([0.2, 1.3], 0.5), "probabilities in \\[0, 1\\]"),
        (([0.2, np.nan], 0.5), "probabilities"),
        (([0.2, 0.4], 1.0), "source_priors.*\\(0, 1\\)"),
        (([0.2, 0.4], [0.3, 0.3]), "sum to 1"),
        (([[0.2, 0.2]], [0.5, 0.5]), "rows must sum to 1"),
        (([0.2, 0.4], [0.2, 0.3, 0.5]), "expected 2 class priors"),
    ],
)
def test_bad_input_is_refused(args, match):
    with pytest.raises(ReweightingError, match=match):
        em_target_priors(*args)


def test_bad_options_are_refused():
    with pytest.raises(ReweightingError, match="n_bootstrap"):
        estimate_target_priors([0.3, 0.6], 0.5, n_bootstrap=1)
    with pytest.raises(ReweightingError, match="labels"):
        label_shift_weights([0, 2], 0.5, 0.3)
    with pytest.raises(ReweightingError, match="target_priors"):
        label_shift_weights([0, 1], 0.5, 1.2)
