"""The Lightning module that trains any registered torch tagger, and its helpers."""

from __future__ import annotations

import math

import lightning as L
import torch
from torch import nn

from heplearn.errors import HeplearnError
from heplearn.training.config import TrainConfig
from heplearn.training.losses import weighted_cross_entropy

__all__ = [
    "TrainingDivergedError",
    "InputScaler",
    "ScaledTagger",
    "TaggerModule",
    "EpochSampler",
    "RngStateCallback",
    "warmup_cosine",
]


class TrainingDivergedError(HeplearnError):
    """The training loss became NaN or infinite."""


class InputScaler(nn.Module):
    """Standardise inputs with statistics fitted on the training set (stored as buffers,
    so they travel with the weights and into ONNX): x ↦ (x − μ) / σ per feature; padded
    particles stay exactly 0."""

    def __init__(self, stats: dict[str, tuple[list[float], list[float]]]):
        super().__init__()
        self.keys = sorted(stats)
        for key in self.keys:
            mean, std = stats[key]
            self.register_buffer(f"mean_{key}", torch.tensor(mean, dtype=torch.float32))
            self.register_buffer(f"std_{key}", torch.tensor(std, dtype=torch.float32))

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = dict(batch)
        for key in self.keys:
            x = (batch[key] - getattr(self, f"mean_{key}")) / getattr(self, f"std_{key}")
            if x.dim() == 3 and "mask" in batch:  # particle features: keep padding at 0
                x = x * batch["mask"].unsqueeze(-1).to(x.dtype)
            out[key] = x
        return out


class ScaledTagger(nn.Module):
    """A network with its input scaler in front: what is checkpointed and exported."""

    def __init__(self, network: nn.Module, scaler: InputScaler):
        super().__init__()
        self.scaler = scaler
        self.network = network

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(self.network.inputs)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.network(self.scaler(batch))


def warmup_cosine(step: int, total: int, warmup: int) -> float:
    """Learning-rate factor: linear warm-up over ``warmup`` steps, then cosine decay to 0
    at ``total`` steps (Loshchilov & Hutter, arXiv:1608.03983)."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def _rank_and_world() -> tuple[int, int]:
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class EpochSampler(torch.utils.data.Sampler[torch.Tensor]):
    """Batches of indices whose order is a function of (seed, epoch) only, so a resumed run
    sees exactly the batches an uninterrupted one would. Lightning calls :meth:`set_epoch`
    at every epoch.

    Under DDP (an initialised process group) each rank takes every ``world``-th index of
    the same permutation, padded by wrapping around so that all ranks run the same number
    of steps (as :class:`torch.utils.data.DistributedSampler`).

    ``epoch_source``, when set, is an object with a ``global_step`` (the Lightning module):
    the epoch is then global_step // (batches per epoch) at iteration time, which is right
    also on the first epoch after a resume, where Lightning starts iterating before its
    epoch counter and ``set_epoch`` catch up (one optimiser step per batch is assumed).
    """

    def __init__(self, n: int, batch_size: int, seed: int, shuffle: bool = True):
        self.n = n
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.epoch = 0
        self.epoch_source = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _per_rank(self) -> int:
        _, world = _rank_and_world()
        return -(-self.n // world)

    def __len__(self) -> int:
        return -(-self._per_rank() // self.batch_size)

    def __iter__(self):
        # a generator: the epoch is read when the first batch is drawn, not when Lightning
        # creates the iterator (on resume that happens before its step counter is restored)
        if self.epoch_source is not None:
            self.epoch = int(self.epoch_source.global_step) // max(1, len(self))
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
            order = torch.randperm(self.n, generator=g)
        else:
            order = torch.arange(self.n)
        rank, world = _rank_and_world()
        if world > 1:
            total = self._per_rank() * world
            order = torch.cat([order, order[: total - self.n]])[rank::world]
        yield from order.split(self.batch_size)


class RngStateCallback(L.Callback):
    """Saves torch's global RNG state (dropout masks) in checkpoints and restores it on
    resume, for bit-identical continuation. The state is a uint8 tensor, safe to load with
    ``weights_only=True``."""

    def state_dict(self) -> dict:
        return {"torch": torch.get_rng_state()}

    def load_state_dict(self, state_dict: dict) -> None:
        torch.set_rng_state(state_dict["torch"])


class TaggerModule(L.LightningModule):
    """Trains a tagger with weighted cross-entropy (per-event ``weight`` when present).

    The network is a pure architecture taking a batch dict and returning logits
    ``(batch, classes)``; this module adds the optimiser, schedule and NaN guard.
    """

    def __init__(self, tagger: nn.Module, config: TrainConfig):
        super().__init__()
        self.tagger = tagger
        self.config = config

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.tagger(batch)

    def _loss(self, batch):
        logits = self(batch)
        return weighted_cross_entropy(logits.float(), batch["label"], batch.get("weight"))

    def training_step(self, batch, batch_idx):
        loss = self._loss(batch)
        if not torch.isfinite(loss):
            raise TrainingDivergedError(
                f"training loss became {loss.item()} at epoch {self.current_epoch}, step "
                f"{self.global_step}; the last good checkpoint is kept (lower --lr, or check "
                "the inputs for NaN)"
            )
        self.log("train_loss", loss, prog_bar=True, batch_size=len(batch["label"]))
        return loss

    def validation_step(self, batch, batch_idx):
        loss = self._loss(batch)
        self.log("val_loss", loss, prog_bar=True, batch_size=len(batch["label"]), sync_dist=True)

    def configure_optimizers(self):
        c = self.config
        params = self.tagger.parameters()
        if c.optimizer == "adamw":
            opt = torch.optim.AdamW(params, lr=c.lr, weight_decay=c.weight_decay)
        else:
            opt = torch.optim.SGD(
                params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay, nesterov=True
            )
        # the schedule spans config.epochs even when a run is stopped earlier (max_epochs)
        per_epoch = self.trainer.estimated_stepping_batches / max(1, self.trainer.max_epochs)
        total = max(1, round(per_epoch * c.epochs))
        if c.schedule == "onecycle":
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=c.lr, total_steps=total)
        elif c.schedule == "cosine":
            warmup = int(c.warmup_fraction * total)
            sched = torch.optim.lr_scheduler.LambdaLR(
                opt, lambda step: warmup_cosine(step, total, warmup)
            )
        else:
            return opt
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
