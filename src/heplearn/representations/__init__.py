"""Jet table -> tensors: particle clouds, four-vectors, pairwise features, images, graphs.

Every function takes a jet table (:mod:`heplearn.data.table`) or padded arrays and returns
NumPy arrays (float32 unless stated), vectorised over jets. Shapes use N jets, P particles
(``max_particles``), F features::

    particle_cloud(table)            -> x (N, P, F) float32, mask (N, P) bool
    four_vectors(table)              -> p (N, P, 4) (E, px, py, pz), mask (N, P)
    pairwise_features(p4, mask)      -> (N, 4, P, P) (ln kT, ln z, ln Δ, ln m²), (N, P, P)
    jet_image(table)                 -> (N, 1, H, W) float32
    event_image(eta, phi, pt)        -> (N, 1, n_eta, n_phi) float32, periodic in φ
    knn_indices(points, mask, k)     -> (N, P, k) int64

``pairwise_features`` and ``knn_indices`` also accept torch tensors (then they return
tensors on the same device); torch is imported only in that case.
"""

from __future__ import annotations

from heplearn.representations.cloud import (
    DEFAULT_FEATURES,
    FEATURES,
    KINPID_FEATURES,
    MOMENTUM_FEATURES,
    PID_FEATURES,
    TOPODNN_FEATURES,
    particle_cloud,
    register_feature,
)
from heplearn.representations.fourvectors import beam_vectors, four_vectors, with_beams
from heplearn.representations.graphs import knn_indices
from heplearn.representations.images import event_image, jet_image
from heplearn.representations.pairwise import (
    PAIRWISE_FEATURES,
    pair_mask,
    pairwise_features,
    pairwise_features_from_table,
)

__all__ = [
    "DEFAULT_FEATURES",
    "FEATURES",
    "KINPID_FEATURES",
    "PID_FEATURES",
    "MOMENTUM_FEATURES",
    "PAIRWISE_FEATURES",
    "TOPODNN_FEATURES",
    "beam_vectors",
    "event_image",
    "four_vectors",
    "jet_image",
    "knn_indices",
    "pair_mask",
    "pairwise_features",
    "pairwise_features_from_table",
    "particle_cloud",
    "register_feature",
    "with_beams",
]
