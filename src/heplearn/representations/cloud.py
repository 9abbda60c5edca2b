"""Particle clouds: a jet table -> padded per-particle features and a mask.

The input of Deep Sets / Energy Flow Networks, ParticleNet and the Particle Transformer is a
set of particles, each described by a few features, padded to a fixed length ``P``::

    x, mask = particle_cloud(table, max_particles=128)   # (N, P, F) float32, (N, P) bool

Features are named and come from one registry, :data:`FEATURES` (name -> function of a
:class:`~heplearn.representations._common.FlatConstituents`); add one with
:func:`register_feature`. All features are computed on the flat array of kept constituents
of all jets at once (no per-jet loop), then scattered into the padded array.

References: ParticleNet, Qu & Gouskos, arXiv:1902.08570 (Table 1 inputs); Particle
Transformer, Qu, Li, Qian, arXiv:2202.03772 (Table 2 inputs, JetClass ``part_*`` branches).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import awkward as ak
import numpy as np

from heplearn.errors import UnknownNameError
from heplearn.physics import kinematics as kin
from heplearn.representations._common import FlatConstituents

__all__ = [
    "FEATURES",
    "DEFAULT_FEATURES",
    "KINPID_FEATURES",
    "PID_FEATURES",
    "MOMENTUM_FEATURES",
    "TOPODNN_FEATURES",
    "LOG_EPS",
    "register_feature",
    "particle_cloud",
]

#: Floor applied inside every logarithm (GeV for momenta), so a zero never becomes -inf.
LOG_EPS = 1e-8

Feature = Callable[[FlatConstituents], np.ndarray]

#: name -> function(FlatConstituents) -> flat (kept constituents,) array
FEATURES: dict[str, Feature] = {}


def register_feature(name: str, function: Feature) -> Feature:
    """Add a particle-cloud feature to :data:`FEATURES`; duplicate names are refused.

    ``function`` receives a :class:`~heplearn.representations._common.FlatConstituents`
    (flat arrays of the kept constituents of all jets) and returns one value per kept
    constituent.
    """
    if name in FEATURES:
        raise ValueError(f"particle-cloud feature {name!r} is already registered")
    FEATURES[name] = function
    return function


def _log(x: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(x, np.float32(LOG_EPS)))


def _deta(c: FlatConstituents) -> np.ndarray:
    return c.memo("deta", lambda: c.eta - c.per_constituent(c.jet_eta))


def _dphi(c: FlatConstituents) -> np.ndarray:
    return c.memo("dphi", lambda: kin.delta_phi(c.phi, c.per_constituent(c.jet_phi)))


def _abs_pid(c: FlatConstituents) -> np.ndarray:
    return np.abs(c.field("pid"))


def _is_charged_hadron(c: FlatConstituents) -> np.ndarray:
    apid = _abs_pid(c)
    return (apid != 0) & (c.field("charge") != 0) & (apid != 11) & (apid != 13)


def _is_neutral_hadron(c: FlatConstituents) -> np.ndarray:
    apid = _abs_pid(c)
    return (apid != 0) & (c.field("charge") == 0) & (apid != 22)


def _aligned(c: FlatConstituents) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pT', η', φ') of every kept constituent in TopoDNN's aligned frame (float64).

    The preprocessing of Pearkes, Fedorko, Lister, Gay (arXiv:1704.02124), as ATLAS's
    implementation of it does (``BoostedJetTaggers/TopoclusterTransform``):

    1. translate: Δη_i = η_i − η_1, Δφ_i = φ_i − φ_1 (wrapped), 1 the hardest constituent;
    2. rotate about the hardest constituent's direction, the x axis of the translated frame
       (p_x, p_y, p_z) = pT (cos Δφ, sin Δφ, sinh Δη), by the angle
       a = atan2(p_y,2, p_z,2) + π/2 of the second-hardest constituent, so that it lands at
       η' = 0, φ' < 0 ("directly below" the first): p_y' = p_y cos a − p_z sin a,
       p_z' = p_z cos a + p_y sin a (no rotation for a jet with one constituent);
    3. flip: η' → −η' in jets with Σ_i pT'_i η'_i < 0, so the harder side is at η' > 0.

    Then pT' = sqrt(p_x² + p_y'²), η' = asinh(p_z' / pT'), φ' = atan2(p_y', p_x). The
    rotation conserves |p| = pT cosh Δη, so pT' = |p| / cosh η'. Every step depends only on
    pT and on the differences in η and φ: the result is invariant under rotations about
    the beam, longitudinal boosts (of massless constituents) and the reflections η → −η and
    φ → −φ of the whole jet. The sum in step 3 runs over the kept constituents, as ATLAS's
    over the N_CONSTITUENTS its network reads: build the frame with the network's own
    number of constituents. ATLAS scales pT by a fixed 1679 GeV; the feature
    ``aligned_pt_fraction`` divides it by the jet's pT instead.
    """

    def compute():
        first = c.position == 0
        eta_1 = np.zeros(c.n_jets)
        phi_1 = np.zeros(c.n_jets)
        eta_1[c.jet_index[first]] = c.eta[first]
        phi_1[c.jet_index[first]] = c.phi[first]
        pt = c.pt.astype(np.float64)
        deta = c.eta - eta_1[c.jet_index]
        dphi = kin.delta_phi(c.phi.astype(np.float64), phi_1[c.jet_index])
        px, py, pz = pt * np.cos(dphi), pt * np.sin(dphi), pt * np.sinh(deta)
        angle = np.zeros(c.n_jets)
        second = c.position == 1
        angle[c.jet_index[second]] = np.arctan2(py[second], pz[second]) + np.pi / 2
        cos_a, sin_a = np.cos(angle)[c.jet_index], np.sin(angle)[c.jet_index]
        py, pz = py * cos_a - pz * sin_a, pz * cos_a + py * sin_a
        pt_r = np.hypot(px, py)
        with np.errstate(divide="ignore", invalid="ignore"):
            eta_r = np.where(pt_r > 0, np.arcsinh(pz / pt_r), 0.0)
        phi_r = np.arctan2(py, px)
        side = np.bincount(c.jet_index, weights=pt_r * eta_r, minlength=c.n_jets)
        eta_r *= np.where(side < 0, -1.0, 1.0)[c.jet_index]
        return pt_r, eta_r, phi_r

    return c.memo("aligned", compute)


