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
of the 48 hardest constituents falls from AUC 0.9877 / 1/eps_B 1378 to 0.9854 / 869. The
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
0.9877 / 1499 ± 178 / 397 ± 22 (AUC, 1/eps_B at 0.3 and 0.5; 1378 ± 160 / 395 ± 23 in the
fresh environment of 2026-12-01). EFN small on one thread,
beside the landscape: 128 constituents 0.9743 / 159 ± 6 / 69 ± 2 (294 s), 48 constituents
0.9606 / 72 ± 2 / 36 ± 1 (56 s: stopped early; the landscape's two-thread training of the
same configuration reached 0.9792 / 206 / 95).

``--models pfn --presets small --particles 48 128 --seeds 1 2 3 --test-data none``
(2026-12-01, precise BatchNorm, one thread beside other jobs; AUC / 1/eps_B at 0.3 on the
40k held-out jets): 48 constituents 0.9859 / 664, 0.9853 / 623, 0.9858 / 643; every
constituent 0.9868 / 949, 0.9866 / 866, 0.9868 / 866 (seeds 1, 2, 3; 366–492 s each).

``--features`` compares particle feature sets. ``--models dnn --particles 30 --features
kinematic topodnn`` (2026-11-30, same machine): the small DNN 0.9658 / 105 ± 3 / 47 ± 1 on
the seven kinematic features, 0.9651 / 135 ± 5 / 50 ± 1 in TopoDNN's aligned frame
(arXiv:1704.02124); TopoDNN's own layers (300, 102, 12, 6) 0.9481 / 35 / 21 on the
kinematic features, 0.9663 / 155 ± 6 / 54 ± 1 in the aligned frame (59,330 parameters, as
published). 14–24 s of training each.

