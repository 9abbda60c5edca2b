import json
import os

import awkward as ak
import numpy as np
import pytest

import heplearn.data.dataset as ds
from heplearn.data import from_constituents
from heplearn.data.dataset import (
    MANIFEST_NAME,
    DatasetConflictError,
    DatasetWriter,
    open_dataset,
    read_dataset,
    shard_name,
    write_dataset,
)
from heplearn.errors import (
    ChecksumError,
    FormatError,
    HeplearnError,
    InputFileError,
    InvalidJetTable,
    UnsafePathError,
)

META = {"process": "top", "seed": 7, "detector": {"name": "toy", "eta_max": 2.5}}


def _table(n=50, seed=0, start=0):
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 12, n)
    m = int(counts.sum())
    return from_constituents(
        rng.normal(size=m),
        rng.normal(size=m),
        rng.normal(size=m),
        rng.uniform(3.0, 5.0, m),
        counts,
        label=rng.integers(0, 3, n),
        charge=rng.integers(-1, 2, m),
        pid=rng.choice([22, 211, -211, 130], m),
        vertex=rng.integers(0, 3, m),
        extra={
            "weight": rng.uniform(0.5, 2.0, n),
            "truth_pt": rng.uniform(100, 200, n),
            "jet_id": np.arange(start, start + n),
        },
    )


def _manifest(directory):
    return json.loads((directory / MANIFEST_NAME).read_text())


def _write_manifest(directory, manifest):
    (directory / MANIFEST_NAME).write_text(json.dumps(manifest))


def test_shard_name():
    assert shard_name(0) == "shard-00000.parquet"
    assert shard_name(123) == "shard-00123.parquet"


def test_round_trip_keeps_values_and_dtypes(tmp_path):
    table = _table(95)
    write_dataset(table, tmp_path / "d", metadata=META, shard_size=40)
    dataset = open_dataset(tmp_path / "d")
    assert [s["file"] for s in dataset.shards] == [shard_name(i) for i in range(3)]
    assert [s["n_jets"] for s in dataset.shards] == [40, 40, 15]
    assert dataset.n_jets == len(dataset) == 95
    back = dataset.read()
    assert ak.array_equal(back, table, dtype_exact=True, check_parameters=False)
    assert back.type == table.type
    cons = back.constituents
    for field, dtype in [("px", "float32"), ("E", "float32"), ("charge", "int8"),
                         ("pid", "int32"), ("vertex", "int32")]:  # fmt: skip
        assert ak.to_numpy(ak.flatten(cons[field])).dtype == np.dtype(dtype)
    for field, dtype in [("pt", "float64"), ("label", "int64"), ("weight", "float64"),
                         ("truth_pt", "float64"), ("jet_id", "int64")]:  # fmt: skip
        assert ak.to_numpy(back[field]).dtype == np.dtype(dtype)
    labels, counts = np.unique(ak.to_numpy(table.label), return_counts=True)
    assert dataset.class_counts == dict(zip(labels.tolist(), counts.tolist(), strict=True))
    assert dataset.metadata == META
    manifest = dataset.manifest
    assert manifest["complete"] is True and manifest["format_version"] == 1
    assert manifest["heplearn_version"] and manifest["created"]
    assert manifest["n_jets"] == 95
    assert ak.array_equal(read_dataset(tmp_path / "d"), table, check_parameters=False)


def test_column_selection_and_max_jets(tmp_path):
    table = _table(30)
    write_dataset(table, tmp_path, metadata=META, shard_size=8)
    dataset = open_dataset(tmp_path)
    part = dataset.read(["label", "constituents.px", "constituents.E"], max_jets=10)
    assert part.fields == ["label", "constituents"]
    assert part.constituents.fields == ["px", "E"]
    assert str(part.type) == "10 * {label: int64, constituents: var * {px: float32, E: float32}}"
    assert ak.array_equal(part.constituents.px, table.constituents.px[:10])
    assert [len(s) for s in dataset.iter_shards(["pt"])] == [8, 8, 8, 6]
    assert ak.array_equal(dataset.read_shard(1, ["jet_id"]).jet_id, table.jet_id[8:16])
    with pytest.raises(FormatError, match="no column 'nope'.*available"):
        dataset.read_shard(0, ["nope"])


