"""Diagnostics: Δ before/after, its statistical floor, a fresh classifier's AUC, figures."""

import numpy as np
import pytest

from heplearn.evaluation.metrics import triangular_discriminator
from heplearn.reweighting import (
    ReweightingError,
    expected_triangular_discriminator,
    fresh_classifier_auc,
    histogram_edges,
    observable_distances,
    plot_reweighted_observable,
    plot_weight_distribution,
)
from heplearn.reweighting.diagnostics import _hist


def shifted(n, seed, shift=0.5):
    rng = np.random.default_rng(seed)
    source = rng.normal(0.0, 1.0, n)
    target = rng.normal(shift, 1.0, n)
    exact = np.exp(shift * source - shift**2 / 2)  # N(shift, 1)/N(0, 1)
    return source, target, exact


def test_expected_delta_matches_monte_carlo():
    rng = np.random.default_rng(0)
    edges = np.linspace(-3, 3, 31)
    deltas = [
        triangular_discriminator(
            _hist(rng.normal(size=2000), None, edges), _hist(rng.normal(size=3000), None, edges)
        )
        for _ in range(200)
    ]
    expected = expected_triangular_discriminator(30, 2000, 3000)
    assert np.mean(deltas) == pytest.approx(expected, rel=0.1)


def test_delta_drops_to_the_statistical_floor_with_exact_weights():
    source, target, exact = shifted(20000, seed=1)
    d = observable_distances({"x": source}, {"x": target}, exact)["x"]
    assert d["before"] > 10 * d["expected_before"]
    assert d["after"] < 3 * d["expected_after"]
    same = observable_distances({"x": source}, {"x": target}, np.ones_like(source))["x"]
    assert same["after"] == pytest.approx(same["before"])


def test_integer_observables_get_half_integer_edges():
    rng = np.random.default_rng(2)
    a, b = rng.poisson(40, 5000).astype(float), rng.poisson(36, 5000).astype(float)
    edges = histogram_edges(a, b, bins=20)
    assert np.allclose(edges % 1.0, 0.5)
    widths = np.diff(edges)
    assert np.all(widths == widths[0]) and len(edges) - 1 <= 20 + 1
    assert histogram_edges([0.1, 0.2], [0.3, 0.4], bins=4).shape == (5,)


def test_distance_errors_name_the_input():
    with pytest.raises(ReweightingError, match="same observables"):
        observable_distances({"a": [1.0]}, {"b": [1.0]}, [1.0])
    with pytest.raises(ReweightingError, match="weights: 2 weights for 3"):
        observable_distances({"a": [1.0, 2, 3]}, {"a": [1.0, 2]}, [1.0, 1.0])
    with pytest.raises(ReweightingError, match="all 2 weights are zero"):
        observable_distances({"a": [1.0, 2]}, {"a": [1.0, 2]}, [0.0, 0.0])
    with pytest.raises(ReweightingError, match="bins"):
        histogram_edges([1.0], [2.0], bins=1)


def test_fresh_classifier_auc_before_and_after():
    source, target, exact = shifted(6000, seed=3)
    config = {"model": "logreg", "progress": False}
    before = fresh_classifier_auc(source[:, None], target[:, None], config=config, seed=1)
    after = fresh_classifier_auc(source[:, None], target[:, None], exact, config=config, seed=1)
    # Φ(Δμ/√2) = 0.638 for a 0.5σ shift
    assert before.auc == pytest.approx(0.638, abs=3 * before.uncertainty + 0.01)
    assert abs(after.auc - 0.5) < 3 * after.uncertainty + 0.01
    assert before.n_test == after.n_test == 6000 and before.model == "logreg"
    assert 0 < after.uncertainty < 0.02
    with pytest.raises(ReweightingError, match="source_weights: expected 6000"):
        fresh_classifier_auc(source[:, None], target[:, None], exact[:10], config=config)
    for bad in (0, 1, 2.5):
        with pytest.raises(ReweightingError, match="n_bootstrap must be an integer >= 2"):
            fresh_classifier_auc(source[:, None], target[:, None], n_bootstrap=bad)


def test_figures_are_written_whole(tmp_path):
    source, target, exact = shifted(3000, seed=4)
    p1 = plot_weight_distribution(exact, tmp_path / "weights.png", cap=3.0)
    p2 = plot_reweighted_observable(
        source, target, exact, tmp_path / "x.png", xlabel="x", source_label="sim"
    )
    assert p1.is_file() and p2.is_file() and p1.stat().st_size > 1000
    assert sorted(f.name for f in tmp_path.iterdir()) == ["weights.png", "x.png"]
    with pytest.raises(ReweightingError, match="weights"):
        plot_reweighted_observable(source, target, exact[:5], tmp_path / "y.png", xlabel="x")
    assert not (tmp_path / "y.png").exists()
