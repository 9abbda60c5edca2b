"""Classic, non-ML top taggers for the landscape table: the Johns Hopkins tagger and a
τ32 cut inside a soft-drop mass window.

Both return one score per jet, higher = more top-like, so they fit the same ROC machinery
as the networks; jets failing a hard requirement score ``-inf``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from heplearn.errors import HeplearnError

__all__ = ["jh_top_tagger", "tau32_window_score", "W_MASS"]

#: W mass (GeV) used by the Johns Hopkins tagger's helicity-angle cut (FastJet default).
W_MASS = 80.4


def _constituent_arrays(jets: Any) -> list[np.ndarray]:
    """``(n_i, 4)`` arrays ``(px, py, pz, E)`` per jet from a jet table (``constituents``
    field) or a constituents array with fields px, py, pz, E."""
    import awkward as ak

    arr = ak.Array(jets)
    if "constituents" in ak.fields(arr):
        arr = arr["constituents"]
    counts = ak.to_numpy(ak.num(arr, axis=1))
    flat = np.stack(
        [ak.to_numpy(ak.flatten(arr[f]), allow_missing=False) for f in ("px", "py", "pz", "E")],
        axis=1,
    ).astype(np.float64)
    return np.split(flat, np.cumsum(counts)[:-1])


def jh_top_tagger(
    jets: Any,
    *,
    R: float = 0.8,
    delta_p: float = 0.10,
    delta_r: float = 0.19,
    cos_theta_w_max: float = 0.7,
    top_mass_window: tuple[float, float] = (150.0, 200.0),
    w_mass_window: tuple[float, float] = (65.0, 95.0),
) -> dict[str, np.ndarray]:
    """Johns Hopkins top tagger (Kaplan, Rehermann, Schwartz, Tweedie, arXiv:0806.0848)
    through FastJet's ``JHTopTagger``, one jet at a time.

    Each jet's constituents are reclustered with Cambridge/Aachen of radius ``R`` (0.8, the
    jet radius of the top-tagging reference sample arXiv:1902.09914; the original paper
    used larger radii) and the hardest C/A jet is declustered: subjets below a fraction
    ``delta_p`` of the jet pT are dropped, splits closer than ``delta_r`` (in
    ``|Δy| + |Δφ|``) stop the declustering; 3 or 4 subjets are required, the pair whose mass
    is closest to the W mass is the W candidate, and its helicity angle must satisfy
    ``cos θ_W < cos_theta_w_max``. Tagged jets must also have the top candidate mass in
    ``top_mass_window`` and the W candidate mass in ``w_mass_window`` (GeV).

    Parameters
    ----------
    jets
        Jet table (awkward, with a jagged ``constituents`` field holding ``px, py, pz, E``),
        or the constituents array itself.

    Returns
    -------
    dict of ``(N,)`` arrays
        ``tagged`` (bool); ``top_mass``, ``w_mass`` (GeV, NaN where untagged); ``score``:
        ``-|m_W − 80.4 GeV|`` for tagged jets, ``-inf`` otherwise — a continuous ranking
        inside the tagged set, so a ROC curve ends at the tagger's working point.
    """
    import fastjet

    tagger = fastjet.JHTopTagger(delta_p, delta_r, cos_theta_w_max, W_MASS)
    tagger.set_top_selector(fastjet.SelectorMassRange(*top_mass_window))
    tagger.set_W_selector(fastjet.SelectorMassRange(*w_mass_window))
    jet_def = fastjet.JetDefinition(fastjet.cambridge_algorithm, R)
    parts = _constituent_arrays(jets)
    n = len(parts)
    tagged = np.zeros(n, dtype=bool)
    top_mass = np.full(n, np.nan)
    w_mass = np.full(n, np.nan)
    for i, p4 in enumerate(parts):
        if len(p4) < 3:
            continue
        particles = [fastjet.PseudoJet(*map(float, row)) for row in p4]
        cs = fastjet.ClusterSequence(particles, jet_def)
        hardest = fastjet.sorted_by_pt(cs.inclusive_jets())[0]
        top = tagger.result(hardest)
        if top.E() > 0:  # FastJet returns an empty PseudoJet for untagged jets
            tagged[i] = True
            top_mass[i] = top.m()
            w_mass[i] = top.pieces()[0].m()
    score = np.where(tagged, -np.abs(w_mass - W_MASS), -np.inf)
    return {"tagged": tagged, "top_mass": top_mass, "w_mass": w_mass, "score": score}


def tau32_window_score(
    observables: Mapping[str, Any],
    *,
    mass_window: tuple[float, float] = (105.0, 210.0),
    mass_key: str = "softdrop_mass",
) -> np.ndarray:
    """Cut-based top tagger: ``score = −τ32`` for jets whose soft-drop mass lies in
    ``mass_window`` (GeV, inclusive), ``-inf`` outside.

    Scanning a threshold on the score is the classic "m_SD window + τ32 < cut" tagger
    (N-subjettiness: Thaler & Van Tilburg, arXiv:1011.2268; soft drop: Larkoski et al.,
    arXiv:1402.2657; the 105–210 GeV window is the CMS soft-drop top window).

    Parameters
    ----------
    observables
        Mapping with ``(N,)`` arrays ``"tau32"`` and ``mass_key`` (``"softdrop_mass"``), as
        returned by ``heplearn.physics.observables.jet_observables``.

    Returns
    -------
    np.ndarray
        ``(N,)`` float64 scores; NaN τ32 (e.g. fewer than 3 constituents) scores ``-inf``.
    """
    for key in ("tau32", mass_key):
        if key not in observables:
            raise HeplearnError(
                f"observables has no {key!r}; expected keys 'tau32' and {mass_key!r} "
                f"(got {sorted(observables)})"
            )
    tau32 = np.asarray(observables["tau32"], dtype=np.float64)
    mass = np.asarray(observables[mass_key], dtype=np.float64)
    lo, hi = mass_window
    ok = (mass >= lo) & (mass <= hi) & np.isfinite(tau32)
    return np.where(ok, -np.where(ok, tau32, 0.0), -np.inf)