def test_empty_table_round_trip(tmp_path):
    table = _table(5)[:0]
    write_dataset(table, tmp_path, metadata=META)
    back = read_dataset(tmp_path)
    assert len(back) == 0 and back.fields == table.fields


def test_write_refuses_invalid_table(tmp_path):
    table = _table(5)
    bad = ak.with_field(table, ak.full_like(table.constituents.E, -1.0), ["constituents", "E"])
    writer = DatasetWriter(tmp_path, metadata=META)
    with pytest.raises(InvalidJetTable, match=r"shard-00000\.parquet.*negative"):
        writer.write_shard(0, bad)
    assert not (tmp_path / shard_name(0)).exists()


def test_write_refuses_shard_with_other_fields(tmp_path):
    writer = DatasetWriter(tmp_path, metadata=META)
    writer.write_shard(0, _table(5))
    with pytest.raises(InvalidJetTable, match="differs from the other shards"):
        writer.write_shard(1, ak.without_field(_table(5), "weight"))


def test_atomic_write_leaves_nothing_on_failure(tmp_path, monkeypatch):
    writer = DatasetWriter(tmp_path, metadata=META)
    writer.write_shard(0, _table(10))
    before = sorted(os.listdir(tmp_path))
    real = ak.to_parquet

    def half_then_crash(array, destination, **kwargs):
        real(array, destination, **kwargs)
        with open(destination, "r+b") as f:  # leave a partial file behind, then die
            f.truncate(100)
        raise OSError("disk full")

    monkeypatch.setattr(ds.ak, "to_parquet", half_then_crash)
    with pytest.raises(OSError, match="disk full"):
        writer.write_shard(1, _table(10, seed=1))
    assert sorted(os.listdir(tmp_path)) == before  # no shard-00001, no temporary file
    assert writer.completed_shards() == {0}
    assert [s["file"] for s in _manifest(tmp_path)["shards"]] == [shard_name(0)]


