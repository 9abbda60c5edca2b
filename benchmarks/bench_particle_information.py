"""What do the particle-flow networks learn from? PFN with and without particle identity, EFN.

Run by hand: ``.venv/bin/python benchmarks/bench_particle_information.py [--jets 30000]``.

On the Top Quark Tagging Reference Dataset (arXiv:1902.09914) the Energy Flow Network is
0.003 in AUC below the Particle Flow Network (0.9789 against 0.9819): the price of
infrared and collinear safety, since both saw four-momenta only. In heplearn's landscape,
with kinematic inputs for both, the gap is 0.003 (quick) and 0.007 (100k training jets)
since PFN and EFN standardise their latent vector (``latent_norm``); with the published
architecture it was 0.007 and 0.019. This benchmark
trains, on the same ``atlas-like`` top sample, splits, seed and budget as
``heplearn landscape top --quick`` (6 epochs, small presets, 48 constituents):

* ``pfn`` with ``particle_features="kinpid"`` (kinematics + charge + particle type),
* ``pfn`` with ``particle_features="kinematic"`` (what a four-momentum gives),
* ``efn`` (momentum fractions and angles only: IRC safe),

and prints AUC and 1/eps_B at eps_S = 0.3 and 0.5, so the PFN-EFN gap splits into the
part particle identity buys and the part IRC safety costs (Komiske, Metodiev, Thaler,
arXiv:1810.05165). Then the observable BDT with all 14 observables, without the
constituent multiplicity (the one IRC-unsafe observable besides p_TD) and without the
charged fraction (the one that needs charge), on the same splits. The dataset is cached
under ``data/``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from heplearn.evaluation.metrics import auc, background_rejection
from heplearn.physics.observables import OBSERVABLE_NAMES
from heplearn.simulate import generate
from heplearn.training import TrainConfig, load_tagger, predict, train
from heplearn.training.engine import load_jets, split_indices, subset, train_on_arrays
from heplearn.training.inputs import build_inputs

CASES = (
    ("pfn", "kinpid"),
    ("pfn", "kinematic"),
    ("efn", "kinematic"),
)


def _fmt(rejection) -> str:
    """1/eps_B, as "> N" when fewer than 20 background jets pass (a lower bound)."""
    return f"{'> ' if rejection.is_lower_bound else ''}{rejection.value:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jets", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()

    path = Path("data") / f"top-atlas-like-{args.jets}-seed{args.seed}"
    generate(
        "top", path, n_jets=args.jets, seed=args.seed, detector="atlas-like", workers=args.workers
    )
    print(f"top vs QCD at atlas-like, {args.jets} jets, seed {args.seed}; test split 20%")
    print(f"{'model':5s} {'inputs':26s} {'AUC':>7s} {'R30':>7s} {'R50':>7s}")
    for model, features in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            res = train(
                path,
                tmp,
                model=model,
                seed=args.seed,
                epochs=args.epochs,
                batch_size=256,
                max_particles=48,
                particle_features=features,
                progress=False,
            )
            arrays, test = res.extra["arrays"], res.extra["test_index"]
            scores = predict(load_tagger(tmp), {k: v[test] for k, v in arrays.items()})
            y = arrays["label"][test]
        r30, r50 = (_fmt(background_rejection(scores, y, eff)) for eff in (0.3, 0.5))
        shown = "z_i and angles" if model == "efn" else features  # EFN ignores the features
        print(
            f"{model:5s} {shown:26s} {auc(scores, y):7.4f} {r30:>7s} {r50:>7s}",
            flush=True,
        )
    observable_bdts(path, args.seed)


def observable_bdts(path: Path, seed: int) -> None:
    """The BDT on all jet observables and without one of them, same splits and seed."""
    config = TrainConfig.cast(model="bdt", seed=seed, jet_radius=0.8, progress=False)
    table, _ = load_jets(path)
    arrays = build_inputs(table, {"jet_features"}, config)
    splits = split_indices(len(table), config.val_fraction, config.test_fraction, config.split_seed)
    for dropped in (None, "multiplicity", "charged_fraction"):
        keep = [i for i, name in enumerate(OBSERVABLE_NAMES) if name != dropped]
        mine = {**arrays, "jet_features": arrays["jet_features"][:, keep]}
        with tempfile.TemporaryDirectory() as tmp:
            train_on_arrays(subset(mine, splits["train"]), subset(mine, splits["val"]), config, tmp)
            test = subset(mine, splits["test"])
            scores = predict(load_tagger(tmp), test)
        r30, r50 = (_fmt(background_rejection(scores, test["label"], e)) for e in (0.3, 0.5))
        shown = "14 observables" if dropped is None else f"without {dropped}"
        print(
            f"bdt   {shown:26s} {auc(scores, test['label']):7.4f} {r30:>7s} {r50:>7s}", flush=True
        )


if __name__ == "__main__":
    main()
