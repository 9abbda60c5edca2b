"""Throughput of the jet observables (jets per second, one process, one torch thread).

The input is SYNTHETIC, for timing only: jets of ``--lo``..``--hi`` constituents (uniform),
made of 1-3 collimated prongs around a random axis (pT ~ 500 GeV), with exponential pT
sharing and Gaussian angular spread. It has no physics content.

``--data DIR`` times a heplearn dataset's jets instead (e.g. the ``atlas-like`` top
sample of ``heplearn landscape top``): real multiplicities and substructure.

Usage::

    python benchmarks/bench_observables.py [--n-jets 100000] [--lo 30] [--hi 150]
        [--slow-jets 3000] [--data DIR] [--multiplicity-scan]

Soft drop (fastjet's awkward soft-drop grooming) and the all-in-one ``jet_observables``
are timed on the first ``--slow-jets`` jets only, because fastjet's soft drop runs at a
few hundred jets per second for these multiplicities. ``--multiplicity-scan`` times it
instead on synthetic jets of exactly 5, 20, 50 and 100 constituents, beside the C/A
clustering it starts from: how its cost grows with the multiplicity.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from heplearn.data import from_constituents
from heplearn.physics import kinematics as kin
from heplearn.physics import observables as obs


def synthetic_jets(n_jets: int, lo: int, hi: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    counts = rng.integers(lo, hi + 1, n_jets)
    n = int(counts.sum())
    jet = np.repeat(np.arange(n_jets), counts)
    n_prongs = rng.integers(1, 4, n_jets)
    prong = rng.integers(0, 3, n) % n_prongs[jet]
    offsets = rng.normal(0.0, 0.25, (n_jets, 3, 2))
    offsets[:, 0] = 0.0
    y0, phi0 = rng.uniform(-2, 2, n_jets), rng.uniform(-np.pi, np.pi, n_jets)
    y = y0[jet] + offsets[jet, prong, 0] + rng.normal(0, 0.05, n)
    phi = kin.wrap_phi(phi0[jet] + offsets[jet, prong, 1] + rng.normal(0, 0.05, n))
    share = rng.exponential(1.0, n) ** 2
    pt = 500.0 * share / np.bincount(jet, weights=share)[jet]
    px, py, pz, E = kin.ptetaphim_to_pxpypze_rapidity(pt, y, phi, np.zeros(n))
    charge = rng.choice(np.array([-1, 0, 1], np.int8), n, p=[0.3, 0.4, 0.3])
    return from_constituents(px, py, pz, E, counts, charge=charge)


def rate(fn, table) -> float:
    t0 = time.perf_counter()
    fn(table)
    return len(table) / (time.perf_counter() - t0)


def softdrop_scan(n_jets: int) -> None:
    """Per-jet time of the soft-drop mass (its C/A clustering included) and of that
    clustering alone, against the multiplicity."""
    print(f"soft drop against multiplicity: {n_jets} synthetic jets each (timing only)")
    print(f"{'constituents':>12s} {'C/A clustering us/jet':>22s} {'softdrop_mass us/jet':>21s}")
    for k in (5, 20, 50, 100):
        table = synthetic_jets(n_jets, k, k, seed=k)
        t0 = time.perf_counter()
        obs._cluster(obs._prepare(table), "cambridge_algorithm")
        t1 = time.perf_counter()
        obs.softdrop_mass(table)
        t2 = time.perf_counter()
        print(f"{k:12d} {1e6 * (t1 - t0) / n_jets:22.0f} {1e6 * (t2 - t1) / n_jets:21.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jets", type=int, default=100_000)
    parser.add_argument("--lo", type=int, default=30)
    parser.add_argument("--hi", type=int, default=150)
    parser.add_argument("--slow-jets", type=int, default=3000)
    parser.add_argument("--data", help="time this heplearn dataset's jets instead")
    parser.add_argument("--multiplicity-scan", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.multiplicity_scan:
        obs.softdrop_mass(synthetic_jets(50, 20, 20))  # warm-up: imports, first clustering
        softdrop_scan(args.slow_jets)
        return

    if args.data:
        from heplearn.data.dataset import open_dataset

        table = open_dataset(args.data).read()[: args.n_jets]
        what = f"jets of {args.data}"
    else:
        table = synthetic_jets(args.n_jets, args.lo, args.hi)
        what = f"synthetic jets (timing only), {args.lo}-{args.hi} constituents"
    small = table[: args.slow_jets]
    counts = obs.multiplicity(table)
    print(
        f"{what}: {len(table)} jets, constituents mean {np.mean(counts):.1f}, "
        f"median {np.median(counts):.0f}; one process, torch threads = 1"
    )
    obs.jet_observables(table[:50])  # warm-up: imports, first clustering

    cases = [
        ("mass", obs.jet_mass, table),
        ("multiplicity", obs.multiplicity, table),
        ("girth", obs.girth, table),
        ("ptd", obs.ptd, table),
        ("charged_fraction", obs.charged_fraction, table),
        ("tau1,2,3 (one kt clustering)", lambda t: obs.n_subjettiness(t, (1, 2, 3)), table),
        ("e2, e3 (beta=1)", obs.energy_correlations, table),
        ("c_beta (beta=0.2)", obs.c_beta, table),
        ("softdrop_mass", obs.softdrop_mass, small),
        ("jet_observables (all 14)", obs.jet_observables, small),
    ]
    for name, fn, tab in cases:
        print(f"{name:32s} {rate(fn, tab):12,.0f} jets/s   ({len(tab)} jets)")


if __name__ == "__main__":
    main()
