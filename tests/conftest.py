"""Shared fixtures: keep this file small."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

# A real Delphes output file ships in the coffea source distribution (tests/samples/).
COFFEA_SDIST = "coffea==2024.6.1"
DELPHES_MEMBER = "coffea-2024.6.1/tests/samples/delphes.root"
DELPHES_SHA256 = "af2ea9ad3982751f6fec7b39b6be8a35dbae9a4244cfb56fbd35ae5b9d5bd7ea"


def cache_dir() -> Path:
    """heplearn's download cache: ``$HEPLEARN_CACHE`` or ``~/.cache/heplearn``."""
    root = os.environ.get("HEPLEARN_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "heplearn"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def delphes_file() -> Path:
    """Path of coffea's sample Delphes file, downloaded once into the cache (or skip)."""
    target = cache_dir() / "delphes.root"
    if target.is_file() and _sha256(target) == DELPHES_SHA256:
        return target
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            COFFEA_SDIST,
            "--no-deps",
            "--no-binary",
            ":all:",
            "-q",
            "-d",
            tmp,
        ]
        try:
            # pip builds the sdist's metadata, which may fail offline after the download
            run = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300)
            sdists = list(Path(tmp).glob("coffea-*.tar.gz"))
            if not sdists:
                why = (run.stderr.strip().splitlines() or ["no sdist downloaded"])[-1]
                pytest.skip(f"could not download {COFFEA_SDIST} for its Delphes sample: {why}")
            with tarfile.open(sdists[0]) as tar:
                member = tar.extractfile(DELPHES_MEMBER)
                data = member.read() if member is not None else b""
        except (subprocess.SubprocessError, KeyError, OSError, tarfile.TarError) as err:
            pytest.skip(f"could not get the Delphes sample from {COFFEA_SDIST}: {err}")
    if hashlib.sha256(data).hexdigest() != DELPHES_SHA256:
        pytest.skip(f"the Delphes sample in {COFFEA_SDIST} has an unexpected sha256")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_target = target.with_suffix(".root.part")
    tmp_target.write_bytes(data)
    tmp_target.replace(target)
    return target


def make_toy_jets(n: int = 300, seed: int = 0):
    """Toy jets: signal (label 1) has two separated prongs, background one core.

    Not physics: a small, learnable table for checking training mechanics.
    """
    import numpy as np

    from heplearn.data import from_constituents

    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    counts = rng.integers(8, 24, n)
    total = int(counts.sum())
    prong = rng.integers(0, 2, total) * np.repeat(label, counts)
    eta = 0.05 * rng.standard_normal(total) + 0.3 * prong
    phi = 0.05 * rng.standard_normal(total) - 0.3 * prong
    pt = rng.exponential(20, total) + 1
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    E = np.sqrt(px**2 + py**2 + pz**2)
    charge = rng.integers(-1, 2, total)
    pid = np.where(charge != 0, 211 * charge, 22)
    return from_constituents(px, py, pz, E, counts, label=label, charge=charge, pid=pid)


def make_two_prong_jets(n: int, seed: int):
    """Toy jets of two prongs where the mass is a shortcut: signal prongs sit ΔR ∈ [0.2, 0.4]
    apart (heavy), background prongs ΔR ∈ [0.02, 0.4] (mostly light); m ≈ pT ΔR / 2. A
    plain classifier rejects light background jets and keeps heavy ones (it sculpts). The
    charged fraction (70% in signal, 40% in background, independent of ΔR) separates the
    classes without the mass. Not physics: a check of the mechanics."""
    import numpy as np

    from heplearn.data import from_constituents

    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    d = np.where(label == 1, rng.uniform(0.2, 0.4, n), rng.uniform(0.02, 0.4, n))
    k = 12  # particles per jet, half in each prong
    pt = (500 / k) * rng.uniform(0.8, 1.2, (n, k))
    side = np.where(np.arange(k) < k // 2, -0.5, 0.5)[None, :] * d[:, None]
    eta = side + 0.01 * rng.standard_normal((n, k))
    phi = 0.01 * rng.standard_normal((n, k))
    charged = rng.random((n, k)) < np.where(label == 1, 0.7, 0.4)[:, None]
    charge = (charged * rng.choice([-1, 1], (n, k))).ravel()
    pid = np.where(charge != 0, 211 * charge, 22)
    pt, eta, phi = pt.ravel(), eta.ravel(), phi.ravel()
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    E = np.sqrt(px**2 + py**2 + pz**2)
    return from_constituents(px, py, pz, E, np.full(n, k), label=label, charge=charge, pid=pid)


@pytest.fixture(scope="session")
def toy_table():
    return make_toy_jets()


@pytest.fixture(scope="session")
def toy_jets():
    """The toy-jet factory, ``toy_jets(n, seed)``."""
    return make_toy_jets
