"""CWoLa hunting on a toy: a localised resonance with distinctive features on a smooth,
featureless background is found in its window and nowhere else."""

from __future__ import annotations

import numpy as np
import pytest

from heplearn.models.tabular import BoostedTrees
from heplearn.weak import (
    BumpHuntError,
    Window,
    cwola_hunt,
    dijet_function,
    hunting_scores,
    reference_efficiency,
    select_efficiency,
    sliding_windows,
)

SQRT_S = 13_000.0
EDGES = np.arange(2700.0, 6000.1, 100.0)
SR = Window(2900.0, 3300.0, 3700.0, 4100.0)


def toy(n_bkg: int, n_sig: int, seed: int):
    rng = np.random.default_rng(seed)
    grid = np.linspace(2700.0, 6000.0, 100_001)
    pdf = dijet_function(grid / SQRT_S, 1.0, 8.0, 5.0, 0.3)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(grid))])
    m_b = np.interp(rng.random(n_bkg) * cdf[-1], cdf, grid)
    m_s = rng.normal(3500.0, 80.0, n_sig)
    x_b = rng.normal(0.0, 1.0, (n_bkg, 2))  # background features independent of m_jj
    x_s = rng.normal(2.0, 0.5, (n_sig, 2))
    return np.concatenate([x_b, x_s]), np.concatenate([m_b, m_s]), np.repeat([0, 1], [n_bkg, n_sig])


def small_trees(seed):
    # one thread: xgboost's default (all cores) is ~40x slower on a loaded 2-core machine
    return BoostedTrees(
        n_estimators=100, max_depth=2, learning_rate=0.1, n_jobs=1, random_state=seed
    )


def test_windows_slide_and_classify_mjj():
    ws = sliding_windows(3100.0, 3500.0, signal_width=400.0, sideband_width=300.0, step=200.0)
    assert [w.signal_region for w in ws] == [(3100, 3500), (3300, 3700), (3500, 3900)]
    assert (ws[1].sideband_low, ws[1].sideband_high) == (3000.0, 4000.0)
    m = np.array([2999.0, 3000.0, 3299.0, 3300.0, 3699.0, 3700.0, 3999.0, 4000.0])
    np.testing.assert_array_equal(ws[1].in_signal_region(m), [0, 0, 0, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(ws[1].in_sidebands(m), [0, 1, 1, 0, 0, 1, 1, 0])
    with pytest.raises(BumpHuntError, match="must increase"):
        Window(3000.0, 3300.0, 3200.0, 4000.0)


def test_select_efficiency_keeps_the_fraction_per_fold():
    rng = np.random.default_rng(0)
    s = rng.random(10_000)
    fold = rng.integers(0, 5, 10_000)
    s = s + fold  # each fold on its own score scale: a global cut would be wrong
    ref = rng.random(10_000) < 0.5
    keep = select_efficiency(s, 0.1, reference=ref, fold=fold)
    for g in range(5):
        n_ref = int((ref & (fold == g)).sum())
        assert int((keep & ref & (fold == g)).sum()) == int(np.ceil(0.1 * n_ref))
    assert select_efficiency(s, 1.0, reference=ref).all()
    # reference_efficiency puts every fold on one scale: q <= 10% is the same cut
    q = reference_efficiency(s, reference=ref, fold=fold)
    n_ref = np.array([(ref & (fold == g)).sum() for g in range(5)])[fold]
    np.testing.assert_array_equal(keep, q * n_ref <= np.ceil(0.1 * n_ref) + 1e-9)
    assert q[ref].min() > 0 and q.min() >= 0 and q.max() == 1.0
    q_ref, q_other = reference_efficiency(s, reference=ref, fold=fold, others=(s[:10], fold[:10]))
    np.testing.assert_allclose(q_other[~ref[:10]], q[:10][~ref[:10]])
    # ties (a classifier that learnt nothing) are broken at random: still exactly 10%
    flat = np.full(10_000, 0.5)
    keep = select_efficiency(flat, 0.1, reference=ref, seed=1)
    assert int((keep & ref).sum()) == int(np.ceil(0.1 * ref.sum()))
    assert abs((keep & ~ref).mean() / (~ref).mean() - 0.1) < 0.02


def test_cwola_hunting_finds_the_injected_resonance_and_only_there():
    x, m, y = toy(40_000, 700, seed=3)
    hit = cwola_hunt(
        x,
        m,
        SR,
        edges=EDGES,
        sqrt_s=SQRT_S,
        seed=1,
        efficiencies=(1.0, 0.02),
        make_estimator=small_trees,
    )
    # every event scored once, out-of-fold
    assert np.isfinite(hit.scores.scores).all()
    assert not hit.failures
    # S/B ≈ 600/6400 before the cut (Z ≈ 5 with the fit uncertainty); the cut enriches it
    assert hit.significance(0.02) > 5.0
    assert hit.significance(0.02) > hit.significance(1.0)
    # far from the resonance, nothing (the signal sits in the lower sideband at most)
    far = Window(4200.0, 4600.0, 5000.0, 5400.0)
    miss = cwola_hunt(
        x,
        m,
        far,
        edges=EDGES,
        sqrt_s=SQRT_S,
        seed=1,
        efficiencies=(0.02,),
        make_estimator=small_trees,
    )
    assert miss.significance(0.02) < 3.0


def test_idealised_template_beats_nothing_and_uses_only_signal_region_template_events():
    x, m, y = toy(20_000, 300, seed=5)
    xt, mt, _ = toy(20_000, 0, seed=6)  # an independent background-only template
    xs, _, _ = toy(0, 200, seed=7)  # labelled signal, scored but never trained on
    hs = hunting_scores(x, m, SR, seed=2, template=(xt, mt), make_estimator=small_trees, extra=xs)
    n_template_sr = int(SR.in_signal_region(mt).sum())
    assert len(hs.training_label) == len(x) + n_template_sr
    assert hs.extra_scores.shape == (200,) and set(hs.extra_fold) <= set(range(5))
    assert hs.extra_scores.mean() > hs.scores[y == 0].mean() + 0.2
    # the extra events do not change the data's folds or scores
    plain = hunting_scores(x, m, SR, seed=2, template=(xt, mt), make_estimator=small_trees)
    np.testing.assert_array_equal(plain.fold, hs.fold)
    np.testing.assert_allclose(plain.scores, hs.scores)
    assert (hs.training_label[len(x) :] == 0).all()
    # data events outside the signal region are not trained on, but are scored
    assert (hs.training_label[: len(x)][~SR.in_signal_region(m)] == -1).all()
    assert np.isfinite(hs.scores).all() and len(hs.scores) == len(x)
    # the injected signal scores higher than the background
    assert hs.scores[y == 1].mean() > hs.scores[y == 0].mean() + 0.2