``--models efn --particles 48 128 --pt-fractions 0.002 --cross --test-data none`` (AUC /
1/eps_B at 0.3 and 0.5 on the 40k held-out jets, 2026-11-30, busy machine, precise
BatchNorm): the hardest 48 0.9790 / 199 ± 22 / 86 ± 6 (tested on whole jets 0.9720);
whole jets 0.9736 / 138 ± 12 / 64 ± 3 (tested on their 48 hardest 0.9778 / 195); z >=
0.002 (42.6 constituents on average, as the rank cut's 43.0; before precise BatchNorm)
0.9744 / 132 ± 11 / 69 ± 4 (tested on the 48 hardest 0.9784). A cut to the hardest N is
not infrared and collinear safe: the EFN's gain with it is the jet multiplicity it
leaks (see heplearn.models.deepsets).

All EFN numbers above were measured with PyTorch's default initialisation of its Phi,
``--overrides '{"phi_init": "torch"}'`` since 2026-12-01. With EnergyFlow's, the EFN's
default since then, ``--models efn --presets small --particles 48 128 --cross
--test-data none --seeds 1 2 3`` (2026-12-01, one thread beside other jobs; AUC / 1/eps_B
at 0.3 on the 40k held-out jets): the 48 hardest 0.9805 / 269, 0.9808 / 307, 0.9809 / 307
(tested on whole jets 0.9766-0.9771); every constituent 0.9795 / 391, 0.9799 / 424,
0.9799 / 486 (tested on the 48 hardest 0.9804-0.9807). ``--models efn --presets small
--particles 128 --pt-fractions 0.002 --cross --test-data none --seeds 1 2 3`` (2026-12-01,
two threads, otherwise idle): every constituent 0.9798 / 383, 0.9798 / 475, 0.9801 / 407
(tested at z >= 0.002: 0.9800 / 399, 0.9799 / 415, 0.9803 / 383); z >= 0.002 0.9794 / 327,
0.9798 / 433, 0.9798 / 362 (tested on every constituent: 0.9789 / 338, 0.9793 / 443,
0.9792 / 362); 232-556 s of training each.
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
import time

import numpy as np

from heplearn.evaluation.landscape import SIZES, _feature_names, _fmt_rejection, _test_set
from heplearn.evaluation.metrics import evaluate_scores
from heplearn.training import TrainConfig, load_tagger, predict
from heplearn.training.engine import load_jets, split_indices, subset, train_on_arrays
from heplearn.training.inputs import build_inputs, required_inputs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="data/top-atlas-like-160000-seed1")
    parser.add_argument(
        "--test-data",
        default="data/top-atlas-like-200000-seed1001",
        help="the independent test sample added to the 40k held-out jets ('none': those only)",
    )
    parser.add_argument("--models", nargs="+", default=["pfn"])
    parser.add_argument("--presets", nargs="+", default=["small", "default"])
    parser.add_argument("--particles", nargs="+", type=int, default=[128])
    parser.add_argument(
        "--pt-fractions",
        nargs="+",
        type=float,
        default=[],
        help="also train with the constituents of z = pT / sum pT >= each value (of the "
        "hardest max(--particles)): a cut that, unlike one on the hardest N, does not depend "
        "on how many soft constituents a jet has",
    )
    parser.add_argument(
        "--cross",
        action="store_true",
        help="evaluate every model also with the test jets cut to each other budget",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[1])
    parser.add_argument(
        "--overrides",
        default="{}",
        help='model constructor arguments as JSON, e.g. \'{"phi_init": "torch"}\' '
        "(the EFN's initialisation before 2026-12-01)",
    )
    parser.add_argument(
        "--features",
        nargs="+",
        default=["kinematic"],
        help="particle feature sets (kinematic: the landscape's top networks; topodnn: "
        "TopoDNN's aligned frame) or comma-separated feature names",
    )
    args = parser.parse_args()
    try:
        overrides = json.loads(args.overrides)
    except json.JSONDecodeError as err:
        parser.error(f"--overrides is not JSON ({err}): {args.overrides!r}")
    if not isinstance(overrides, dict):
        parser.error(f"--overrides must be a JSON object, not {args.overrides!r}")

    features_of = {f: f.split(",") if "," in f else f for f in args.features}
    aligned = {f for f in args.features if any("aligned" in n for n in _names(features_of[f]))}
    if aligned and (args.pt_fractions or args.cross):
        parser.error(
            "--pt-fractions and --cross cut the constituents after the inputs are built, "
            "which TopoDNN's aligned frame (built from the kept constituents) does not allow"
        )
    size = SIZES["medium"]
    table, _ = load_jets(args.data)
    extra_table = None
    if args.test_data != "none":
        extra_table, _ = load_jets(args.test_data)
    keys = required_inputs(args.models) | ({"vectors"} if args.pt_fractions else set())
    budgets = [("hardest", n) for n in args.particles] + [("z", f) for f in args.pt_fractions]
    print(
        f"{'model':6s} {'preset':8s} {'budget':>8s} {'features':>9s} {'seed':>4s} "
        f"{'params':>8s} {'AUC':>15s} {'1/eB @ 0.3':>11s} {'@ 0.5':>10s} {'train s':>8s}"
    )
    for features in args.features:
        built = None
        for budget in budgets:
            # every budget cuts the inputs built with the most constituents, except for the
            # aligned frame, which is built from the constituents kept
            n_built = budget[1] if features in aligned else max(args.particles)
            if built is None or built[0] != n_built:
                config = TrainConfig.cast(
                    None,
                    epochs=size.epochs,
                    batch_size=size.batch_size,
                    max_particles=n_built,
                    val_fraction=size.val_fraction,
                    test_fraction=size.test_fraction,
                    jet_radius=0.8,
                    particle_features=features_of[features],
                    progress=False,
                )
                splits = split_indices(
                    len(table), size.val_fraction, size.test_fraction, config.split_seed
                )
                arrays = build_inputs(table, keys, config)
                extra = None if extra_table is None else build_inputs(extra_table, keys, config)
                _, test = _test_set(table, arrays, splits["test"], extra_table, extra)
                built = (n_built, config, arrays, test)
            _, config, arrays, test = built
            kept = restrict(arrays, budget)
            for model, preset, seed in itertools.product(args.models, args.presets, args.seeds):
                epochs = size.epochs_for.get(model, size.epochs)  # the landscape's budget
                cfg = config.model_copy(
                    update={
                        "model": model,
                        "preset": preset,
                        "epochs": epochs,
                        "seed": seed,
                        "model_overrides": overrides,
                    }
                )
                with tempfile.TemporaryDirectory() as tmp:
                    t0 = time.perf_counter()
                    result = train_on_arrays(
                        subset(kept, splits["train"]), subset(kept, splits["val"]), cfg, tmp
                    )
                    seconds = time.perf_counter() - t0
                    tagger = load_tagger(tmp)
                    tested = [budget] + [b for b in budgets if b != budget and args.cross]
                    for i, at in enumerate(tested):
                        s = predict(tagger, restrict(test, at))
                        m = evaluate_scores(s, test["label"], bootstrap=100, seed=seed)
                        head = (
                            f"{model:6s} {preset:8s} {_label(budget):>8s} {features[:9]:>9s} "
                            f"{seed:4d} {result.parameters:8,d}"
                            if i == 0
                            else f"{'tested at ' + _label(at):>48s}"
                        )
                        print(
                            f"{head} {m['auc']:.4f} ± {m['auc_uncertainty']:.4f} "
                            f"{_fmt_rejection(m, 0.3):>11s} {_fmt_rejection(m, 0.5):>10s}"
                            + (f" {seconds:8.0f}" if i == 0 else ""),
                            flush=True,
                        )


def restrict(arrays: dict, budget: tuple[str, float]) -> dict:
    """The inputs with only the constituents a budget keeps (the others masked and zeroed):
    ``("hardest", n)`` a jet's n hardest (they are pT-ordered), ``("z", f)`` those with
    pT_i >= f * sum_j pT_j over the jet's constituents given."""
    kind, value = budget
    mask = arrays["mask"].copy()
    if kind == "hardest":
        mask[:, int(value) :] = False
    else:
        v = arrays["vectors"].astype(np.float64)
        pt = np.hypot(v[..., 1], v[..., 2]) * mask
        mask &= pt >= value * pt.sum(axis=1, keepdims=True)
    out = dict(arrays, mask=mask)
    for key in ("features", "points", "vectors"):
        if key in arrays:
            out[key] = arrays[key] * mask[..., None]
    return out


def _label(budget: tuple[str, float]) -> str:
    kind, value = budget
    return f"{value:d}" if kind == "hardest" else f"z>={value:g}"


def _names(features) -> tuple[str, ...]:
    return _feature_names(features) if isinstance(features, str) else tuple(features)


if __name__ == "__main__":
    main()
