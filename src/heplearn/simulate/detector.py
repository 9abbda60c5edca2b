"""A parametric fast detector producing energy-flow candidates.

The model follows the Delphes modules it is parametrised from (de Favereau et al.,
arXiv:1307.6346): charged particles that reach the tracker are reconstructed with an
efficiency and a pT resolution; every visible particle deposits its energy in ECAL and HCAL
cells of fixed (η, φ) size with the Delphes energy fractions; cell energies are smeared with
σ(E) = sqrt(a² E² + b² E + c²) (constant a, stochastic b, noise c); and, as Delphes'
``SimpleCalorimeter`` energy flow, a cell yields a neutral candidate carrying the excess of
its energy over the energy of the reconstructed tracks pointing at it when that excess is
above ``energy_min`` and ``significance_min`` standard deviations. Neutrinos are dropped,
muons leave tracks only. Output: tracks + neutral towers (massless, at a random point of
their cell, as Delphes' ``SmearTowerCenter``).

Simplifications (stated, not hidden): straight-line propagation (a charged particle with
pT below 0.15·B·R_tracker curls up and never reaches the calorimeter, otherwise its cell
is the one its momentum points at), one uniform cell size per calorimeter, Gaussian cell
smearing truncated at zero, and the energy flow subtracts the *true* energy of the tracked
particles from a cell and tests the excess against the cell's resolution alone (Delphes
subtracts the smeared track energy and adds the track resolution in quadrature to the
significance); the neutral candidates near threshold differ slightly.

Detectors are cards too: ``none`` (particle level), ``atlas-like``, ``cms-like``; every
number below cites the Delphes card it comes from.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from heplearn.errors import InvalidCardError, UnknownNameError
from heplearn.physics import kinematics as kin

__all__ = [
    "ResolutionBin",
    "Calorimeter",
    "Tracker",
    "Efficiency",
    "DetectorCard",
    "DETECTORS",
    "get_detector",
    "detector_names",
    "apply_detector",
    "INVISIBLE_PIDS",
]

#: |PDG id| of particles that leave nothing: neutrinos and the lightest neutralino.
INVISIBLE_PIDS = (12, 14, 16, 1000022)

#: ECAL energy fraction by |PDG id| (Delphes cards' ``EnergyFraction``); HCAL gets 1 − f for
#: hadrons, muons and invisibles deposit nothing.
_ECAL_FRACTION = {11: 1.0, 22: 1.0, 111: 1.0, 310: 0.3, 3122: 0.3}
_NO_DEPOSIT = (13, *INVISIBLE_PIDS)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResolutionBin(_Strict):
    """Resolution σ = f(η) · sqrt(a² X² + b² X + c²) for |η| < ``abs_eta_max``.

    X is the energy (calorimeters, absolute σ in GeV) or, for trackers, σ(pT)/pT =
    sqrt(c² + a² pT²) (``b`` unused). f(η) = p0 + p1 (|η| − p2)² shapes the CMS ECAL.
    """

    abs_eta_max: float
    a: float = 0.0
    b: float = 0.0
    c: float = 0.0
    eta_shape: tuple[float, float, float] = (1.0, 0.0, 0.0)


def _sigma(bins: tuple[ResolutionBin, ...], abs_eta: np.ndarray, x: np.ndarray, tracker=False):
    sigma = np.zeros_like(x, dtype=float)
    lower = 0.0
    for rb in bins:
        sel = (abs_eta >= lower) & (abs_eta < rb.abs_eta_max)
        p0, p1, p2 = rb.eta_shape
        shape = p0 + p1 * (abs_eta[sel] - p2) ** 2
        xs = x[sel]
        if tracker:
            sigma[sel] = shape * np.sqrt(rb.c**2 + (rb.a * xs) ** 2)
        else:
            sigma[sel] = shape * np.sqrt((rb.a * xs) ** 2 + rb.b**2 * xs + rb.c**2)
        lower = rb.abs_eta_max
    return sigma


class Efficiency(_Strict):
    """Tracking efficiency in bins of pT (edges in GeV) for |η| ≤ ``central_eta_max``
    (``central``) and above it up to the tracker edge (``forward``); zero below pT_min."""

    pt_edges: tuple[float, ...]
    central: tuple[float, ...]
    forward: tuple[float, ...]

    def __call__(self, pt: np.ndarray, central: np.ndarray) -> np.ndarray:
        b = np.searchsorted(np.asarray(self.pt_edges), pt, side="left")
        return np.where(central, np.asarray(self.central)[b], np.asarray(self.forward)[b])


class Tracker(_Strict):
    """Charged-particle tracking for hadrons, electrons and muons: efficiency and relative
    pT resolution σ(pT)/pT per species, as Delphes' ``Efficiency`` and ``MomentumSmearing``
    modules."""

    abs_eta_max: float = 2.5
    central_eta_max: float = 1.5
    pt_min: float = 0.1
    efficiency: dict[Literal["hadron", "electron", "muon"], Efficiency]
    resolution: dict[Literal["hadron", "electron", "muon"], tuple[ResolutionBin, ...]]
    bz_tesla: float
    radius_m: float

    @property
    def curl_pt(self) -> float:
        """pT (GeV) below which a track loops inside the tracker: pT = 0.3 B (R/2)."""
        return 0.15 * self.bz_tesla * self.radius_m


class Calorimeter(_Strict):
    cell_eta: float = Field(gt=0)
    cell_phi: float = Field(gt=0)
    abs_eta_max: float
    resolution: tuple[ResolutionBin, ...]
    energy_min: float
    significance_min: float = 2.0


class DetectorCard(_Strict):
    name: str
    reference: str
    tracker: Tracker | None = None
    ecal: Calorimeter | None = None
    hcal: Calorimeter | None = None

    @property
    def particle_level(self) -> bool:
        return self.tracker is None


_PI = np.pi
_ATLAS_REF = "Delphes 3 default ATLAS card (cards/delphes_card_ATLAS.tcl), arXiv:1307.6346"
_CMS_REF = "Delphes 3 default CMS card (cards/delphes_card_CMS.tcl), arXiv:1307.6346"

# Tracking efficiencies shared by the Delphes ATLAS and CMS cards.
_DELPHES_TRACKING_EFFICIENCY = {
    "hadron": Efficiency(pt_edges=(1.0,), central=(0.70, 0.95), forward=(0.60, 0.85)),
    "electron": Efficiency(
        pt_edges=(1.0, 100.0), central=(0.73, 0.95, 0.99), forward=(0.50, 0.83, 0.90)
    ),
    "muon": Efficiency(pt_edges=(1.0,), central=(0.75, 0.99), forward=(0.70, 0.98)),
}
# ElectronMomentumSmearing and MuonMomentumSmearing, identical in both cards.
_DELPHES_ELECTRON_RESOLUTION = (
    ResolutionBin(abs_eta_max=0.5, c=0.03, a=1.3e-3),
    ResolutionBin(abs_eta_max=1.5, c=0.05, a=1.7e-3),
    ResolutionBin(abs_eta_max=2.5, c=0.15, a=3.1e-3),
)
_DELPHES_MUON_RESOLUTION = (
    ResolutionBin(abs_eta_max=0.5, c=0.01, a=1.0e-4),
    ResolutionBin(abs_eta_max=1.5, c=0.015, a=1.5e-4),
    ResolutionBin(abs_eta_max=2.5, c=0.025, a=3.5e-4),
)

DETECTORS: dict[str, DetectorCard] = {
    "none": DetectorCard(
        name="none",
        reference="particle level: every final-state particle except neutrinos",
    ),
    "atlas-like": DetectorCard(
        name="atlas-like",
        reference=_ATLAS_REF,
        # {ChargedHadron,Electron,Muon}TrackingEfficiency and ...MomentumSmearing,
        # ParticlePropagator (Bz = 2 T, R = 1.15 m)
        tracker=Tracker(
            efficiency=_DELPHES_TRACKING_EFFICIENCY,
            resolution={
                "hadron": (
                    ResolutionBin(abs_eta_max=0.5, c=0.06, a=1.3e-3),
                    ResolutionBin(abs_eta_max=1.5, c=0.10, a=1.7e-3),
                    ResolutionBin(abs_eta_max=2.5, c=0.25, a=3.1e-3),
                ),
                "electron": _DELPHES_ELECTRON_RESOLUTION,
                "muon": _DELPHES_MUON_RESOLUTION,
            },
            bz_tesla=2.0,
            radius_m=1.15,
        ),
        # ECal: 0.0174 x 1 degree cells, sqrt(E^2 0.0017^2 + E 0.101^2) for |eta| <= 3.2
        ecal=Calorimeter(
            cell_eta=0.0174,
            cell_phi=_PI / 180,
            abs_eta_max=4.9,
            resolution=(
                ResolutionBin(abs_eta_max=3.2, a=0.0017, b=0.101),
                ResolutionBin(abs_eta_max=4.9, a=0.035, b=0.285),
            ),
            energy_min=0.5,
        ),
        # HCal: 0.1 x 10 degree towers, sqrt(E^2 0.0302^2 + E 0.5205^2 + 1.59^2), |eta| <= 1.7
        hcal=Calorimeter(
            cell_eta=0.1,
            cell_phi=_PI / 18,
            abs_eta_max=4.9,
            resolution=(
                ResolutionBin(abs_eta_max=1.7, a=0.0302, b=0.5205, c=1.59),
                ResolutionBin(abs_eta_max=3.2, a=0.050, b=0.706),
                ResolutionBin(abs_eta_max=4.9, a=0.0942, b=1.00),
            ),
            energy_min=1.0,
        ),
    ),
    "cms-like": DetectorCard(
        name="cms-like",
        reference=_CMS_REF,
        # ChargedHadronMomentumSmearing "based on arXiv:1405.6569"; Bz = 3.8 T, R = 1.29 m
        tracker=Tracker(
            efficiency=_DELPHES_TRACKING_EFFICIENCY,
            resolution={
                "hadron": (
                    ResolutionBin(abs_eta_max=0.5, c=0.01, a=1.5e-4),
                    ResolutionBin(abs_eta_max=1.5, c=0.015, a=2.5e-4),
                    ResolutionBin(abs_eta_max=2.5, c=0.025, a=5.5e-4),
                ),
                "electron": _DELPHES_ELECTRON_RESOLUTION,
                "muon": _DELPHES_MUON_RESOLUTION,
            },
            bz_tesla=3.8,
            radius_m=1.29,
        ),
        # ECal: eta shape from arXiv:1306.2016, energy shape from arXiv:1502.02701
        ecal=Calorimeter(
            cell_eta=0.0174,
            cell_phi=_PI / 180,
            abs_eta_max=5.0,
            resolution=(
                ResolutionBin(abs_eta_max=1.5, a=0.008, b=0.11, c=0.40, eta_shape=(1, 0.64, 0)),
                ResolutionBin(abs_eta_max=2.5, a=0.008, b=0.11, c=0.40, eta_shape=(2.16, 5.6, 2)),
                ResolutionBin(abs_eta_max=5.0, a=0.107, b=2.08),
            ),
            energy_min=0.5,
        ),
        # HCal: 0.087 x 5 degree towers, sqrt(E^2 0.050^2 + E 1.50^2) for |eta| <= 3
        hcal=Calorimeter(
            cell_eta=0.087,
            cell_phi=_PI / 36,
            abs_eta_max=5.0,
            resolution=(
                ResolutionBin(abs_eta_max=3.0, a=0.050, b=1.50),
                ResolutionBin(abs_eta_max=5.0, a=0.130, b=2.70),
            ),
            energy_min=1.0,
        ),
    ),
}


def detector_names() -> list[str]:
    return list(DETECTORS)


def get_detector(detector: str | DetectorCard | dict[str, Any]) -> DetectorCard:
    """A detector card by name (``none``, ``atlas-like``, ``cms-like``), dict or card."""
    if isinstance(detector, DetectorCard):
        return detector
    if isinstance(detector, dict):
        try:
            return DetectorCard.model_validate(detector)
        except ValidationError as err:
            raise InvalidCardError(f"invalid detector card: {err}") from None
    if detector not in DETECTORS:
        raise UnknownNameError(
            f"Unknown detector {detector!r}. Known detectors: {', '.join(DETECTORS)}"
        )
    return DETECTORS[detector]


def _ecal_fraction(abs_pid: np.ndarray) -> np.ndarray:
    f = np.zeros(abs_pid.shape)
    for pid, frac in _ECAL_FRACTION.items():
        f[abs_pid == pid] = frac
    return f


def _deposits(abs_pid: np.ndarray) -> np.ndarray:
    return ~np.isin(abs_pid, _NO_DEPOSIT)


def apply_detector(
    particles: dict[str, np.ndarray],
    detector: DetectorCard,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Turn final-state particles of many events into energy-flow candidates.

    Parameters
    ----------
    particles
        Flat arrays over all particles of a batch of events: ``event`` (int, sorted),
        ``px, py, pz, E, m`` (GeV), ``pid``, ``charge``, ``vertex``.
    detector
        The detector card; ``none`` returns visible particles unchanged.
    rng
        Seeded generator for efficiencies and smearing.

    Returns
    -------
    Flat arrays of candidates with the same keys (``m`` dropped), sorted by ``event``.
    """
    abs_pid = np.abs(particles["pid"])
    visible = ~np.isin(abs_pid, INVISIBLE_PIDS)
    p = {k: v[visible] for k, v in particles.items()}
    if detector.particle_level:
        p.pop("m", None)
        return p
    abs_pid = abs_pid[visible]
    pt = kin.pt(p["px"], p["py"])
    eta = kin.eta(p["px"], p["py"], p["pz"])
    phi = kin.phi(p["px"], p["py"])
    abs_eta = np.abs(eta)
    charged = p["charge"] != 0

    # --- tracking ---------------------------------------------------------------------
    trk = detector.tracker
    in_tracker = charged & (abs_eta <= trk.abs_eta_max) & (pt > trk.pt_min)
    central = abs_eta <= trk.central_eta_max
    species = np.select([abs_pid == 11, abs_pid == 13], ["electron", "muon"], "hadron")
    eff = np.zeros(len(pt))
    rel = np.zeros(len(pt))
    for name in ("hadron", "electron", "muon"):
        s = species == name
        eff[s] = trk.efficiency[name](pt[s], central[s])
        rel[s] = _sigma(trk.resolution[name], abs_eta[s], pt[s], tracker=True)
    is_track = in_tracker & (rng.random(len(pt)) < eff)
    rel = rel[is_track]
    scale = np.clip(1.0 + rel * rng.standard_normal(len(rel)), 0.05, None)
    t_pt = pt[is_track] * scale
    t_px, t_py, t_pz, t_E = kin.ptetaphim_to_pxpypze(
        t_pt, eta[is_track], phi[is_track], p["m"][is_track]
    )
    tracks = {
        "event": p["event"][is_track],
        "px": t_px,
        "py": t_py,
        "pz": t_pz,
        "E": t_E,
        "pid": p["pid"][is_track],
        "charge": p["charge"][is_track],
        "vertex": p["vertex"][is_track],
    }

    # --- calorimeters -----------------------------------------------------------------
    reaches = _deposits(abs_pid) & ~(charged & (pt < trk.curl_pt))
    f_ecal = _ecal_fraction(abs_pid)
    neutrals = []
    for calo, fraction, neutral_pid in (
        (detector.ecal, f_ecal, 22),
        (detector.hcal, 1.0 - f_ecal, 130),
    ):
        dep = reaches & (fraction > 0) & (abs_eta < calo.abs_eta_max)
        neutrals.append(
            _calorimeter_eflow(
                calo,
                event=p["event"][dep],
                eta=eta[dep],
                phi=phi[dep],
                energy=p["E"][dep] * fraction[dep],
                # tracks pointing at this calorimeter subtract their deposit (Delphes eflow)
                track_energy=np.where(is_track[dep], p["E"][dep] * fraction[dep], 0.0),
                vertex=p["vertex"][dep],
                neutral_pid=neutral_pid,
                rng=rng,
            )
        )
    out = {k: np.concatenate([tracks[k], neutrals[0][k], neutrals[1][k]]) for k in tracks}
    order = np.argsort(out["event"], kind="stable")
    return {k: v[order] for k, v in out.items()}


