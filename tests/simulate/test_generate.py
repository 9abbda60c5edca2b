"""End-to-end generation: physics facts on small Pythia samples, reproducibility, resume.

Each sample is a few hundred jets (seconds of Pythia); the seeds are fixed, so the facts
below are deterministic, not statistical coin flips.
"""

import contextlib
import socket

import awkward as ak
import numpy as np
import pytest

from heplearn.data.dataset import open_dataset, read_dataset
from heplearn.data.table import validate_jet_table
from heplearn.errors import HeplearnError
from heplearn.simulate import generate, generate_shard


@pytest.fixture(scope="module")
def top_jets():
    # the same seed gives the same Pythia events at both levels: a paired comparison
    return {det: generate_shard("top", det, 11, 0, 400) for det in ("none", "atlas-like")}


def _peak(masses, lo=100.0, hi=250.0, width=5.0):
    counts, edges = np.histogram(masses, bins=np.arange(lo, hi + width, width))
    return edges[np.argmax(counts)] + width / 2


def _spread(masses, lo=130.0, hi=220.0):
    window = masses[(masses > lo) & (masses < hi)]
    return np.median(np.abs(window - np.median(window)))


def test_top_jets_peak_at_the_top_mass_and_qcd_lies_below(top_jets):
    table = validate_jet_table(top_jets["none"])
    top = ak.to_numpy(table.mass[table.label == 1])
    qcd = ak.to_numpy(table.mass[table.label == 0])
    assert len(top) == len(qcd) == 200
    assert 165 <= _peak(top) <= 185
    assert np.mean(qcd < 120) > 0.7
    pt = ak.to_numpy(table.pt)
    assert pt.min() > 540 and pt.max() < 660  # 550-650 GeV before the 200-constituent cap
    assert ak.max(ak.num(table.constituents, axis=1)) <= 200
    assert np.all(np.abs(ak.to_numpy(table.eta)) < 2.05)


def test_detector_broadens_the_top_mass_peak(top_jets):
    truth = top_jets["none"]
    reco = top_jets["atlas-like"]
    spread_truth = _spread(ak.to_numpy(truth.mass[truth.label == 1]))
    spread_reco = _spread(ak.to_numpy(reco.mass[reco.label == 1]))
    assert spread_reco > 1.15 * spread_truth
    assert 160 <= _peak(ak.to_numpy(reco.mass[reco.label == 1])) <= 190
    # detector level: tracks carry their PDG id, neutral towers are photons or pid 130
    pid = np.abs(ak.to_numpy(ak.flatten(reco.constituents.pid)))
    charge = ak.to_numpy(ak.flatten(reco.constituents.charge))
    assert set(np.unique(pid[charge == 0])) <= {22, 130}
    assert not np.isin(pid, [12, 14, 16]).any()


def test_zjets_dimuon_mass_peaks_at_the_z():
    table = validate_jet_table(generate_shard("zjets", "none", 11, 0, 200))
    _, first = np.unique(ak.to_numpy(table.event), return_index=True)
    mass = ak.to_numpy(table.dimuon_mass)[first]
    assert len(mass) > 80
    assert np.median(mass[(mass > 81) & (mass < 101)]) == pytest.approx(91.2, abs=1.0)
    # jets never contain the two selected muons: left in, each Z muon (p_T ~ 45 GeV) would
    # be a hard muon constituent, 2 per event; only soft muons from hadron decays remain
    c = ak.flatten(table.constituents)
    muon_pt = np.hypot(ak.to_numpy(c.px), ak.to_numpy(c.py))[np.abs(ak.to_numpy(c.pid)) == 13]
    assert np.sum(muon_pt > 20) <= 2
    assert ak.to_numpy(table.pt).min() > 30


def test_pileup_collides_at_the_hard_process_energy(monkeypatch):
    import importlib

    gen = importlib.import_module("heplearn.simulate.generate")  # the module, not the function

    energies = []

    class Stop(Exception):
        pass

    def record(settings, seed, sqrt_s):
        energies.append(sqrt_s)
        if len(energies) == 2:
            raise Stop

    monkeypatch.setattr(gen, "make_pythia", record)
    with pytest.raises(Stop):
        gen.generate_shard("zjets", "none", 1, 0, 10, pileup=5)
    assert energies == [13000, 13000]  # the zjets card is at 13 TeV, minimum bias at 14


def test_pileup_constituents_carry_their_vertex():
    table = generate_shard("w", "none", 3, 0, 10, pileup=5)
    vertex = ak.to_numpy(ak.flatten(table.constituents.vertex))
    assert vertex.min() == 0 and vertex.max() >= 1
    # the hardest constituents come from the primary interaction
    assert np.mean(ak.to_numpy(table.constituents.vertex[:, 0]) == 0) > 0.9


def test_same_seed_same_dataset_for_one_and_two_workers(tmp_path):
    kw = {"n_jets": 60, "seed": 5, "detector": "atlas-like", "shard_jets": 20, "progress": False}
    one = generate("w", tmp_path / "one", workers=1, **kw)
    with contextlib.ExitStack() as stack:
        # Dask's default dashboard port held by someone else (another generation) must not
        # matter
        sock = stack.enter_context(socket.socket())
        with contextlib.suppress(OSError):  # already held: the same situation
            sock.bind(("127.0.0.1", 8787))
            sock.listen()
        two = generate("w", tmp_path / "two", workers=2, **kw)
    a, b = read_dataset(one.parent), read_dataset(two.parent)
    assert len(a) == 60
    assert ak.array_equal(a, b)
    ds = open_dataset(one.parent)
    assert ds.manifest["metadata"]["seed"] == 5
    assert ds.class_counts == {0: 30, 1: 30}


def test_interrupted_generation_resumes_with_the_missing_shards(tmp_path):
    kw = {"n_jets": 30, "seed": 2, "shard_jets": 10, "workers": 1}
    reference = read_dataset(generate("w", tmp_path / "ref", progress=False, **kw).parent)

    calls = []

    def crash_after_first(done, total, rate):
        calls.append(done)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate("w", tmp_path / "resumed", progress=crash_after_first, **kw)
    made = []
    generate("w", tmp_path / "resumed", progress=lambda d, t, r: made.append(d), **kw)
    assert calls == [10]
    assert made == [20, 30]  # only the two missing shards were generated
    assert ak.array_equal(read_dataset(tmp_path / "resumed"), reference)


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(HeplearnError, match="pileup"):
        generate("top", tmp_path / "x", n_jets=10, seed=1, pileup=-1, progress=False)
    with pytest.raises(HeplearnError, match="--jets"):
        generate("top", tmp_path / "x", n_jets=0, seed=1, progress=False)
    with pytest.raises(HeplearnError, match="--workers"):
        generate("top", tmp_path / "x", n_jets=10, seed=1, workers=0, progress=False)
    with pytest.raises(HeplearnError, match="--seed must be a whole number >= 0"):
        generate("top", tmp_path / "x", n_jets=10, seed=-1, progress=False)
