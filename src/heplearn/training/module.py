"""The Lightning module that trains any registered torch tagger, and its helpers."""

from __future__ import annotations

import math

import lightning as L
import torch
from torch import nn

from heplearn.errors import HeplearnError
from heplearn.training.config import TrainConfig
from heplearn.training.losses import focal_loss, weighted_cross_entropy

__all__ = [
    "TrainingDivergedError",
    "InputScaler",
    "ScaledTagger",
    "TaggerModule",
    "AdversarialTaggerModule",
    "EpochSampler",
    "RngStateCallback",
    "HistoryCallback",
    "recalibrate_batch_norm",
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


def one_cycle(opt, max_lr: float, total: int, warmup_fraction: float):
    """Smith's one-cycle schedule (arXiv:1708.07120) through ``OneCycleLR``: the learning
    rate rises for ``warmup_fraction`` of the ``total`` steps (at least two and at most
    ``total - 2``, so that both phases exist, as ``OneCycleLR`` needs; below 4 steps in
    all, its default 30%), then anneals (cosine) to far below its start."""
    warmup = min(max(2, round(warmup_fraction * total)), total - 2)
    pct_start = warmup / total if total >= 4 else 0.3
    return torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=max_lr, total_steps=total, pct_start=pct_start
    )


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

    ``epoch_source``, when set, is an object with a ``classifier_steps`` count (the
    Lightning module): the epoch is then classifier_steps // (batches per epoch) at
    iteration time, which is right also on the first epoch after a resume, where Lightning
    starts iterating before its epoch counter and ``set_epoch`` catch up (one classifier
    step per batch).
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
            self.epoch = int(self.epoch_source.classifier_steps) // max(1, len(self))
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


