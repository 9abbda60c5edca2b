"""The physical-mixture part of the cwola study on Gaussian toys (no generation)."""

import numpy as np
import pytest

from heplearn.errors import HeplearnError
from heplearn.studies.cwola import HEADLINE_MODEL, physical_cwola
from heplearn.weak import parton_flavour


def test_parton_flavour_maps_pdg_ids():
    pid = np.array([1, -2, 3, -4, 5, 6, 21, 0, 22, -21, 11])
    assert parton_flavour(pid).tolist() == [1, 1, 1, 1, 1, 1, 0, -1, -1, 0, -1]


def _toy(n, f_quark, seed, quark_shift=1.0, sample_shift=0.0, sample=1):
    """``n`` jets of one sample: a fraction ``f_quark`` of quarks (flavour 1), 5% of
    unmatched jets (−1), the rest gluons; six Gaussian features, quarks shifted by
    ``quark_shift`` in the first two, the whole sample by ``sample_shift`` in the third."""
    rng = np.random.default_rng(seed)
    u = rng.random(n)
    flavour = np.where(u < f_quark, 1, np.where(u < 0.95, 0, -1))
    X = rng.normal(size=(n, 6))
    X[:, :2] += quark_shift * (flavour == 1)[:, None]
    X[:, 2] += sample_shift
    return X, np.full(n, sample), flavour


def _run(sample_shift=0.0, n=3000):
    X1, s1, q1 = _toy(n, 0.8, 1, sample=1)
    X0, s0, q0 = _toy(n, 0.45, 2, sample_shift=sample_shift, sample=0)
    X = np.concatenate([X1, X0])
    return physical_cwola(
        {HEADLINE_MODEL: X},
        np.concatenate([s1, s0]),
        np.concatenate([q1, q0]),
        test_fraction=0.25,
        n_repeats=2,
        seed=3,
    )


def test_physical_cwola_matches_supervision_when_samples_are_independent():
    summary, roc = _run()
    fr = summary["fractions"]
    assert fr["mixture_1"]["quark"] == pytest.approx(0.8, abs=0.03)
    assert fr["mixture_2"]["quark"] == pytest.approx(0.45, abs=0.03)
    assert fr["mixture_1"]["unmatched"] == pytest.approx(0.05, abs=0.015)
    m = summary["models"][HEADLINE_MODEL]
    assert m["auc_supervised"] > 0.7
    assert abs(m["auc_gap"]) < 0.01
    assert len(m["runs"]["cwola"]) == 2
    for flavour in ("quark", "gluon"):
        ind = summary["sample_independence_auc"][flavour]
        assert abs(ind["auc"] - 0.5) < 4 * ind["null_std"]
    # test jets are of known flavour only, and CWoLa's scores rank quarks higher
    scores, truth = roc[f"{HEADLINE_MODEL} CWoLa"]
    assert set(np.unique(truth)) == {0, 1}
    assert scores[truth == 1].mean() > scores[truth == 0].mean()


def test_sample_dependence_is_measured():
    """A feature that differs between the samples at fixed flavour breaks CWoLa's
    assumption; the independence check must see it."""
    summary, _ = _run(sample_shift=1.0)
    for flavour in ("quark", "gluon"):
        # a 1σ shift: AUC = Φ(1/√2) ≈ 0.76 for the optimal classifier
        ind = summary["sample_independence_auc"][flavour]
        assert ind["auc"] > 0.5 + 4 * ind["null_std"]


def test_too_few_jets_is_a_clear_error():
    with pytest.raises(HeplearnError, match="too few jets"):
        _run(n=80)
