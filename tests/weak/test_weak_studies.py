"""The ``cwola`` and ``anomaly`` studies end to end on small synthetic datasets (no
Pythia): every figure, summary key and report is written, and the numbers respond to the
physics put in (a quark/gluon difference, an injected resonance)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from heplearn.data.dataset import write_dataset
from heplearn.data.table import from_constituents
from heplearn.weak import dijet_function


def _jets(rng, n_const, pt, width):
    """Massless constituents around an axis at (y, φ) = (0, 0): flat px, py, pz, E and
    the counts."""
    counts = np.maximum(n_const, 3)
    total = int(counts.sum())
    z = rng.exponential(1.0, total)
    jet = np.repeat(np.arange(len(counts)), counts)
    z /= np.bincount(jet, weights=z)[jet]
    y = rng.normal(0.0, np.repeat(width, counts))
    phi = rng.normal(0.0, np.repeat(width, counts))
    p = z * np.repeat(pt, counts)
    return p * np.cos(phi), p * np.sin(phi), p * np.sinh(y), p * np.cosh(y), counts


@pytest.fixture(scope="module")
def qg_dataset(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 1500
    label = np.repeat([1, 0], n // 2)
    n_const = rng.poisson(np.where(label == 1, 15, 25))
    width = np.where(label == 1, 0.05, 0.08)
    px, py, pz, e, counts = _jets(rng, n_const, np.full(n, 525.0), width)
    table = from_constituents(px, py, pz, e, counts, label=label)
    path = tmp_path_factory.mktemp("qg") / "toy-qg"
    write_dataset(table, path, metadata={"kind": "test toy q/g"})
    return path


@pytest.fixture(scope="module")
def mixture_dataset(tmp_path_factory):
    """Toy physical mixtures: label = sample (1 "Z+jet" with 80% quarks, 0 "dijet" with
    45%), flavour in ``parton_pid`` (2 = quark, 21 = gluon, 0 = unmatched)."""
    rng = np.random.default_rng(1)
    n = 2000
    sample = np.repeat([1, 0], n // 2)
    u = rng.random(n)
    quark = u < np.where(sample == 1, 0.8, 0.45)
    pid = np.where(quark, 2, np.where(u < 0.97, 21, 0))
    n_const = rng.poisson(np.where(quark, 15, 25))
    width = np.where(quark, 0.05, 0.08)
    px, py, pz, e, counts = _jets(rng, n_const, np.full(n, 525.0), width)
    table = from_constituents(px, py, pz, e, counts, label=sample, extra={"parton_pid": pid})
    path = tmp_path_factory.mktemp("mix") / "toy-mixtures"
    write_dataset(table, path, metadata={"kind": "test toy q/g mixtures"})
    return path


def test_cwola_study_generates_physical_mixtures_without_data(
    qg_dataset, mixture_dataset, tmp_path, monkeypatch
):
    """Without --data the study makes both datasets (here: the toys) and adds the
    physical-mixture part; with --data it generates nothing and skips that part."""
    from heplearn.studies import cwola, run_study

    made = []

    def fake_dataset(card, n_jets, **kw):
        made.append(card)
        return {"qg": qg_dataset, "qg-mixtures": mixture_dataset}[card]

    monkeypatch.setattr(cwola, "study_dataset", fake_dataset)
    monkeypatch.setitem(cwola.SIZES, True, {**cwola.SIZES[True], "n_repeats": 2})
    s = run_study("cwola", tmp_path, quick=True, seed=3, progress=False)
    assert made == ["qg", "qg-mixtures"]
    fr = s["physical"]["fractions"]
    assert fr["mixture_1"]["quark"] == pytest.approx(0.8, abs=0.05)
    assert fr["mixture_2"]["quark"] == pytest.approx(0.45, abs=0.05)
    assert s["auc_supervised_physical"] > 0.8
    assert s["auc_supervised_physical"] - s["auc_cwola_physical"] < 0.03
    assert (tmp_path / "cwola_physical_rejection.png").is_file()
    assert "Physical mixtures" in (tmp_path / "report.md").read_text()

    made.clear()
    s = run_study(
        "cwola", tmp_path / "with-data", quick=True, data=qg_dataset, seed=3, progress=False
    )
    assert made == [] and s["physical"] is None and s["auc_cwola_physical"] is None


def test_cwola_study_on_toy_quark_gluon_jets(qg_dataset, tmp_path, monkeypatch):
    from heplearn.studies import cwola, run_study

    monkeypatch.setitem(cwola.SIZES, True, {**cwola.SIZES[True], "n_repeats": 2})
    s = run_study("cwola", tmp_path, quick=True, data=qg_dataset, seed=3, progress=False)
    for name in ("cwola_scan.png", "cwola_rejection.png", "summary.json", "report.md"):
        assert (tmp_path / name).is_file()
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk["auc_cwola"] == pytest.approx(s["auc_cwola"])
    assert {"auc_supervised", "auc_cwola", "scan"} <= set(s)
    assert s["auc_supervised"] > 0.8  # multiplicity alone separates the toy classes
    assert s["auc_cwola"] > 0.7
    by_df = {p["delta_f"]: p["auc_mean"] for p in s["scan"]}
    assert by_df[0.4] > by_df[0.05]  # closer fractions, less to learn from
    assert s["n_train_per_classifier"] == 2 * s["n_per_mixture"]


@pytest.fixture(scope="module")
def dijet_dataset(tmp_path_factory):
    """QCD events with m_jj from the dijet function and featureless jets; W' events at
    3.5 TeV with a 100 and a 500 GeV two-prong jet."""
    rng = np.random.default_rng(1)
    n_qcd, n_sig = 6000, 1500
    grid = np.linspace(2700.0, 6000.0, 50_001)
    pdf = dijet_function(grid / 13_000.0, 1.0, 8.0, 5.0, 0.3)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(grid))])
    mjj = np.concatenate(
        [np.interp(rng.random(n_qcd) * cdf[-1], cdf, grid), rng.normal(3500.0, 80.0, n_sig)]
    )
    label = np.repeat([0, 1], [n_qcd, n_sig])
    n_ev = len(label)
    # two jets per event: QCD one-prong (masses ~ width * pT), signal two-prong
    sep = np.where(np.repeat(label, 2) == 1, np.tile([0.12, 0.6], n_ev), 0.0)
    width = np.where(np.repeat(label, 2) == 1, 0.02, rng.uniform(0.03, 0.15, 2 * n_ev))
    pt = np.full(2 * n_ev, 1500.0)
    px, py, pz, e, counts = _jets(rng, rng.poisson(30, 2 * n_ev), pt, width)
    # second prong: shift half of each signal jet's constituents in y by `sep`
    jet = np.repeat(np.arange(2 * n_ev), counts)
    shift = (rng.random(len(jet)) < 0.5) * sep[jet]
    y = np.arcsinh(pz / np.hypot(px, py)) + shift
    pt_c = np.hypot(px, py)
    pz, e = pt_c * np.sinh(y), pt_c * np.cosh(y)
    table = from_constituents(
        px,
        py,
        pz,
        e,
        counts,
        label=np.repeat(label, 2),
        extra={
            "event": np.repeat(np.arange(n_ev), 2),
            "rank": np.tile([0, 1], n_ev),
            "mjj": np.repeat(mjj, 2),
        },
    )
    path = tmp_path_factory.mktemp("dijet") / "toy-dijet"
    write_dataset(table, path, metadata={"kind": "test toy dijet"})
    return path


def test_anomaly_study_on_a_toy_dijet_sample(dijet_dataset, tmp_path, monkeypatch):
    from heplearn.studies import anomaly, run_study

    # fewer injections and windows than the real quick run: the same code, less CPU
    small = {"s_over_b": (0.0, 0.05, 0.2), "headline": 0.2, "slide": (3100.0, 3500.0, 200.0)}
    monkeypatch.setitem(anomaly.SIZES, True, {**anomaly.SIZES[True], **small})
    s = run_study("anomaly", tmp_path, quick=True, data=dijet_dataset, seed=2, progress=False)
    for name in (
        "anomaly_significance.png",
        "anomaly_sic.png",
        "anomaly_mjj_cwola.png",
        "anomaly_sliding.png",
        "summary.json",
        "report.md",
    ):
        assert (tmp_path / name).is_file()
    rows = {r["s_over_b"]: r for r in s["injections"]}
    assert set(rows) == {0.0, 0.05, 0.2}
    assert [w["centre"] for w in s["sliding"]["no signal"]] == [3300.0, 3500.0, 3700.0]
    assert rows[0.0]["n_signal_sr"] == 0
    assert rows[0.2]["s_over_b_realised"] == pytest.approx(0.2, abs=0.05)
    for method in ("cwola", "idealised", "supervised"):
        assert set(rows[0.2][method]) == {"1", "0.1", "0.01"}
    # the toy signal is trivially separable: the supervised cut finds it
    assert rows[0.2]["supervised"]["0.1"]["significance"] > 3.0
    assert s["sic_headline"]["supervised"]["max_sic"] > 2.0
    # without signal no method and no cut fakes a discovery...
    for method in ("cwola", "idealised", "supervised"):
        for cut in ("1", "0.1", "0.01"):
            assert rows[0.0][method][cut]["significance"] < 3.0, (method, cut)
    # ...and CWoLa, which never saw a label, turns the injected signal into one: its tight
    # cuts raise the significance far above that of no cut
    cwola_sr = rows[0.2]["cwola"]
    assert max(cwola_sr["0.1"]["significance"], cwola_sr["0.01"]["significance"]) > max(
        3.0, 2 * cwola_sr["1"]["significance"]
    )
    assert s["sic_headline"]["cwola"]["max_sic"] > 2.0
