"""Four-vector kinematics as pure functions on arrays.

Every function takes NumPy or awkward arrays (flat or jagged) of Cartesian components
(``px, py, pz, E`` in GeV) or of (pT, η, φ) and returns arrays of the same structure, so the
same call works on one particle, on the constituents of many jets, or on whole events.
Conventions: GeV and radians; φ is wrapped to (−π, π].

These are the same expressions scikit-hep ``vector`` evaluates; they are written as plain
array expressions so that they work unchanged on padded NumPy arrays, jagged awkward arrays
and inside vectorised observables without building vector objects on the hot path. Use
``vector`` for general Lorentz transformations; the tests check these against it.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "wrap_phi",
    "delta_phi",
    "delta_r",
    "pt",
    "eta",
    "rapidity",
    "phi",
    "mass",
    "mass_squared",
    "ptetaphim_to_pxpypze",
    "ptetaphim_to_pxpypze_rapidity",
    "invariant_mass",
    "boost_z",
    "rotate_z",
]


def wrap_phi(phi):
    """Wrap an azimuthal angle to (−π, π].

    Formula: φ ↦ φ − 2π ⌈(φ − π) / 2π⌉, which maps π to π and −π to π.
    """
    return phi - 2.0 * np.pi * np.ceil((phi - np.pi) / (2.0 * np.pi))


def delta_phi(phi1, phi2):
    """Signed azimuthal difference φ1 − φ2 wrapped to (−π, π]."""
    return wrap_phi(phi1 - phi2)


def delta_r(eta1, phi1, eta2, phi2):
    """Angular distance ΔR = sqrt(Δη² + Δφ²) with Δφ wrapped to (−π, π].

    With rapidities instead of pseudorapidities the same formula gives the boost-invariant
    ΔR used by anti-kT (Cacciari, Salam, Soyez, arXiv:0802.1189).
    """
    return np.sqrt((eta1 - eta2) ** 2 + delta_phi(phi1, phi2) ** 2)


def pt(px, py):
    """Transverse momentum pT = sqrt(px² + py²)."""
    return np.hypot(px, py)


def eta(px, py, pz):
    """Pseudorapidity η = asinh(pz / pT); ±inf only for a particle exactly along the beam."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.arcsinh(pz / pt(px, py))


def rapidity(pz, E):
    """Rapidity y = ½ ln((E + pz) / (E − pz))."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return 0.5 * np.log((E + pz) / (E - pz))


def phi(px, py):
    """Azimuth φ = atan2(py, px), in (−π, π]."""
    return np.arctan2(py, px)


def mass_squared(px, py, pz, E):
    """Invariant mass squared m² = E² − |p|² (may be slightly negative from rounding)."""
    return E**2 - px**2 - py**2 - pz**2


def mass(px, py, pz, E):
    """Invariant mass m = sign(m²) sqrt(|m²|), following the FastJet/ROOT convention for
    spacelike rounding errors."""
    m2 = mass_squared(px, py, pz, E)
    return np.sign(m2) * np.sqrt(np.abs(m2))


def ptetaphim_to_pxpypze(pt_, eta_, phi_, m):
    """Cartesian components from (pT, η, φ, m): px = pT cos φ, py = pT sin φ,
    pz = pT sinh η, E = sqrt(pT² cosh² η + m²)."""
    px = pt_ * np.cos(phi_)
    py = pt_ * np.sin(phi_)
    pz = pt_ * np.sinh(eta_)
    E = np.sqrt((pt_ * np.cosh(eta_)) ** 2 + m**2)
    return px, py, pz, E


def ptetaphim_to_pxpypze_rapidity(pt_, y, phi_, m):
    """Cartesian components from (pT, rapidity y, φ, m): with mT = sqrt(pT² + m²),
    pz = mT sinh y, E = mT cosh y (the energyflow q/g files store y, not η)."""
    mt = np.sqrt(pt_**2 + m**2)
    return pt_ * np.cos(phi_), pt_ * np.sin(phi_), mt * np.sinh(y), mt * np.cosh(y)


def invariant_mass(px, py, pz, E, axis=-1):
    """Invariant mass of the sum of a set of four-vectors along ``axis``.

    Works on padded NumPy arrays (zero padding contributes nothing) and on jagged awkward
    arrays (sums over the innermost list): m = sqrt((ΣE)² − |Σp|²).
    """
    import awkward as ak

    s = ak.sum if isinstance(px, ak.Array) else np.sum
    return mass(s(px, axis=axis), s(py, axis=axis), s(pz, axis=axis), s(E, axis=axis))


def boost_z(pz, E, beta):
    """Lorentz boost along the beam axis with velocity β (|β| < 1).

    pz' = γ (pz + β E), E' = γ (E + β pz); px, py unchanged. Rapidities shift by atanh(β),
    so ΔR in rapidity, pT and invariant masses are unchanged.
    """
    beta = np.asarray(beta, dtype=float)
    if np.any(np.abs(beta) >= 1):
        raise ValueError(f"boost_z: |beta| must be < 1, got {beta}")
    gamma = 1.0 / np.sqrt(1.0 - beta**2)
    return gamma * (pz + beta * E), gamma * (E + beta * pz)


def rotate_z(px, py, angle):
    """Rotation about the beam axis by ``angle`` (radians): φ ↦ φ + angle."""
    c, s = np.cos(angle), np.sin(angle)
    return c * px - s * py, s * px + c * py
