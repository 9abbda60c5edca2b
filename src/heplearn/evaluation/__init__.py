"""Evaluation of taggers: metrics, plots and run reports (pure functions on numpy arrays).

``metrics`` holds the numbers (ROC, AUC, accuracy, 1/ε_B at fixed ε_S with lower bounds,
SIC, calibration, bootstrap, histogram distances, :func:`evaluate_scores`); ``plots`` the
standard figures (matplotlib is imported only when a plot is made); ``report`` the atomic
``metrics.json`` / ``report.md`` writers. Conventions are documented in
:mod:`heplearn.evaluation.metrics`.
"""

from __future__ import annotations

from heplearn.evaluation.metrics import (
    BootstrapResult,
    CalibrationCurve,
    EvaluationError,
    InvalidOptionError,
    InvalidScoresError,
    MaxSic,
    RejectionResult,
    RocCurve,
    SicCurve,
    accuracy,
    auc,
    background_rejection,
    bootstrap,
    calibration_curve,
    combine_trainings,
    evaluate_scores,
    jensen_shannon_divergence,
    max_sic,
    roc_curve,
    sculpting_jsd,
    sic_curve,
    summarize_runs,
    threshold_at_signal_efficiency,
    triangular_discriminator,
)
from heplearn.evaluation.plots import (
    plot_calibration,
    plot_learning_curves,
    plot_rejection,
    plot_score_distributions,
    plot_sculpting,
    plot_sic,
)
from heplearn.evaluation.report import ReportError, to_jsonable, write_json, write_report

__all__ = [
    "BootstrapResult",
    "CalibrationCurve",
    "EvaluationError",
    "InvalidOptionError",
    "InvalidScoresError",
    "MaxSic",
    "RejectionResult",
    "ReportError",
    "RocCurve",
    "SicCurve",
    "accuracy",
    "auc",
    "background_rejection",
    "bootstrap",
    "calibration_curve",
    "combine_trainings",
    "evaluate_scores",
    "jensen_shannon_divergence",
    "max_sic",
    "plot_calibration",
    "plot_learning_curves",
    "plot_rejection",
    "plot_score_distributions",
    "plot_sculpting",
    "plot_sic",
    "roc_curve",
    "sculpting_jsd",
    "sic_curve",
    "summarize_runs",
    "threshold_at_signal_efficiency",
    "to_jsonable",
    "triangular_discriminator",
    "write_json",
    "write_report",
]
