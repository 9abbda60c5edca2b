import numpy as np
import pytest

from heplearn.data import from_constituents


def toy_jets(n=300, seed=0):
    """Toy jets: signal (label 1) has two separated prongs, background one core.

    Not physics: a small, learnable table for checking training mechanics.
    """
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    counts = rng.integers(8, 24, n)
    jet = np.repeat(np.arange(n), counts)
    prong = rng.integers(0, 2, counts.sum()) * np.repeat(label, counts)
    eta = 0.05 * rng.standard_normal(counts.sum()) + 0.3 * prong
    phi = 0.05 * rng.standard_normal(counts.sum()) - 0.3 * prong
    pt = rng.exponential(20, counts.sum()) + 1
    del jet
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    E = np.sqrt(px**2 + py**2 + pz**2)
    charge = rng.integers(-1, 2, counts.sum())
    pid = np.where(charge != 0, 211 * charge, 22)
    return from_constituents(px, py, pz, E, counts, label=label, charge=charge, pid=pid)


@pytest.fixture(scope="session")
def toy_table():
    return toy_jets()
