"""Generation throughput: bare Pythia against the whole heplearn pipeline.

Run by hand: ``.venv/bin/python benchmarks/bench_generation.py [--events 2000]``.
Prints events/s of (1) bare ``Pythia.next()`` calls, (2) ``Pythia.nextBatch`` (the
array-filling generator heplearn uses), and (3) the whole per-event pipeline (nextBatch,
fast detector, FastJet clustering, selection, truth matching, jet-table building), all on
the same seed and process after initialisation, on one core; then jets/s for writing the
resulting shard to Parquet. The 1-vs-2-worker scaling is measured on whole commands:
``heplearn generate top --jets 4000 --shard-jets 500 --workers {1,2}``.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from heplearn.data.dataset import DatasetWriter
from heplearn.simulate import load_process_card
from heplearn.simulate.detector import get_detector
from heplearn.simulate.generate import _process_batch, derive_seed
from heplearn.simulate.pythia import make_pythia, next_batch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--process", default="top")
    parser.add_argument("--sample", type=int, default=1, help="sample index in the card")
    parser.add_argument("--detector", default="atlas-like")
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()

    card = load_process_card(args.process)
    sample = card.samples[args.sample]
    lines = [*card.pythia, *sample.pythia]
    seed = derive_seed(1, 0, args.sample)
    n = args.events

    pythia = make_pythia(lines, seed, card.sqrt_s)
    t0 = time.perf_counter()
    for _ in range(n):
        pythia.next()
    bare = n / (time.perf_counter() - t0)

    pythia = make_pythia(lines, seed, card.sqrt_s)
    t0 = time.perf_counter()
    for _ in range(n // card.batch_events):
        next_batch(pythia, card.batch_events)
    batched = n / (time.perf_counter() - t0)

    pythia = make_pythia(lines, seed, card.sqrt_s)
    det = get_detector(args.detector)
    rng = np.random.default_rng(1)
    outs = []
    t0 = time.perf_counter()
    for _ in range(n // card.batch_events):
        batch = next_batch(pythia, card.batch_events)
        out = _process_batch(batch, card, sample, det, rng, None, 0.0)
        if out is not None:
            outs.append(len(out["event"]))
    full = n / (time.perf_counter() - t0)
    n_jets = sum(outs)

    from heplearn.simulate.generate import generate_shard

    table = generate_shard(card, det, 1, 0, 1000)
    with tempfile.TemporaryDirectory() as tmp:
        writer = DatasetWriter(tmp, metadata={"bench": True}, n_shards=1)
        t0 = time.perf_counter()
        writer.write_shard(0, table)
        write_rate = len(table) / (time.perf_counter() - t0)

    print(f"process {card.name} / sample {sample.name} / detector {det.name}, {n} events")
    print(f"bare Pythia next():          {bare:8.1f} events/s")
    print(f"Pythia nextBatch():          {batched:8.1f} events/s  ({batched / bare:.2f} of bare)")
    print(f"whole pipeline:              {full:8.1f} events/s  ({full / bare:.2f} of bare)")
    print(
        f"selected jets:               {n_jets} ({n_jets / n:.2f} per event, "
        f"{full * n_jets / n:.1f} jets/s per core)"
    )
    print(f"Parquet shard writing:       {write_rate:8.0f} jets/s")


if __name__ == "__main__":
    main()
