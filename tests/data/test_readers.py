"""Readers: small files in the exact layouts of the real datasets -> the jet table."""

from __future__ import annotations

import shutil

import awkward as ak
import numpy as np
import pandas as pd
import pytest
import uproot

from heplearn.data import readers
from heplearn.data.readers import (
    FORMATS,
    JETCLASS_LABELS,
    detect_format,
    format_inspection,
    inspect,
    iter_jet_tables,
    read,
    read_energyflow,
    read_jetclass,
    read_root_tree,
    read_top_tagging,
)
from heplearn.data.table import validate_jet_table
from heplearn.errors import FormatError, InputFileError, InvalidJetTable, UnknownNameError

# --------------------------------------------------------------------------- file writers


def write_ttree(path, name, data):
    """Write ``data`` as a TTree (uproot's ``f[name] = data`` would write an RNTuple)."""
    with uproot.recreate(path) as f:
        f.mktree(name, {k: v.type if isinstance(v, ak.Array) else v.dtype for k, v in data.items()})
        f[name].extend(data)
    return path


TOP_COLUMNS = [f"{q}_{i}" for i in range(200) for q in ("E", "PX", "PY", "PZ")]
TOP_COLUMNS += ["truthE", "truthPX", "truthPY", "truthPZ", "ttv", "is_signal_new"]


def _top_jets():
    """(E, px, py, pz) per jet in file order (softer first in jet 0 to test the ordering)."""
    jet0 = [(30.0, 30.0, 0.0, 0.0), (50.0, 0.0, 50.0, 0.0)]  # massless, 90 degrees apart
    jet1 = [(np.hypot(40.0, 3.0), 0.0, 40.0, 3.0), (5.0, 3.0, 4.0, 0.0), (2.0, 0.0, 0.0, 2.0)]
    jet2 = [(100.0, 60.0, 0.0, 80.0)]
    return [jet0, jet1, jet2]


def write_top(path, jets=None, fmt="fixed", key="table"):
    jets = _top_jets() if jets is None else jets
    data = np.zeros((len(jets), len(TOP_COLUMNS)), dtype=np.float32)
    for j, jet in enumerate(jets):
        for i, (E, px, py, pz) in enumerate(jet):
            data[j, 4 * i : 4 * i + 4] = (E, px, py, pz)
    data[0, 800:804] = (np.hypot(500.0, 173.0), 500.0, 0.0, 0.0)  # truth top: E, px, py, pz
    df = pd.DataFrame(data, columns=TOP_COLUMNS)
    df["ttv"] = np.arange(len(jets), dtype=np.int64) % 3
    df["is_signal_new"] = (np.arange(len(jets)) == 0).astype(np.int64)
    assert df.shape[1] == 806
    with pd.HDFStore(path, mode="w") as store:
        store.put(key, df, format=fmt, track_times=False)
    return path


def write_qg(path, X=None, y=None):
    if X is None:
        X = np.zeros((3, 4, 4))
        X[0, 0] = (10.0, 0.0, 0.0, 22)  # photon
        X[0, 1] = (20.0, 0.5, 1.0, 211)  # pi+
        X[1, 0] = (30.0, -0.2, 2.0, 130)  # K0_L
        X[1, 1] = (5.0, -0.1, 2.1, 11)  # e-
        X[1, 2] = (8.0, 0.1, 1.9, -2212)  # anti-proton
        X[2, 0] = (40.0, 1.0, -1.0, 2112)  # neutron
        y = np.array([1.0, 0.0, 1.0])
    np.savez_compressed(path, X=X, y=y)
    return path


