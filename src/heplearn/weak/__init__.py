"""Weak supervision and anomaly search.

* :mod:`~heplearn.weak.mixtures` — mixtures of given signal fractions from a labelled
  sample, labels hidden (:func:`make_mixtures`, :func:`hide_labels`), and the
  quark/gluon truth of generated jets (:func:`parton_flavour`);
* :mod:`~heplearn.weak.cwola` — classification without labels, mixture 1 vs mixture 2
  (Metodiev, Nachman, Thaler, arXiv:1708.02949): :func:`fit_cwola`, :func:`train_cwola`;
* :mod:`~heplearn.weak.kfold` — out-of-fold scores (:func:`kfold_scores`);
* :mod:`~heplearn.weak.features` — m_jj-decorrelated dijet event features;
* :mod:`~heplearn.weak.bumphunt` — dijet-function sideband fit and bump hunt;
* :mod:`~heplearn.weak.significance` — Asimov and pyhf counting significances;
* :mod:`~heplearn.weak.hunting` — CWoLa hunting in sliding m_jj windows (Collins, Howe,
  Nachman, arXiv:1805.02664).

Importing this package is cheap: xgboost, pyhf, torch and FastJet load on first use.
"""

from heplearn.weak.bumphunt import BumpHunt, DijetFit, bump_hunt, dijet_function, fit_dijet
from heplearn.weak.cwola import check_cwola_labels, fit_cwola, mixture_auc, train_cwola, unmix_auc
from heplearn.weak.errors import (
    BumpHuntError,
    IdenticalFractionsWarning,
    MixtureError,
    WeakSupervisionError,
)
from heplearn.weak.features import DIJET_FEATURES, dijet_event_features
from heplearn.weak.hunting import (
    HuntResult,
    HuntScores,
    Window,
    cwola_hunt,
    default_classifier,
    hunting_scores,
    reference_efficiency,
    select_efficiency,
    sliding_windows,
)
from heplearn.weak.kfold import KFoldScores, assign_folds, kfold_scores
from heplearn.weak.mixtures import (
    Mixtures,
    check_fractions,
    hide_labels,
    make_mixtures,
    parton_flavour,
)
from heplearn.weak.significance import asimov_significance, counting_significance

__all__ = [
    "Mixtures",
    "make_mixtures",
    "hide_labels",
    "parton_flavour",
    "check_fractions",
    "check_cwola_labels",
    "fit_cwola",
    "train_cwola",
    "mixture_auc",
    "unmix_auc",
    "KFoldScores",
    "assign_folds",
    "kfold_scores",
    "DIJET_FEATURES",
    "dijet_event_features",
    "dijet_function",
    "DijetFit",
    "fit_dijet",
    "BumpHunt",
    "bump_hunt",
    "asimov_significance",
    "counting_significance",
    "Window",
    "sliding_windows",
    "HuntScores",
    "hunting_scores",
    "default_classifier",
    "select_efficiency",
    "reference_efficiency",
    "HuntResult",
    "cwola_hunt",
    "WeakSupervisionError",
    "MixtureError",
    "BumpHuntError",
    "IdenticalFractionsWarning",
]
