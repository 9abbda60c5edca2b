"""Physics demonstrations that run end to end: ``heplearn study NAME``.

Each study makes (or reuses) its data with :mod:`heplearn.simulate`, trains, writes its
figures, ``summary.json`` with the numbers it measured and a short ``report.md`` into one
output directory. ``quick=True`` sizes a study for a 2-core CPU (under 15 minutes, data
generation included); ``quick=False`` uses the sizes of the papers it follows.

The registry maps a study name to the module that implements it; every such module has a
``run(out, *, quick, data, seed, workers, progress) -> dict`` returning the summary.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from heplearn.errors import HeplearnError

__all__ = ["STUDIES", "available_studies", "run_study"]

#: study name -> implementing module (imported only when the study runs)
STUDIES: dict[str, str] = {
    "focal": "heplearn.studies.focal",
    "decorrelation": "heplearn.studies.decorrelation",
    "cwola": "heplearn.studies.cwola",
    "anomaly": "heplearn.studies.anomaly",
    "reweighting": "heplearn.studies.reweighting",
}


def available_studies() -> list[str]:
    """Names accepted by :func:`run_study`."""
    return sorted(STUDIES)


def run_study(
    name: str,
    out: str | os.PathLike,
    *,
    quick: bool = True,
    data: str | os.PathLike | None = None,
    seed: int = 1,
    workers: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Run the study ``name`` and return its summary (also written to ``OUT/summary.json``).

    Parameters
    ----------
    name
        One of :func:`available_studies`.
    out
        Output directory (figures, ``summary.json``, ``report.md``).
    quick
        2-core CPU sizes (< 15 minutes) instead of the papers' sizes.
    data
        An existing dataset directory to use instead of generating one (studies that need
        several samples document what this must hold).
    seed
        Seed of data generation, splits and training.
    workers
        Dask workers for data generation.
    """
    if name not in STUDIES:
        raise HeplearnError(f"unknown study {name!r}; choose one of {available_studies()}")
    module = importlib.import_module(STUDIES[name])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return module.run(
        out,
        quick=quick,
        data=None if data is None else Path(data),
        seed=seed,
        workers=workers,
        progress=progress,
    )
