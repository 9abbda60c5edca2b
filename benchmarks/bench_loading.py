"""Loading throughput: Parquet shards -> padded particle-cloud tensors through torch.

Run by hand: ``.venv/bin/python benchmarks/bench_loading.py [--jets 200000] [--workers 0 1 2]``.

The dataset is SYNTHETIC, for timing only: random constituents (about 50 per jet, Gaussian
momenta), written with :func:`heplearn.data.write_dataset` to a temporary directory. The
script prints jets/s for

1. writing the dataset;
2. reading the shards back (checksum + Parquet -> awkward), all columns and only the four
   momentum columns the cloud needs;
3. the cloud transform alone (jet table -> ``(N, P=128, 4)`` float32 px, py, pz, E +
   ``(N, P)`` bool mask);
4. the whole stream: :class:`~heplearn.data.loaders.ShardedJetStream` (shuffled) in a
   ``torch.utils.data.DataLoader`` yielding batches, for each ``--workers`` count: the best
   of ``--repeat`` epochs after a warm-up epoch (the page cache then holds the files, as it
   does after the first epoch of a training).

On a shared machine the wall-clock numbers move with the load (the best epoch is the least
disturbed); jets per CPU-second (main process + workers, which are joined at the end of each
epoch) do not, and say what a free core delivers.

The transform is ``heplearn.representations.cloud.particle_cloud`` (features px, py, pz, E)
when that exists, otherwise (or with ``--numpy-cloud``) a vectorised numpy scatter defined
here for this benchmark only.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import awkward as ak
import numpy as np
from torch.utils.data import DataLoader

from heplearn.data import from_constituents, open_dataset, write_dataset
from heplearn.data.loaders import ShardedJetStream

P = 128
COLUMNS = ["label", "constituents.px", "constituents.py", "constituents.pz", "constituents.E"]


def synthetic_table(n_jets: int, mean_constituents: int = 50, seed: int = 0) -> ak.Array:
    """Random jets (synthetic, for timing only): Poisson(50) constituents, Gaussian momenta."""
    rng = np.random.default_rng(seed)
    counts = np.maximum(rng.poisson(mean_constituents, n_jets), 1)
    m = int(counts.sum())
    px = rng.normal(0.0, 10.0, m) + 50.0
    py = rng.normal(0.0, 10.0, m)
    pz = rng.normal(0.0, 30.0, m)
    E = np.sqrt(px**2 + py**2 + pz**2)
    return from_constituents(
        px, py, pz, E, counts,
        label=rng.integers(0, 2, n_jets),
        charge=rng.integers(-1, 2, m),
        pid=rng.choice([22, 211, -211, 130, 11, -13], m),
    )  # fmt: skip


def numpy_cloud(table: ak.Array, max_particles: int = P) -> tuple[np.ndarray, np.ndarray]:
    """(N, P, 4) px, py, pz, E zero-padded/truncated, and the (N, P) mask; benchmark-only."""
    cons = table["constituents"]
    counts = ak.to_numpy(ak.num(cons, axis=1))
    n = len(counts)
    starts = np.cumsum(counts) - counts
    position = np.arange(int(counts.sum())) - np.repeat(starts, counts)
    keep = position < max_particles
    rows = np.repeat(np.arange(n), counts)[keep]
    cols = position[keep]
    features = np.zeros((n, max_particles, 4), dtype=np.float32)
    for k, name in enumerate(("px", "py", "pz", "E")):
        features[rows, cols, k] = ak.to_numpy(ak.flatten(cons[name]))[keep]
    mask = np.arange(max_particles) < np.minimum(counts, max_particles)[:, None]
    return features, mask


def _cloud_function(prefer_numpy: bool = False):
    try:
        from heplearn.representations.cloud import particle_cloud
    except ImportError:
        particle_cloud = None
    if particle_cloud is None or prefer_numpy:
        return numpy_cloud, "numpy scatter in this script"

    def cloud(table):
        return particle_cloud(table, max_particles=P, features=("px", "py", "pz", "E"))

    return cloud, "heplearn.representations.cloud.particle_cloud"


def make_transform(cloud):
    def transform(table: ak.Array) -> dict:
        features, mask = cloud(table)
        return {"features": features, "mask": mask, "label": ak.to_numpy(table["label"])}

    return transform


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the DataLoader workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>12,.0f} jets/s  ({seconds:6.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jets", type=int, default=200_000)
    parser.add_argument("--shard-size", type=int, default=25_000)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--numpy-cloud", action="store_true", help="pad with this script's numpy scatter"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed epochs; the best is shown")
    args = parser.parse_args()
    cloud, cloud_name = _cloud_function(args.numpy_cloud)
    transform = make_transform(cloud)
    print(f"transform: {cloud_name}; P={P}, 4 features + mask; batch {args.batch_size}")

    table = synthetic_table(args.jets)
    n = len(table)
    n_cons = int(ak.sum(ak.num(table.constituents, axis=1)))
    print(f"synthetic dataset (timing only): {n:,} jets, {n_cons / n:.1f} constituents/jet")

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "bench"
        t0 = time.perf_counter()
        write_dataset(table, directory, metadata={"synthetic": True}, shard_size=args.shard_size)
        print(f"write_dataset                     {rate(n, time.perf_counter() - t0)}")
        size = sum(p.stat().st_size for p in directory.glob("*.parquet"))
        print(f"  {size / 2**20:.0f} MiB on disk, {size / n:.0f} bytes/jet (zstd)")
        del table

        dataset = open_dataset(directory)
        for columns, label in ((None, "all columns"), (COLUMNS, "label + 4-momenta")):
            t0 = time.perf_counter()
            for _ in dataset.iter_shards(columns):
                pass
            print(f"read shards, {label:<20} {rate(n, time.perf_counter() - t0)}")
        unverified = open_dataset(directory, verify=False)
        t0 = time.perf_counter()
        for _ in unverified.iter_shards(COLUMNS):
            pass
        print(f"  same without sha256             {rate(n, time.perf_counter() - t0)}")

        shard = dataset.read_shard(0, COLUMNS)
        t0 = time.perf_counter()
        features, mask = cloud(shard)
        print(f"cloud transform on one shard      {rate(len(shard), time.perf_counter() - t0)}")
        assert features.shape == (len(shard), P, 4) and mask.shape == (len(shard), P)

        for workers in args.workers:
            stream = ShardedJetStream(
                dataset,
                transform,
                columns=COLUMNS,
                batch_size=args.batch_size,
                shuffle=True,
                seed=1,
            )
            loader = DataLoader(stream, batch_size=None, num_workers=workers)
            best, best_cpu = float("inf"), float("inf")  # wall, CPU of main + workers
            for epoch in range(1 + args.repeat):  # epoch 0 warms up (page cache, imports)
                stream.set_epoch(epoch)
                seen = 0
                t0, c0 = time.perf_counter(), _cpu_seconds()
                for batch in loader:
                    seen += len(batch["label"])
                wall = time.perf_counter() - t0
                if epoch:
                    best = min(best, wall)
                    best_cpu = min(best_cpu, _cpu_seconds() - c0)
            assert seen == n, (seen, n)
            assert batch["features"].shape[1:] == (P, 4) and batch["mask"].shape[1:] == (P,)
            print(f"stream -> DataLoader, workers={workers}  {rate(seen, best)};  "
                  f"{n / best_cpu:,.0f} jets per CPU-second")  # fmt: skip


if __name__ == "__main__":
    main()
