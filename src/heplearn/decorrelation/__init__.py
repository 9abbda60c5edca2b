"""Mass decorrelation: train taggers whose score does not sculpt the background mass.

A tagger that learns the jet mass turns a smooth background into a fake bump after a cut.
Three remedies, each switched on through ``TrainConfig(decorrelation={...})`` (or
``heplearn train --decorrelate METHOD --strength λ``):

- ``pearson``: L = L_clf + λ ρ²(score, m) on background (linear dependence only);
- ``disco``: L = L_clf + λ dCorr²(score, m) on background (Kasieczka & Shih,
  arXiv:2001.05310), O(N²) per batch; ``bias_corrected=True`` replaces the V-statistic,
  biased by ~2.5–3/N on N background jets (a constant score is then its minimum), by the
  bias-corrected U-statistic (Székely & Rizzo, arXiv:1310.2926);
- ``adversary``: min_f max_r L_clf − λ L_adv, a network r predicts the mass bin from the
  score (Louppe, Kagan & Cranmer, arXiv:1611.01046).

:func:`decorrelation_metrics` gives the plane in which they are compared: background
rejection at ε_S = 0.5 against 1/JSD of the passing and failing background mass
distributions.
"""

from heplearn.decorrelation.adversary import MassAdversary, mass_bin_edges, mass_bin_index
from heplearn.decorrelation.metrics import decorrelation_metrics
from heplearn.decorrelation.penalties import (
    distance_correlation,
    distance_correlation_squared,
    pearson_correlation_squared,
)
from heplearn.training.config import DecorrelationConfig

__all__ = [
    "DecorrelationConfig",
    "MassAdversary",
    "decorrelation_metrics",
    "distance_correlation",
    "distance_correlation_squared",
    "mass_bin_edges",
    "mass_bin_index",
    "pearson_correlation_squared",
]
