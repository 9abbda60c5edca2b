"""Torch datasets over jet tables: in memory (:class:`JetDataset`) or streamed from shards.

Both take a ``transform``: a function from a jet-table chunk (an awkward Array of ``n``
jets) to a mapping ``name -> array`` whose arrays all have ``n`` rows, e.g. what
:mod:`heplearn.representations` produces::

    def transform(table):
        features, mask = particle_cloud(table, max_particles=128)  # (n, P, F), (n, P)
        return {"features": features, "mask": mask, "label": table["label"].to_numpy()}

Numpy arrays become tensors without a copy (``torch.from_numpy``). Shapes:

* :class:`JetDataset` ``[i]`` gives one jet, ``{"features": (P, F), "mask": (P,),
  "label": ()}``; ``DataLoader(ds, batch_size=B)`` collates it into ``(B, P, F)``, ...
* :class:`ShardedJetStream` with ``batch_size=B`` yields whole batches ``{"features":
  (B, P, F), "mask": (B, P), "label": (B,)}`` (use ``DataLoader(stream, batch_size=None)``,
  which is much faster than collating jet by jet); with ``batch_size=None`` it yields single
  jets like :class:`JetDataset`.

Only the last batch of each DataLoader worker may be shorter than ``B`` (``drop_last``
drops it).
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from multiprocessing.context import get_spawning_popen
from typing import Any

import awkward as ak
import numpy as np
import torch
from torch.utils.data import Dataset as TorchDataset
from torch.utils.data import IterableDataset, get_worker_info

from heplearn.data.dataset import Dataset, open_dataset
from heplearn.errors import FormatError

__all__ = ["Transform", "JetDataset", "ShardedJetStream", "apply_transform"]

#: A jet-table chunk of ``n`` jets -> ``{name: array with n rows}``.
Transform = Callable[[ak.Array], Mapping[str, Any]]


def _transform_arrays(transform: Transform, table: ak.Array, source: str) -> dict[str, np.ndarray]:
    """Run ``transform``; check its output and return it as numpy arrays of len(table) rows."""
    out = transform(table)
    if not isinstance(out, Mapping) or not out:
        raise FormatError(
            f"{source}: transform {_name(transform)} must return a non-empty dict "
            f"name -> array, got {type(out).__name__}"
        )
    n = len(table)
    arrays: dict[str, np.ndarray] = {}
    for key, value in out.items():
        if isinstance(value, ak.Array):
            value = ak.to_numpy(value)
        elif isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()  # CPU tensors: a view, no copy
        value = np.asarray(value)
        if value.ndim == 0 or value.shape[0] != n:
            raise FormatError(
                f"{source}: transform {_name(transform)} returned {key!r} with shape "
                f"{value.shape}; expected {n} rows (one per jet)"
            )
        try:
            torch.from_numpy(value[:0])
        except TypeError as err:
            raise FormatError(
                f"{source}: transform {_name(transform)} returned {key!r} of dtype "
                f"{value.dtype}, which torch cannot hold; expected numbers or bools"
            ) from err
        arrays[str(key)] = value
    return arrays


def apply_transform(
    transform: Transform, table: ak.Array, source: str = "jet table"
) -> dict[str, torch.Tensor]:
    """Run ``transform`` on ``table``; check and convert its output to ``len(table)``-row tensors.

    Numpy arrays (and CPU tensors) are shared, not copied.

    Raises
    ------
    FormatError
        The transform returned something other than a mapping of numeric arrays with one
        row per jet.
    """
    arrays = _transform_arrays(transform, table, source)
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}


def _name(func: Callable) -> str:
    return getattr(func, "__qualname__", None) or type(func).__name__


def _shared_empty(shape: tuple[int, ...], dtype: np.dtype) -> torch.Tensor:
    """Uninitialised tensor in shared memory (what torch's default_collate does in workers)."""
    torch_dtype = torch.from_numpy(np.empty(0, dtype=dtype)).dtype
    new_shared = getattr(torch.UntypedStorage, "_new_shared", None)
    if new_shared is None:  # private API gone: share_memory_ also copies the empty tensor
        return torch.empty(shape, dtype=torch_dtype).share_memory_()
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    return torch.empty(0, dtype=torch_dtype).set_(new_shared(nbytes)).view(shape)


def _assemble(pieces: list[dict[str, torch.Tensor]], shared: bool) -> dict[str, torch.Tensor]:
    """One batch from consecutive pieces (dicts of tensors with the same keys)."""
    if len(pieces) == 1:
        return pieces[0]
    batch = {}
    for key in pieces[0]:
        parts = [p[key].numpy() for p in pieces]
        if shared:
            rows = sum(len(p) for p in parts)
            out = _shared_empty((rows, *parts[0].shape[1:]), parts[0].dtype)
            np.concatenate(parts, out=out.numpy())
        else:
            out = torch.from_numpy(np.concatenate(parts))
        batch[key] = out
    return batch


class JetDataset(TorchDataset):
    """Map-style dataset: ``transform`` applied once to a whole jet table, kept as tensors.

    Parameters
    ----------
    data
        An in-memory jet table, or a :class:`~heplearn.data.dataset.Dataset` (read whole).
    transform
        ``table -> {name: array (n, ...)}``, see the module docstring.
    columns
        Fields to read when ``data`` is a Dataset, e.g. ``["label", "constituents.px"]``.

    Attributes
    ----------
    tensors : dict[str, torch.Tensor]
        The transformed data, each of shape ``(n_jets, ...)``.

    Examples
    --------
    >>> import numpy as np
    >>> from heplearn.data import from_constituents
    >>> table = from_constituents([1.0, 2.0], [0.0, 0.0], [0.0, 0.0], [1.0, 2.0], [1, 1],
    ...                           label=[0, 1])
    >>> ds = JetDataset(table, lambda t: {"pt": t.pt.to_numpy(), "label": t.label.to_numpy()})
    >>> len(ds), ds[1]["label"].item()
    (2, 1)
    """

    def __init__(
        self,
        data: ak.Array | Dataset,
        transform: Transform,
        *,
        columns: Sequence[str] | None = None,
    ) -> None:
        if isinstance(data, Dataset):
            source = str(data.directory)
            table = data.read(columns)
        else:
            source = "jet table"
            table = data
        self.n_jets = len(table)
        self.tensors = apply_transform(transform, table, source)

    def __len__(self) -> int:
        return self.n_jets

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {key: value[index] for key, value in self.tensors.items()}


def _distributed_rank() -> tuple[int, int]:
    """(rank, world_size) from torch.distributed, else torchrun's environment, else (0, 1)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    if "WORLD_SIZE" in os.environ and "RANK" in os.environ:
        return int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    return 0, 1


class ShardedJetStream(IterableDataset):
    """Stream a heplearn dataset shard by shard through ``transform``, in bounded memory.

    Each epoch the dataset is cut into work units — whole shards, or equal slices of shards
    when there are fewer shards than consumers — and unit ``u`` (in epoch order) goes to
    consumer ``u mod (world_size * num_workers)``, consumer ``rank * num_workers +
    worker_id``. Every jet is therefore seen exactly once per epoch across all DDP ranks and
    DataLoader workers. A consumer holds one transformed unit (at most one shard) at a time.

    Parameters
    ----------
    dataset
        A :class:`~heplearn.data.dataset.Dataset` or the path of a dataset directory.
    transform
        ``table -> {name: array (n, ...)}``, applied to one shard (or shard slice) at a time.
    columns
        Fields to read, e.g. ``["label", "constituents.px", ...]``; reading only what the
        transform needs is the main speed-up.
    batch_size
        Yield batches ``{name: (batch_size, ...)}`` (then use ``DataLoader(stream,
        batch_size=None)``), or single jets when None.
    shuffle
        Shuffle the unit order and the jets within each unit, from ``seed`` and the epoch
        (:meth:`set_epoch`): the same (seed, epoch) gives the same order.
    seed
        Explicit seed of the shuffling.
    drop_last
        Drop each consumer's last, incomplete batch.
    rank, world_size
        DDP position; default from ``torch.distributed`` when initialised, else the
        ``RANK``/``WORLD_SIZE`` environment (torchrun), else a single process.

    Notes
    -----
    Ranks may receive different numbers of jets (up to one shard apart); for DDP training
    write shards of equal size, a multiple of ``world_size * num_workers`` shards, or
    limit steps per epoch. The epoch lives in shared memory, so :meth:`set_epoch` reaches
    DataLoader workers started earlier too (``persistent_workers=True``).
    """

    def __init__(
        self,
        dataset: Dataset | str | os.PathLike,
        transform: Transform,
        *,
        columns: Sequence[str] | None = None,
        batch_size: int | None = None,
        shuffle: bool = False,
        seed: int = 0,
        drop_last: bool = False,
        rank: int | None = None,
        world_size: int | None = None,
    ) -> None:
        super().__init__()
        self.dataset = dataset if isinstance(dataset, Dataset) else open_dataset(dataset)
        self.transform = transform
        self.columns = None if columns is None else list(columns)
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be >= 1 or None, got {batch_size}")
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = int(seed)
        self.drop_last = drop_last
        if (rank is None) != (world_size is None):
            raise ValueError("give both rank and world_size, or neither")
        if world_size is not None and not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, world_size={world_size}), got {rank}")
        self.rank = rank
        self.world_size = world_size
        # Shared with DataLoader workers (also persistent ones), see __getstate__.
        self._epoch = multiprocessing.RawValue("q", 0)

    @property
    def n_jets(self) -> int:
        """Jets in one epoch, over all ranks and workers."""
        return self.dataset.n_jets

    @property
    def epoch(self) -> int:
        """The epoch whose shuffled order the next iteration uses (see :meth:`set_epoch`)."""
        return self._epoch.value

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose shuffled order the next iteration uses."""
        self._epoch.value = int(epoch)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        if get_spawning_popen() is None:
            # Plain pickling or copying (not a worker being started): a shared value may not
            # travel that way, so the copy gets its own epoch, starting from the current one.
            state["_epoch"] = self._epoch.value
        return state

    def __setstate__(self, state: dict) -> None:
        if isinstance(state["_epoch"], int):
            state["_epoch"] = multiprocessing.RawValue("q", state["_epoch"])
        self.__dict__.update(state)

    def units(self, n_consumers: int = 1) -> list[tuple[int, int, int]]:
        """This epoch's work units ``(shard, part, n_parts)`` in the order they are dealt.

        Shards are cut into ``n_parts = ceil(n_consumers / n_shards)`` slices so that every
        consumer gets work even when there are fewer shards than consumers.
        """
        n_shards = len(self.dataset.shards)
        n_parts = max(1, math.ceil(n_consumers / max(n_shards, 1)))
        units = [(s, p, n_parts) for s in range(n_shards) for p in range(n_parts)]
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(len(units))
            units = [units[i] for i in order]
        return units

    def consumer_units(
        self, rank: int, world_size: int, worker_id: int = 0, num_workers: int = 1
    ) -> list[tuple[int, int, int]]:
        """The units read by DataLoader worker ``worker_id`` of DDP rank ``rank``."""
        n_consumers = world_size * num_workers
        consumer = rank * num_workers + worker_id
        return self.units(n_consumers)[consumer::n_consumers]

    def _position(self) -> tuple[int, int, int, int]:
        rank, world_size = (
            (self.rank, self.world_size) if self.world_size is not None else _distributed_rank()
        )
        info = get_worker_info()
        worker_id, num_workers = (0, 1) if info is None else (info.id, info.num_workers)
        return rank, world_size, worker_id, num_workers

    def _unit_tensors(
        self, shard: int, part: int, n_parts: int, shared: bool
    ) -> dict[str, torch.Tensor]:
        table = self.dataset.read_shard(shard, self.columns)
        n = len(table)
        lo, hi = (part * n) // n_parts, ((part + 1) * n) // n_parts
        if (lo, hi) != (0, n):
            table = table[lo:hi]
        source = f"{self.dataset.shard_path(shard)} [jets {lo}:{hi}]"
        arrays = _transform_arrays(self.transform, table, source)
        perm = None
        if self.shuffle:
            perm = np.random.default_rng([self.seed, self.epoch, shard, part]).permutation(hi - lo)
        tensors = {}
        for key, value in arrays.items():
            if shared:
                # In a DataLoader worker, put the unit in shared memory once: its batches are
                # views of it, which reach the main process without a further copy.
                out = _shared_empty(value.shape, value.dtype)
                if perm is None:
                    np.copyto(out.numpy(), value)
                else:
                    np.take(value, perm, axis=0, out=out.numpy())
            else:
                # numpy's take is several times faster than torch indexing on CPU
                out = torch.from_numpy(np.ascontiguousarray(value if perm is None else value[perm]))
            tensors[key] = out
        return tensors

    def iter_units(
        self, units: Sequence[tuple[int, int, int]]
    ) -> Iterator[dict[str, torch.Tensor]]:
        """Yield the jets (or batches) of ``units``, as :meth:`__iter__` does for its own."""
        size = self.batch_size
        shared = get_worker_info() is not None and size is not None
        pending: list[dict[str, torch.Tensor]] = []  # pieces of fewer than `size` jets
        n_pending = 0
        for unit in units:
            tensors = self._unit_tensors(*unit, shared=shared)
            n = len(next(iter(tensors.values())))
            if size is None:
                for i in range(n):
                    yield {k: v[i] for k, v in tensors.items()}
                continue
            start = 0
            while start < n:
                take = min(size - n_pending, n - start)
                piece = {k: v[start : start + take] for k, v in tensors.items()}
                start += take
                if n_pending + take < size:  # keep a copy, so the unit can be freed
                    pending.append({k: v.clone() for k, v in piece.items()})
                    n_pending += take
                    break
                yield _assemble([*pending, piece], shared)
                pending, n_pending = [], 0
        if pending and not self.drop_last:
            yield _assemble(pending, shared)

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        return self.iter_units(self.consumer_units(*self._position()))