def _jetclass_arrays():
    # jet 0: two photons making a known mass; jet 1: e-, mu+, pi-, neutral hadron
    px = [[10.0, 0.0], [1.0, 2.0, 3.0, 4.0]]
    py = [[0.0, 10.0], [0.0, 0.0, 0.0, 0.0]]
    pz = [[0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    energy = [[10.0, 10.0], [1.0, 2.1, 3.1, 4.2]]
    charge = [[0.0, 0.0], [-1.0, 1.0, -1.0, 0.0]]
    flags = {
        "isChargedHadron": [[0, 0], [0, 0, 1, 0]],
        "isNeutralHadron": [[0, 0], [0, 0, 0, 1]],
        "isPhoton": [[1, 1], [0, 0, 0, 0]],
        "isElectron": [[0, 0], [1, 0, 0, 0]],
        "isMuon": [[0, 0], [0, 1, 0, 0]],
    }
    part = {"px": px, "py": py, "pz": pz, "energy": energy, "charge": charge}
    part.update({k: [[float(x) for x in row] for row in v] for k, v in flags.items()})
    part["d0val"] = [[0.0] * len(r) for r in px]
    part["deta"] = [[0.0] * len(r) for r in px]
    return {k: ak.Array(v, backend="cpu") for k, v in part.items()}


def write_jetclass(path, labels=(2, 8), tree="tree"):
    part = _jetclass_arrays()
    n = len(labels)
    branches = {"part": ak.zip({k: ak.values_astype(v, np.float32) for k, v in part.items()})}
    for name in ("pt", "eta", "phi", "energy", "sdmass", "tau1", "tau2", "tau3", "tau4"):
        branches[f"jet_{name}"] = np.arange(n, dtype=np.float32) + 1.0
    branches["jet_nparticles"] = np.array([2, 4], dtype=np.float32)
    for i, c in enumerate(JETCLASS_LABELS):
        branches[f"label_{c}"] = np.array([lab == i for lab in labels], dtype=bool)
    return write_ttree(path, tree, branches)


def write_generic(path):
    return write_ttree(
        path,
        "Events",
        {
            "pf": ak.zip(
                {
                    "pt": ak.Array([[10.0, 20.0], [5.0]]),
                    "eta": ak.Array([[0.0, 0.0], [1.0]]),
                    "phi": ak.Array([[0.0, np.pi / 2], [0.5]]),
                    "m": ak.Array([[0.0, 0.0], [0.13957]]),
                    "q": ak.Array([[1, -1], [0]]),
                }
            ),
            "is_top": np.array([1, 0], dtype=np.int32),
            "w": np.array([0.5, 2.0]),
        },
    )


GENERIC_MAPPING = {
    "pt": "pf_pt",
    "eta": "pf_eta",
    "phi": "pf_phi",
    "mass": "pf_m",
    "charge": "pf_q",
    "label": "is_top",
    "weight": "w",
}


# --------------------------------------------------------------------------- top tagging


@pytest.mark.parametrize("fmt", ["fixed", "table"])
def test_top_tagging_four_momenta_labels_truth(tmp_path, fmt):
    path = write_top(tmp_path / "train.h5", fmt=fmt)
    t = read_top_tagging(path)
    validate_jet_table(t)
    assert len(t) == 3
    assert ak.to_list(ak.num(t.constituents)) == [2, 3, 1]  # zero padding dropped
    assert t.mass[0] == pytest.approx(np.sqrt(2 * 30 * 50))  # massless pair at 90 degrees
    assert t.pt[0] == pytest.approx(np.hypot(30, 50))
    assert ak.to_list(t.constituents.py[0]) == [50.0, 0.0]  # hardest first
    pts = np.hypot(t.constituents.px, t.constituents.py)
    assert ak.all(pts[:, :-1] >= pts[:, 1:])
    assert ak.to_list(t.label) == [1, 0, 0]
    assert ak.to_list(t.ttv) == [0, 1, 2]
    assert t.truth_mass[0] == pytest.approx(173.0, rel=1e-6)
    assert t.truth_pt[0] == pytest.approx(500.0)
    assert ak.to_list(t.truth_pt[1:]) == [0.0, 0.0] and ak.to_list(t.truth_eta[1:]) == [0, 0]
    assert t.eta[2] == pytest.approx(np.arcsinh(80 / 60))


@pytest.mark.parametrize("fmt", ["fixed", "table"])
def test_top_tagging_ranges_and_chunks_agree(tmp_path, fmt):
    path = write_top(tmp_path / "val.h5", fmt=fmt)
    full = read_top_tagging(path)
    assert ak.to_list(read_top_tagging(path, start=1, stop=3)) == ak.to_list(full[1:3])
    chunks = list(readers.iter_top_tagging(path, chunk_size=2))
    assert [len(c) for c in chunks] == [2, 1]
    assert ak.to_list(ak.concatenate(chunks)) == ak.to_list(full)
    assert ak.to_list(ak.num(read_top_tagging(path, max_constituents=1).constituents)) == [1] * 3


def test_top_tagging_errors(tmp_path):
    with pytest.raises(InputFileError, match="nothere.h5"):
        read_top_tagging(tmp_path / "nothere.h5")
    other = tmp_path / "other.h5"
    with pd.HDFStore(other, mode="w") as store:
        store.put("jets", pd.DataFrame({"a": [1.0]}), track_times=False)
    with pytest.raises(FormatError, match="table"):
        read_top_tagging(other)
    with pytest.raises(FormatError, match="HDF5"):
        detect_format(other)
    jets = _top_jets()
    jets[1][1] = (-5.0, 3.0, 4.0, 0.0)
    bad = write_top(tmp_path / "negative.h5", jets=jets)
    with pytest.raises(InvalidJetTable, match="negative.h5.*jet 1"):
        read_top_tagging(bad)
    jets = _top_jets()
    jets[2][0] = (100.0, np.nan, 0.0, 80.0)
    nan = write_top(tmp_path / "nan.h5", jets=jets)
    with pytest.raises(InvalidJetTable, match="nan.h5"):
        read(nan)


# --------------------------------------------------------------------------- energyflow


def test_energyflow_masses_pids_rapidity(tmp_path):
    t = read_energyflow(write_qg(tmp_path / "QG_jets.npz"))
    validate_jet_table(t)
    assert ak.to_list(t.label) == [1, 0, 1]  # energyflow: 1 = quark
    assert ak.to_list(ak.num(t.constituents)) == [2, 3, 1]
    c = t.constituents
    assert ak.to_list(c.pid[0]) == [211, 22]  # pT-ordered
    assert ak.to_list(c.charge[0]) == [1, 0]
    assert ak.to_list(c.pid[1]) == [130, -2212, 11]
    assert ak.to_list(c.charge[1]) == [0, -1, -1]
    E, pz = float(c.E[0, 0]), float(c.pz[0, 0])
    assert 0.5 * np.log((E + pz) / (E - pz)) == pytest.approx(0.5, abs=1e-5)
    mass = np.sqrt(max(E**2 - pz**2 - 20.0**2, 0.0))
    assert mass == pytest.approx(0.13957, abs=2e-3)  # pi+ mass from the PDG id
    assert t.mass[2] == pytest.approx(0.9395654, rel=1e-3)  # a single neutron
    assert t.pt[2] == pytest.approx(40.0, rel=1e-6)
    assert ak.to_list(read_energyflow(tmp_path / "QG_jets.npz", start=1).label) == [0, 1]


def test_energyflow_errors(tmp_path):
    p = tmp_path / "noX.npz"
    np.savez(p, y=np.zeros(3))
    with pytest.raises(FormatError, match="X"):
        read_energyflow(p)
    X = np.zeros((1, 2, 4))
    X[0, 0] = (10.0, 0.0, 0.0, 99999999)
    with pytest.raises(FormatError, match="99999999"):
        read_energyflow(write_qg(tmp_path / "badpid.npz", X, np.ones(1)))
    with pytest.raises(InputFileError, match="missing.npz"):
        read(tmp_path / "missing.npz")


# --------------------------------------------------------------------------- jetclass


def test_jetclass_labels_pids_mass(tmp_path):
    t = read_jetclass(write_jetclass(tmp_path / "HToCC_120.root"))
    validate_jet_table(t)
    assert ak.to_list(t.label) == [2, 8]
    assert JETCLASS_LABELS[2] == "Hcc" and readers.class_names("jetclass-root")[8] == "Tbqq"
    assert t.mass[0] == pytest.approx(np.sqrt(2 * 10 * 10))  # two photons at 90 degrees
    assert ak.to_list(t.constituents.pid[0]) == [22, 22]
    assert ak.to_list(t.constituents.pid[1]) == [130, -211, -13, 11]  # pT-ordered
    assert ak.to_list(t.constituents.charge[1]) == [0, -1, 1, -1]
    assert ak.to_list(t.sdmass) == [1.0, 2.0]


def test_jetclass_errors(tmp_path):
    path = write_jetclass(tmp_path / "wrongtree.root", tree="Events")
    with pytest.raises(FormatError, match="no TTree 'tree'.*Events"):
        read_jetclass(path)
    part = ak.zip({"px": ak.Array([[1.0]]), "energy": ak.Array([[1.0]])})
    write_ttree(tmp_path / "nolabel.root", "tree", {"part": part})
    with pytest.raises(FormatError, match="part_py.*available branches: .*part_px"):
        read_jetclass(tmp_path / "nolabel.root")
    part = _jetclass_arrays()
    branches = {"part": ak.zip(part)}
    for i, c in enumerate(JETCLASS_LABELS):
        branches[f"label_{c}"] = np.array([i in (0, 1), i == 3])  # jet 0: two labels
    write_ttree(tmp_path / "two.root", "tree", branches)
    with pytest.raises(FormatError, match="jet 0 has 2 true label"):
        read_jetclass(tmp_path / "two.root")


# --------------------------------------------------------------------------- generic tree


def test_root_tree_mapping(tmp_path):
    t = read_root_tree(write_generic(tmp_path / "jets.root"), "Events", GENERIC_MAPPING)
    validate_jet_table(t)
    assert ak.to_list(t.label) == [1, 0]
    assert ak.to_list(t.weight) == [0.5, 2.0]
    assert t.mass[0] == pytest.approx(np.sqrt(2 * 10 * 20))
    assert t.pt[1] == pytest.approx(5.0)
    assert t.eta[1] == pytest.approx(1.0)
    assert ak.to_list(t.constituents.charge[0]) == [-1, 1]
    assert ak.to_list(read(tmp_path / "jets.root", tree="Events", mapping=GENERIC_MAPPING).label)


def test_root_tree_errors(tmp_path):
    path = write_generic(tmp_path / "jets.root")
    with pytest.raises(FormatError, match="'pf_E'.*available branches: .*pf_eta"):
        read_root_tree(path, "Events", {**GENERIC_MAPPING, "mass": "pf_E"})
    with pytest.raises(FormatError, match="jagged"):
        read_root_tree(path, "Events", {**GENERIC_MAPPING, "charge": "w"})
    with pytest.raises(FormatError, match="tree="):
        read(path)  # a generic tree needs tree= and mapping=


# --------------------------------------------------------------------------- registry


def test_detect_format_by_content(tmp_path):
    top = write_top(tmp_path / "train.h5")
    qg = write_qg(tmp_path / "QG.npz")
    jc = write_jetclass(tmp_path / "jc.root")
    gen = write_generic(tmp_path / "g.root")
    assert detect_format(top) == "top-hdf5"
    assert detect_format(qg) == "energyflow-npz"
    assert detect_format(jc) == "jetclass-root"
    assert detect_format(gen) == "root-tree"
    disguised = tmp_path / "jets.dat"  # content wins over the extension
    shutil.copy(qg, disguised)
    assert detect_format(disguised) == "energyflow-npz"
    text = tmp_path / "notes.h5"
    text.write_text("hello")
    with pytest.raises(FormatError, match="unrecognised"):
        detect_format(text)
    with pytest.raises(InputFileError, match="absent.root"):
        detect_format(tmp_path / "absent.root")


def test_unknown_format_lists_known_ones(tmp_path):
    with pytest.raises(UnknownNameError, match='Unknown format "csv". Known formats: delphes'):
        read(write_qg(tmp_path / "a.npz"), format="csv")
    assert set(FORMATS) == {
        "top-hdf5",
        "energyflow-npz",
        "jetclass-root",
        "delphes-root",
        "root-tree",
        "heplearn-dataset",
    }
    assert readers.READERS["top-hdf5"] is read_top_tagging


def test_iter_jet_tables_streams_all_jets(tmp_path):
    path = write_jetclass(tmp_path / "jc.root")
    chunks = list(iter_jet_tables(path, chunk_size=1))
    assert [len(c) for c in chunks] == [1, 1]
    assert ak.to_list(ak.concatenate(chunks)) == ak.to_list(read(path))


@pytest.mark.parametrize("fmt", ["fixed", "table"])
def test_inspect_counts_and_prints(tmp_path, fmt):
    info = inspect(write_top(tmp_path / "test.h5", fmt=fmt))
    assert info["format"] == "top-hdf5" and info["n_jets"] == 3
    assert info["class_counts"] == {0: 2, 1: 1}
    assert "truth_mass" in info["fields"]["jet"]
    text = format_inspection(info)
    assert "top-hdf5" in text and "qcd" in text and "806" in text
    info = inspect(write_jetclass(tmp_path / "jc.root"))
    assert info["class_counts"] == {2: 1, 8: 1} and info["contents"]["trees"] == {"tree": 2}
    assert "Hcc" in format_inspection(info)
    info = inspect(write_qg(tmp_path / "qg.npz"))
    assert info["class_counts"] == {0: 1, 1: 2} and info["contents"]["X shape"] == [3, 4, 4]


# --------------------------------------------------------------------------- real Delphes file


@pytest.mark.network
def test_delphes_real_file(delphes_file):
    assert detect_format(delphes_file) == "delphes-root"
    events = readers.read_delphes_events(delphes_file)
    with uproot.open(delphes_file) as f:
        tree = f["Delphes"]
        jet_size = tree["Jet_size"].array(library="np")
        n_refs = tree["Jet/Jet.Constituents"].array().fSize
        delphes_pt = ak.flatten(tree["Jet/Jet.PT"].array())
    assert len(events) == len(jet_size) == 25
    assert ak.to_list(ak.num(events.jets)) == list(jet_size)
    flat = read(delphes_file)
    validate_jet_table(flat)
    assert len(flat) == jet_size.sum()
    # every referenced EFlow candidate found: constituent counts match the TRefArrays
    assert ak.to_list(ak.num(flat.constituents)) == ak.to_list(ak.flatten(n_refs))
    # constituent four-momentum sums reproduce Delphes' jets (this card has no JES factor)
    np.testing.assert_allclose(ak.to_numpy(flat.pt), ak.to_numpy(delphes_pt), rtol=1e-4)
    np.testing.assert_allclose(ak.to_numpy(flat.eta), ak.to_numpy(flat.delphes_eta), atol=1e-4)
    assert set(np.unique(ak.to_numpy(ak.flatten(flat.constituents.pid)))) >= {22, 130, 211}
    charged = ak.flatten(flat.constituents.charge != 0)
    assert ak.all(abs(ak.flatten(flat.constituents.pid))[charged] != 22)
    chunks = list(iter_jet_tables(delphes_file, chunk_size=20))
    assert ak.to_list(ak.concatenate(chunks).event) == ak.to_list(flat.event)
    info = inspect(delphes_file)
    assert info["n_events"] == 25 and info["n_jets"] == int(jet_size.sum())


def test_public_api():
    assert sorted(readers.__all__) == sorted(
        [
            "DELPHES_CONSTITUENTS",
            "FORMATS",
            "Format",
            "JETCLASS_LABELS",
            "QG_LABELS",
            "READERS",
            "TOP_LABELS",
            "class_names",
            "count_entries",
            "detect_format",
            "format_inspection",
            "get_format",
            "inspect",
            "iter_delphes",
            "iter_energyflow",
            "iter_jet_tables",
            "iter_jetclass",
            "iter_root_tree",
            "iter_top_tagging",
            "jetclass_pid",
            "read",
            "read_delphes",
            "read_delphes_events",
            "read_energyflow",
            "read_jetclass",
            "read_root_tree",
            "read_top_tagging",
            "register_format",
        ]
    )
    for name in readers.__all__:
        assert hasattr(readers, name)
    with pytest.raises(ValueError, match="already registered"):
        readers.register_format(FORMATS["top-hdf5"])
