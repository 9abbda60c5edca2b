"""convert(): any reader format -> heplearn dataset directory, streamed shard by shard."""

from __future__ import annotations

import hashlib

import awkward as ak
import pytest
from test_readers import GENERIC_MAPPING, write_generic, write_jetclass, write_qg, write_top

from heplearn.data.convert import convert
from heplearn.data.dataset import open_dataset
from heplearn.data.readers import inspect, read
from heplearn.errors import InputFileError


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("name", "writer", "fmt", "options"),
    [
        ("train.h5", write_top, "top-hdf5", {}),
        ("QG_jets.npz", write_qg, "energyflow-npz", {}),
        ("jetclass.root", write_jetclass, "jetclass-root", {}),
        ("jets.root", write_generic, "root-tree", {"tree": "Events", "mapping": GENERIC_MAPPING}),
    ],
)
def test_convert_round_trip(tmp_path, name, writer, fmt, options):
    src = writer(tmp_path / name)
    out = convert(src, tmp_path / "ds", shard_size=2, **options)
    ds = open_dataset(out)
    expected = read(src, **options)
    assert ak.to_list(ds.read()) == ak.to_list(expected)
    assert len(ds.shards) == -(-len(expected) // 2)
    meta = ds.metadata
    assert meta["source_file"] == name
    assert meta["source_sha256"] == _sha256(src)
    assert meta["source_format"] == fmt
    assert ds.n_jets == len(expected)
    # converting again resumes (same settings): nothing changes
    again = convert(src, tmp_path / "ds", shard_size=2, **options)
    assert ak.to_list(open_dataset(again).read()) == ak.to_list(expected)


def test_convert_max_constituents_and_class_names(tmp_path):
    src = write_top(tmp_path / "test.h5")
    ds = open_dataset(convert(src, tmp_path / "ds", max_constituents=1))
    assert ak.max(ak.num(ds.read().constituents)) == 1
    assert ds.metadata["class_names"] == ["qcd", "top"]
    assert ds.class_counts == {0: 2, 1: 1}
    assert read(tmp_path / "ds", format="heplearn-dataset").fields == ds.read().fields
    info = inspect(tmp_path / "ds")
    assert info["format"] == "heplearn-dataset" and info["n_jets"] == 3
    assert info["class_names"] == ["qcd", "top"] and "truth_pt" in info["fields"]["jet"]


def test_convert_missing_input(tmp_path):
    with pytest.raises(InputFileError, match="gone.h5"):
        convert(tmp_path / "gone.h5", tmp_path / "ds")


@pytest.mark.network
def test_convert_real_delphes(tmp_path, delphes_file):
    ds = open_dataset(convert(delphes_file, tmp_path / "delphes", shard_size=60))
    expected = read(delphes_file)
    assert ak.to_list(ds.read()) == ak.to_list(expected)
    assert len(ds.shards) > 1 and ds.metadata["source_format"] == "delphes-root"
    assert ak.to_list(ds.read().event) == ak.to_list(expected.event)
