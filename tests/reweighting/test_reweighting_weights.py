"""Weight formulas: ESS, the density ratio from probabilities, clipping, checks."""

import numpy as np
import pytest

from heplearn.errors import HeplearnError
from heplearn.reweighting import (
    ReweightingError,
    check_weights,
    clip_weights,
    effective_sample_size,
    probabilities_to_weights,
)


def test_effective_sample_size_hand_values():
    assert effective_sample_size([1, 1, 1, 1]) == pytest.approx(4.0)
    assert effective_sample_size([2, 2, 2]) == pytest.approx(3.0)  # scale-free
    assert effective_sample_size([1, 0, 0, 1]) == pytest.approx(2.0)
    assert effective_sample_size([1, 2, 3]) == pytest.approx(36 / 14)
    assert effective_sample_size([1e300, 1e300]) == pytest.approx(2.0)  # no overflow
    assert effective_sample_size([5.0]) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ([0.0, 0.0, 0.0], "all 3 weights are zero"),
        ([1.0, np.nan, 1.0], "NaN or infinite"),
        ([1.0, np.inf], "NaN or infinite"),
        ([1.0, -0.5], "negative"),
        ([], "empty"),
        ([[1.0, 2.0]], "1-D"),
    ],
)
def test_bad_weights_raise_an_error_naming_them(weights, match):
    with pytest.raises(ReweightingError, match=match) as err:
        check_weights(weights, "my_weights")
    assert "my_weights" in str(err.value)
    assert isinstance(err.value, HeplearnError)
    with pytest.raises(ReweightingError, match=match):
        effective_sample_size(weights)


def test_density_ratio_from_probabilities():
    # f/(1-f) times N_source/N_target
    w = probabilities_to_weights([0.5, 0.75, 0.2], prior_ratio=2.0)
    assert w == pytest.approx([2.0, 6.0, 0.5])


def test_probability_clipping_bounds_the_weights():
    eps = 0.01
    f = np.array([0.0, 1e-9, 0.3, 1 - 1e-9, 1.0])
    w = probabilities_to_weights(f, prior_ratio=3.0, epsilon=eps)
    assert np.all(np.isfinite(w))
    lo, hi = eps / (1 - eps) * 3.0, (1 - eps) / eps * 3.0
    assert w.min() == pytest.approx(lo) and w.max() == pytest.approx(hi)
    assert w[2] == pytest.approx(0.3 / 0.7 * 3.0)  # inside the range: untouched


@pytest.mark.parametrize("eps", [0.0, 0.5, -0.1, 1.0, float("nan")])
def test_epsilon_out_of_range_is_refused(eps):
    with pytest.raises(ReweightingError, match="epsilon"):
        probabilities_to_weights([0.5], epsilon=eps)


def test_bad_probabilities_and_prior_ratio_are_refused():
    with pytest.raises(ReweightingError, match="probabilities"):
        probabilities_to_weights([0.5, 1.2])
    with pytest.raises(ReweightingError, match="probabilities"):
        probabilities_to_weights([np.nan])
    with pytest.raises(ReweightingError, match="prior_ratio"):
        probabilities_to_weights([0.5], prior_ratio=0.0)


def test_weight_clipping_at_a_value_and_at_a_quantile():
    w = np.arange(1.0, 101.0)
    assert clip_weights(w, max_weight=10.0).max() == 10.0
    capped = clip_weights(w, quantile=0.9)
    assert capped.max() == pytest.approx(np.quantile(w, 0.9))
    assert np.array_equal(capped[:80], w[:80])  # only the tail changes
    both = clip_weights(w, max_weight=50.0, quantile=0.99)
    assert both.max() == 50.0  # the smaller cap wins
    assert np.array_equal(clip_weights(w), w)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"max_weight": 0.0}, "max_weight"),
        ({"max_weight": float("inf")}, "max_weight"),
        ({"quantile": 0.0}, "quantile"),
        ({"quantile": 1.5}, "quantile"),
    ],
)
def test_clip_values_out_of_range_are_refused(kw, match):
    with pytest.raises(ReweightingError, match=match):
        clip_weights([1.0, 2.0], **kw)
