"""The decorrelation plane: background rejection against mass sculpting."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["decorrelation_metrics"]


def decorrelation_metrics(
    scores: ArrayLike,
    labels: ArrayLike,
    mass: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    signal_efficiency: float = 0.5,
    bins: int | ArrayLike = 40,
    mass_range: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """R = 1/ε_B at ``signal_efficiency`` and 1/JSD between the normalised background mass
    histograms of jets passing and failing that cut (the plane of Kasieczka & Shih,
    arXiv:2001.05310, Fig. 3; ε_S = 0.5 as there).

    A perfectly decorrelated tagger still has JSD > 0 from the statistical fluctuations of
    the two histograms (of order bins / N_pass for N_pass ≪ N_fail), so 1/JSD saturates at
    a value set by the test-set size and binning: compare methods on one test set.

    Returns ``{"signal_efficiency": ε_S, "rejection": R, "rejection_is_lower_bound": ...,
    "jsd": JSD, "inverse_jsd": 1/JSD}``.
    """
    from heplearn.evaluation.metrics import background_rejection, sculpting_jsd

    rej = background_rejection(scores, labels, signal_efficiency, weights=weights)
    jsd = sculpting_jsd(
        scores,
        labels,
        mass,
        weights,
        signal_efficiency=signal_efficiency,
        bins=bins,
        mass_range=mass_range,
    )
    return {
        "signal_efficiency": signal_efficiency,
        "rejection": float(rej.estimate),
        "rejection_is_lower_bound": bool(rej.is_lower_bound),
        "jsd": float(jsd),
        "inverse_jsd": float(1.0 / jsd) if jsd > 0 else float(np.inf),
    }
