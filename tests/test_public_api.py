"""The public API is pinned: every public module lists its names in ``__all__``, every
listed name exists, and ``import heplearn`` stays cheap."""

import importlib
import subprocess
import sys

import pytest

PUBLIC_MODULES = [
    "heplearn",
    "heplearn.errors",
    "heplearn.physics",
    "heplearn.physics.kinematics",
    "heplearn.physics.observables",
    "heplearn.data",
    "heplearn.data.table",
    "heplearn.data.dataset",
    "heplearn.data.readers",
    "heplearn.data.loaders",
    "heplearn.representations",
    "heplearn.simulate",
    "heplearn.simulate.cards",
    "heplearn.simulate.detector",
    "heplearn.models",
    "heplearn.training",
    "heplearn.evaluation",
    "heplearn.evaluation.landscape",
    "heplearn.decorrelation",
    "heplearn.studies",
    "heplearn.reweighting",
    "heplearn.reweighting.weights",
    "heplearn.reweighting.classifier",
    "heplearn.reweighting.label_shift",
    "heplearn.reweighting.diagnostics",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_names_exist(name):
    module = importlib.import_module(name)
    assert module.__all__, f"{name} has an empty __all__"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ lists missing names {missing}"


def test_import_heplearn_is_cheap():
    code = (
        "import sys, heplearn, heplearn.data, heplearn.physics, heplearn.simulate;"
        "heavy = [m for m in ('torch', 'fastjet', 'pythia8mc', 'matplotlib', 'xgboost',"
        " 'lightning') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
