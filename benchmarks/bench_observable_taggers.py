"""Which observables make the observable BDT the best tagger of the medium landscape?

Run by hand, after ``heplearn landscape top --medium`` (it reuses that run's cached
observables, so it takes a few minutes)::

    .venv/bin/python benchmarks/bench_observable_taggers.py \\
        [--data data/top-atlas-like-160000-seed1] \\
        [--test-data data/top-atlas-like-200000-seed1001] [--run runs/landscape-medium]

The medium landscape's BDT on the 14 jet observables (AUC 0.9877, 1/eps_B = 1378 at
eps_S = 0.3) beats every network there, while on the Top Quark Tagging Reference Dataset
(arXiv:1902.09914) no observable tagger passes AUC 0.981 / 1/eps_B 867 (the N-subjettiness
networks of Moore et al., arXiv:1807.04769; the linear EFP classifier, arXiv:1712.07124,
0.980 / 384). Those taggers differ from ours in two ways: their *inputs* (an
N-subjettiness basis or energy flow polynomials: infrared- and collinear-safe, no
multiplicity) and, for the EFP one, a *linear* classifier. This benchmark separates the
two on the landscape's own splits and test set (100k training jets; the 40k held-out jets
plus the 200k independent ones):

* the BDT on all 14 observables (reproduces the landscape row),
* the BDT on the 11 infrared- and collinear-safe (or Sudakov-safe: the ratios) ones,
  without the constituent multiplicity, p_TD and the charged fraction,
* the same 11 with the jet mass and soft-drop mass divided by the jet's p_T: what a tagger
  that sees only energy fractions and angles (an EFN) can know of them,
* the BDT on the jet mass and τ1, τ2, τ3 (a three-body N-subjettiness basis plus mass),
* the BDT on the soft-drop mass and τ32 (the cut-based tagger's two inputs),
* a small neural network (scikit-learn ``MLPClassifier``) on the 14 standardised
  observables: a non-linear classifier that is not a tree ensemble,
* the BDT on the 14 observables computed from the 48 hardest constituents only (what
  ParticleNet and ParticleNet-Lite see in the medium landscape, and every network saw
  before the PFN, EFN and LSTM were given all constituents; ``--network-constituents``),
* the logistic regression on the 14 (linear, as the reference's EFP tagger),

and prints, for orientation, the AUC of every single observable used as the score.
1/eps_B is a lower bound ("> N") when fewer than 20 background jets pass. The MLP is
fitted on the training and validation jets together and early-stops on its own seeded
random validation part of the same size.

Measured 2026-12-01 (README, "Where it breaks, and why"; 8.6 min beside another job,
6.3 GB peak): BDT 0.9877 / 1378 / 395, MLP 0.9879 / 1318 / 409, 11 IRC-safe 0.9848 / 999 /
273, mass + tau1,2,3 0.9835 / 915 / 240, m_SD + tau32 0.9736 / 749 / 175, 48 hardest
constituents 0.9854 / 869 / 248, logreg 0.9781 / 196 / 100 (AUC, 1/eps_B at 0.3, 0.5).
The 2026-11-30 run, with the same code in an earlier environment, gave BDT 1499, MLP 1363
and 48 hardest 863 at eps_S = 0.3, the other rows identical.

``--test-data none`` (the 40k held-out jets only; 2026-12-01, beside two trainings): BDT
0.9875 / > 911 / 369, 11 IRC-safe 0.9846 / 866 ± 175 / 262, the same with masses / p_T
0.9836 / 949 ± 226 / 226, mass + tau1,2,3 0.9834 / 906, m_SD + tau32 0.9732 / 643, MLP
0.9877 / > 964, 48 hardest constituents 0.9856 / 866, logreg 0.9784 / 195.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import awkward as ak
import numpy as np

from heplearn.evaluation.landscape import SIZES, _fmt_rejection, _inputs, _test_set
from heplearn.evaluation.metrics import auc, evaluate_scores
from heplearn.physics.observables import OBSERVABLE_NAMES
from heplearn.training import TrainConfig, load_tagger, predict
from heplearn.training.engine import load_jets, split_indices, subset, train_on_arrays
from heplearn.training.inputs import build_inputs

IRC_UNSAFE = ("multiplicity", "ptd", "charged_fraction")
IRC_SAFE = tuple(n for n in OBSERVABLE_NAMES if n not in IRC_UNSAFE)
MASSES = ("mass", "softdrop_mass")
#: label -> (observables, whether the masses are divided by the jet p_T)
SUBSETS = {
    "14 observables": (OBSERVABLE_NAMES, False),
    "11 IRC-safe (no n, p_TD, f_ch)": (IRC_SAFE, False),
    "11 IRC-safe, masses / p_T": (IRC_SAFE, True),
    "mass, tau1, tau2, tau3": (("mass", "tau1", "tau2", "tau3"), False),
    "m_SD, tau32": (("softdrop_mass", "tau32"), False),
}


def _line(model: str, inputs: str, m: dict, seconds: float) -> None:
    print(
        f"{model:7s} {inputs:32s} {m['auc']:.4f} ± {m['auc_uncertainty']:.4f} "
        f"{_fmt_rejection(m, 0.3):>11s} {_fmt_rejection(m, 0.5):>10s} {seconds:7.0f}",
        flush=True,
    )


def _columns(arrays: dict, names, pt: np.ndarray | None = None) -> dict:
    """The observables ``names``; with the jets' ``pt``, the masses divided by it (m / p_T:
    what a tagger that sees only energy fractions and angles, as an EFN, can know of them)."""
    x = arrays["jet_features"].copy()
    if pt is not None:
        for name in MASSES:
            x[:, OBSERVABLE_NAMES.index(name)] /= pt
    keep = [OBSERVABLE_NAMES.index(n) for n in names]
    return {**arrays, "jet_features": x[:, keep]}


def _hardest_only(table, n: int):
    """The jets with only their ``n`` hardest constituents (the table is pT-ordered)."""
    return ak.with_field(table, table["constituents"][:, :n], "constituents")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="data/top-atlas-like-160000-seed1")
    parser.add_argument(
        "--test-data",
        default="data/top-atlas-like-200000-seed1001",
        help="the independent test sample added to the 40k held-out jets ('none': those only)",
    )
    parser.add_argument("--run", default="runs/landscape-medium", help="observable cache")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bootstrap", type=int, default=100)
    parser.add_argument(
        "--network-constituents",
        type=int,
        default=48,
        help="constituents of the trimmed observables (the medium ParticleNet's 48)",
    )
    args = parser.parse_args()

    size = SIZES["medium"]
    table, source = load_jets(args.data)
    extra_table = extra = None
    config = TrainConfig.cast(None, model="bdt", seed=args.seed, jet_radius=0.8, progress=False)
    t0 = time.perf_counter()
    arrays = _inputs(table, source, {"jet_features"}, config, Path(args.run))
    if args.test_data != "none":
        extra_table, extra_source = load_jets(args.test_data)
        extra = _inputs(extra_table, extra_source, {"jet_features"}, config, Path(args.run))
    splits = split_indices(len(table), size.val_fraction, size.test_fraction, config.split_seed)
    test_table, test = _test_set(table, arrays, splits["test"], extra_table, extra)
    pt, test_pt = ak.to_numpy(table["pt"]), ak.to_numpy(test_table["pt"])
    y = test["label"]
    print(
        f"observables of {len(table) + (0 if extra_table is None else len(extra_table))} jets in "
        f"{time.perf_counter() - t0:.0f} s; {len(splits['train'])} training jets, "
        f"{len(y)} test jets ({int((y == 0).sum())} background)"
    )

    print("\nsingle observables as the score (oriented so that AUC >= 0.5):")
    for i, name in enumerate(OBSERVABLE_NAMES):
        a = auc(test["jet_features"][:, i], y)
        print(f"  {name:17s} {max(a, 1 - a):.4f}{'' if a >= 0.5 else ' (lower is top-like)'}")

    def score(m: dict) -> dict:
        return evaluate_scores(m, y, bootstrap=args.bootstrap, seed=args.seed)

    head = f"{'model':7s} {'inputs':32s} {'AUC':>15s} {'1/eB @ 0.3':>11s} {'@ 0.5':>10s}"
    print(f"\n{head} {'fit s':>7s}")
    for label, (names, per_pt) in SUBSETS.items():
        mine = _columns(arrays, names, pt if per_pt else None)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            train_on_arrays(subset(mine, splits["train"]), subset(mine, splits["val"]), config, tmp)
            seconds = time.perf_counter() - t0
            s = predict(load_tagger(tmp), _columns(test, names, test_pt if per_pt else None))
        _line("bdt", label, score(s), seconds)

    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = arrays["jet_features"]
    train_val = np.concatenate([splits["train"], splits["val"]])
    mlp = make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=(64, 64, 64),
            early_stopping=True,
            validation_fraction=len(splits["val"]) / len(train_val),
            n_iter_no_change=10,
            max_iter=300,
            random_state=args.seed,
        ),
    )
    t0 = time.perf_counter()
    mlp.fit(X[train_val], arrays["label"][train_val])
    seconds = time.perf_counter() - t0
    _line("mlp", "14 observables", score(mlp.predict_proba(test["jet_features"])[:, 1]), seconds)

    # the landscape's kNN graphs see only the hardest constituents (48): the same
    # observables computed from those alone (no cache: the full ones share the identity)
    n = args.network_constituents
    t0 = time.perf_counter()
    tables = [table] if extra_table is None else [table, extra_table]
    trimmed = {
        "jet_features": np.concatenate(
            [
                build_inputs(_hardest_only(t, n), {"jet_features"}, config)["jet_features"]
                for t in tables
            ]
        ),
        "label": np.concatenate([ak.to_numpy(t["label"]) for t in tables]).astype(np.int64),
    }
    print(f"(observables of the {n} hardest constituents: {time.perf_counter() - t0:.0f} s)")
    n_table = len(table)
    mine = {k: v[:n_table] for k, v in trimmed.items()}
    mine_test = {k: np.concatenate([v[splits["test"]], v[n_table:]]) for k, v in trimmed.items()}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        train_on_arrays(subset(mine, splits["train"]), subset(mine, splits["val"]), config, tmp)
        seconds = time.perf_counter() - t0
        s = predict(load_tagger(tmp), mine_test)
    _line("bdt", f"14 of the {n} hardest constituents", score(s), seconds)

    logreg = config.model_copy(update={"model": "logreg"})
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        train_on_arrays(subset(arrays, splits["train"]), subset(arrays, splits["val"]), logreg, tmp)
        seconds = time.perf_counter() - t0
        s = predict(load_tagger(tmp), test)
    _line("logreg", "14 observables", score(s), seconds)


if __name__ == "__main__":
    main()