def test_manifest_write_is_atomic(tmp_path, monkeypatch):
    writer = DatasetWriter(tmp_path, metadata=META)
    writer.write_shard(0, _table(10))
    good = (tmp_path / MANIFEST_NAME).read_text()

    def crash(*args, **kwargs):
        raise OSError("power cut")

    monkeypatch.setattr(ds.os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        writer.finalize()
    assert (tmp_path / MANIFEST_NAME).read_text() == good
    assert sorted(os.listdir(tmp_path)) == [MANIFEST_NAME, shard_name(0)]


def test_resume_keeps_valid_shards_only(tmp_path):
    tables = [_table(20, seed=i, start=20 * i) for i in range(4)]
    writer = DatasetWriter(tmp_path, metadata=META, n_shards=4)
    writer.write_shard(0, tables[0])
    writer.write_shard(1, tables[1])
    writer.write_shard(2, tables[2])
    del writer  # "crash"
    assert _manifest(tmp_path)["complete"] is False
    with pytest.raises(InputFileError, match="interrupted.*re-running the same command"):
        open_dataset(tmp_path)
    partial = open_dataset(tmp_path, allow_incomplete=True)
    assert partial.n_jets == 60

    data = (tmp_path / shard_name(2)).read_bytes()
    (tmp_path / shard_name(2)).write_bytes(data[:-10] + b"0123456789")  # corrupted

    resumed = DatasetWriter(tmp_path, metadata=dict(META), n_shards=4)
    assert resumed.completed_shards() == {0, 1}
    for index in sorted(set(range(4)) - resumed.completed_shards()):
        resumed.write_shard(index, tables[index])
    resumed.finalize(elapsed_s=1.5)
    dataset = open_dataset(tmp_path)
    assert ak.array_equal(dataset.read(), ak.concatenate(tables), check_parameters=False)
    assert dataset.metadata == {**META, "elapsed_s": 1.5}
    # the same command run again on the finished dataset resumes it (nothing to redo)
    again = DatasetWriter(tmp_path, metadata=META, n_shards=4)
    assert again.completed_shards() == {0, 1, 2, 3}
    again.finalize(elapsed_s=0.1)
    assert open_dataset(tmp_path).metadata["elapsed_s"] == 0.1


def test_rerun_on_a_finished_dataset_leaves_its_manifest_byte_identical(tmp_path):
    """Re-running the command that made a dataset keeps its manifest (and so its digest,
    which caches key on)."""
    writer = DatasetWriter(tmp_path, metadata=META, n_shards=2)
    for i in range(2):
        writer.write_shard(i, _table(5, seed=i, start=5 * i))
    writer.finalize()
    before = (tmp_path / MANIFEST_NAME).read_bytes()
    again = DatasetWriter(tmp_path, metadata=META, n_shards=2)
    assert (tmp_path / MANIFEST_NAME).read_bytes() != before  # incomplete while it checks
    again.finalize()
    assert (tmp_path / MANIFEST_NAME).read_bytes() == before
    (tmp_path / shard_name(1)).write_bytes(b"corrupt")
    fixed = DatasetWriter(tmp_path, metadata=META, n_shards=2)
    assert fixed.completed_shards() == {0}
    fixed.write_shard(1, _table(5, seed=1, start=5))
    fixed.finalize()
    assert _manifest(tmp_path)["shards"] == json.loads(before)["shards"]  # same bytes again


def test_resume_with_other_metadata_is_refused(tmp_path):
    writer = DatasetWriter(tmp_path / "out", metadata=META, n_shards=2)
    writer.write_shard(0, _table(5))
    with pytest.raises(DatasetConflictError) as err:
        DatasetWriter(tmp_path / "out", metadata={**META, "seed": 8}, n_shards=2)
    message = str(err.value)
    assert str(tmp_path / "out") in message and "other settings" in message
    assert "seed" in message and "--out" in message and "delete" in message
    assert isinstance(err.value, HeplearnError)
    with pytest.raises(DatasetConflictError):  # resume=False never overwrites other data
        write_dataset(_table(5), tmp_path / "out", metadata={"other": 1})
    assert (tmp_path / "out" / shard_name(0)).exists()


def test_write_dataset_again_replaces_old_shards(tmp_path):
    write_dataset(_table(30), tmp_path, metadata=META, shard_size=10)
    write_dataset(_table(12, seed=3), tmp_path, metadata=META, shard_size=10)
    assert sorted(p.name for p in tmp_path.glob("*.parquet")) == [shard_name(0), shard_name(1)]
    assert ak.array_equal(read_dataset(tmp_path), _table(12, seed=3), check_parameters=False)


def test_finalize_refuses_missing_shards(tmp_path):
    writer = DatasetWriter(tmp_path, metadata=META, n_shards=3)
    writer.write_shard(1, _table(5))
    with pytest.raises(HeplearnError, match=r"shard\(s\) \[0, 2\] of 3 not written"):
        writer.finalize()


def test_checksum_mismatch_names_shard(tmp_path):
    write_dataset(_table(30), tmp_path, metadata=META, shard_size=10)
    manifest = _manifest(tmp_path)
    manifest["shards"][1]["sha256"] = "0" * 64
    _write_manifest(tmp_path, manifest)
    dataset = open_dataset(tmp_path)
    dataset.read_shard(0)
    with pytest.raises(ChecksumError, match=r"shard-00001\.parquet"):
        list(dataset.iter_shards())
    assert len(open_dataset(tmp_path, verify=False).read()) == 30


def test_truncated_shard(tmp_path):
    write_dataset(_table(30), tmp_path, metadata=META, shard_size=10)
    path = tmp_path / shard_name(1)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ChecksumError, match=r"shard-00001\.parquet"):
        open_dataset(tmp_path)
    dataset = open_dataset(tmp_path, verify=False)
    with pytest.raises(InputFileError, match=r"shard-00001\.parquet.*not a readable Parquet"):
        dataset.read()