def recalibrate_batch_norm(model: nn.Module, batches, device, max_batches: int) -> int:
    """Precise BatchNorm (Wu & Johnson, "Rethinking 'Batch' in BatchNorm",
    arXiv:2105.07576): set the running statistics of every BatchNorm layer of ``model`` to
    the plain average of its batch statistics over up to ``max_batches`` of ``batches``
    (dicts of tensors), computed with the current weights; returns the batches used.

    Training updates the running statistics as an exponential moving average over the last
    ~10 batches, while the weights move. Where a layer's input varies little across jets
    compared with how fast training moves it, the average lags by several standard
    deviations, and the standardisation, which divides by that small spread, turns the lag
    into wrong outputs in evaluation. The EFN's latent vector is such an input (variance
    ~1e-5 per channel): a training whose weights reached a validation loss of 0.179 was
    scored 1.26 with its moving averages, and early stopping kept its first epoch.

    Only the BatchNorm layers run in training mode (dropout stays off); no gradient is
    computed and the weights are not touched. Torch's random number state is restored
    afterwards (iterating a DataLoader draws a seed), so the calibration leaves the dropout
    masks of later steps as they would have been without it. Batches of one jet, which
    have no batch statistics, are skipped; when no batch is left (on every rank), the
    running statistics stay as training left them.

    Under DDP (an initialised process group) every rank calibrates on its own batches and
    the ranks then pool their averages, weighted by their batch counts: each rank ends with
    the statistics of all ranks' batches, as one process calibrating on them all would
    (otherwise each rank would validate with its own, and the checkpoint keep rank 0's).
    ``max_batches`` counts per rank: DDP calibrates on up to world × ``max_batches``.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms or max_batches < 1:
        return 0
    was_training = model.training
    momenta = [m.momentum for m in norms]
    model.eval()
    tracked = [m for m in norms if m.track_running_stats]
    before = [
        (m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone())
        for m in tracked
    ]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
        m.train()
    rng = torch.get_rng_state()
    used = 0
    try:
        with torch.no_grad():
            for batch in batches:
                if used == max_batches:
                    break
                if len(next(iter(batch.values()))) < 2:
                    continue
                model({k: v.to(device) for k, v in batch.items()})
                used += 1
        if _pool_batch_norm_statistics(tracked, used) == 0:  # nothing to average: keep
            for m, (mean, var, count) in zip(tracked, before, strict=True):
                m.running_mean.copy_(mean)
                m.running_var.copy_(var)
                m.num_batches_tracked.copy_(count)
    finally:
        for m, momentum in zip(norms, momenta, strict=True):
            m.momentum = momentum
        model.train(was_training)
        torch.set_rng_state(rng)
    return used


def _pool_batch_norm_statistics(norms: list[nn.Module], used: int) -> int:
    """Average the running statistics of ``norms`` (BatchNorm layers that track them) over
    DDP ranks, weighted by each rank's number of calibration batches; returns the number
    of batches over all ranks (``used`` in a single process, where nothing changes)."""
    _, world = _rank_and_world()
    if world == 1 or not norms:
        return used
    dist = torch.distributed
    device = norms[0].running_mean.device
    total = torch.tensor([float(used)], dtype=torch.float64, device=device)
    dist.all_reduce(total)
    if total.item() == 0:  # every rank saw the same total: all return here together
        return 0
    for m in norms:
        stats = torch.stack([m.running_mean, m.running_var]).to(torch.float64) * used
        dist.all_reduce(stats)
        stats /= total
        m.running_mean.copy_(stats[0])
        m.running_var.copy_(stats[1])
        m.num_batches_tracked.fill_(int(total.item()))
    return int(total.item())


class HistoryCallback(L.Callback):
    """Writes ``path`` (``RUN/history.json``) at the end of every epoch, atomically: a list
    of ``{"epoch", "train_loss", "val_loss", "lr"}``, one per epoch (``epoch`` counts from
    0 as Lightning does; ``train_loss``: the mean over the epoch's batches, weighted by
    their sizes; ``val_loss``: over the validation split, as early stopping sees it;
    ``lr``: the learning rate at the epoch's end). A resumed run keeps the rows of the
    epochs before its checkpoint and rewrites the rest, so the file always describes the
    weights in ``last.ckpt``."""

    def __init__(self, path):
        from pathlib import Path

        self.path = Path(path)
        self._sum = 0.0
        self._count = 0

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._sum, self._count = 0.0, 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if isinstance(loss, torch.Tensor):  # summed on the device: no sync per step
            n = len(batch["label"])
            self._sum = self._sum + loss.detach() * n
            self._count += n

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if not trainer.is_global_zero:
            return
        import json

        from heplearn.evaluation.report import write_json

        epoch = trainer.current_epoch
        rows = json.loads(self.path.read_text()) if self.path.exists() else []
        val = trainer.callback_metrics.get("val_loss")
        rows = [r for r in rows if r["epoch"] < epoch] + [
            {
                "epoch": epoch,
                "train_loss": float(self._sum) / self._count if self._count else None,
                "val_loss": None if val is None else float(val),
                "lr": float(trainer.optimizers[0].param_groups[0]["lr"]),
            }
        ]
        write_json(self.path, rows)


class TaggerModule(L.LightningModule):
    """Trains a tagger with weighted cross-entropy or focal loss (per-event ``weight`` when
    present), plus a decorrelation penalty when ``config.decorrelation`` asks for one.

    The network is a pure architecture taking a batch dict and returning logits
    ``(batch, classes)``; this module adds the loss, optimiser, schedule and NaN guard.
    With ``decorrelation.method`` = ``pearson`` or ``disco`` the loss is
    L = L_clf + λ · penalty(score, m) on the background jets of each batch (score = softmax
    signal probability, m = the batch's ``decorrelate`` values; ``bias_corrected`` swaps
    DisCo's V-statistic for the U-statistic); see :mod:`heplearn.decorrelation`.
    """

    def __init__(self, tagger: nn.Module, config: TrainConfig):
        super().__init__()
        self.tagger = tagger
        self.config = config

    @property
    def classifier_steps(self) -> int:
        """Optimiser steps of the classifier (what :class:`EpochSampler` counts)."""
        return self.global_step

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.tagger(batch)

    def _classification_loss(self, logits, batch):
        c = self.config
        if c.loss == "focal":
            return focal_loss(
                logits.float(),
                batch["label"],
                batch.get("weight"),
                gamma=c.focal_gamma,
                alpha=c.focal_alpha,
            )
        return weighted_cross_entropy(logits.float(), batch["label"], batch.get("weight"))

    def _decorrelated(self, logits, batch):
        """(signal score, decorrelation variable, weights) of the jets the penalty sees."""
        d = self.config.decorrelation
        score = torch.softmax(logits.float(), dim=-1)[:, 1]
        keep = batch["label"] == 0 if d.background_only else torch.ones_like(score, dtype=bool)
        w = batch.get("weight")
        return score[keep], batch["decorrelate"][keep].float(), None if w is None else w[keep]

    def _penalty(self, logits, batch):
        from heplearn.decorrelation.penalties import (
            distance_correlation_squared,
            pearson_correlation_squared,
        )

        d = self.config.decorrelation
        score, m, w = self._decorrelated(logits, batch)
        if d.bias_corrected and w is not None and bool(torch.all(w == w[:1])):
            w = None  # equal weights (balance_classes on background only): exact without them
        if len(score) < (4 if d.bias_corrected else 2):
            return logits.new_zeros(())
        if d.method == "pearson":
            return pearson_correlation_squared(score, m, w)
        return distance_correlation_squared(score, m, w, bias_corrected=d.bias_corrected)

    def _loss(self, batch):
        logits = self(batch)
        loss = self._classification_loss(logits, batch)
        d = self.config.decorrelation
        if d is not None and d.method != "adversary" and d.strength > 0:
            loss = loss + d.strength * self._penalty(logits, batch)
        return loss

    def _check_finite(self, loss):
        if not torch.isfinite(loss):
            raise TrainingDivergedError(
                f"training loss became {loss.item()} at epoch {self.current_epoch}, step "
                f"{self.global_step}; the last good checkpoint is kept (lower --lr, or check "
                "the inputs for NaN)"
            )

    def training_step(self, batch, batch_idx):
        loss = self._loss(batch)
        self._check_finite(loss)
        self.log("train_loss", loss, prog_bar=True, batch_size=len(batch["label"]))
        return loss

    def on_validation_epoch_start(self) -> None:
        """Precise BatchNorm statistics for the weights being validated (and checkpointed
        next): see :func:`recalibrate_batch_norm`."""
        loader = self.trainer.train_dataloader
        n = self.config.batch_norm_calibration_batches
        if loader is not None and n:
            with self.trainer.precision_plugin.forward_context():
                recalibrate_batch_norm(self.tagger, loader, self.device, n)

    def validation_step(self, batch, batch_idx):
        loss = self._loss(batch)
        self.log("val_loss", loss, prog_bar=True, batch_size=len(batch["label"]), sync_dist=True)

    def _optimizer(self, params, lr):
        c = self.config
        if c.optimizer == "adamw":
            return torch.optim.AdamW(params, lr=lr, weight_decay=c.weight_decay)
        return torch.optim.SGD(
            params, lr=lr, momentum=c.momentum, weight_decay=c.weight_decay, nesterov=True
        )

    def _scheduler(self, opt):
        c = self.config
        # the schedule spans config.epochs even when a run is stopped earlier (max_epochs)
        per_epoch = self.trainer.estimated_stepping_batches / max(1, self.trainer.max_epochs)
        total = max(1, round(per_epoch * c.epochs))
        if c.schedule == "onecycle":
            return one_cycle(opt, c.lr, total, c.warmup_fraction)
        if c.schedule == "cosine":
            warmup = int(c.warmup_fraction * total)
            return torch.optim.lr_scheduler.LambdaLR(
                opt, lambda step: warmup_cosine(step, total, warmup)
            )
        return None

    def configure_optimizers(self):
        opt = self._optimizer(self.tagger.parameters(), self.config.lr)
        sched = self._scheduler(opt)
        if sched is None:
            return opt
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class AdversarialTaggerModule(TaggerModule):
    """Learning to pivot (Louppe, Kagan & Cranmer, arXiv:1611.01046) against the jet mass.

    An adversary r (:class:`~heplearn.decorrelation.adversary.MassAdversary`) predicts the
    mass bin of background jets from the classifier score; the classifier minimises
    L_clf − λ L_adv while the adversary minimises L_adv, with alternating updates
    (``adversary_steps`` adversary updates on the frozen classifier's scores of the batch,
    then one classifier update; an adversary that lags behind lets the classifier "fool" it
    by moving the mass dependence around instead of removing it). Pre-training as in the
    paper: during the first ``pretrain_epochs`` the classifier trains alone (λ = 0) while
    the adversary learns to read the mass from its output; λ switches on afterwards.
    The validation loss is the full objective L_clf − λ L_adv with the current adversary.
    Only the classifier (``tagger.*``) is what :func:`heplearn.training.engine.load_tagger`
    loads; the adversary stays in the checkpoint for resuming.
    """

    def __init__(self, tagger: nn.Module, config: TrainConfig, mass_edges):
        super().__init__(tagger, config)
        from heplearn.decorrelation.adversary import MassAdversary

        d = config.decorrelation
        self.adversary = MassAdversary(d.adversary_bins, d.adversary_hidden)
        self.register_buffer("mass_edges", torch.as_tensor(mass_edges, dtype=torch.float32))
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))
        self.automatic_optimization = False

    @property
    def classifier_steps(self) -> int:
        return int(self.steps_done)

    def _adversary_loss(self, logits, batch):
        from heplearn.decorrelation.adversary import mass_bin_index

        score, m, w = self._decorrelated(logits, batch)
        if len(score) == 0:
            return logits.new_zeros(())
        target = mass_bin_index(m, self.mass_edges)
        return weighted_cross_entropy(self.adversary(score).float(), target, w)

    def _lambda(self) -> float:
        d = self.config.decorrelation
        return d.strength if self.current_epoch >= d.pretrain_epochs else 0.0

    def training_step(self, batch, batch_idx):
        opt_clf, opt_adv = self.optimizers()
        d = self.config.decorrelation
        # one classifier forward: the adversary steps see its detached scores (the
        # classifier does not change until its own step below)
        logits = self(batch)
        for _ in range(d.adversary_steps):
            l_adv = self._adversary_loss(logits.detach(), batch)
            if not l_adv.requires_grad:
                break  # no background jet in this batch: nothing for the adversary to fit
            opt_adv.zero_grad()
            self.manual_backward(l_adv)
            opt_adv.step()
        l_clf = self._classification_loss(logits, batch)
        lam = self._lambda()
        loss = l_clf - lam * self._adversary_loss(logits, batch) if lam > 0 else l_clf
        self._check_finite(loss)
        opt_clf.zero_grad()
        self.manual_backward(loss)
        if self.config.gradient_clip_norm is not None:
            self.clip_gradients(
                opt_clf,
                gradient_clip_val=self.config.gradient_clip_norm,
                gradient_clip_algorithm="norm",
            )
        opt_clf.step()
        self.adversary.zero_grad(set_to_none=True)  # the classifier step must not leak here
        sched = self.lr_schedulers()
        if sched is not None:
            sched.step()
        self.steps_done += 1
        size = len(batch["label"])
        self.log("train_loss", loss, prog_bar=True, batch_size=size)
        self.log("adv_loss", l_adv, prog_bar=True, batch_size=size)
        return loss.detach()  # for the history (manual optimisation steps by itself)

    def validation_step(self, batch, batch_idx):
        logits = self(batch)
        loss = self._classification_loss(logits, batch)
        loss = loss - self.config.decorrelation.strength * self._adversary_loss(logits, batch)
        self.log("val_loss", loss, prog_bar=True, batch_size=len(batch["label"]), sync_dist=True)

    def configure_optimizers(self):
        d = self.config.decorrelation
        opt_clf = self._optimizer(self.tagger.parameters(), self.config.lr)
        opt_adv = torch.optim.Adam(self.adversary.parameters(), lr=d.adversary_lr)
        sched = self._scheduler(opt_clf)
        if sched is None:
            return [opt_clf, opt_adv]
        return [opt_clf, opt_adv], [{"scheduler": sched, "interval": "step"}]
