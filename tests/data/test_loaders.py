import copy
import pickle

import awkward as ak
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from heplearn.data import from_constituents, open_dataset, write_dataset
from heplearn.data.loaders import JetDataset, ShardedJetStream, apply_transform
from heplearn.errors import FormatError

N_JETS = 103


def _table(n=N_JETS, seed=0):
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 6, n)
    m = int(counts.sum())
    return from_constituents(
        rng.normal(size=m),
        rng.normal(size=m),
        rng.normal(size=m),
        rng.uniform(3.0, 5.0, m),
        counts,
        label=rng.integers(0, 2, n),
        extra={"jet_id": np.arange(n)},
    )


def pt_label(table):
    """The tiny transform of these tests (module level, so workers can unpickle it)."""
    return {
        "pt": ak.to_numpy(table.pt).astype(np.float32),
        "label": ak.to_numpy(table.label),
        "jet_id": ak.to_numpy(table.jet_id),
    }


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    directory = tmp_path_factory.mktemp("ds")
    write_dataset(_table(), directory, metadata={"test": True}, shard_size=10)  # 11 shards
    return open_dataset(directory)


def _ids(items):
    return torch.cat([b["jet_id"].reshape(-1) for b in items]).tolist()


def test_jet_dataset_from_table_and_dataset(dataset):
    table = _table()
    ds = JetDataset(table, pt_label)
    assert len(ds) == N_JETS
    item = ds[5]
    assert set(item) == {"pt", "label", "jet_id"} and item["pt"].shape == ()
    assert item["pt"].item() == pytest.approx(table.pt[5], rel=1e-6)
    batch = next(iter(DataLoader(ds, batch_size=8)))
    assert batch["pt"].shape == (8,) and batch["label"].dtype == torch.int64
    from_disk = JetDataset(dataset, pt_label, columns=["pt", "label", "jet_id"])
    assert torch.equal(from_disk.tensors["jet_id"], torch.arange(N_JETS))


def test_transform_output_is_checked():
    table = _table(10)
    with pytest.raises(FormatError, match=r"'pt' with shape \(3,\); expected 10 rows"):
        apply_transform(lambda t: {"pt": np.zeros(3)}, table, "x.parquet")
    with pytest.raises(FormatError, match="must return a non-empty dict"):
        JetDataset(table, lambda t: np.zeros(10))


def test_stream_single_process_reads_all_in_order(dataset):
    stream = ShardedJetStream(dataset, pt_label, columns=["pt", "label", "jet_id"])
    jets = list(stream)
    assert len(jets) == N_JETS and jets[0]["pt"].shape == ()
    assert _ids(jets) == list(range(N_JETS))


def test_stream_batches_are_full_across_shard_boundaries(dataset):
    stream = ShardedJetStream(dataset.directory, pt_label, batch_size=16)
    batches = list(stream)
    assert [len(b["pt"]) for b in batches] == [16] * 6 + [7]
    assert _ids(batches) == list(range(N_JETS))
    stream.drop_last = True
    assert [len(b["pt"]) for b in stream] == [16] * 6


@pytest.mark.parametrize("shuffle", [False, True])
def test_ranks_times_workers_see_every_jet_once(dataset, shuffle):
    seen = []
    per_consumer = []
    for rank in range(2):
        stream = ShardedJetStream(
            dataset, pt_label, batch_size=4, shuffle=shuffle, seed=3, rank=rank, world_size=2
        )
        stream.set_epoch(1)
        loader = DataLoader(stream, batch_size=None, num_workers=2, multiprocessing_context="fork")
        ids = _ids(loader)
        per_consumer.append(len(ids))
        seen += ids
    assert sorted(seen) == list(range(N_JETS))
    assert min(per_consumer) > 0


def test_more_consumers_than_shards_split_shards(dataset):
    stream = ShardedJetStream(dataset, pt_label, shuffle=True, seed=1)
    n_consumers = 2 * 8  # 16 consumers, 11 shards -> every shard cut in two
    seen = []
    for consumer in range(n_consumers):
        units = stream.consumer_units(consumer // 8, 2, consumer % 8, 8)
        assert units, "every consumer gets work"
        seen += _ids(stream.iter_units(units))
    assert sorted(seen) == list(range(N_JETS))


def test_shuffle_reproducible_and_changes_with_epoch(dataset):
    def order(seed, epoch):
        stream = ShardedJetStream(dataset, pt_label, batch_size=10, shuffle=True, seed=seed)
        stream.set_epoch(epoch)
        return _ids(stream)

    first = order(seed=5, epoch=0)
    assert sorted(first) == list(range(N_JETS))
    assert first != list(range(N_JETS))
    assert order(seed=5, epoch=0) == first
    assert order(seed=5, epoch=1) != first
    assert order(seed=6, epoch=0) != first


def test_set_epoch_reaches_persistent_workers(dataset):
    # also holds with multiprocessing_context="spawn" (checked by hand: 6 s, too slow here)
    stream = ShardedJetStream(dataset, pt_label, batch_size=7, shuffle=True, seed=2)
    expected = []
    for epoch in range(2):
        stream.set_epoch(epoch)
        expected.append(_ids(stream))
    loader = DataLoader(
        stream,
        batch_size=None,
        num_workers=1,
        persistent_workers=True,
        multiprocessing_context="fork",
    )
    for epoch in range(2):
        stream.set_epoch(epoch)
        assert _ids(loader) == expected[epoch]


def test_copies_get_their_own_epoch(dataset):
    stream = ShardedJetStream(dataset, pt_label, shuffle=True)
    stream.set_epoch(3)
    clone = pickle.loads(pickle.dumps(stream))
    assert clone.epoch == 3
    clone.set_epoch(4)
    assert stream.epoch == 3 and copy.deepcopy(stream).epoch == 3


def test_rank_from_environment(dataset, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    stream = ShardedJetStream(dataset, pt_label)
    ids = _ids(stream)
    assert ids == [i for i in range(N_JETS) if (i // 10) % 2 == 1]


def test_bad_arguments(dataset):
    with pytest.raises(ValueError, match="both rank and world_size"):
        ShardedJetStream(dataset, pt_label, rank=0)
    with pytest.raises(ValueError, match="rank must be"):
        ShardedJetStream(dataset, pt_label, rank=2, world_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        ShardedJetStream(dataset, pt_label, batch_size=0)