_BUILTIN: dict[str, Feature] = {
    # raw Cartesian momentum (GeV)
    "px": lambda c: c.px,
    "py": lambda c: c.py,
    "pz": lambda c: c.pz,
    "E": lambda c: c.E,
    "pt": lambda c: c.pt,
    "eta": lambda c: c.eta,
    "phi": lambda c: c.phi,
    # relative to the jet axis (ParticleNet Table 1, ParT Table 2)
    "deta": _deta,
    "dphi": _dphi,
    "delta_r": lambda c: np.hypot(_deta(c), _dphi(c)),
    "log_pt": lambda c: _log(c.pt),
    "log_e": lambda c: _log(c.E),
    "log_pt_rel": lambda c: _log(c.pt / c.per_constituent(c.jet_pt)),
    "log_e_rel": lambda c: _log(c.E / c.per_constituent(c.jet_E)),
    # particle identification (ParT's JetClass inputs); all zero where pid == 0 (unknown)
    "charge": lambda c: c.field("charge"),
    "is_electron": lambda c: _abs_pid(c) == 11,
    "is_muon": lambda c: _abs_pid(c) == 13,
    "is_photon": lambda c: _abs_pid(c) == 22,
    "is_charged_hadron": _is_charged_hadron,
    "is_neutral_hadron": _is_neutral_hadron,
    # TopoDNN's aligned frame (arXiv:1704.02124): see _aligned
    "aligned_pt_fraction": lambda c: _aligned(c)[0] / c.per_constituent(c.jet_pt),
    "aligned_eta": lambda c: _aligned(c)[1],
    "aligned_phi": lambda c: _aligned(c)[2],
}
for _name, _function in _BUILTIN.items():
    register_feature(_name, _function)

