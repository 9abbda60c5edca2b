"""Tabular estimators and the classic (non-ML) top taggers."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from heplearn import models
from heplearn.errors import HeplearnError
from heplearn.models.classic import jh_top_tagger, tau32_window_score


def _toy(n=400, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 3)) + y[:, None] * np.array([2.5, 0.0, -2.0])
    return x, y


@pytest.mark.parametrize("name", ["bdt", "logreg"])
def test_tabular_fit_predict_save_load(name, tmp_path):
    assert models.model_info(name).kind == "tabular"
    x, y = _toy()
    est = models.create(name, preset="small")
    est.fit(x[:300], y[:300], sample_weight=np.ones(300), eval_set=(x[300:], y[300:]))
    proba = est.predict_proba(x[300:])
    assert proba.shape == (100, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert (est.predict(x[300:]) == y[300:]).mean() > 0.8
    assert est.n_parameters() > 0
    est.save_json(tmp_path / "m.json")
    again = models.create(name, preset="small").load_json(tmp_path / "m.json")
    np.testing.assert_allclose(again.predict_proba(x[300:]), proba, rtol=1e-6)


def test_tabular_unfitted_error():
    with pytest.raises(HeplearnError, match="not fitted"):
        models.create("logreg").predict_proba(np.zeros((2, 3)))


def test_tau32_window_score():
    obs = {
        "softdrop_mass": np.array([170.0, 90.0, 220.0, 105.0, 210.0, 150.0]),
        "tau32": np.array([0.4, 0.2, 0.3, 0.7, 0.5, np.nan]),
    }
    score = tau32_window_score(obs)
    np.testing.assert_array_equal(score, [-0.4, -np.inf, -np.inf, -0.7, -0.5, -np.inf])
    # a cut τ32 < 0.6 inside the window = score > -0.6
    assert list(score > -0.6) == [True, False, False, False, True, False]
    with pytest.raises(HeplearnError, match="tau32"):
        tau32_window_score({"softdrop_mass": np.ones(2)})


def _jet(prongs, rng):
    """Constituents (px, py, pz, E) of massless particles around given (eta, phi, pt) prongs."""
    rows = []
    for eta, phi, pt in prongs:
        for _ in range(6):
            e, p, q = eta + rng.normal(0, 0.01), phi + rng.normal(0, 0.01), pt / 6
            rows.append((q * np.cos(p), q * np.sin(p), q * np.sinh(e), q * np.cosh(e)))
    return [dict(zip(("px", "py", "pz", "E"), r, strict=True)) for r in rows]


def test_jh_tagger_tags_a_three_prong_top_not_a_one_prong_jet():
    rng = np.random.default_rng(3)
    # three hard prongs: the (b, q, q') of a top with m_W ≈ 80 and m_top ≈ 175 GeV
    top = _jet([(-0.25, -0.1, 250.0), (0.34, 0.0, 170.0), (0.0, 0.34, 160.0)], rng)
    qcd = _jet([(0.0, 0.0, 560.0), (0.02, 0.01, 20.0)], rng)
    table = ak.Array({"constituents": [top, qcd]})
    out = jh_top_tagger(table)
    masses = [out["top_mass"][0], out["w_mass"][0]]
    assert out["tagged"].tolist() == [True, False], masses
    assert 150 <= out["top_mass"][0] <= 200 and 65 <= out["w_mass"][0] <= 95
    assert np.isfinite(out["score"][0]) and out["score"][1] == -np.inf
