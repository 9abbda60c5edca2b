"""Training and inference throughput (jets/s) of every torch model on CPU (or a GPU).

    python benchmarks/bench_models.py [--threads N] [--particles 128] [--models part ...]

For each model at its ``default`` and ``small`` preset: parameter count, training jets/s
(forward + backward + AdamW step, train mode) and inference jets/s (eval, no_grad), on toy
top-like jets with P = 128 slots of which 20–100 are real (random per jet). Batch 256, or
smaller for the models whose activations scale with P² (``part``, ``lorentznet``, ``lgatr``).

If weaver-core is importable (``pip install weaver-core`` in a benchmark environment, never a
heplearn dependency), ``particlenet`` and ``part`` are also timed against weaver's reference
``ParticleNet`` / ``ParticleTransformer`` with the same configuration and inputs, and
``--rounds R`` then interleaves heplearn's and weaver's training steps and inference passes R
times (so that a machine whose speed drifts does not favour either) and prints the median
ratio with its quartiles.
``--device cuda --bf16 --batch 512`` times the same on a GPU with bf16 autocast (the engine's
GPU default). Numbers go to stdout; nothing is written.
"""

from __future__ import annotations

import argparse
import time

import torch

from heplearn import models
from heplearn.errors import MissingDependencyError

N_FEATURES = 7
BATCH = {"part": 64, "lorentznet": 16, "lgatr": 32}


