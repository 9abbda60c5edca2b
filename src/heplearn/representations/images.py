"""Jet images and event images: pT deposited in a grid of (η, φ) cells.

A jet image (Cogan, Kagan, Strauss, Schwartzman, arXiv:1407.5675) is the pT-weighted
histogram of the constituents in (Δη, Δφ) around the jet, after the standard preprocessing
(de Oliveira et al., arXiv:1511.05190; Kasieczka, Plehn, Russell, Schell, arXiv:1701.08784,
"DeepTop"): centre, rotate the principal axis to a fixed direction, flip so the harder side
is in a fixed half, normalise. Everything here is computed for all jets at once on the flat
constituent arrays; the histogram is one ``np.add.at`` on flattened pixel indices.

Image layout (both functions): ``(N, 1, H, W)`` float32, one channel; the row index (H, the
vertical axis of ``imshow``) runs over η, the column index (W) over φ, both ascending.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import awkward as ak
import numpy as np

from heplearn.physics import kinematics as kin
from heplearn.representations._common import FlatConstituents

__all__ = ["jet_image", "event_image"]


def _histogram(rows, cols, weights, groups, n_groups: int, n_rows: int, n_cols: int):
    """Sum ``weights`` into ``(n_groups, 1, n_rows, n_cols)`` cells; entries off-grid dropped."""
    inside = (rows >= 0) & (rows < n_rows) & (cols >= 0) & (cols < n_cols)
    index = (groups[inside] * n_rows + rows[inside]) * n_cols + cols[inside]
    image = np.zeros(n_groups * n_rows * n_cols, dtype=np.float32)
    np.add.at(image, index, weights[inside].astype(np.float32, copy=False))
    return image.reshape(n_groups, 1, n_rows, n_cols)


def _per_jet_sum(values: np.ndarray, jet_index: np.ndarray, n_jets: int) -> np.ndarray:
    return np.bincount(jet_index, weights=values, minlength=n_jets)


def jet_image(
    table: ak.Array,
    n_pixels: int | tuple[int, int] = 40,
    extent: float | tuple[float, float] | None = None,
    centre: Literal["pt_weighted", "leading", "jet"] = "pt_weighted",
    rotate: bool = True,
    flip: bool = True,
    normalise: bool = True,
    R: float = 1.0,
) -> np.ndarray:
    """pT-weighted (Δη, Δφ) images of every jet.

    Steps (each vectorised over all constituents of all jets):

    1. Δη_i = η_i − η_J, Δφ_i = φ_i − φ_J wrapped to (−π, π], about the table's jet axis.
    2. ``centre``: shift so that the origin is the pT-weighted centroid
       (Σ pT_i Δη_i / Σ pT_i, same for Δφ) — ``"pt_weighted"`` —, the hardest constituent
       — ``"leading"`` —, or the jet axis itself — ``"jet"``.
    3. ``rotate``: rotate about the origin so that the principal axis of the pT-weighted
       second-moment tensor C = Σ pT_i (x_i x_iᵀ) (x = (Δη, Δφ)) lies along Δη, i.e.
       vertical in the image (rows); angle θ = ½ atan2(2 C_ηφ, C_ηη − C_φφ).
    4. ``flip``: mirror Δη → −Δη if Σ pT_i sign(Δη_i) < 0, and likewise Δφ, so the half-image
       Δη > 0 (bottom rows, higher index) and the half Δφ > 0 (right columns) each carry at
       least as much pT as their mirror halves.
    5. Histogram pT into ``n_pixels`` cells over Δη ∈ [−extent_η, extent_η) and Δφ ∈
       [−extent_φ, extent_φ); constituents outside are dropped.
    6. ``normalise``: divide by the jet's scalar Σ pT_i over *all* constituents, so the image
       sums to the fraction of pT inside the extent (1 when the whole jet is inside).

    Pixel (i, j) covers Δη ∈ [−e_η + i·2e_η/H, −e_η + (i+1)·2e_η/H) and likewise Δφ for j.
    With an odd number of pixels the origin is in the central pixel ``(H // 2, W // 2)``; with
    an even number it is the corner shared by the four central pixels and a constituent
    exactly at the origin lands in pixel ``(H // 2, W // 2)``.

    Parameters
    ----------
    table
        A jet table.
    n_pixels
        ``H = W = n_pixels``, or ``(H, W)``. DeepTop uses 40 × 40.
    extent
        Half-widths ``(e_η, e_φ)`` of the image (a float for both), in units of η and rad;
        default ``(R, R)``.
    centre, rotate, flip, normalise
        See the steps above; defaults follow DeepTop's full preprocessing.
    R
        The jet radius; only used for the default ``extent``.

    Returns
    -------
    numpy.ndarray, float32, shape ``(N, 1, H, W)``

    References
    ----------
    Cogan et al., arXiv:1407.5675; de Oliveira et al., arXiv:1511.05190; Kasieczka et al.,
    arXiv:1701.08784.
    """
    n_eta, n_phi = (n_pixels, n_pixels) if np.isscalar(n_pixels) else tuple(n_pixels)
    if extent is None:
        extent = R
    e_eta, e_phi = (extent, extent) if np.isscalar(extent) else tuple(extent)
    if min(n_eta, n_phi) < 1 or min(e_eta, e_phi) <= 0:
        raise ValueError(f"jet_image: need n_pixels >= 1 and extent > 0, got {n_pixels}, {extent}")
    if centre not in ("pt_weighted", "leading", "jet"):
        raise ValueError(
            f"jet_image: centre={centre!r}; expected 'pt_weighted', 'leading' or 'jet'"
        )
    flat = FlatConstituents(table, source="jet_image")
    n, jets = flat.n_jets, flat.jet_index
    pt = flat.pt.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = flat.eta.astype(np.float64) - flat.jet_eta[jets]
    y = kin.delta_phi(flat.phi.astype(np.float64), flat.jet_phi[jets])

    total = _per_jet_sum(pt, jets, n)
    safe_total = np.where(total > 0, total, 1.0)
    if centre == "pt_weighted":
        x = x - (_per_jet_sum(pt * x, jets, n) / safe_total)[jets]
        y = kin.wrap_phi(y - (_per_jet_sum(pt * y, jets, n) / safe_total)[jets])
    elif centre == "leading":
        first = np.flatnonzero(flat.position == 0)  # hardest constituent of each non-empty jet
        lead_x, lead_y = np.zeros(n), np.zeros(n)
        lead_x[jets[first]], lead_y[jets[first]] = x[first], y[first]
        x = x - lead_x[jets]
        y = kin.wrap_phi(y - lead_y[jets])

    if rotate:
        c_xx = _per_jet_sum(pt * x * x, jets, n)
        c_yy = _per_jet_sum(pt * y * y, jets, n)
        c_xy = _per_jet_sum(pt * x * y, jets, n)
        theta = 0.5 * np.arctan2(2.0 * c_xy, c_xx - c_yy)  # major axis angle from Δη
        cos, sin = np.cos(theta)[jets], np.sin(theta)[jets]
        x, y = cos * x + sin * y, -sin * x + cos * y
    if flip:
        x = x * np.where(_per_jet_sum(pt * np.sign(x), jets, n) < 0, -1.0, 1.0)[jets]
        y = y * np.where(_per_jet_sum(pt * np.sign(y), jets, n) < 0, -1.0, 1.0)[jets]

    rows = np.floor((x + e_eta) * (n_eta / (2.0 * e_eta))).astype(np.int64)
    cols = np.floor((y + e_phi) * (n_phi / (2.0 * e_phi))).astype(np.int64)
    weights = pt / safe_total[jets] if normalise else pt
    return _histogram(rows, cols, weights, jets, n, n_eta, n_phi)


def _flat_event_arrays(eta, phi, pt):
    """Flat float64 arrays plus event index from jagged awkward or padded 2-D inputs."""
    if isinstance(pt, ak.Array):
        counts = ak.to_numpy(ak.num(pt, axis=1))
        arrays = [ak.to_numpy(ak.flatten(a, axis=1)).astype(np.float64) for a in (eta, phi, pt)]
        groups = np.repeat(np.arange(len(counts)), counts)
        return (*arrays, groups, len(counts))
    arrays = [np.asarray(a, dtype=np.float64) for a in (eta, phi, pt)]
    if arrays[2].ndim != 2 or any(a.shape != arrays[2].shape for a in arrays):
        raise ValueError(
            "event_image: eta, phi, pt must be jagged awkward arrays or padded (N, M) arrays "
            f"of one shape, got {[a.shape for a in arrays]}"
        )
    n, m = arrays[2].shape
    groups = np.repeat(np.arange(n), m)
    return (*(a.reshape(-1) for a in arrays), groups, n)


def event_image(
    eta,
    phi,
    pt,
    eta_range: Sequence[float] = (-2.5, 2.5),
    n_eta: int = 50,
    n_phi: int = 64,
    normalise: bool = False,
) -> np.ndarray:
    """Whole-detector (η, φ) images of events, periodic in φ.

    Cell (i, j) sums the pT of particles with η in the i-th of ``n_eta`` equal bins of
    ``[eta_range[0], eta_range[1])`` and φ in [−π + j·2π/n_φ, −π + (j+1)·2π/n_φ); φ is wrapped
    first, so φ = π (≡ −π) lands in column 0. Particles outside the η range are dropped.
    Because the φ bins tile the circle, rotating every particle by 2π/n_φ rolls the image by
    one column (``np.roll(image, 1, axis=-1)``): a CNN should use circular padding along the
    last axis.

    Parameters
    ----------
    eta, phi, pt
        Jagged awkward arrays ``(N, var)`` (e.g. ``events.particles.eta``), or padded NumPy
        arrays ``(N, M)`` whose padding has ``pt = 0``.
    eta_range, n_eta, n_phi
        The grid.
    normalise
        Divide by each event's total pT inside the η range (images then sum to 1).

    Returns
    -------
    numpy.ndarray, float32, shape ``(N, 1, n_eta, n_phi)``, in GeV unless normalised.

    References
    ----------
    Cogan et al., arXiv:1407.5675 (calorimeter-cell images); event-level images as in PUMML
    (Komiske, Metodiev, Nachman, Schwartz, arXiv:1707.08600).
    """
    lo, hi = float(eta_range[0]), float(eta_range[1])
    if not hi > lo or n_eta < 1 or n_phi < 1:
        raise ValueError(f"event_image: bad grid eta_range={eta_range}, n_eta={n_eta}, "
                         f"n_phi={n_phi}")  # fmt: skip
    eta_f, phi_f, pt_f, groups, n = _flat_event_arrays(eta, phi, pt)
    rows = np.floor((eta_f - lo) * (n_eta / (hi - lo))).astype(np.int64)
    rows = np.where(eta_f >= hi, n_eta, rows)  # guard the open upper edge against rounding
    cols = np.floor((kin.wrap_phi(phi_f) + np.pi) * (n_phi / (2.0 * np.pi))).astype(np.int64)
    cols %= n_phi
    image = _histogram(rows, cols, pt_f, groups, n, n_eta, n_phi)
    if normalise:
        total = image.sum(axis=(1, 2, 3), keepdims=True)
        image /= np.where(total > 0, total, 1.0)
    return image
