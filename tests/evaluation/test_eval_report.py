"""Atomic JSON and markdown report writers of heplearn.evaluation."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import heplearn.evaluation as ev
from heplearn.errors import InputFileError


def test_write_json_handles_nan_inf_numpy_and_results(tmp_path):
    r = ev.background_rejection([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0], 0.3)
    obj = {
        "auc": np.float32(0.5),
        "n": np.int64(3),
        "flag": np.bool_(True),
        "undefined": float("nan"),
        "unbounded": math.inf,
        "negative": -np.inf,
        "array": np.array([1.0, np.nan]),
        "path": Path("a/b.png"),
        "rejection": r,
        "roc": ev.roc_curve([0.9, 0.1], [1, 0]),
        3: (1, 2),
    }
    path = ev.write_json(tmp_path / "metrics.json", obj)
    text = path.read_text()
    back = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON {c}"))
    assert back["auc"] == 0.5 and back["n"] == 3 and back["flag"] is True
    assert back["undefined"] is None
    assert back["unbounded"] == "inf" and back["negative"] == "-inf"
    assert back["array"] == [1.0, None]
    assert back["path"] == "a/b.png"
    assert back["rejection"]["estimate"] == "inf" and back["rejection"]["is_lower_bound"] is True
    assert back["roc"]["thresholds"][0] == "inf"
    assert back["3"] == [1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_write_json_failure_keeps_the_old_file(tmp_path):
    path = ev.write_json(tmp_path / "metrics.json", {"auc": 0.9})
    with pytest.raises(ev.ReportError, match=r"cannot write object at \$\.bad\[1\]"):
        ev.write_json(path, {"auc": 0.95, "bad": [1, object()]})
    assert json.loads(path.read_text()) == {"auc": 0.9}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_evaluate_scores_round_trips_through_json(tmp_path):
    rng = np.random.default_rng(1)
    y = np.r_[np.ones(500, int), np.zeros(500, int)]
    s = 1 / (1 + np.exp(-(rng.normal(size=1000) + 2 * (y - 0.5))))
    out = ev.evaluate_scores(s, y, bootstrap=0)
    back = json.loads(ev.write_json(tmp_path / "m.json", out).read_text())
    assert back == pytest.approx(out)


def test_write_report_flat_metrics(tmp_path):
    fig = ev.plot_learning_curves({"bdt": ([10, 100], [0.9, 0.95])}, tmp_path / "plots" / "lc.png")
    metrics = {
        "auc": 0.98123,
        "auc_uncertainty": 0.0004,
        "rejection_at_0.3": 790.2,
        "rejection_at_0.3_uncertainty": None,
        "rejection_at_0.3_n_background_pass": 12,
        "rejection_at_0.3_is_lower_bound": True,
        "rejection_at_0.5": 250.0,
        "rejection_at_0.5_uncertainty": 8.0,
        "rejection_at_0.5_n_background_pass": 400,
        "rejection_at_0.5_is_lower_bound": False,
    }
    path = ev.write_report(
        tmp_path, "Top tagging | quick", metrics, [fig], extra_text="Made on CPU."
    )
    assert path == tmp_path / "report.md"
    text = path.read_text()
    assert text.startswith("# Top tagging | quick\n")
    assert "| auc | 0.9812 ± 0.0004 |" in text
    assert "| rejection_at_0.3 | > 790 (lower bound: 12 bkg jets pass) |" in text
    assert "| rejection_at_0.5 | 250 ± 8 |" in text
    assert "_n_background_pass |" not in text  # folded into the rejection cell
    assert "![lc](plots/lc.png)" in text
    assert text.rstrip().endswith("Made on CPU.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plots", "report.md"]


def test_write_report_per_model_table(tmp_path):
    metrics = {
        "particlenet": {"auc": 0.985, "rejection_at_0.3": 1298.0},
        "bdt": {"auc": 0.97, "rejection_at_0.3": 300.0, "rejection_at_0.3_uncertainty": 20.0},
    }
    text = ev.write_report(tmp_path, "Landscape", metrics, []).read_text()
    assert "| model | auc | rejection_at_0.3 |" in text
    assert "| particlenet | 0.985 | 1298 |" in text
    assert "| bdt | 0.97 | 300 ± 20 |" in text


def test_write_report_missing_figure(tmp_path):
    with pytest.raises(InputFileError, match="nope.png"):
        ev.write_report(tmp_path, "t", {"auc": 0.9}, [tmp_path / "nope.png"])
    assert list(tmp_path.iterdir()) == []
