"""Generate a jet dataset: Pythia8 → (pileup) → fast detector → FastJet → truth → Parquet.

Work is split into shards of at most ``shard_jets`` jets. A shard is a pure function of
(process card, detector card, dataset seed, shard index, size, pileup): every random number
it uses — Pythia's seed and the detector's generator — derives from (dataset seed, shard
index, sample index) through :class:`numpy.random.SeedSequence`. The dataset is therefore
identical whatever the number of workers, and an interrupted generation resumes by making
only the missing shards.

Shards run on Dask (a ``LocalCluster`` with one single-threaded worker process per core by
default, or any cluster by scheduler address); the driver writes each shard atomically as
it arrives (so a remote cluster needs no shared file system).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from heplearn.data.table import from_constituents
from heplearn.errors import HeplearnError
from heplearn.physics import kinematics as kin
from heplearn.simulate import truth
from heplearn.simulate.cards import ProcessCard, Sample, load_process_card
from heplearn.simulate.clustering import cluster_events, ranges, select_dimuons, select_jets
from heplearn.simulate.detector import DetectorCard, apply_detector, get_detector
from heplearn.simulate.pythia import PYTHIA_SEED_MAX, EventBatch, make_pythia, next_batch

__all__ = ["generate", "generate_shard", "shard_sizes", "derive_seed"]

#: ``event`` ids pack (shard, sample, event-in-shard) so they are unique in a dataset.
_EVENT_BITS = 32
_SAMPLE_BITS = 8


def _check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise HeplearnError(f"--seed must be a whole number >= 0, got {seed!r}")


def derive_seed(seed: int, *path: int) -> int:
    """A Pythia seed in [1, 9e8] derived from the dataset seed and a path of indices."""
    state = np.random.SeedSequence([seed, *path]).generate_state(1, dtype=np.uint64)[0]
    return int(state % PYTHIA_SEED_MAX) + 1


def shard_sizes(n_jets: int, shard_jets: int) -> list[int]:
    """Split ``n_jets`` into shards of at most ``shard_jets`` (the last may be smaller)."""
    if n_jets <= 0 or shard_jets <= 0:
        raise HeplearnError(f"--jets and shard size must be positive, got {n_jets}, {shard_jets}")
    n = math.ceil(n_jets / shard_jets)
    return [min(shard_jets, n_jets - i * shard_jets) for i in range(n)]


def _split(n: int, parts: int) -> list[int]:
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


def _overlay_pileup(batch: EventBatch, minbias, mu: float, rng: np.random.Generator):
    """Add Poisson(μ) minimum-bias events to each event; their particles get vertex 1..k."""
    n_pu = rng.poisson(mu, batch.n_events)
    total = int(n_pu.sum())
    if total == 0:
        return batch.final
    pu = next_batch(minbias, total).final
    owner = np.repeat(np.arange(batch.n_events), n_pu)  # hard event of each pileup event
    first = np.concatenate([[0], np.cumsum(n_pu)[:-1]])
    vertex = 1 + np.arange(total) - np.repeat(first, n_pu)
    pu = dict(pu)
    pu["vertex"] = vertex[pu["event"]].astype(np.int32)
    pu["event"] = owner[pu["event"]]
    merged = {k: np.concatenate([batch.final[k], pu[k]]) for k in batch.final}
    order = np.argsort(merged["event"], kind="stable")
    return {k: v[order] for k, v in merged.items()}


def _process_batch(
    batch: EventBatch,
    card: ProcessCard,
    sample: Sample,
    detector: DetectorCard,
    rng: np.random.Generator,
    minbias,
    pileup: float,
) -> dict[str, np.ndarray] | None:
    particles = batch.final if pileup <= 0 else _overlay_pileup(batch, minbias, pileup, rng)
    cands = apply_detector(particles, detector, rng)
    event_fields: dict[str, np.ndarray] = {}
    event_ok = np.ones(batch.n_events, dtype=bool)
    if card.muons is not None:
        has_pair, dimuon, in_pair = select_dimuons(cands, batch.n_events, card.muons)
        event_ok = has_pair
        event_fields = {
            "dimuon_pt": kin.pt(dimuon["px"], dimuon["py"]),
            "dimuon_y": kin.rapidity(dimuon["pz"], dimuon["E"]),
            "dimuon_phi": kin.phi(dimuon["px"], dimuon["py"]),
            "dimuon_mass": kin.mass(dimuon["px"], dimuon["py"], dimuon["pz"], dimuon["E"]),
        }
        cands = {k: v[~in_pair] for k, v in cands.items()}
    sel = select_jets(
        cluster_events(cands, batch.n_events, card.jets), batch.n_events, card.selection
    )
    keep = event_ok[sel["event"]]
    jet_y = kin.rapidity(sel["pz"], sel["E"])
    jet_phi = kin.phi(sel["px"], sel["py"])
    if sample.match is not None:
        decays = truth.resonance_decays(batch.record, sample.match.pid)
        keep &= truth.match_jets(sel["event"], jet_y, jet_phi, decays, sample.match.max_dr)
    if not keep.any():
        return None
    # quark/gluon origin: the nearest outgoing hard parton within R
    hard = truth.hard_partons(batch.record)
    parton_pid = _nearest_parton(sel["event"], jet_y, jet_phi, hard, card.jets.R)
    starts = np.cumsum(sel["n_constituents"]) - sel["n_constituents"]
    cidx = sel["constituents"][ranges(starts[keep], sel["n_constituents"][keep])]
    out = {
        "event": sel["event"][keep],
        "rank": sel["rank"][keep],
        "parton_pid": parton_pid[keep],
        "n_constituents": sel["n_constituents"][keep],
        **{k: cands[k][cidx] for k in ("px", "py", "pz", "E", "charge", "pid", "vertex")},
    }
    if "mjj" in sel:
        out["mjj"] = sel["mjj"][keep]
    for name, values in event_fields.items():
        out[name] = values[out["event"]]
    return out


def _nearest_parton(event, jet_y, jet_phi, hard, R) -> np.ndarray:
    pid = np.zeros(len(event), dtype=np.int32)
    best = np.full(len(event), np.inf)
    order = np.argsort(hard["event"], kind="stable")
    h_event = hard["event"][order]
    lo = np.searchsorted(h_event, event, "left")
    hi = np.searchsorted(h_event, event, "right")
    for k in range(int((hi - lo).max(initial=0))):  # at most a few hard partons per event
        has = lo + k < hi
        j = order[np.minimum(lo + k, len(order) - 1)]
        dr = np.where(has, kin.delta_r(jet_y, jet_phi, hard["eta"][j], hard["phi"][j]), np.inf)
        better = (dr < best) & (dr < R)
        pid[better] = hard["pid"][j][better]
        best = np.where(better, dr, best)
    return pid


def _event_mode(card: ProcessCard) -> bool:
    return card.selection.mode != "leading"


def generate_shard(
    card: ProcessCard | dict | str,
    detector: DetectorCard | dict | str,
    seed: int,
    shard_index: int,
    n_jets: int,
    pileup: float = 0.0,
) -> ak.Array:
    """Make one shard: ``n_jets`` jets split evenly over the card's samples.

    In ``leading`` mode exactly that many jets are returned; in event modes (``all``,
    ``dijet``) whole events are kept until each sample has at least its share.
    """
    _check_seed(seed)
    card = ProcessCard.cast(card)
    detector = get_detector(detector)
    minbias_card = load_process_card("minbias") if pileup > 0 else None
    parts = []
    for s_index, (sample, n_target) in enumerate(
        zip(card.samples, _split(n_jets, len(card.samples)), strict=True)
    ):
        if n_target == 0:
            continue
        pythia = make_pythia(
            [*card.pythia, *sample.pythia], derive_seed(seed, shard_index, s_index), card.sqrt_s
        )
        minbias = None
        if minbias_card is not None:
            mb = minbias_card.samples[0]
            minbias = make_pythia(  # pileup collides at the hard process's energy
                [*minbias_card.pythia, *mb.pythia],
                derive_seed(seed, shard_index, s_index, 1),
                card.sqrt_s,
            )
        rng = np.random.default_rng([seed, shard_index, s_index])
        chunks, n_have, n_events_done = [], 0, 0
        attempts = 0
        while n_have < n_target:
            batch = next_batch(pythia, card.batch_events)
            out = _process_batch(batch, card, sample, detector, rng, minbias, pileup)
            if out is not None:
                out["event"] = out["event"] + n_events_done
                chunks.append(out)
                n_have += len(out["event"])
            n_events_done += batch.n_events
            attempts += 1
            if attempts > 200 and n_have == 0:
                raise HeplearnError(
                    f"process {card.name!r}, sample {sample.name!r}: no jet passed the "
                    f"selection in {n_events_done} events; check the card's cuts"
                )
        merged = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
        parts.append(_to_table(merged, sample, card, shard_index, s_index, n_target))
    return ak.concatenate(parts) if len(parts) > 1 else parts[0]


def _to_table(merged, sample: Sample, card: ProcessCard, shard_index, s_index, n_target):
    n_const = merged["n_constituents"]
    n_jets = len(n_const)
    if _event_mode(card):
        # keep whole events: the first events whose jets reach the target
        last_event = merged["event"][min(n_target, n_jets) - 1]
        n_keep = int(np.searchsorted(merged["event"], last_event, side="right"))
    else:
        n_keep = n_target
    n_cons_keep = int(n_const[:n_keep].sum())
    event_id = (
        (np.int64(shard_index) << (_EVENT_BITS + _SAMPLE_BITS))
        + (np.int64(s_index) << _EVENT_BITS)
        + merged["event"][:n_keep].astype(np.int64)
    )
    extra = {"event": event_id, "parton_pid": merged["parton_pid"][:n_keep]}
    for name in ("rank", "mjj", "dimuon_pt", "dimuon_y", "dimuon_phi", "dimuon_mass"):
        if name in merged:
            extra[name] = merged[name][:n_keep]
    return from_constituents(
        *(merged[k][:n_cons_keep] for k in ("px", "py", "pz", "E")),
        n_const[:n_keep],
        label=np.full(n_keep, sample.label),
        charge=merged["charge"][:n_cons_keep],
        pid=merged["pid"][:n_cons_keep],
        vertex=merged["vertex"][:n_cons_keep],
        extra=extra,
        max_constituents=card.selection.max_constituents,
        source=f"process {card.name!r}",
    )


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    import heplearn

    return {
        "heplearn": heplearn.__version__,
        "pythia8mc": version("pythia8mc"),
        "fastjet": version("fastjet"),
        "awkward": version("awkward"),
        "numpy": version("numpy"),
    }


def generate(
    process: ProcessCard | dict | str | Path,
    out: str | Path,
    *,
    n_jets: int,
    seed: int,
    detector: DetectorCard | dict | str = "none",
    pileup: float = 0.0,
    workers: int | None = None,
    scheduler: str | None = None,
    shard_jets: int = 5000,
    progress: Callable[[int, int, float], None] | bool = True,
) -> Path:
    """Generate a dataset directory (Parquet shards + ``manifest.json``) and return it.

    Parameters
    ----------
    process
        A shipped process name (``top``, ``qg``, ``w``, ``zjets``, ``dijet-resonance``,
        ``minbias``), a card, a dict or the path of a YAML card.
    n_jets
        Total number of jets, split evenly between the card's samples.
    seed
        Dataset seed; with the card, detector, pileup and shard size it fixes every jet.
    workers
        Dask worker processes (default: one per core); ``scheduler`` (an address) uses an
        existing Dask cluster instead.
    progress
        ``True`` for a rich progress bar, a callable ``(jets_done, jets_total, rate)``, or
        ``False``.
    """
    from heplearn.data.dataset import DatasetWriter

    card = ProcessCard.cast(process)
    det = get_detector(detector)
    if pileup < 0:
        raise HeplearnError(f"--pileup must be >= 0, got {pileup}")
    _check_seed(seed)
    if workers is not None and workers < 1:
        raise HeplearnError(f"--workers must be >= 1, got {workers}")
    sizes = shard_sizes(n_jets, shard_jets)
    metadata: dict[str, Any] = {
        "kind": "heplearn-generated",
        "process": card.model_dump(mode="json"),
        "detector": det.model_dump(mode="json"),
        "seed": seed,
        "n_jets_requested": n_jets,
        "shard_jets": shard_jets,
        "pileup_mu": pileup,
        "labels": {str(k): v for k, v in card.labels.items()},
        "versions": _versions(),
    }
    writer = DatasetWriter(out, metadata=metadata, n_shards=len(sizes), resume=True)
    todo = [i for i in range(len(sizes)) if i not in writer.completed_shards()]
    done_jets = sum(sizes[i] for i in range(len(sizes)) if i not in todo)
    report = _progress_reporter(progress, n_jets, done_jets)
    args = [(card, det, seed, i, sizes[i], pileup) for i in todo]
    try:
        for index, result in _run_shards(args, workers, scheduler, Path(out)):
            if isinstance(result, tuple):  # a local worker wrote the shard itself
                record, schema = result
                writer.record_shard(index, record, schema)
                report(record["n_jets"])
            else:
                writer.write_shard(index, result)
                report(len(result))
    finally:
        report(None)
    return writer.finalize()


def _shard_task(args, write_dir: Path | None = None):
    """Make one shard; with ``write_dir`` (workers on the driver's machine) also write it
    there and return its manifest record instead of shipping the table back."""
    card, det, seed, index, size, pileup = args
    table = generate_shard(card, det, seed, index, size, pileup)
    if write_dir is None:
        return index, table
    from heplearn.data.dataset import write_shard_file

    return index, write_shard_file(write_dir, index, table)


def _run_shards(args, workers: int | None, scheduler: str | None, out: Path):
    if not args:
        return
    workers = workers or os.cpu_count() or 1
    if scheduler is None and (workers == 1 or len(args) == 1):
        for a in args:
            yield _shard_task(a)
        return
    from dask.distributed import Client, LocalCluster, as_completed

    if scheduler is not None:
        cluster = None
        client = Client(scheduler)
    else:
        # dashboard on a free port: None would mean Dask's default 8787, which a second
        # generation running beside this one already holds
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        client = Client(cluster)
    try:
        # a LocalCluster shares the driver's file system: workers write their own shards
        # (in parallel); a remote cluster ships tables back for the driver to write
        write_dir = out.resolve() if cluster is not None else None
        futures = [client.submit(_shard_task, a, write_dir, pure=False) for a in args]
        for future in as_completed(futures):
            yield future.result()
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _progress_reporter(progress, total: int, done: int):
    start = time.perf_counter()
    state = {"done": done, "new": 0}
    if callable(progress):

        def report(n):
            if n is not None:
                state["done"] += n
                state["new"] += n
                progress(state["done"], total, state["new"] / (time.perf_counter() - start))

        return report
    if not progress:
        return lambda n: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("[bold]generating jets"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:.0f} jets/s"),
        TimeElapsedColumn(),
    )
    task = bar.add_task("jets", total=total, completed=done, rate=0.0)
    bar.start()

    def report(n):
        if n is None:
            bar.stop()
            return
        state["new"] += n
        rate = state["new"] / (time.perf_counter() - start)
        bar.update(task, advance=n, rate=rate)

    return report