def toy_batch(b: int, p: int, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    n = torch.randint(20, 101, (b,), generator=g).clamp(max=p)
    mask = torch.arange(p)[None] < n[:, None]
    m = mask.float()[..., None]
    pt = torch.sort(torch.rand(b, p, generator=g) * 100 + 0.5, dim=1, descending=True).values
    deta, dphi = 0.3 * torch.randn(b, p, generator=g), 0.3 * torch.randn(b, p, generator=g)
    px, py, pz = pt * torch.cos(dphi), pt * torch.sin(dphi), pt * torch.sinh(deta)
    e = torch.sqrt(px**2 + py**2 + pz**2)
    fts = torch.stack(
        [deta, dphi, pt.log(), e.log(), (pt / 600).log(), (e / 600).log(), deta.hypot(dphi)], -1
    )
    return {
        "features": fts * m,
        "points": torch.stack([deta, dphi], -1) * m,
        "vectors": torch.stack([e, px, py, pz], -1) * m,
        "image": torch.rand(b, 1, 40, 40, generator=g),
        "mask": mask,
    }


def dims(name: str) -> dict:
    if name == "cnn":
        return {"image_size": 40}
    if name in ("efn", "lorentznet", "lgatr"):
        return {}
    return {"n_features": N_FEATURES}


def timed(fn, min_time: float = 2.0, min_reps: int = 3) -> float:
    fn()  # warm-up
    reps, t0 = 0, time.perf_counter()
    while reps < min_reps or time.perf_counter() - t0 < min_time:
        fn()
        reps += 1
    return (time.perf_counter() - t0) / reps


def throughput(model, batch, forward=None, device="cpu", bf16=False) -> tuple[float, float]:
    b = batch["mask"].shape[0]
    train_step, infer = _steps(model, batch, forward, device, bf16)
    rates = b / timed(train_step), b / timed(infer)
    loss = train_step()
    if not torch.isfinite(loss):
        print(f"  ! training loss {loss.item()} (not finite)")
    return rates


def weaver_models():
    """(name, reference module, forward) for weaver-core's implementations, if installed."""
    try:
        from weaver.nn.model.ParticleNet import ParticleNet
        from weaver.nn.model.ParticleTransformer import ParticleTransformer
    except ImportError:
        return []
    pn = ParticleNet(
        N_FEATURES, 2,
        conv_params=[(16, (64, 64, 64)), (16, (128, 128, 128)), (16, (256, 256, 256))],
        fc_params=[(256, 0.1)], use_fusion=False, use_fts_bn=True, use_counts=True,
    )  # fmt: skip

    def pn_forward(m, b):
        mask = b["mask"][:, None].float()
        return m(b["points"].transpose(1, 2), b["features"].transpose(1, 2).clone(), mask)

    part = ParticleTransformer(N_FEATURES, 2, fc_params=[])

    def part_forward(m, b):
        v = b["vectors"][..., [1, 2, 3, 0]].transpose(1, 2)
        return m(b["features"].transpose(1, 2), v, b["mask"][:, None].float())

    return [("particlenet", pn, pn_forward), ("part", part, part_forward)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--particles", type=int, default=128)
    ap.add_argument("--models", nargs="*", default=None)
    ap.add_argument("--presets", nargs="*", default=["default", "small"])
    ap.add_argument("--rounds", type=int, default=0, help="interleaved heplearn/weaver rounds")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or mps")
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast (the GPU default)")
    ap.add_argument("--batch", type=int, default=None, help="jets per batch for every model")
    args = ap.parse_args()
    if args.rounds == 1:
        ap.error("--rounds needs at least 2 rounds for the quartiles of the ratio")
    torch.set_num_threads(args.threads)
    on = {"device": args.device, "bf16": args.bf16}
    if args.batch:
        BATCH.update(dict.fromkeys(("part", "lorentznet", "lgatr"), args.batch))
        BATCH["other"] = args.batch
    names = args.models or [
        n for n in models.available_models() if models.model_info(n).kind == "torch"
    ]
    cuda = torch.device(args.device).type == "cuda"
    where = torch.cuda.get_device_name(args.device) if cuda else f"{args.threads} threads"
    print(f"torch {torch.__version__}, {where}, P = {args.particles}, bf16 {args.bf16}")
    print(f"{'model':<18}{'preset':<9}{'params':>11}{'batch':>7}{'train jets/s':>14}"
          f"{'infer jets/s':>14}")  # fmt: skip
    batches: dict[int, dict] = {}
    for name in names:
        for preset in args.presets:
            torch.manual_seed(0)
            try:
                model = models.create(name, preset=preset, **dims(name))
            except MissingDependencyError as err:
                print(f"{name:<18}{preset:<9} skipped: {err}")
                break
            b = batch_size(name, preset)
            batch = batches.setdefault(b, toy_batch(b, args.particles))
            params = sum(p.numel() for p in model.parameters())
            tr, inf = throughput(model, batch, device=args.device, bf16=args.bf16)
            print(f"{name:<18}{preset:<9}{params:>11,}{b:>7}{tr:>14,.0f}{inf:>14,.0f}")
    refs = [r for r in weaver_models() if r[0] in names]
    if refs:
        print("\nweaver-core reference implementations (same configuration and inputs):")
        for name, ref, fwd in refs:
            b = batch_size(name, "default")
            batch = batches.setdefault(b, toy_batch(b, args.particles))
            params = sum(p.numel() for p in ref.parameters())
            tr, inf = throughput(ref, batch, fwd, **on)
            print(
                f"{'weaver ' + name:<18}{'default':<9}{params:>11,}{b:>7}{tr:>14,.0f}{inf:>14,.0f}"
            )
        for name, ref, fwd in refs if args.rounds > 0 else ():
            paired_rounds(name, ref, fwd, batches[batch_size(name, "default")], args.rounds, **on)


def batch_size(name: str, preset: str) -> int:
    """Jets per batch: ``BATCH`` for the default presets, else 256 (or ``--batch``)."""
    other = BATCH.get("other", 256)
    return BATCH.get(name, other) if preset == "default" else other


def _steps(model, batch, forward=None, device="cpu", bf16=False):
    """(one training step, one inference pass) of ``model`` on ``batch``, as closures, on
    ``device`` (each waits for the device to finish), with bf16 autocast if asked."""
    forward = forward or (lambda m, b: m(b))
    model.to(device)
    batch = {k: v.to(device) for k, v in batch.items()}
    labels = torch.randint(0, 2, (batch["mask"].shape[0],)).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    autocast = torch.autocast(torch.device(device).type, torch.bfloat16, enabled=bf16)
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else lambda: None

    def train_step():
        model.train()
        opt.zero_grad()
        with autocast:
            logits = forward(model, batch)
        loss = torch.nn.functional.cross_entropy(logits.float(), labels)
        loss.backward()
        opt.step()
        sync()
        return loss.detach()

    def infer():
        model.eval()
        with torch.no_grad(), autocast:
            forward(model, batch)
        sync()

    return train_step, infer


def paired_rounds(name: str, ref, forward, batch, rounds: int, device="cpu", bf16=False):
    """heplearn's default preset against weaver's, interleaved step by step.

    Round i times one training step and one inference pass of each implementation, the
    order alternating between rounds, so the two see the same machine state (this shared
    machine's speed drifts by tens of per cent within a minute). Prints the median rates
    and the median and quartiles of the per-round ratios.
    """
    import statistics

    torch.manual_seed(0)
    mine = _steps(models.create(name, preset="default", **dims(name)), batch, None, device, bf16)
    theirs = _steps(ref, batch, forward, device, bf16)
    for _ in range(6):  # warm-up; weaver's ParT also starts trimming after 5 steps
        for f in (*mine, *theirs):
            f()
    times: dict[tuple[str, int], list[float]] = {(w, k): [] for w in "mt" for k in (0, 1)}
    for i in range(rounds):
        order = (("m", mine), ("t", theirs)) if i % 2 == 0 else (("t", theirs), ("m", mine))
        for k in (0, 1):
            for who, steps in order:
                t0 = time.perf_counter()
                steps[k]()
                times[who, k].append(time.perf_counter() - t0)
    b = batch["mask"].shape[0]
    for k, what in ((0, "training"), (1, "inference")):
        ratio = [t / m for m, t in zip(times["m", k], times["t", k], strict=True)]
        q1, med, q3 = statistics.quantiles(ratio, n=4)
        print(
            f"{name} {what}: heplearn {b / statistics.median(times['m', k]):,.1f} jets/s, "
            f"weaver {b / statistics.median(times['t', k]):,.1f} jets/s; heplearn / weaver "
            f"over {rounds} interleaved rounds: median {med:.2f}x (quartiles {q1:.2f}-{q3:.2f})"
        )


if __name__ == "__main__":
    main()
