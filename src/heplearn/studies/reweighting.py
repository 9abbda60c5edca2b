"""Study ``reweighting``: simulation-to-data reweighting of quark/gluon jets.

Two demonstrations of :mod:`heplearn.reweighting` on ``qg`` jets (anti-kT R = 0.4,
500 < p_T < 550 GeV, Pythia 8 particle level):

1. **Covariate shift.** "Simulation" is Pythia with its default final-state shower
   coupling α_s(M_Z) = 0.1365 (``TimeShower:alphaSvalue``, Monash); "data" is the same
   process with α_s = 0.12, about 10% fewer constituents per jet. A particle-flow network
   (``pfn``, small preset) on particle clouds learns the density ratio on one half of the
   jets (the likelihood-ratio trick, Andreassen & Nachman, arXiv:1907.08209); its weights
   are applied to the other half and checked on observables the network never saw as
   inputs (constituent multiplicity, girth, jet mass, p_TD): triangular discriminator Δ
   before and after, effective sample size, and the held-out AUC of a *fresh* classifier
   (``bdt`` on the 14 jet observables) trained to separate weighted simulation from data.
2. **Label shift.** A quark/gluon ``bdt`` trained on labelled simulation (quark fraction
   0.5) is applied to an unlabelled target sample made from held-out simulated jets with
   an injected quark fraction of 0.3; EM (Saerens, Latinne, Decaestecker, Neural
   Computation 14 (2002) 21) estimates the target prior, with a bootstrap error.

``data`` (optional) is a directory holding two heplearn dataset directories,
``simulation/`` and ``data/`` (each with its ``manifest.json``, as ``heplearn generate``
writes them); ``simulation`` must carry the quark (1) / gluon (0) labels used by the
label-shift part. Without it the study generates both samples (cached under ``data/``).
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from heplearn.errors import HeplearnError, InputFileError
from heplearn.studies._common import SHARD_JETS, finish_study, study_dataset

__all__ = ["run", "ALPHAS_DEFAULT", "ALPHAS_DATA", "OBSERVABLES", "SIZES", "data_cards"]

#: Pythia 8.3 default of ``TimeShower:alphaSvalue`` (α_s(M_Z) of final-state showers)
ALPHAS_DEFAULT = 0.1365
#: the "data" value: about 10% fewer constituents per jet (0.13 gives 5%, below the
#: statistical resolution of Δ at the quick sizes)
ALPHAS_DATA = 0.12
#: observables used to judge the weights (never inputs of the reweighting network)
OBSERVABLES: dict[str, str] = {
    "multiplicity": "Constituent multiplicity",
    "girth": "Girth $g$",
    "mass": "Jet mass [GeV]",
    "ptd": "$p_T^D$",
}
#: injected quark fraction of the label-shift target
TARGET_QUARK_FRACTION = 0.3

SIZES: dict[bool, dict[str, Any]] = {
    # 2-core CPU, < 15 minutes with generation: qg jets cost 1/12.9 (default shower) and
    # 1/18 (alpha_s = 0.12) CPU-seconds each, so the two samples take ~9 minutes on 2
    # cores when each is cut into 2 equal shards (one per core; the 5000-jet shards of
    # study_dataset would leave a core idle and cost as much as 10000 jets per sample)
    True: {
        "n_jets": 8_000,
        "shard_jets": 4_000,
        "preset": "small",
        "epochs": 15,
        "patience": 4,
        "n_bootstrap": 200,
        "n_classifier_bootstrap": 10,
        "n_prior_draws": 10,
        "n_fresh_draws": 10,
    },
    False: {  # paper-like: Andreassen & Nachman use O(10^5-10^6) jets per sample
        "n_jets": 200_000,
        "shard_jets": SHARD_JETS,
        "preset": "default",
        "epochs": 40,
        "patience": 6,
        "n_bootstrap": 500,
        "n_classifier_bootstrap": 50,
        "n_prior_draws": 20,
        "n_fresh_draws": 20,
    },
}


def data_cards():
    """The "simulation" (shipped ``qg`` card, Pythia defaults) and "data" cards
    (``TimeShower:alphaSvalue = ALPHAS_DATA``, named ``qg-alphas0.12`` so that the
    dataset cache keeps them apart)."""
    from heplearn.simulate.cards import load_process_card

    sim = load_process_card("qg")
    data = sim.model_copy(
        update={
            "name": f"qg-alphas{ALPHAS_DATA}",
            "pythia": [*sim.pythia, f"TimeShower:alphaSvalue = {ALPHAS_DATA}"],
        }
    )
    return sim, data


def _datasets(
    data: Path | None,
    size: dict[str, Any],
    seed: int,
    workers: int | None,
    progress: bool,
) -> tuple[Path, Path]:
    if data is not None:
        paths = (data / "simulation", data / "data")
        missing = [str(p) for p in paths if not (p / "manifest.json").is_file()]
        if missing:
            raise InputFileError(
                f"--data {str(data)!r}: the reweighting study needs two heplearn datasets, "
                f"{data}/simulation (labelled quark=1/gluon=0) and {data}/data; missing "
                f"{missing}. Leave --data out to generate them."
            )
        return paths
    sim_card, data_card = data_cards()
    n, shard = size["n_jets"], size["shard_jets"]
    # different seeds: the two samples must be statistically independent
    kw = {"workers": workers, "progress": progress}
    return (
        study_dataset(sim_card, n, seed=seed, shard_jets=shard, **kw),
        study_dataset(data_card, n, seed=seed + 1, shard_jets=shard, **kw),
    )


def _observables(table, R0: float) -> dict[str, np.ndarray]:
    from heplearn.physics.observables import jet_observables

    return jet_observables(table, R0=R0)


def _feature_matrix(obs: dict[str, np.ndarray]) -> np.ndarray:
    from heplearn.physics.observables import OBSERVABLE_NAMES

    return np.stack([obs[k] for k in OBSERVABLE_NAMES], axis=1)


def _fmt(x: float | None, spec: str = ".2f") -> str:
    return "n/a" if x is None else format(x, spec)


def _prior_result(f, realised, est, err, err_target, err_classifier, source_prior, post):
    return {
        "prior_true": f,
        "prior_true_realised": realised,
        "prior_estimated": float(est.priors[1]),
        "prior_estimated_uncertainty": err,
        "prior_estimated_uncertainty_target": err_target,
        "prior_estimated_uncertainty_classifier": err_classifier,
        "prior_source": source_prior,
        "prior_naive_mean_posterior": float(post.mean()),
        "prior_pull": float((est.priors[1] - realised) / err) if err > 0 else None,
    }


def _prior_pulls(label_shift_args: dict, seed: int, n_draws: int) -> dict[str, Any]:
    """Pulls (estimate − injected) / error of the EM prior over ``n_draws`` repetitions,
    each with its own random halving of the labelled simulation into classifier-fit and
    held-out jets, its own classifier and its own target draw (seeds ``seed + 1 ..``):
    "recovers the injected prior within its error" as a coverage, not one draw. Redrawing
    only the target from one held-out half would repeat that half's own fluctuation in
    every pull."""
    from heplearn.reweighting import stratified_split

    labels = label_shift_args["labels"]
    everything = np.concatenate([label_shift_args["fit"], label_shift_args["evaluate"]])
    pulls = []
    for k in range(1, n_draws + 1):
        halves = stratified_split(labels[everything], {"evaluate": 0.5}, seed + 1000 + k)
        args = {
            **label_shift_args,
            "fit": np.sort(everything[halves["train"]]),
            "evaluate": np.sort(everything[halves["evaluate"]]),
        }
        r, _ = _label_shift(**args, seed=seed + k, figure=False)
        if r["prior_pull"] is not None:
            pulls.append(r["prior_pull"])
    p = np.asarray(pulls)
    return {
        "prior_pulls_other_draws": p.tolist(),
        "prior_pull_mean": float(p.mean()) if len(p) else None,
        "prior_pull_std": float(p.std(ddof=1)) if len(p) > 1 else None,
        "prior_fraction_within_1_sigma": float(np.mean(np.abs(p) < 1)) if len(p) else None,
    }


def _label_shift(
    out: Path,
    X: np.ndarray,
    labels: np.ndarray,
    fit: np.ndarray,
    evaluate: np.ndarray,
    *,
    seed: int,
    n_bootstrap: int,
    n_classifier_bootstrap: int,
    R0: float,
    figure: bool = True,
) -> tuple[dict[str, Any], list[Path]]:
    """Quark/gluon BDT on the fit half; EM prior of a target made from the other half.

    The prior's error adds in quadrature the spread over ``n_bootstrap`` resamples of the
    target jets (:func:`~heplearn.reweighting.estimate_target_priors`) and the spread over
    ``n_classifier_bootstrap`` BDTs retrained on resamples of the training jets."""
    from heplearn.reweighting import (
        em_target_priors,
        estimate_target_priors,
        label_shift_weights,
        plot_reweighted_observable,
        stratified_split,
    )
    from heplearn.training import TrainConfig, load_tagger, predict, train_on_arrays

    config = TrainConfig.cast(model="bdt", progress=False, seed=seed, jet_radius=R0)
    inner = stratified_split(labels[fit], {"val": 0.2}, seed)
    arrays = {"jet_features": X[fit], "label": labels[fit]}
    tr = {k: v[inner["train"]] for k, v in arrays.items()}
    va = {k: v[inner["val"]] for k, v in arrays.items()}
    train_on_arrays(tr, va, config, out / "qg_classifier")
    tagger = load_tagger(out / "qg_classifier")
    source_prior = float(tr["label"].mean())  # the prior the classifier was trained with

    # held-out jets: 70% make the target, 30% stay a labelled reference for the figure
    parts = stratified_split(labels[evaluate], {"reference": 0.3}, seed + 7)
    pool, reference = evaluate[parts["train"]], evaluate[parts["reference"]]
    # target: every pool gluon jet and as many quark jets as give the injected fraction
    rng = np.random.default_rng([seed, 2002])
    gluons = pool[labels[pool] == 0]
    quarks = pool[labels[pool] == 1]
    f = TARGET_QUARK_FRACTION
    n_q = min(len(quarks), int(round(len(gluons) * f / (1 - f))))
    if n_q < 10 or len(gluons) < 10:
        raise HeplearnError(
            f"label shift: too few held-out jets ({len(quarks)} quark, {len(gluons)} gluon)"
        )
    target = np.sort(np.concatenate([gluons, rng.choice(quarks, n_q, replace=False)]))
    realised = float(labels[target].mean())
    post = predict(tagger, {"jet_features": X[target]})
    est = estimate_target_priors(post, source_prior, n_bootstrap=n_bootstrap, seed=seed)
    # the bootstrap over target jets misses the classifier's own finite training sample:
    # retrain on bootstrap resamples of the training split and add the spread in quadrature
    from heplearn import models

    rng_c = np.random.default_rng([seed, 1979])
    replicas = []
    for k in range(n_classifier_bootstrap):
        i = rng_c.integers(0, len(tr["label"]), len(tr["label"]))
        clf = models.create("bdt", preset=config.preset, random_state=k)
        clf.fit(tr["jet_features"][i], tr["label"][i], eval_set=(va["jet_features"], va["label"]))
        p_k = clf.predict_proba(X[target])[:, 1]
        replicas.append(em_target_priors(p_k, float(tr["label"][i].mean()))[0][1])
    err_target = float(est.uncertainty[1])
    err_classifier = float(np.std(replicas, ddof=1)) if len(replicas) > 1 else 0.0
    err = float(np.hypot(err_target, err_classifier))
    # the labelled reference (quark fraction ~0.5, disjoint from the target) reweighted to
    # the estimated prior
    if not figure:
        return _prior_result(
            f, realised, est, err, err_target, err_classifier, source_prior, post
        ), []
    src_scores = predict(tagger, {"jet_features": X[reference]})
    w = label_shift_weights(labels[reference], float(labels[reference].mean()), est.priors[1])
    fig = plot_reweighted_observable(
        src_scores,
        post,
        w,
        out / "label_shift_scores.png",
        xlabel="Quark-vs-gluon BDT score",
        source_label=f"labelled sim. ($f_q$ = {labels[reference].mean():.2f})",
        target_label=f"target ($f_q$ = {realised:.2f}, unlabelled)",
        title="Label shift: EM prior",
    )
    result = {
        **_prior_result(f, realised, est, err, err_target, err_classifier, source_prior, post),
        "label_shift": {
            "classifier": "bdt (small preset) on the 14 jet observables, quark vs gluon",
            "n_classifier_train": len(tr["label"]),
            "n_target": len(target),
            "n_reference": len(reference),
            "em_iterations": est.n_iterations,
            "em_converged": est.converged,
            "n_bootstrap": n_bootstrap,
            "n_classifier_bootstrap": n_classifier_bootstrap,
        },
    }
    return result, [fig]


def run(
    out: Path,
    *,
    quick: bool,
    data: Path | None,
    seed: int,
    workers: int | None,
    progress: bool,
) -> dict[str, Any]:
    """Run the study (see the module docstring) and return its summary."""
    from heplearn.reweighting import (
        ClassifierReweighter,
        effective_sample_size,
        fresh_classifier_auc,
        observable_distances,
        plot_reweighted_observable,
        plot_weight_distribution,
        stratified_split,
    )
    from heplearn.training import TrainConfig, load_jets

    t_start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    size = SIZES[bool(quick)]
    sim_path, data_path = _datasets(data, size, seed, workers, progress)
    t_data = time.perf_counter() - t_start
    sim, _ = load_jets(sim_path)
    dat, _ = load_jets(data_path)
    for name, table in (("simulation", sim), ("data", dat)):
        if len(table) < 100:
            raise HeplearnError(f"{name} sample: {len(table)} jets; the study needs >= 100")
    sim_card, _ = data_cards()
    R0 = sim_card.jets.R

    # -- observables (never given to the reweighting network) ----------------------------
    t0 = time.perf_counter()
    obs_sim, obs_dat = _observables(sim, R0), _observables(dat, R0)
    t_obs = time.perf_counter() - t0
    qg_sim = ak.to_numpy(sim["label"]).astype(np.int64)
    qg_dat = ak.to_numpy(dat["label"]).astype(np.int64)
    split_sim = stratified_split(qg_sim, {"evaluate": 0.5}, seed)
    split_dat = stratified_split(qg_dat, {"evaluate": 0.5}, seed + 1)
    fit_s, ev_s = split_sim["train"], split_sim["evaluate"]
    fit_d, ev_d = split_dat["train"], split_dat["evaluate"]

    # -- 1. covariate shift: pfn on particle clouds ------------------------------------
    config = TrainConfig.cast(
        model="pfn",
        preset=size["preset"],
        epochs=size["epochs"],
        early_stopping_patience=size["patience"],
        batch_size=256,
        lr=1e-3,
        max_particles=128,
        jet_radius=R0,
        seed=seed,
        split_seed=seed,
        progress=progress,
    )
    reweighter = ClassifierReweighter(
        config, epsilon=1e-3, weight_quantile=0.999, run_dir=out / "reweighter"
    )
    t0 = time.perf_counter()
    reweighter.fit_samples(sim[fit_s], dat[fit_d])
    t_fit = time.perf_counter() - t0
    weights = reweighter.predict_weights(sim[ev_s])
    ess = effective_sample_size(weights)

    pick = {k: obs_sim[k][ev_s] for k in OBSERVABLES}
    distances = observable_distances(pick, {k: obs_dat[k][ev_d] for k in OBSERVABLES}, weights)

    t0 = time.perf_counter()
    fresh_config = {"model": "bdt", "progress": False, "seed": seed, "jet_radius": R0}
    X_sim, X_dat = _feature_matrix(obs_sim), _feature_matrix(obs_dat)
    before = fresh_classifier_auc(X_sim[ev_s], X_dat[ev_d], config=fresh_config, seed=seed)
    after = fresh_classifier_auc(X_sim[ev_s], X_dat[ev_d], weights, config=fresh_config, seed=seed)
    # the bootstrap covers the held-out half only; other halvings and BDT seeds show how
    # much the closure test itself moves from one draw to the next
    after_draws = [
        fresh_classifier_auc(
            X_sim[ev_s], X_dat[ev_d], weights, config={**fresh_config, "seed": s}, seed=s
        ).auc
        for s in range(seed + 1, seed + 1 + size.get("n_fresh_draws", 0))
    ]
    t_fresh = time.perf_counter() - t0

    figures = [
        plot_weight_distribution(
            weights,
            out / "weights.png",
            cap=reweighter.weight_cap_,
            title="pfn weights of held-out simulated jets",
        )
    ]
    for name, label in OBSERVABLES.items():
        figures.append(
            plot_reweighted_observable(
                obs_sim[name][ev_s],
                obs_dat[name][ev_d],
                weights,
                out / f"observable_{name}.png",
                xlabel=label,
                source_label=rf"sim. $\alpha_s$ = {ALPHAS_DEFAULT}",
                target_label=rf"data $\alpha_s$ = {ALPHAS_DATA}",
            )
        )

    # -- 2. label shift ------------------------------------------------------------------
    t0 = time.perf_counter()
    label_shift_args = {
        "out": out,
        "X": X_sim,
        "labels": qg_sim,
        "fit": fit_s,
        "evaluate": ev_s,
        "n_bootstrap": size["n_bootstrap"],
        "n_classifier_bootstrap": size["n_classifier_bootstrap"],
        "R0": R0,
    }
    prior, prior_figures = _label_shift(**label_shift_args, seed=seed)
    prior.update(_prior_pulls(label_shift_args, seed, size.get("n_prior_draws", 0)))
    t_prior = time.perf_counter() - t0
    figures += prior_figures

    train = reweighter.train_result_
    summary: dict[str, Any] = {
        "study": "reweighting",
        "quick": bool(quick),
        "seed": seed,
        "simulation": {
            "dataset": str(sim_path),
            "n_jets": len(sim),
            "process": "qg",
            "TimeShower:alphaSvalue": ALPHAS_DEFAULT,
        },
        "data": {
            "dataset": str(data_path),
            "n_jets": len(dat),
            "process": f"qg-alphas{ALPHAS_DATA}",
            "TimeShower:alphaSvalue": ALPHAS_DATA,
        },
        "n_fit": {"simulation": len(fit_s), "data": len(fit_d)},
        "n_evaluate": {"simulation": len(ev_s), "data": len(ev_d)},
        "classifier": {
            "model": config.model,
            "preset": config.preset,
            "inputs": "particle clouds (up to 128 constituents, kinematics + PID features)",
            "parameters": train.parameters,
            "epochs_run": train.epochs_run,
            "train_seconds": train.train_seconds,
            "epsilon": reweighter.epsilon,
            "weight_quantile": reweighter.weight_quantile,
            "prior_ratio": reweighter.prior_ratio_,
        },
        "fresh_classifier": {
            "model": before.model,
            "inputs": "the 14 jet observables (heplearn.physics.observables.OBSERVABLE_NAMES)",
            "n_train": before.n_train,
            "n_test": before.n_test,
        },
        "auc_before": before.auc,
        "auc_before_uncertainty": before.uncertainty,
        "auc_after": after.auc,
        "auc_after_uncertainty": after.uncertainty,
        "auc_after_other_draws": after_draws,
        "auc_after_draws_mean": float(np.mean(after_draws)) if after_draws else None,
        "auc_after_draws_std": float(np.std(after_draws, ddof=1)) if len(after_draws) > 1 else None,
        "effective_sample_size": ess,
        "effective_sample_size_fraction": ess / len(weights),
        "n_weighted": len(weights),
        "weight_mean": float(weights.mean()),
        "weight_max": float(weights.max()),
        "weight_cap": reweighter.weight_cap_,
        "weight_fraction_capped": float(np.mean(weights >= reweighter.weight_cap_)),
        "triangular_discriminator": distances,
        **prior,
        "timings_s": {
            "data": t_data,
            "observables": t_obs,
            "reweighter_fit": t_fit,
            "fresh_classifier": t_fresh,
            "label_shift": t_prior,
            "total": time.perf_counter() - t_start,
        },
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}, "
        f"python {platform.python_version()}",
    }
    metrics: dict[str, Any] = {
        "auc_before": before.auc,
        "auc_before_uncertainty": before.uncertainty,
        "auc_after": after.auc,
        "auc_after_uncertainty": after.uncertainty,
        "effective_sample_size": ess,
        "effective_sample_size_fraction": ess / len(weights),
    }
    for name, d in distances.items():
        metrics[f"delta_{name}_before"] = d["before"]
        metrics[f"delta_{name}_after"] = d["after"]
        metrics[f"delta_{name}_expected_from_statistics"] = d["expected_after"]
    metrics.update(
        prior_true=prior["prior_true_realised"],
        prior_estimated=prior["prior_estimated"],
        prior_estimated_uncertainty=prior["prior_estimated_uncertainty"],
        prior_naive_mean_posterior=prior["prior_naive_mean_posterior"],
    )
    text = (
        "## Setup\n\n"
        f"qg jets (Z+jet, anti-kT R = {R0}, 500 < pT < 550 GeV). Simulation: Pythia 8 "
        f"defaults (TimeShower:alphaSvalue = {ALPHAS_DEFAULT}), {len(sim)} jets; data: "
        f"TimeShower:alphaSvalue = {ALPHAS_DATA}, {len(dat)} jets. Weights learned by "
        f"`{config.model}` ({config.preset} preset) on particle clouds from "
        f"{len(fit_s)} + {len(fit_d)} jets, applied to the disjoint {len(ev_s)} + "
        f"{len(ev_d)} jets on which every number here is measured. The fresh classifier "
        f"is a `{before.model}` on the 14 jet observables (trained on half of the "
        f"evaluation jets, AUC on the other half; after reweighting "
        f"{after.auc:.3f} ± {after.uncertainty:.3f}, and over {len(after_draws)} other "
        f"halvings and BDT seeds mean {_fmt(summary['auc_after_draws_mean'], '.3f')}, "
        f"spread {_fmt(summary['auc_after_draws_std'], '.3f')}). Δ is the triangular "
        "discriminator; "
        "'expected from statistics' is its size for two samples of one distribution "
        "(≈ (B − 1)/4 · (1/N_eff + 1/N)).\n\n"
        "Label shift: quark/gluon `bdt` on the observables of the fit half "
        f"(quark fraction {prior['prior_source']:.3f}); target = held-out jets with "
        f"quark fraction {prior['prior_true_realised']:.3f}; EM prior "
        f"{prior['prior_estimated']:.3f} ± {prior['prior_estimated_uncertainty']:.3f} "
        f"(target bootstrap, {size['n_bootstrap']} resamples: "
        f"± {prior['prior_estimated_uncertainty_target']:.3f}; BDTs retrained on "
        f"{size['n_classifier_bootstrap']} resamples of their training jets: "
        f"± {prior['prior_estimated_uncertainty_classifier']:.3f}; the mean posterior alone "
        f"gives {prior['prior_naive_mean_posterior']:.3f}). Pull (estimate − injected) / "
        f"error {_fmt(prior['prior_pull'], '+.2f')}; over {len(prior['prior_pulls_other_draws'])} "
        "other halvings of the simulation (classifier, target) the pulls have mean "
        f"{_fmt(prior['prior_pull_mean'])} and spread {_fmt(prior['prior_pull_std'])}, "
        f"{_fmt(prior['prior_fraction_within_1_sigma'])} of them within 1σ.\n\n"
        f"Wall time {summary['timings_s']['total']:.0f} s (data "
        f"{t_data:.0f} s, reweighter {t_fit:.0f} s) on {summary['machine']}."
    )
    return finish_study(
        out,
        "Reweighting simulation to data (qg jets, shower α_s)",
        summary,
        figures,
        text=text,
        metrics=metrics,
    )
