"""The command line is a thin shell: each command calls the library and errors exit 2."""

import awkward as ak
from typer.testing import CliRunner

from heplearn.cli import app
from heplearn.data.dataset import read_dataset
from heplearn.simulate import generate

runner = CliRunner()


def test_generate_writes_the_same_dataset_as_the_library(tmp_path):
    out = tmp_path / "cli"
    result = runner.invoke(
        app,
        [
            "generate",
            "w",
            "--jets",
            "8",
            "--out",
            str(out),
            "--seed",
            "4",
            "--workers",
            "1",
            "--detector",
            "cms-like",
        ],
    )
    assert result.exit_code == 0, result.output
    lib = generate(
        "w", tmp_path / "lib", n_jets=8, seed=4, workers=1, detector="cms-like", progress=False
    )
    assert ak.array_equal(read_dataset(out), read_dataset(lib.parent))


def test_generate_help_names_every_shipped_process_card():
    from heplearn.simulate.cards import process_names

    result = runner.invoke(app, ["generate", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    missing = [name for name in process_names() if name not in result.output]
    assert not missing, f"generate --help does not name the shipped card(s) {missing}"


def test_unknown_process_is_one_clear_line_and_exit_2(tmp_path):
    result = runner.invoke(app, ["generate", "ttbar", "--jets", "5", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "Unknown process 'ttbar'" in result.output
    assert "Traceback" not in result.output


def test_unknown_detector(tmp_path):
    result = runner.invoke(
        app, ["generate", "top", "--jets", "5", "--out", str(tmp_path), "--detector", "x"]
    )
    assert result.exit_code == 2
    assert "Known detectors: none, atlas-like, cms-like" in result.output


def test_inspect_tells_what_a_generated_dataset_is(tmp_path):
    generate("w", tmp_path / "w", n_jets=6, seed=2, workers=1, progress=False)
    result = runner.invoke(app, ["inspect", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    assert "heplearn-dataset" in result.output
    assert "process       w" in result.output
    assert "1 w" in result.output and "0 qcd" in result.output


def test_inspect_missing_path(tmp_path):
    result = runner.invoke(app, ["inspect", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert "nothing" in result.output
