"""Small hand-made jet tables for the representation tests (imported by the test files)."""

from __future__ import annotations

import awkward as ak
import numpy as np

from heplearn.data.table import from_constituents


def massless(pt, eta, phi):
    """(px, py, pz, E) of massless particles from (pT, η, φ)."""
    pt, eta, phi = (np.asarray(a, dtype=np.float64) for a in (pt, eta, phi))
    return pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)


def table_from_ptetaphi(jets, pid=None, charge=None) -> ak.Array:
    """Jet table from a list of jets, each a list of (pT, η, φ) massless particles."""
    counts = np.array([len(j) for j in jets])
    flat = np.array([p for j in jets for p in j], dtype=np.float64).reshape(-1, 3)
    px, py, pz, E = massless(flat[:, 0], flat[:, 1], flat[:, 2])
    return from_constituents(px, py, pz, E, counts, pid=pid, charge=charge)


def random_table(n_jets: int, seed: int = 0, mean: float = 20.0) -> ak.Array:
    """Random jets around (η, φ) = (0.5, 2.9) so some constituents cross φ = ±π."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, int(2 * mean), n_jets)
    m = int(counts.sum())
    pt = rng.exponential(20.0, m) + 0.5
    eta = 0.5 + rng.normal(0.0, 0.3, m)
    phi = 2.9 + rng.normal(0.0, 0.3, m)
    px, py, pz, E = massless(pt, eta, phi)
    return from_constituents(
        px, py, pz, E, counts,
        pid=rng.choice([22, 211, -211, 130, 11, -13, 0], m),
        charge=rng.integers(-1, 2, m),
    )  # fmt: skip


def jets_3_1_5() -> ak.Array:
    """Three jets with 3, 1 and 5 constituents."""
    return table_from_ptetaphi(
        [
            [(100.0, 0.1, 0.2), (50.0, 0.0, 0.0), (10.0, -0.2, 0.1)],
            [(200.0, 1.0, -1.0)],
            [(40.0, -0.5, 3.0), (30.0, -0.6, -3.1), (20.0, -0.4, 3.1), (5.0, -0.5, 2.9),
             (1.0, -0.5, -3.0)],
        ]
    )  # fmt: skip