def _calorimeter_eflow(
    calo: Calorimeter,
    *,
    event: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    energy: np.ndarray,
    track_energy: np.ndarray,
    vertex: np.ndarray,
    neutral_pid: int,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Cells of one calorimeter for all events at once; neutral eflow candidates."""
    n_phi = int(round(2 * np.pi / calo.cell_phi))
    ieta = np.floor(eta / calo.cell_eta).astype(np.int64)
    iphi = np.floor((phi + np.pi) / (2 * np.pi) * n_phi).astype(np.int64) % n_phi
    n_eta = 2 * int(np.ceil(calo.abs_eta_max / calo.cell_eta)) + 2
    key = (event.astype(np.int64) * n_eta + (ieta + n_eta // 2)) * n_phi + iphi
    cells, inverse = np.unique(key, return_inverse=True)
    e_cell = np.bincount(inverse, weights=energy, minlength=len(cells))
    e_track = np.bincount(inverse, weights=track_energy, minlength=len(cells))
    # vertex of the particle that put most energy into the cell (truth, for pileup studies)
    order = np.lexsort((-energy, inverse))
    first = np.ones(len(order), dtype=bool)
    first[1:] = inverse[order][1:] != inverse[order][:-1]
    cell_vertex = np.empty(len(cells), dtype=vertex.dtype)
    cell_vertex[inverse[order][first]] = vertex[order][first]

    c_event = cells // (n_eta * n_phi)
    c_ieta = (cells // n_phi) % n_eta - n_eta // 2
    c_iphi = cells % n_phi
    # SmearTowerCenter: a uniformly random point of the cell
    c_eta = (c_ieta + rng.random(len(cells))) * calo.cell_eta
    c_phi = kin.wrap_phi((c_iphi + rng.random(len(cells))) * (2 * np.pi / n_phi) - np.pi)
    sigma = _sigma(calo.resolution, np.abs(c_eta), e_cell)
    e_meas = np.clip(e_cell + sigma * rng.standard_normal(len(cells)), 0.0, None)
    excess = e_meas - e_track
    keep = (excess > calo.energy_min) & (excess > calo.significance_min * sigma)
    e_n = excess[keep]
    pt_n = e_n / np.cosh(c_eta[keep])
    px, py, pz, E = kin.ptetaphim_to_pxpypze(pt_n, c_eta[keep], c_phi[keep], 0.0)
    n = int(keep.sum())
    return {
        "event": c_event[keep].astype(event.dtype if len(event) else np.int64),
        "px": px,
        "py": py,
        "pz": pz,
        "E": E,
        "pid": np.full(n, neutral_pid, dtype=np.int32),
        "charge": np.zeros(n, dtype=np.int8),
        "vertex": cell_vertex[keep],
    }
