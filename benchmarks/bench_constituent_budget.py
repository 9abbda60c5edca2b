"""How much do the landscape's networks lose by seeing only their hardest constituents?

Run by hand (minutes per model on 2 cores)::

    .venv/bin/python benchmarks/bench_constituent_budget.py [--models pfn efn]
        [--presets small default] [--particles 48 128]

To keep the medium landscape (``heplearn landscape top --medium``) within hours on a CPU,
its networks saw the 48 hardest constituents of a jet (ParT 32, LorentzNet 16), while the
observable BDT's 14 observables are computed from every constituent; since these
measurements the PFN, EFN and LSTM see all of them (up to 128), ParticleNet and
ParticleNet-Lite still 48. On the medium sample
81% of the top jets and 44% of the QCD jets have more than 48 constituents (fewer than 0.2%
more than 128), and ``bench_observable_taggers.py`` shows that the BDT on the observables
of the 48 hardest constituents falls from AUC 0.9877 / 1/eps_B 1499 to 0.9854 / 863. The
published PFN and EFN saw every constituent (up to 200, arXiv:1810.05165), ParticleNet
up to 100 (arXiv:1902.08570).

This trains the given models and presets with each constituent budget on the medium
landscape's own data, splits, seed, epoch budget (per model: ParticleNet-Lite 6, ...) and
test set (the 40k held-out jets and the 200k independent ones), and prints AUC and
1/eps_B at eps_S = 0.3 and 0.5 with their bootstrap uncertainties (100 resamples), so a
network that sees everything can be set against the BDT that does.

Measured 2026-11-30 (2-core machine, two torch threads, otherwise idle): PFN small with 128
constituents 0.9860 / 718 ± 60 / 268 ± 13 (157 s; the landscape's 48: 0.9860 / 655 / 247),
PFN default 0.9877 / 1110 ± 113 / 366 ± 20 (682 s; 48: 0.9870 / 991 / 291);
ParticleNet-Lite (published size, 6 epochs) 0.9864 / 652 ± 53 / 255 ± 12 (about 50 min,
half of it sharing the CPU; 48: 0.9857 / 524 / 213); the BDT on all constituents
0.9877 / 1499 ± 178 / 397 ± 22 (AUC, 1/eps_B at 0.3 and 0.5). EFN small on one thread,
beside the landscape: 128 constituents 0.9743 / 159 ± 6 / 69 ± 2 (294 s), 48 constituents
0.9606 / 72 ± 2 / 36 ± 1 (56 s: stopped early; the landscape's two-thread training of the
same configuration reached 0.9792 / 206 / 95).

``--features`` compares particle feature sets. ``--models dnn --particles 30 --features
kinematic topodnn`` (2026-11-30, same machine): the small DNN 0.9658 / 105 ± 3 / 47 ± 1 on
the seven kinematic features, 0.9651 / 135 ± 5 / 50 ± 1 in TopoDNN's aligned frame
(arXiv:1704.02124); TopoDNN's own layers (300, 102, 12, 6) 0.9481 / 35 / 21 on the
kinematic features, 0.9663 / 155 ± 6 / 54 ± 1 in the aligned frame (59,330 parameters, as
published). 14–24 s of training each.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time

from heplearn.evaluation.landscape import SIZES, _fmt_rejection, _test_set
from heplearn.evaluation.metrics import evaluate_scores
from heplearn.training import TrainConfig, load_tagger, predict
from heplearn.training.engine import load_jets, split_indices, subset, train_on_arrays
from heplearn.training.inputs import build_inputs, required_inputs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="data/top-atlas-like-160000-seed1")
    parser.add_argument("--test-data", default="data/top-atlas-like-200000-seed1001")
    parser.add_argument("--models", nargs="+", default=["pfn"])
    parser.add_argument("--presets", nargs="+", default=["small", "default"])
    parser.add_argument("--particles", nargs="+", type=int, default=[128])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--features",
        nargs="+",
        default=["kinematic"],
        help="particle feature sets (kinematic: the landscape's top networks; topodnn: "
        "TopoDNN's aligned frame) or comma-separated feature names",
    )
    args = parser.parse_args()

    size = SIZES["medium"]
    table, source = load_jets(args.data)
    extra_table, extra_source = load_jets(args.test_data)
    print(
        f"{'model':6s} {'preset':8s} {'P':>4s} {'features':>9s} {'params':>8s} {'AUC':>15s} "
        f"{'1/eB @ 0.3':>11s} {'@ 0.5':>10s} {'train s':>8s}"
    )
    for n_particles, features in itertools.product(args.particles, args.features):
        config = TrainConfig.cast(
            None,
            seed=args.seed,
            epochs=size.epochs,
            batch_size=size.batch_size,
            max_particles=n_particles,
            val_fraction=size.val_fraction,
            test_fraction=size.test_fraction,
            jet_radius=0.8,
            particle_features=features.split(",") if "," in features else features,
            progress=False,
        )
        splits = split_indices(len(table), size.val_fraction, size.test_fraction, config.split_seed)
        keys = required_inputs(args.models)
        arrays = build_inputs(table, keys, config)
        extra = build_inputs(extra_table, keys, config)
        _, test = _test_set(table, arrays, splits["test"], extra_table, extra)
        for model in args.models:
            for preset in args.presets:
                epochs = size.epochs_for.get(model, size.epochs)  # the landscape's budget
                cfg = config.model_copy(update={"model": model, "preset": preset, "epochs": epochs})
                with tempfile.TemporaryDirectory() as tmp:
                    t0 = time.perf_counter()
                    result = train_on_arrays(
                        subset(arrays, splits["train"]), subset(arrays, splits["val"]), cfg, tmp
                    )
                    seconds = time.perf_counter() - t0
                    s = predict(load_tagger(tmp), test)
                m = evaluate_scores(s, test["label"], bootstrap=100, seed=args.seed)
                print(
                    f"{model:6s} {preset:8s} {n_particles:4d} {features[:9]:>9s} "
                    f"{result.parameters:8,d} "
                    f"{m['auc']:.4f} ± {m['auc_uncertainty']:.4f} {_fmt_rejection(m, 0.3):>11s} "
                    f"{_fmt_rejection(m, 0.5):>10s} {seconds:8.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
