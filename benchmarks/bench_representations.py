"""Throughput of the representations: jet table -> tensors.

Run by hand: ``.venv/bin/python benchmarks/bench_representations.py [--jets 100000]``.

The jets are SYNTHETIC, for timing only: Poisson(50) massless constituents per jet with
exponential pT and Gaussian (η, φ) spread around a random axis, built with
:func:`heplearn.data.from_constituents`. Prints jets/s (best of ``--repeat``) for

* ``particle_cloud`` with the 4 momentum features and with the 7 default features, over the
  whole table and in loader-sized chunks (``--chunk`` jets, as a shard or batch would be);
* ``four_vectors``;
* ``pairwise_features`` (NumPy, P = ``--pairwise-particles``) on the first ``--pairwise-jets``;
* ``jet_image`` (40 x 40, full preprocessing);
* ``knn_indices`` (k = 16 in (Δη, Δφ), P = 128) on the first ``--knn-jets``.

Both wall-clock and process-CPU rates are printed: on a shared machine the wall rate
understates the single-process speed (the NumPy paths are single-threaded; torch's CPU path
uses its intra-op threads, so its CPU rate counts all of them).
"""

from __future__ import annotations

import argparse
import time

import awkward as ak
import numpy as np

from heplearn.data import from_constituents
from heplearn.representations import (
    MOMENTUM_FEATURES,
    four_vectors,
    jet_image,
    knn_indices,
    pairwise_features,
    particle_cloud,
)


def synthetic_table(n_jets: int, mean_constituents: int = 50, seed: int = 0) -> ak.Array:
    """Random massless jets (synthetic, for timing only)."""
    rng = np.random.default_rng(seed)
    counts = np.maximum(rng.poisson(mean_constituents, n_jets), 1)
    m = int(counts.sum())
    jet = np.repeat(np.arange(n_jets), counts)
    eta = rng.uniform(-2.0, 2.0, n_jets)[jet] + rng.normal(0.0, 0.2, m)
    phi = rng.uniform(-np.pi, np.pi, n_jets)[jet] + rng.normal(0.0, 0.2, m)
    pt = rng.exponential(10.0, m) + 0.5
    px, py, pz, E = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)
    return from_constituents(
        px, py, pz, E, counts,
        label=rng.integers(0, 2, n_jets),
        charge=rng.integers(-1, 2, m),
        pid=rng.choice([22, 211, -211, 130, 11, -13], m),
    )  # fmt: skip


def best_time(function, repeat: int) -> tuple[float, float]:
    """Best wall-clock and best process CPU time over ``repeat`` runs (seconds)."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        function()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu


def report(name: str, n: int, seconds: tuple[float, float]) -> None:
    wall, cpu = seconds
    print(f"{name:<52} {n / wall:>11,.0f} jets/s wall {n / cpu:>11,.0f} jets/s CPU ({n:,} jets)")


def chunked(function, table: ak.Array, chunk: int):
    def run():
        for start in range(0, len(table), chunk):
            function(table[start : start + chunk])

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jets", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pairwise-jets", type=int, default=5_000)
    parser.add_argument("--pairwise-particles", type=int, default=64)
    parser.add_argument("--knn-jets", type=int, default=5_000)
    args = parser.parse_args()

    table = synthetic_table(args.jets)
    n = len(table)
    per_jet = ak.mean(ak.num(table.constituents, axis=1))
    print(f"SYNTHETIC jets (timing only): {n:,} jets, {per_jet:.1f} constituents/jet")
    r = args.repeat

    def cloud4(t):
        return particle_cloud(t, max_particles=128, features=MOMENTUM_FEATURES)

    def cloud7(t):
        return particle_cloud(t, max_particles=128)

    report("particle_cloud P=128, 4 momentum features", n, best_time(lambda: cloud4(table), r))
    report("particle_cloud P=128, 7 default features", n, best_time(lambda: cloud7(table), r))
    report(f"  same in chunks of {args.chunk} jets (4 features)", n,
           best_time(chunked(cloud4, table, args.chunk), r))  # fmt: skip
    report(f"  same in chunks of {args.chunk} jets (7 features)", n,
           best_time(chunked(cloud7, table, args.chunk), r))  # fmt: skip
    report("four_vectors P=128", n, best_time(lambda: four_vectors(table, 128), r))

    sub = table[: args.pairwise_jets]
    p = args.pairwise_particles
    p4, mask = particle_cloud(sub, max_particles=p, features=MOMENTUM_FEATURES)
    report(f"pairwise_features (numpy) P={p}, F=4", len(sub),
           best_time(lambda: pairwise_features(p4, mask), r))  # fmt: skip
    try:
        import torch

        t4, tmask = torch.from_numpy(p4), torch.from_numpy(mask)
        report(f"pairwise_features (torch CPU, {torch.get_num_threads()} threads) P={p}",
               len(sub), best_time(lambda: pairwise_features(t4, tmask), r))  # fmt: skip
    except ImportError:
        pass

    report("jet_image 40x40, centre+rotate+flip+normalise", n,
           best_time(lambda: jet_image(table, n_pixels=40, extent=1.0), r))  # fmt: skip

    sub = table[: args.knn_jets]
    x, mask = particle_cloud(sub, max_particles=128, features=("deta", "dphi"))
    report("knn_indices (numpy) k=16, P=128", len(sub),
           best_time(lambda: knn_indices(x, mask, 16), r))  # fmt: skip


if __name__ == "__main__":
    main()
