"""The registry: names, presets, errors, published parameter counts, cheap import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from heplearn import models
from heplearn.errors import HeplearnError, MissingDependencyError, UnknownNameError


def test_available_models_lists_the_zoo():
    assert models.available_models() == [
        "bdt", "cnn", "dnn", "efn", "lgatr", "logreg", "lorentznet", "lstm", "part",
        "particlenet", "particlenet-lite", "pfn",
    ]  # fmt: skip


def test_public_api():
    assert models.__all__ == [
        "ModelInfo", "available_models", "create", "model_info", "register_model",
    ]  # fmt: skip


def test_unknown_model_message_lists_known_ones():
    with pytest.raises(UnknownNameError) as err:
        models.create("partnet")
    assert str(err.value).startswith('Unknown model "partnet". Known models: bdt, cnn, dnn, efn')
    with pytest.raises(UnknownNameError, match='Unknown model "x"'):
        models.model_info("x")


def test_unknown_preset_and_option_are_named():
    with pytest.raises(UnknownNameError, match='preset "huge".*Known presets: default, small'):
        models.create("pfn", preset="huge", n_features=4)
    with pytest.raises(UnknownNameError, match="'width' for model \"pfn\". Known options:"):
        models.create("pfn", n_features=4, width=3)
    with pytest.raises(HeplearnError, match="needs the input dimension n_features"):
        models.create("pfn")


def test_duplicate_registration_is_refused():
    with pytest.raises(HeplearnError, match='"pfn" is already registered'):
        models.register_model(
            "pfn", "heplearn.models.deepsets:PFN", kind="torch", paper="", inputs=(),
            presets={"default": {}},
        )  # fmt: skip


def _count(name, **kw):
    return sum(p.numel() for p in models.create(name, **kw).parameters())


def test_parameter_counts_match_the_papers():
    # 7 kinematic inputs per particle, as in the top-tagging papers
    assert _count("particlenet", n_features=7) == 366_160  # published 366k (arXiv:1902.08570)
    assert _count("particlenet-lite", n_features=7) == 26_416  # published 26k
    assert _count("part", n_features=7) == 2_141_134  # published 2.14M (arXiv:2202.03772)
    assert _count("lorentznet") == 224_072  # published 224k (arXiv:2201.08187)
    # TopoDNN 59k (arXiv:1902.09914): 59,323 with one sigmoid output, +7 for two logits
    assert _count("dnn", n_features=3) == 59_330
    assert abs(_count("pfn", n_features=3) - 82_000) < 1_000  # PFN 82k
    # the published PFN/EFN have no latent normalisation: it adds one gain and bias per
    # latent dimension (Φ ends with 256)
    assert _count("pfn", n_features=3) - _count("pfn", n_features=3, latent_norm=False) == 512
    assert _count("efn") - _count("efn", latent_norm=False) == 512


def test_lgatr_missing_dependency_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "lgatr", None)  # makes `import lgatr` fail
    with pytest.raises(MissingDependencyError, match=r"heplearn\[lgatr\]"):
        models.create("lgatr")


def test_import_is_cheap():
    code = (
        "import sys, heplearn.models; "
        "print(sorted(m for m in ('xgboost', 'sklearn', 'fastjet', 'lgatr') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
