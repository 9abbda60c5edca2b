"""Pythia8 driver: seeded generators and batches of events as flat NumPy arrays.

Events are produced with ``Pythia.nextBatch`` (Pythia ≥ 8.315), which fills an awkward
array in C++; no Python loop runs over particles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import awkward as ak
import numpy as np

from heplearn.errors import HeplearnError, MissingDependencyError

__all__ = ["PYTHIA_SEED_MAX", "make_pythia", "EventBatch", "next_batch", "pythia_version"]

#: Pythia accepts seeds in [1, 900 000 000].
PYTHIA_SEED_MAX = 900_000_000


def _pythia8():
    try:
        import pythia8mc
    except ImportError as err:  # pragma: no cover - pythia8mc is a core dependency
        raise MissingDependencyError(
            "Pythia8 is needed for event generation: pip install pythia8mc"
        ) from err
    return pythia8mc


def pythia_version() -> str:
    from importlib.metadata import version

    return version("pythia8mc")


def make_pythia(lines: Sequence[str], seed: int, sqrt_s: float):
    """An initialised, quiet Pythia instance with an explicit seed.

    Raises :class:`HeplearnError` naming the line Pythia refused.
    """
    if not 1 <= seed <= PYTHIA_SEED_MAX:
        raise HeplearnError(f"Pythia seed must be in [1, {PYTHIA_SEED_MAX}], got {seed}")
    p8 = _pythia8()
    pythia = p8.Pythia("", False)
    settings = [
        f"Beams:eCM = {sqrt_s}",
        "Random:setSeed = on",
        f"Random:seed = {seed}",
        "Print:quiet = on",
        "Next:numberCount = 0",
        "Next:numberShowEvent = 0",
        "Next:numberShowProcess = 0",
        "Next:numberShowInfo = 0",
        "Init:showProcesses = off",
        "Init:showChangedSettings = off",
        "Init:showChangedParticleData = off",
        "Init:showMultipartonInteractions = off",
        *lines,
    ]
    for line in settings:
        if not pythia.readString(line):
            raise HeplearnError(f"Pythia refused the card line {line!r}")
    if not pythia.init():
        raise HeplearnError(f"Pythia failed to initialise with lines {list(lines)}")
    return pythia


@dataclass(frozen=True)
class EventBatch:
    """A batch of events: the full record (for truth) and flat final-state particles.

    ``record`` holds flat arrays over every entry of every event record (``event, id,
    status, mother1, px, py, pz, E``) and per-event ``offsets`` (mother indices are local
    to their event);
    ``final`` holds flat arrays over all final-state particles: ``event, px, py, pz, E, m,
    pid, charge, vertex`` (vertex 0 = this, the primary, interaction).
    """

    n_events: int
    record: dict[str, np.ndarray]
    final: dict[str, np.ndarray]


def _charges(pythia, pids: np.ndarray) -> np.ndarray:
    unique, inverse = np.unique(pids, return_inverse=True)
    table = np.array([pythia.particleData.charge(int(i)) for i in unique])
    return np.rint(table[inverse]).astype(np.int8)


def next_batch(pythia, n_events: int) -> EventBatch:
    """Generate ``n_events`` events (failed events are skipped and regenerated)."""
    batch = pythia.nextBatch(n_events, "skip")
    prt = batch["prt"]
    counts_all = ak.num(prt, axis=1)
    final_mask = prt["status"] > 0
    fin = prt[final_mask]
    counts = ak.to_numpy(ak.num(fin, axis=1))
    flat = ak.flatten(fin)
    pid = ak.to_numpy(flat["id"]).astype(np.int32)
    mom = flat["p"]
    final = {
        "event": np.repeat(np.arange(len(counts)), counts),
        "px": ak.to_numpy(mom["px"]),
        "py": ak.to_numpy(mom["py"]),
        "pz": ak.to_numpy(mom["pz"]),
        "E": ak.to_numpy(mom["e"]),
        "m": ak.to_numpy(flat["m"]),
        "pid": pid,
        "charge": _charges(pythia, pid),
        "vertex": np.zeros(len(pid), dtype=np.int32),
    }
    # the full record as flat arrays (truth needs mothers and hard-process entries)
    n_all = ak.to_numpy(counts_all)
    flat_all = ak.flatten(prt)
    record = {
        "event": np.repeat(np.arange(len(n_all)), n_all),
        "id": ak.to_numpy(flat_all["id"]),
        "status": ak.to_numpy(flat_all["status"]),
        "mother1": ak.to_numpy(flat_all["mother1"]),
        "px": ak.to_numpy(flat_all["p"]["px"]),
        "py": ak.to_numpy(flat_all["p"]["py"]),
        "pz": ak.to_numpy(flat_all["p"]["pz"]),
        "E": ak.to_numpy(flat_all["p"]["e"]),
        "offsets": np.concatenate([[0], np.cumsum(n_all)]),
    }
    return EventBatch(n_events=len(counts), record=record, final=final)
