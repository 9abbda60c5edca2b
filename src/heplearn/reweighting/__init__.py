"""Reweighting simulation to data: classifier density ratios and label shift.

Two kinds of mismatch between a *source* sample (simulation, labelled) and a *target*
sample (data, or another simulation):

* **covariate shift**, p_target(x) ≠ p_source(x): :class:`ClassifierReweighter` learns
  w(x) = p_target(x)/p_source(x) from a classifier (any registered model, or xgboost on a
  feature matrix) via the likelihood-ratio trick, with probability and weight clipping;
  :func:`cross_fit_weights` gives k-fold out-of-fold weights;
* **label shift**, only the class priors differ: :func:`estimate_target_priors` finds the
  target priors from unlabelled target events by EM (Saerens et al. 2002) with a bootstrap
  error, and :func:`label_shift_weights` turns them into per-event weights.

Diagnostics (:mod:`heplearn.reweighting.diagnostics`): :func:`effective_sample_size`,
:func:`observable_distances` (triangular discriminator before/after per observable),
:func:`fresh_classifier_auc` (a new classifier's held-out AUC, ≈ 0.5 on success) and the
weight and per-observable figures.

Example::

    from heplearn.reweighting import ClassifierReweighter, fresh_classifier_auc
    rw = ClassifierReweighter({"model": "pfn", "epochs": 10}, weight_quantile=0.999)
    rw.fit_samples(sim_train, data_train)          # jet tables
    w = rw.predict_weights(sim_test)               # never the events it was fitted on
    fresh_classifier_auc(sim_test, data_test, w)   # AUC -> 0.5

Heavy dependencies (torch, xgboost, scikit-learn, matplotlib) are imported when used.
"""

from __future__ import annotations

from heplearn.reweighting.classifier import (
    ClassifierReweighter,
    RecalibrationWarning,
    cross_fit_weights,
    stratified_split,
)
from heplearn.reweighting.diagnostics import (
    FreshClassifierResult,
    expected_triangular_discriminator,
    fresh_classifier_auc,
    histogram_edges,
    observable_distances,
    plot_reweighted_observable,
    plot_weight_distribution,
)
from heplearn.reweighting.label_shift import (
    PriorEstimate,
    adjust_posteriors,
    em_target_priors,
    estimate_target_priors,
    label_shift_weights,
)
from heplearn.reweighting.weights import (
    ReweightingError,
    check_weights,
    clip_weights,
    effective_sample_size,
    probabilities_to_weights,
)

__all__ = [
    "ClassifierReweighter",
    "FreshClassifierResult",
    "PriorEstimate",
    "RecalibrationWarning",
    "ReweightingError",
    "adjust_posteriors",
    "check_weights",
    "clip_weights",
    "cross_fit_weights",
    "effective_sample_size",
    "em_target_priors",
    "estimate_target_priors",
    "expected_triangular_discriminator",
    "fresh_classifier_auc",
    "histogram_edges",
    "label_shift_weights",
    "observable_distances",
    "plot_reweighted_observable",
    "plot_weight_distribution",
    "probabilities_to_weights",
    "stratified_split",
]
