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