#: ParticleNet / ParT kinematic inputs (top tagging): only four-momenta are needed.
DEFAULT_FEATURES: tuple[str, ...] = (
    "deta",
    "dphi",
    "log_pt",
    "log_e",
    "log_pt_rel",
    "log_e_rel",
    "delta_r",
)
#: The particle identification among them: charge and particle type (Lorentz scalars).
PID_FEATURES: tuple[str, ...] = (
    "charge",
    "is_charged_hadron",
    "is_neutral_hadron",
    "is_photon",
    "is_electron",
    "is_muon",
)
#: ParT's JetClass "kinematics + particle identification" inputs (no impact parameters).
KINPID_FEATURES: tuple[str, ...] = DEFAULT_FEATURES + PID_FEATURES
#: TopoDNN's inputs (Pearkes et al., arXiv:1704.02124): each constituent's pT and angles
#: after translating the hardest constituent to the origin, rotating the second-hardest
#: directly below it and flipping the harder side to η' > 0; pT' as a fraction of the
#: jet's pT (ATLAS: of a fixed 1679 GeV).
TOPODNN_FEATURES: tuple[str, ...] = ("aligned_pt_fraction", "aligned_eta", "aligned_phi")
#: Raw Cartesian four-momentum, the input of ParT's pairwise features and of LoLa.
MOMENTUM_FEATURES: tuple[str, ...] = ("px", "py", "pz", "E")


def _check_names(features: Sequence[str]) -> list[str]:
    if isinstance(features, str):
        features = [features]
    unknown = [f for f in features if f not in FEATURES]
    if unknown:
        raise UnknownNameError(
            f"Unknown particle-cloud feature(s) {unknown}. Known features: "
            f"{', '.join(sorted(FEATURES))}"
        )
    if not features:
        raise ValueError("particle_cloud needs at least one feature")
    return list(features)


def particle_cloud(
    table: ak.Array,
    max_particles: int = 128,
    features: Sequence[str] = DEFAULT_FEATURES,
) -> tuple[np.ndarray, np.ndarray]:
    """Padded per-particle features of every jet, hardest particles first.

    Parameters
    ----------
    table
        A jet table (:mod:`heplearn.data.table`). The jet axis is taken from its ``pt``,
        ``eta``, ``phi`` (and ``mass`` for the jet energy) when present, else from the sum of
        all constituents (e.g. when only the constituent columns were read).
    max_particles
        ``P``: jets with more constituents keep their ``P`` hardest (by pT); shorter jets
        are zero-padded.
    features
        Names from :data:`FEATURES` (in output order); default :data:`DEFAULT_FEATURES`.
        With i a constituent and J the jet:

        - ``deta`` = η_i − η_J; ``dphi`` = φ_i − φ_J wrapped to (−π, π];
          ``delta_r`` = sqrt(deta² + dphi²) (pseudorapidity, as ParticleNet)
        - ``log_pt`` = ln pT_i, ``log_e`` = ln E_i (GeV); ``log_pt_rel`` = ln(pT_i / pT_J),
          ``log_e_rel`` = ln(E_i / E_J); arguments are floored at :data:`LOG_EPS`
        - ``px, py, pz, E, pt, eta, phi``: the constituent's own kinematics
        - ``aligned_eta``, ``aligned_phi``, ``aligned_pt_fraction``: η', φ' and pT' / pT_J
          in TopoDNN's aligned frame (hardest constituent at the origin, second-hardest
          directly below it, harder side at η' > 0; arXiv:1704.02124), computed over the
          ``P`` kept constituents
        - ``charge``; one-hot ``is_electron`` (|pid| = 11), ``is_muon`` (13), ``is_photon``
          (22), ``is_charged_hadron`` (pid known, charged, not e/μ), ``is_neutral_hadron``
          (pid known, neutral, not a photon). Where ``pid`` is 0 (unknown) all five are 0.

        Values are not standardised (weaver's centring/scaling belongs to the model config).
        ParticleNet's top-tagging conversion multiplies ``deta`` by sign(η_J); this function
        does not.

    Returns
    -------
    x : numpy.ndarray, float32, shape ``(N, P, F)``
        Features, ``x[n, p, f]``; padded entries are exactly 0.
    mask : numpy.ndarray, bool, shape ``(N, P)``
        True for real particles; ``mask[n, :min(n_n, P)]`` is True, the rest False.

    Raises
    ------
    heplearn.errors.UnknownNameError
        A feature name not in :data:`FEATURES` (the message lists the known ones).
    heplearn.errors.InvalidJetTable
        The table lacks a constituent field a feature needs (e.g. ``pid``).

    References
    ----------
    Qu & Gouskos, arXiv:1902.08570 (ParticleNet, Table 1); Qu, Li, Qian, arXiv:2202.03772
    (ParT, Table 2).
    """
    names = _check_names(features)
    flat = FlatConstituents(table, max_particles=max_particles, source="particle_cloud")
    with np.errstate(divide="ignore", invalid="ignore"):
        columns = [FEATURES[name](flat) for name in names]
    return flat.pad(columns, dtype=np.float32), flat.mask()