def test_missing_directory_manifest_and_shard(tmp_path):
    with pytest.raises(InputFileError, match="does not exist") as err:
        open_dataset(tmp_path / "nothing")
    assert str(tmp_path / "nothing") in str(err.value)
    with pytest.raises(InputFileError, match="manifest.json not found"):
        open_dataset(tmp_path)
    write_dataset(_table(20), tmp_path, metadata=META, shard_size=10)
    (tmp_path / shard_name(1)).unlink()
    with pytest.raises(InputFileError, match=r"shard-00001\.parquet.*missing"):
        open_dataset(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"format": "zip"}', "'format'"),
        ('{"format": "heplearn-dataset", "format_version": 99}', "format_version"),
        (
            '{"format": "heplearn-dataset", "format_version": 1, "complete": true, '
            '"shards": [{"file": "a.parquet"}]}',
            r"shards\[0\]",
        ),  # fmt: skip
    ],
)
def test_malformed_manifest(tmp_path, text, message):
    (tmp_path / MANIFEST_NAME).write_text(text)
    with pytest.raises(FormatError, match=message) as err:
        open_dataset(tmp_path)
    assert MANIFEST_NAME in str(err.value)
    with pytest.raises(FormatError):  # a writer refuses it too, instead of clobbering it
        DatasetWriter(tmp_path, metadata=META)


@pytest.mark.parametrize("name", ["/etc/passwd", "../outside.parquet", "a/../../x.parquet",
                                  "C:\\x.parquet", "\\\\server\\share\\x.parquet"])  # fmt: skip
def test_manifest_naming_files_outside_is_refused(tmp_path, name):
    directory = tmp_path / "d"
    write_dataset(_table(10), directory, metadata=META)
    manifest = _manifest(directory)
    manifest["shards"][0]["file"] = name
    _write_manifest(directory, manifest)
    with pytest.raises(UnsafePathError, match="outside|absolute|climbs"):
        open_dataset(directory)
    with pytest.raises(UnsafePathError):  # resuming must not read (or delete) it either
        DatasetWriter(directory, metadata=META)
    with pytest.raises(UnsafePathError):
        DatasetWriter(directory, metadata=META, resume=False)


def test_symlink_escaping_directory_is_refused(tmp_path):
    outside = tmp_path / "secret.parquet"
    write_dataset(_table(10), tmp_path / "src", metadata=META)
    outside.write_bytes((tmp_path / "src" / shard_name(0)).read_bytes())
    directory = tmp_path / "d"
    write_dataset(_table(10), directory, metadata=META)
    (directory / shard_name(0)).unlink()
    (directory / shard_name(0)).symlink_to(outside)
    with pytest.raises(UnsafePathError, match="outside the dataset directory"):
        open_dataset(directory)
    with pytest.raises(UnsafePathError):
        DatasetWriter(directory, metadata=META, resume=False)
    assert outside.exists()


def test_symlink_inside_directory_is_fine(tmp_path):
    write_dataset(_table(10), tmp_path, metadata=META)
    (tmp_path / "data").mkdir()
    os.replace(tmp_path / shard_name(0), tmp_path / "data" / "s.parquet")
    (tmp_path / shard_name(0)).symlink_to(tmp_path / "data" / "s.parquet")
    assert len(read_dataset(tmp_path)) == 10


def test_metadata_must_be_json(tmp_path):
    with pytest.raises(FormatError, match="JSON"):
        DatasetWriter(tmp_path, metadata={"seed": object()})
