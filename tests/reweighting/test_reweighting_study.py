"""The reweighting study without Pythia: its cards, its --data contract, and one end-to-end
run on toy jets (1 epoch) that checks the summary, figures and report it writes."""

import json

import numpy as np
import pytest

from heplearn.data.dataset import write_dataset
from heplearn.errors import InputFileError
from heplearn.studies import reweighting as study


def test_data_card_differs_only_by_the_shower_coupling():
    sim, data = study.data_cards()
    assert sim.name == "qg" and data.name != sim.name  # distinct dataset caches
    extra = [line for line in data.pythia if line not in sim.pythia]
    assert extra == [f"TimeShower:alphaSvalue = {study.ALPHAS_DATA}"]
    assert data.samples == sim.samples and data.selection == sim.selection
    assert study.ALPHAS_DATA != study.ALPHAS_DEFAULT == 0.1365  # Pythia 8.3 default


def test_quick_sizes_fit_the_budget():
    # 12.9 and 18 qg jets per CPU-second (default and alpha_s = 0.12 shower); shards of
    # equal size on 2 cores: the two quick samples must leave minutes for training
    quick = study.SIZES[True]
    n, shard = quick["n_jets"], quick["shard_jets"]
    assert n % shard == 0 and (n // shard) % 2 == 0  # every core busy to the end
    assert (n / 12.9 + n / 18) / 2 < 10 * 60
    assert study.SIZES[False]["n_jets"] >= 100_000


def test_data_directory_must_hold_both_samples(tmp_path):
    (tmp_path / "simulation").mkdir()
    with pytest.raises(InputFileError, match="simulation.*data"):
        study.run(tmp_path / "out", quick=True, data=tmp_path, seed=1, workers=None, progress=False)


def test_study_end_to_end_on_toy_jets(tmp_path, toy_jets, monkeypatch):
    write_dataset(toy_jets(400, seed=1), tmp_path / "in" / "simulation")
    write_dataset(toy_jets(400, seed=2), tmp_path / "in" / "data")
    tiny = {
        **study.SIZES[True],
        "epochs": 1,
        "patience": 1,
        "n_bootstrap": 10,
        "n_classifier_bootstrap": 3,
        "n_prior_draws": 3,
        "n_fresh_draws": 3,
    }
    monkeypatch.setitem(study.SIZES, True, tiny)
    out = tmp_path / "out"
    summary = study.run(out, quick=True, data=tmp_path / "in", seed=3, workers=None, progress=False)
    on_disk = json.loads((out / "summary.json").read_text())
    for key in (
        "auc_before",
        "auc_after",
        "effective_sample_size",
        "triangular_discriminator",
        "prior_true",
        "prior_estimated",
        "prior_estimated_uncertainty",
        "classifier",
        "fresh_classifier",
        "n_fit",
        "n_evaluate",
    ):
        assert key in on_disk, key
    assert on_disk["classifier"]["model"] == "pfn"
    assert on_disk["fresh_classifier"]["model"] == "bdt"
    assert set(on_disk["triangular_discriminator"]) == set(study.OBSERVABLES)
    for d in on_disk["triangular_discriminator"].values():
        assert 0 <= d["after"] <= 1 and 0 <= d["before"] <= 1
    assert 0 < summary["effective_sample_size"] <= summary["n_evaluate"]["simulation"]
    # fit and evaluation halves are disjoint and cover the samples
    assert summary["n_fit"]["simulation"] + summary["n_evaluate"]["simulation"] == 400
    assert summary["prior_true"] == study.TARGET_QUARK_FRACTION
    assert 0 < summary["prior_estimated"] < 1
    # two error components (target statistics, classifier training) in quadrature
    parts = [summary[f"prior_estimated_uncertainty_{k}"] for k in ("target", "classifier")]
    assert all(p > 0 for p in parts)
    assert summary["prior_estimated_uncertainty"] == pytest.approx(float(np.hypot(*parts)))
    # coverage: the pulls of 3 more halvings and draws, their mean and fraction within 1σ
    pulls = summary["prior_pulls_other_draws"]
    assert len(pulls) == 3 and summary["prior_pull_mean"] == pytest.approx(np.mean(pulls))
    assert summary["prior_fraction_within_1_sigma"] == np.mean(np.abs(pulls) < 1)
    assert "other halvings" in (out / "report.md").read_text()
    # the closure test repeated on other halvings with other BDT seeds: its own spread
    draws = summary["auc_after_other_draws"]
    assert len(draws) == 3 and len(set(draws)) > 1 and all(0 <= a <= 1 for a in draws)
    assert summary["auc_after_draws_std"] == pytest.approx(np.std(draws, ddof=1))
    figures = ["weights.png", "label_shift_scores.png"]
    figures += [f"observable_{name}.png" for name in study.OBSERVABLES]
    for name in figures:
        assert (out / name).is_file(), name
    report = (out / "report.md").read_text()
    assert "auc_after" in report and "observable_multiplicity.png" in report
    assert not [p for p in out.iterdir() if ".tmp" in p.name]
