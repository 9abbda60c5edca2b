"""Plots of heplearn.evaluation: what they draw, in real PNG files written atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import heplearn.evaluation as ev

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(0)
    n = 3000
    y = np.r_[np.ones(n, int), np.zeros(n, int)]
    mass = np.where(y == 1, rng.normal(172, 15, 2 * n), rng.exponential(60, 2 * n))
    good = 1 / (1 + np.exp(-(rng.normal(size=2 * n) + 3 * (y - 0.5))))
    weak = 1 / (1 + np.exp(-(rng.normal(size=2 * n) + 1 * (y - 0.5))))
    return y, mass, good, weak


@pytest.fixture
def drawn(monkeypatch):
    """The figures the plot functions save, captured before saving: the tests check what
    is drawn, not only that a PNG exists."""
    from heplearn.evaluation import plots

    figures = []
    save = plots._save

    def capture(fig, path):
        figures.append(fig)
        return save(fig, path)

    monkeypatch.setattr(plots, "_save", capture)
    return figures


def _on_roc(x, y, scores, labels, fn) -> bool:
    """Whether every drawn point (x, y) is (ε_S, fn(ε_S, ε_B)) of one point of the ROC."""
    roc = ev.roc_curve(scores, labels)
    real = roc.background_efficiency > 0
    eps_s, eps_b = roc.signal_efficiency[real], roc.background_efficiency[real]
    points = {(round(a, 12), round(b, 9)) for a, b in zip(eps_s, fn(eps_s, eps_b), strict=True)}
    return all((round(a, 12), round(b, 9)) in points for a, b in zip(x, y, strict=True))


def _assert_png_only(path: Path, directory: Path) -> None:
    assert path.is_file() and path.stat().st_size > 1000
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    # atomic write: no temporary file is left beside the figure
    assert sorted(p.name for p in directory.iterdir()) == [path.name]


def test_rejection_plot(tmp_path, sample, drawn):
    y, _, good, weak = sample
    target = tmp_path / "roc.png"
    out = ev.plot_rejection(
        {
            "good": (good, y),
            "weak": ev.roc_curve(weak, y),
            "weighted": (weak, y, np.ones_like(weak)),
        },
        target,
        title="test",
    )
    assert out == target
    _assert_png_only(out, tmp_path)
    (ax,) = drawn[0].axes
    lines = {line.get_label().split(" (")[0]: line for line in ax.get_lines()}
    assert list(lines) == ["good", "weak", "weighted", "random"] and ax.get_yscale() == "log"
    # every drawn point of "good" is a ROC point (ε_S, 1/ε_B), and the legend its AUC
    x, r = lines["good"].get_data()
    assert len(x) > 100 and _on_roc(x, r, good, y, lambda s, b: 1.0 / b)
    assert not _on_roc(x, r, weak, y, lambda s, b: 1.0 / b)
    assert f"{ev.auc(good, y):.4f}" in lines["good"].get_label()
    x, r = lines["random"].get_data()
    assert np.allclose(r, 1.0 / x)


def test_sic_plot(tmp_path, sample, drawn):
    y, _, good, weak = sample
    _assert_png_only(ev.plot_sic({"good": (good, y), "weak": (weak, y)}, tmp_path / "sic.png"),
                     tmp_path)  # fmt: skip
    good_line = drawn[0].axes[0].get_lines()[0]
    x, sic = good_line.get_data()
    # SIC = ε_S / √ε_B at the drawn points; the legend quotes the curve's maximum
    assert len(x) > 100 and _on_roc(x, sic, good, y, lambda s, b: s / np.sqrt(b))
    assert f"max {ev.sic_curve(good, y).sic.max():.2f}" in good_line.get_label()


def test_score_distribution_plot(tmp_path, sample):
    y, _, good, _ = sample
    out = ev.plot_score_distributions(good, y, tmp_path / "scores.png", log=True, title="good")
    _assert_png_only(out, tmp_path)


def test_calibration_plot(tmp_path, sample, drawn):
    y, _, good, weak = sample
    out = ev.plot_calibration({"good": (good, y), "weak": (weak, y)}, tmp_path / "calib.png")
    _assert_png_only(out, tmp_path)
    ax = drawn[0].axes[0]
    diagonal, good_points = ax.get_lines()[0], ax.get_lines()[1]
    assert np.allclose(diagonal.get_xdata(), [0, 1]) and np.allclose(diagonal.get_ydata(), [0, 1])
    # the markers are the calibration curve's (mean score, signal fraction) per bin
    want = ev.calibration_curve(good, y)
    x, f = good_points.get_data()
    assert np.allclose(x, want.mean_predicted) and np.allclose(f, want.fraction_positive)


def test_sculpting_plot(tmp_path, sample, drawn):
    y, mass, good, _ = sample
    out = ev.plot_sculpting(good, y, mass, tmp_path / "sculpt.png", mass_range=(0, 300))
    _assert_png_only(out, tmp_path)
    ax = drawn[0].axes[0]
    # by hand: background mass histograms of the jets passing and failing the ε_S = 0.5 cut
    cut = ev.threshold_at_signal_efficiency(good, y, 0.5)
    bkg = y == 0
    edges = np.histogram_bin_edges(mass[bkg], bins=40, range=(0, 300))
    passing = good[bkg] >= cut
    h_pass = np.histogram(mass[bkg][passing], edges)[0]
    h_fail = np.histogram(mass[bkg][~passing], edges)[0]
    jsd = ev.jensen_shannon_divergence(h_pass, h_fail)
    legend = ax.get_legend()
    assert legend.get_title().get_text() == f"JSD(pass, fail) = {jsd:.3g}"
    assert f"({passing.sum()} jets)" in legend.get_texts()[1].get_text()
    assert ax.get_xlabel() == "Jet mass [GeV]"


def test_learning_curve_plot(tmp_path):
    n = [1_000, 10_000, 100_000]
    curves = {
        "bdt": (n, [0.95, 0.96, 0.965], [0.004, 0.002, 0.001]),
        "particlenet": (n, [0.90, 0.97, 0.985], [[0.01, 0.003, 0.001], [0.02, 0.004, 0.001]]),
        "pfn": (n, [0.92, 0.965, 0.98]),
    }
    out = ev.plot_learning_curves(curves, tmp_path / "sub" / "learning.png")
    _assert_png_only(out, tmp_path / "sub")


def test_plot_twice_and_other_formats(tmp_path, sample):
    y, _, good, _ = sample
    a = ev.plot_score_distributions(good, y, tmp_path / "a.png")
    first = a.read_bytes()
    ev.plot_score_distributions(good, y, tmp_path / "a.png")
    assert a.read_bytes() == first  # no global state leaks between calls
    pdf = ev.plot_score_distributions(good, y, tmp_path / "a.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_plot_errors_leave_no_files(tmp_path, sample):
    y, _, good, _ = sample
    with pytest.raises(ev.InvalidOptionError, match='unknown format "xyz"'):
        ev.plot_score_distributions(good, y, tmp_path / "scores.xyz")
    with pytest.raises(ev.InvalidScoresError, match="min_background=100000"):
        ev.plot_sic({"good": (good, y)}, tmp_path / "sic.png", min_background=100_000)
    with pytest.raises(ev.InvalidOptionError, match="no models"):
        ev.plot_rejection({}, tmp_path / "roc.png")
    assert list(tmp_path.iterdir()) == []


def test_matplotlib_is_imported_lazily():
    import subprocess
    import sys

    code = "import sys, heplearn.evaluation; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
