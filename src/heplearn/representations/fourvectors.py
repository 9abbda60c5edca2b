"""Four-vector inputs for Lorentz-equivariant networks (LorentzNet, PELICAN, L-GATr).

Layout follows LorentzNet (Gong et al., arXiv:2201.08187; reference code
``sdogsq/LorentzNet-release``, ``top/collate.py``): each particle is ``(E, px, py, pz)`` with
the Minkowski metric diag(+1, −1, −1, −1), energies in GeV times ``scale`` (LorentzNet uses
``scale = 1``), padded with zero four-vectors.

A Lorentz-*invariant* network cannot tell the beam direction from any other, yet the
collider breaks the symmetry down to rotations about and boosts along the beam. LorentzNet
and PELICAN restore that information by adding two "beam" particles
p_± = (sqrt(1 + m²), 0, 0, ±1) (m = 1 in LorentzNet) labelled by an extra scalar; L-GATr
calls such fixed reference vectors *spurions* (Spinner et al., arXiv:2405.14806). They
enter the network as ordinary particles, so the equivariance of the network is untouched and
only the inputs single out the beam axis. :func:`beam_vectors` and :func:`with_beams` build
them.
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from heplearn.representations._common import FlatConstituents

__all__ = ["four_vectors", "beam_vectors", "with_beams"]


def _float_dtype(dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def four_vectors(
    table: ak.Array,
    max_particles: int = 128,
    scale: float = 1.0,
    dtype=np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Padded constituent four-momenta ``(E, px, py, pz)``, hardest first.

    Parameters
    ----------
    table
        A jet table.
    max_particles
        ``P``: keep the ``P`` hardest constituents (by pT), zero-pad shorter jets.
    scale
        Multiplies every component (e.g. ``1/100`` to express momenta in units of 100 GeV;
        LorentzNet's default is 1). A global scale commutes with Lorentz transformations.
    dtype
        ``float32`` (training) or ``float64`` (symmetry tests: invariants such as
        p_i · p_j are then exact to ~1e-12 relative after a boost).

    Returns
    -------
    p : numpy.ndarray, shape ``(N, P, 4)``
        ``p[n, i] = scale * (E, px, py, pz)``; padded entries are exactly 0.
    mask : numpy.ndarray, bool, shape ``(N, P)``

    References
    ----------
    Gong et al., arXiv:2201.08187 (LorentzNet).
    """
    dtype = _float_dtype(dtype)
    flat = FlatConstituents(table, max_particles=max_particles, source="four_vectors")
    columns = [flat.E, flat.px, flat.py, flat.pz]
    p = flat.pad(columns, dtype=dtype)
    if scale != 1.0:
        p *= dtype.type(scale)
    return p, flat.mask()


def beam_vectors(n_jets: int, mass: float = 1.0, scale: float = 1.0, dtype=np.float32):
    """The two beam "spurions" p_± = scale · (sqrt(1 + m²), 0, 0, ±1) for every jet.

    Returns an ``(n_jets, 2, 4)`` array in ``(E, px, py, pz)`` order, the +z beam first.
    ``mass = 1`` is LorentzNet's choice (arXiv:2201.08187, ``collate_fn(beam_mass=1)``);
    ``mass = 0`` gives light-like beams along ±z.
    """
    dtype = _float_dtype(dtype)
    if mass < 0:
        raise ValueError(f"beam mass must be >= 0, got {mass}")
    beams = np.array([[np.sqrt(1.0 + mass**2), 0.0, 0.0, 1.0],
                      [np.sqrt(1.0 + mass**2), 0.0, 0.0, -1.0]]) * scale  # fmt: skip
    return np.broadcast_to(beams.astype(dtype), (n_jets, 2, 4)).copy()


def with_beams(
    p: np.ndarray, mask: np.ndarray, mass: float = 1.0, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prepend the two beam vectors of :func:`beam_vectors` to padded four-vectors.

    Parameters
    ----------
    p : ``(N, P, 4)`` ``(E, px, py, pz)``; mask : ``(N, P)`` bool.
    mass, scale : as in :func:`beam_vectors`; pass the ``scale`` used for ``p``.

    Returns
    -------
    p : ``(N, P + 2, 4)`` with the beams at positions 0 and 1;
    mask : ``(N, P + 2)`` bool (beams True);
    is_beam : ``(N, P + 2)`` bool, the label LorentzNet feeds as a node scalar
        (its ``+1`` for beams and ``−1`` for particles is ``2 * is_beam - 1``).
    """
    p = np.asarray(p)
    mask = np.asarray(mask, dtype=bool)
    if p.ndim != 3 or p.shape[-1] != 4 or mask.shape != p.shape[:2]:
        raise ValueError(f"expected p (N, P, 4) and mask (N, P), got {p.shape}, {mask.shape}")
    n = p.shape[0]
    beams = beam_vectors(n, mass=mass, scale=scale, dtype=p.dtype)
    out = np.concatenate([beams, p], axis=1)
    out_mask = np.concatenate([np.ones((n, 2), dtype=bool), mask], axis=1)
    is_beam = np.zeros(out_mask.shape, dtype=bool)
    is_beam[:, :2] = True
    return out, out_mask, is_beam
