"""Jet substructure observables, vectorised over many jets.

Every function takes a jet table (see :mod:`heplearn.data.table`) and returns a NumPy
``float64`` array of shape ``(n_jets,)``; :func:`jet_observables` returns all of them at
once (the BDT feature set, keys in :data:`OBSERVABLE_NAMES`), sharing the expensive steps.

Conventions, fixed for every observable here:

* Angles are measured in the (rapidity y, azimuth φ) plane, as FastJet does:
  ΔR_ij = sqrt(Δy² + Δφ²) with Δφ wrapped to (−π, π]. Rapidities are computed the FastJet
  way (``PseudoJet::_set_rap_phi``: m² clamped at 0, |y| capped at 10⁵ for particles along
  the beam). For massless constituents y = η.
* The jet axis J is the E-scheme sum of the constituents (the table's ``eta``/``phi``
  fields are not used: they are pseudorapidities and may come from elsewhere).
* p_T-weighted fractions use z_i = p_T,i / Σ_j p_T,j.
* Ratios whose denominator vanishes (τ21 with τ1 = 0, τ32 with τ2 = 0, C2 and D2 with
  e2 = 0, fractions of a jet with Σ p_T = 0) are defined as 0.

The clustering steps (exclusive-kT axes, Cambridge/Aachen declustering for soft drop) use
FastJet's vectorised awkward interface: one ``ClusterSequence`` over all jets, each jet's
constituent list being one "event". Pairwise sums (e2, e3, C_β) are batched matrix
products on zero-padded arrays, jets grouped by multiplicity so small jets do not pay for
big ones. They are evaluated in float32, the precision of the stored constituents, and
accumulated per jet; the tests check them against a float64 brute force to 1e-5.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import awkward as ak
import numpy as np

from heplearn.errors import InvalidJetTable
from heplearn.physics import kinematics as kin

__all__ = [
    "OBSERVABLE_NAMES",
    "jet_mass",
    "multiplicity",
    "n_subjettiness",
    "tau21",
    "tau32",
    "softdrop_mass",
    "energy_correlations",
    "c2",
    "d2",
    "girth",
    "ptd",
    "c_beta",
    "charged_fraction",
    "jet_observables",
]

#: Keys of :func:`jet_observables`, in a fixed order (the BDT feature order).
OBSERVABLE_NAMES: tuple[str, ...] = (
    "mass",
    "multiplicity",
    "tau1",
    "tau2",
    "tau3",
    "tau21",
    "tau32",
    "softdrop_mass",
    "c2",
    "d2",
    "girth",
    "ptd",
    "c_beta",
    "charged_fraction",
)

# Reclustering radius for exclusive-kT axes and the C/A soft-drop tree: FastJet's
# JetDefinition::max_allowable_R, as fastjet-contrib's Nsubjettiness (KT_Axes) and
# SoftDrop (Recluster) use, so every constituent ends in the one reclustered jet.
_RECLUSTER_R = 1000.0
_MAX_RAP = 1.0e5  # FastJet's PseudoJet MaxRap
# Elements (jets x padded size²) per chunk of the pairwise computation: small enough that
# the float32 work arrays stay in cache.
_PAIR_CHUNK = 1 << 18


# --------------------------------------------------------------------------------------
# Input: flat per-constituent arrays in float64, checked once.


@dataclass(frozen=True)
class _Jets:
    counts: np.ndarray  # (jets,) int64, all >= 1
    offsets: np.ndarray  # (jets + 1,)
    px: np.ndarray  # (constituents,) float64, jet after jet
    py: np.ndarray
    pz: np.ndarray
    E: np.ndarray
    pt: np.ndarray
    sum_pt: np.ndarray  # (jets,)
    jet: dict  # E-scheme jet four-momentum: px, py, pz, E (jets,)
    y: np.ndarray  # (constituents,) rapidity
    dy: np.ndarray  # rapidity relative to the jet axis
    dphi: np.ndarray  # azimuth relative to the jet axis, in (−π, π]
    charge: np.ndarray | None

    @property
    def n_jets(self) -> int:
        return len(self.counts)

    def segment_sum(self, values: np.ndarray) -> np.ndarray:
        """Per-jet sum of a per-constituent array (every jet has >= 1 constituent)."""
        if self.n_jets == 0:
            return np.zeros(0)
        return np.add.reduceat(values, self.offsets[:-1])

    def constituents_awkward(self) -> ak.Array:
        return ak.zip(
            {k: ak.unflatten(getattr(self, k), self.counts) for k in ("px", "py", "pz", "E")}
        )


def _rapidity(px, py, pz, E):
    """Rapidity as FastJet computes it (PseudoJet::_set_rap_phi): with m² clamped at 0,
    y = ±½ ln((p_T² + m²) / (E + |pz|)²), finite for E < |pz| from rounding."""
    pt2 = px * px + py * py
    m2 = np.maximum(E * E - pt2 - pz * pz, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = 0.5 * np.log((pt2 + m2) / (E + np.abs(pz)) ** 2)
    y = np.where(np.isfinite(y), y, -_MAX_RAP)
    return np.where(pz > 0, -y, y)


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with 0 where den == 0 (the documented convention for every ratio)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _prepare(table: ak.Array, need_charge: bool = False) -> _Jets:
    if not isinstance(table, ak.Array) or not table.fields:
        raise InvalidJetTable(
            f"jet observables: expected an awkward Array of jet records (a jet table), "
            f"got {type(table).__name__}"
        )
    if "constituents" not in table.fields:
        raise InvalidJetTable(
            f"jet table: missing the jagged field 'constituents' (fields: {table.fields})"
        )
    cons = table["constituents"]
    if cons.ndim != 2 or not cons.fields:
        raise InvalidJetTable("jet table: 'constituents' must be a jagged list of records per jet")
    needed = ("px", "py", "pz", "E", "charge") if need_charge else ("px", "py", "pz", "E")
    missing = [f for f in needed if f not in cons.fields]
    if missing:
        raise InvalidJetTable(f"jet table: 'constituents' lacks field(s) {missing}")
    counts = ak.to_numpy(ak.num(cons, axis=1)).astype(np.int64)
    if len(counts) and counts.min() == 0:
        raise InvalidJetTable(
            f"jet table: jet {int(np.argmin(counts))} has no constituents; observables "
            "need at least one"
        )
    flat = {
        k: np.ascontiguousarray(ak.to_numpy(ak.flatten(cons[k])), dtype=np.float64)
        for k in ("px", "py", "pz", "E")
    }
    for k, v in flat.items():
        if not np.isfinite(v).all():
            raise InvalidJetTable(f"jet table: constituent field {k!r} has NaN/inf")
    offsets = np.concatenate([[0], np.cumsum(counts)])
    px, py, pz, E = flat["px"], flat["py"], flat["pz"], flat["E"]
    pt = kin.pt(px, py)
    reduce = (lambda v: np.add.reduceat(v, offsets[:-1])) if len(counts) else np.zeros_like
    jet = {k: (reduce(v) if len(counts) else np.zeros(0)) for k, v in flat.items()}
    jet_index = np.repeat(np.arange(len(counts)), counts)
    y = _rapidity(px, py, pz, E)
    jet_y = _rapidity(jet["px"], jet["py"], jet["pz"], jet["E"])
    jet_phi = kin.phi(jet["px"], jet["py"])
    charge = None
    if need_charge:
        charge = ak.to_numpy(ak.flatten(cons["charge"]))
    return _Jets(
        counts=counts,
        offsets=offsets,
        px=px,
        py=py,
        pz=pz,
        E=E,
        pt=pt,
        sum_pt=reduce(pt) if len(counts) else np.zeros(0),
        jet=jet,
        y=y,
        dy=y - jet_y[jet_index],
        dphi=kin.delta_phi(kin.phi(px, py), jet_phi[jet_index]),
        charge=charge,
    )


def _fastjet():
    try:
        import fastjet
    except ImportError as err:  # pragma: no cover - fastjet is a core dependency
        from heplearn.errors import MissingDependencyError

        raise MissingDependencyError(
            "jet observables need the 'fastjet' package: pip install fastjet"
        ) from err
    return fastjet


def _cluster(jets: _Jets, algorithm: str):
    fastjet = _fastjet()
    jet_def = fastjet.JetDefinition(getattr(fastjet, algorithm), _RECLUSTER_R)
    return fastjet.ClusterSequence(jets.constituents_awkward(), jet_def)


@contextmanager
def _quiet_exclusive() -> Iterator[None]:
    """fastjet 3.5's awkward interface warns 'dcut and exclusive jets for jet-finders other
    than kt, C/A ...' even for kt and C/A (it compares a JetDefinition with an algorithm
    enum). We only ever ask kt and C/A sequences, so that one message is silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="dcut and exclusive jets for jet-finders", category=UserWarning
        )
        yield


def _padded_four(arr: ak.Array, n: int) -> dict[str, np.ndarray]:
    """(jets, var) four-vector records -> (jets, n) float64 arrays, zero-padded."""
    counts = ak.to_numpy(ak.num(arr, axis=1))
    flat = ak.flatten(arr, axis=1)
    local = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    keep = local < n
    rows = np.repeat(np.arange(len(counts)), counts)[keep]
    out = {}
    for k in ("px", "py", "pz", "E"):
        a = np.zeros((len(counts), n))
        a[rows, local[keep]] = ak.to_numpy(flat[k])[keep]
        out[k] = a
    return out


# --------------------------------------------------------------------------------------
# Simple observables


def jet_mass(table: ak.Array) -> np.ndarray:
    """Jet invariant mass from the sum of its constituents (E-scheme).

    m = sqrt((Σ_i E_i)² − |Σ_i p_i|²), negative (−sqrt|m²|) for a spacelike sum from
    rounding, as FastJet's ``PseudoJet::m``.

    Returns
    -------
    numpy.ndarray
        ``(n_jets,)`` float64, GeV.
    """
    return _mass(_prepare(table))


def _mass(jets: _Jets) -> np.ndarray:
    j = jets.jet
    return kin.mass(j["px"], j["py"], j["pz"], j["E"])


def multiplicity(table: ak.Array) -> np.ndarray:
    """Number of constituents per jet, as float64 ``(n_jets,)``."""
    return _prepare(table).counts.astype(np.float64)


def girth(table: ak.Array) -> np.ndarray:
    """Jet girth (width, linear radial moment).

    w = Σ_i p_T,i ΔR_iJ / Σ_i p_T,i, with ΔR_iJ the (y, φ) distance of constituent i to the
    E-scheme jet axis.

    References
    ----------
    Gallicchio, Schwartz, arXiv:1106.3076 (quark/gluon discrimination with girth).
    """
    return _girth(_prepare(table))


def _girth(jets: _Jets) -> np.ndarray:
    dr = np.hypot(jets.dy, jets.dphi)
    return _safe_divide(jets.segment_sum(jets.pt * dr), jets.sum_pt)


def ptd(table: ak.Array) -> np.ndarray:
    """p_T dispersion p_TD = sqrt(Σ_i p_T,i²) / Σ_i p_T,i (1 for a single constituent).

    References
    ----------
    CMS, CMS-PAS-JME-13-002; Pandolfi, CERN-THESIS-2012-277 (quark/gluon likelihood).
    """
    return _ptd(_prepare(table))


def _ptd(jets: _Jets) -> np.ndarray:
    return _safe_divide(np.sqrt(jets.segment_sum(jets.pt**2)), jets.sum_pt)


def charged_fraction(table: ak.Array) -> np.ndarray:
    """Fraction of the jet's scalar p_T carried by charged constituents (charge != 0).

    f_ch = Σ_{i: q_i ≠ 0} p_T,i / Σ_i p_T,i. Needs the constituent field ``charge``.

    References
    ----------
    Charged energy fraction E_Q of Vent, Winterhalder, Plehn, arXiv:2507.21214 (here with
    p_T instead of E, which is boost invariant along the beam).
    """
    return _charged_fraction(_prepare(table, need_charge=True))


def _charged_fraction(jets: _Jets) -> np.ndarray:
    assert jets.charge is not None
    charged = np.where(jets.charge != 0, jets.pt, 0.0)
    return _safe_divide(jets.segment_sum(charged), jets.sum_pt)


# --------------------------------------------------------------------------------------
# N-subjettiness with exclusive-kT axes


def _as_tuple(n: int | Sequence[int]) -> tuple[int, ...]:
    ns = (n,) if isinstance(n, (int, np.integer)) else tuple(n)
    if not ns or any(int(k) < 1 for k in ns):
        raise ValueError(f"n_subjettiness: n must be a positive int or a tuple of them, got {n}")
    return tuple(int(k) for k in ns)


def _taus(jets: _Jets, ns: tuple[int, ...], beta: float, R0: float, cs=None) -> list:
    if beta <= 0:
        raise ValueError(f"n_subjettiness: beta must be > 0, got {beta}")
    if R0 <= 0:
        raise ValueError(f"n_subjettiness: R0 must be > 0, got {R0}")
    if jets.n_jets == 0:
        return [np.zeros(0) for _ in ns]
    if cs is None:
        cs = _cluster(jets, "kt_algorithm")
    jet_index = np.repeat(np.arange(jets.n_jets), jets.counts)
    phi = kin.phi(jets.px, jets.py)
    norm = jets.sum_pt * R0**beta
    out = []
    with _quiet_exclusive():
        for n in ns:
            # Jets with <= n constituents: every constituent is its own axis, τ_n = 0.
            axes = _padded_four(cs.exclusive_jets_up_to(n), n)
            ay = _rapidity(axes["px"], axes["py"], axes["pz"], axes["E"])
            aphi = kin.phi(axes["px"], axes["py"])
            dmin = np.full(len(phi), np.inf)
            for k in range(n):
                dy = jets.y - ay[jet_index, k]
                dphi = kin.delta_phi(phi, aphi[jet_index, k])
                d2 = dy * dy + dphi * dphi
                d2[(jets.counts <= k)[jet_index]] = np.inf  # padded (absent) axis
                np.minimum(dmin, d2, out=dmin)
            dist = np.sqrt(dmin) if beta == 1.0 else dmin ** (0.5 * beta)
            tau = _safe_divide(jets.segment_sum(jets.pt * dist), norm)
            tau[jets.counts <= n] = 0.0
            out.append(tau)
    return out


def n_subjettiness(
    table: ak.Array,
    n: int | Sequence[int],
    beta: float = 1.0,
    R0: float = 0.8,
    axes: str = "kt",
) -> np.ndarray | dict[int, np.ndarray]:
    """N-subjettiness τ_N with exclusive-kT subjet axes.

    τ_N^(β) = Σ_i p_T,i min_k ΔR_{i,k}^β / Σ_i p_T,i R0^β  (normalised measure),

    with axes k = 1..N the exclusive kT jets of the jet's constituents (FastJet
    ``exclusive_jets`` with the kT algorithm, R = 1000 and E-scheme recombination, as
    fastjet-contrib's ``Nsubjettiness`` with ``KT_Axes``), distances in (y, φ). A jet with
    N or fewer constituents has τ_N = 0 (each constituent is its own axis).

    Parameters
    ----------
    table
        Jet table ``(n_jets,)`` with jagged ``constituents``.
    n
        N, or a tuple of N values (then a dict ``{N: tau_N}`` is returned, sharing one
        clustering).
    beta
        Angular exponent β > 0 (1 is the usual choice).
    R0
        Characteristic jet radius in the normalisation (the jet radius parameter).
    axes
        Only ``"kt"`` (exclusive-kT axes, not minimised) is implemented.

    Returns
    -------
    numpy.ndarray or dict
        ``(n_jets,)`` float64, or ``{N: (n_jets,)}`` when ``n`` is a tuple.

    References
    ----------
    Thaler, Van Tilburg, arXiv:1011.2268 and arXiv:1108.2701.
    """
    if axes != "kt":
        raise ValueError(f'n_subjettiness: unknown axes "{axes}"; implemented: "kt"')
    ns = _as_tuple(n)
    taus = _taus(_prepare(table), ns, beta, R0)
    if isinstance(n, (int, np.integer)):
        return taus[0]
    return dict(zip(ns, taus, strict=True))


def tau21(table: ak.Array, beta: float = 1.0, R0: float = 0.8) -> np.ndarray:
    """τ21 = τ2 / τ1 (exclusive-kT axes, see :func:`n_subjettiness`); 0 where τ1 = 0.

    References
    ----------
    Thaler, Van Tilburg, arXiv:1011.2268.
    """
    t1, t2 = _taus(_prepare(table), (1, 2), beta, R0)
    return _safe_divide(t2, t1)


def tau32(table: ak.Array, beta: float = 1.0, R0: float = 0.8) -> np.ndarray:
    """τ32 = τ3 / τ2 (exclusive-kT axes, see :func:`n_subjettiness`); 0 where τ2 = 0.

    References
    ----------
    Thaler, Van Tilburg, arXiv:1011.2268.
    """
    t2, t3 = _taus(_prepare(table), (2, 3), beta, R0)
    return _safe_divide(t3, t2)


# --------------------------------------------------------------------------------------
# Soft drop on the C/A tree


def softdrop_mass(
    table: ak.Array, zcut: float = 0.1, beta: float = 0.0, R0: float = 0.8
) -> np.ndarray:
    """Soft-drop groomed jet mass.

    The constituents are reclustered with Cambridge/Aachen (R = 1000, E-scheme). Starting
    from the whole jet, the last clustering step is undone into j1, j2; if

        min(p_T1, p_T2) / (p_T1 + p_T2) > z_cut (ΔR_12 / R0)^β

    the current node is the groomed jet, otherwise the softer branch is dropped and the
    harder one declustered in turn. A single constituent left at the end is the groomed
    jet. This is fastjet-contrib's ``SoftDrop`` with ``scalar_z`` symmetry and
    ``larger_pt`` recursion; β = 0 is the modified mass-drop tagger (mMDT). ΔR in (y, φ).

    Evaluated by fastjet's ``exclusive_jets_softdrop_grooming`` (fastjet-contrib
    ``SoftDrop``) on one C/A ``ClusterSequence`` over all jets. It is the slowest observable
    here (its cost grows faster than n² with the multiplicity n).

    Returns
    -------
    numpy.ndarray
        ``(n_jets,)`` float64 groomed mass, GeV.

    References
    ----------
    Larkoski, Marzani, Soyez, Thaler, arXiv:1402.2657; mMDT: Dasgupta, Fregoso, Marzani,
    Salam, arXiv:1307.0007.
    """
    return _softdrop_mass(_prepare(table), zcut, beta, R0)


def _softdrop_mass(jets: _Jets, zcut: float, beta: float, R0: float, cs=None) -> np.ndarray:
    if zcut < 0 or R0 <= 0:
        raise ValueError(f"softdrop_mass: need zcut >= 0 and R0 > 0, got {zcut}, {R0}")
    n = jets.n_jets
    if n == 0:
        return np.zeros(0)
    if cs is None:
        cs = _cluster(jets, "cambridge_algorithm")
    groomed = cs.exclusive_jets_softdrop_grooming(
        njets=1,
        beta=float(beta),
        symmetry_cut=float(zcut),
        symmetry_measure="scalar_z",
        R0=float(R0),
        recursion_choice="larger_pt",
    )
    return ak.to_numpy(groomed["msoftdrop"]).astype(np.float64)


# --------------------------------------------------------------------------------------
# Pairwise sums: energy correlation functions and C_β


def _buckets(counts: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """Groups of jet indices sharing a padded size m (multiples of 8 up to 64, of 16 up to
    256, of 64 beyond), in chunks of at most ~_PAIR_CHUNK matrix elements."""
    m = np.where(
        counts <= 64,
        -(-counts // 8) * 8,
        np.where(counts <= 256, -(-counts // 16) * 16, -(-counts // 64) * 64),
    )
    order = np.argsort(m, kind="stable")
    sizes, starts = np.unique(m[order], return_index=True)
    ends = np.append(starts[1:], len(order))
    for size, a, b in zip(sizes, starts, ends, strict=True):
        step = max(1, _PAIR_CHUNK // int(size) ** 2)
        for s in range(a, b, step):
            yield int(size), order[s : min(s + step, b)]


def _pair_sums(
    jets: _Jets, e2_betas: tuple[float, ...], e3_beta: float | None
) -> tuple[dict[float, np.ndarray], np.ndarray | None]:
    """e2^(β) for each β in ``e2_betas`` and e3^(e3_beta), for every jet.

    With z the padded momentum fractions and A_ij = θ_ij^β (A_ii = 0):
    e2 = ½ zᵀ A z and e3 = trace((Z A)³) / 6 = Σ_ij (C²)_ij C_ij / 6 with the symmetric
    C = Z^½ A Z^½: every term with a repeated index vanishes because A_ii = 0, and each
    unordered triple appears 3! times in the trace.
    """
    import torch

    for b in (*e2_betas, *(() if e3_beta is None else (e3_beta,))):
        if b <= 0:
            raise ValueError(f"energy correlations: beta must be > 0, got {b}")
    e2 = {b: np.zeros(jets.n_jets) for b in e2_betas}
    e3 = None if e3_beta is None else np.zeros(jets.n_jets)
    z_flat = _safe_divide(jets.pt, np.repeat(jets.sum_pt, jets.counts))
    dphi_all = jets.dphi
    for m, idx in _buckets(jets.counts):
        cnt = jets.counts[idx]
        cols = np.arange(m)
        valid = cols[None, :] < cnt[:, None]
        flat = np.where(valid, jets.offsets[idx][:, None] + cols[None, :], 0)
        z = torch.from_numpy(np.where(valid, z_flat[flat], 0.0).astype(np.float32))
        dy = torch.from_numpy(np.where(valid, jets.dy[flat], 0.0).astype(np.float32))
        dphi_np = np.where(valid, dphi_all[flat], 0.0)
        wrap = bool(np.abs(dphi_np).max() > np.pi / 2)
        dphi = torch.from_numpy(dphi_np.astype(np.float32))
        # θ²_ij: coordinates are relative to the jet axis, so Δφ_ij needs wrapping only
        # if a constituent lies more than π/2 away from the axis in φ.
        t2 = dy[:, :, None] - dy[:, None, :]
        t2.mul_(t2)
        d = dphi[:, :, None] - dphi[:, None, :]
        if wrap:
            d = torch.from_numpy(kin.wrap_phi(d.numpy()))
        t2.addcmul_(d, d)
        cache: dict[float, torch.Tensor] = {}

        def power(beta: float, t2=t2, cache=cache) -> torch.Tensor:
            if beta not in cache:
                if beta == 2.0:
                    cache[beta] = t2
                elif beta == 1.0:
                    cache[beta] = torch.sqrt(t2)
                else:  # θ^β = exp(β/2 ln θ²); θ = 0 gives exp(-inf) = 0
                    cache[beta] = torch.exp(torch.log(t2).mul_(0.5 * beta))
            return cache[beta]

        zc = z[:, :, None]
        for b in e2_betas:
            az = torch.bmm(power(b), zc)
            e2[b][idx] = 0.5 * (az * zc).sum(dim=(1, 2), dtype=torch.float64).numpy()
        if e3 is not None:
            s = torch.sqrt(z)
            c = power(e3_beta) * s[:, :, None]
            c.mul_(s[:, None, :])
            c2 = torch.bmm(c, c)
            e3[idx] = (c2.mul_(c)).sum(dim=(1, 2), dtype=torch.float64).numpy() / 6.0
    return e2, e3


def energy_correlations(table: ak.Array, beta: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Normalised 2- and 3-point energy correlation functions (e2, e3).

    e2^(β) = Σ_{i<j} z_i z_j θ_ij^β,   e3^(β) = Σ_{i<j<k} z_i z_j z_k (θ_ij θ_ik θ_jk)^β,

    with z_i = p_T,i / Σ_j p_T,j and θ_ij = ΔR_ij in (y, φ) (the hadron-collider form).
    e3 is evaluated as trace((Z A)³)/6 with A_ij = θ_ij^β, A_ii = 0 (batched matrix
    products, O(n³) but vectorised), in float32; see the module docstring.

    Returns
    -------
    tuple of numpy.ndarray
        ``(e2, e3)``, each ``(n_jets,)`` float64.

    References
    ----------
    Larkoski, Salam, Thaler, arXiv:1305.0007.
    """
    e2, e3 = _pair_sums(_prepare(table), (beta,), beta)
    return e2[beta], e3


def c2(table: ak.Array, beta: float = 1.0) -> np.ndarray:
    """C2^(β) = e3^(β) / (e2^(β))², 0 where e2 = 0 (fewer than two distinct directions).

    References
    ----------
    Larkoski, Salam, Thaler, arXiv:1305.0007.
    """
    e2, e3 = energy_correlations(table, beta)
    return _safe_divide(e3, e2**2)


def d2(table: ak.Array, beta: float = 1.0) -> np.ndarray:
    """D2^(β) = e3^(β) / (e2^(β))³, 0 where e2 = 0.

    References
    ----------
    Larkoski, Moult, Neill, arXiv:1409.6298.
    """
    e2, e3 = energy_correlations(table, beta)
    return _safe_divide(e3, e2**3)


def c_beta(table: ak.Array, beta: float = 0.2) -> np.ndarray:
    """Two-point correlation C_β = Σ_{i<j} p_T,i p_T,j ΔR_ij^β / (Σ_i p_T,i)² (= e2^(β)).

    References
    ----------
    Larkoski, Salam, Thaler, arXiv:1305.0007 (β = 0.2 for quark/gluon discrimination).
    """
    e2, _ = _pair_sums(_prepare(table), (beta,), None)
    return e2[beta]


# --------------------------------------------------------------------------------------
# Everything at once


def jet_observables(
    table: ak.Array,
    R0: float = 0.8,
    *,
    zcut: float = 0.1,
    softdrop_beta: float = 0.0,
    cbeta_beta: float = 0.2,
) -> dict[str, np.ndarray]:
    """All observables of this module for every jet, sharing the clustering and pairwise
    steps: keys :data:`OBSERVABLE_NAMES`, each a ``(n_jets,)`` float64 array.

    ``mass``, ``multiplicity``; ``tau1``, ``tau2``, ``tau3`` (β = 1, exclusive-kT axes,
    normalised with ``R0``) and ``tau21``, ``tau32``; ``softdrop_mass`` (``zcut``,
    ``softdrop_beta``, ``R0``); ``c2``, ``d2`` (β = 1); ``girth``, ``ptd``, ``c_beta``
    (β = ``cbeta_beta``); ``charged_fraction`` (needs the constituent field ``charge``).

    References
    ----------
    See the individual functions: arXiv:1011.2268 (τ_N), 1402.2657 (soft drop),
    1305.0007 (e2, e3, C2, C_β), 1409.6298 (D2), 1106.3076 (girth).
    """
    jets = _prepare(table, need_charge=True)
    out: dict[str, np.ndarray] = {
        "mass": _mass(jets),
        "multiplicity": jets.counts.astype(np.float64),
    }
    t1, t2, t3 = _taus(jets, (1, 2, 3), 1.0, R0)
    out.update(tau1=t1, tau2=t2, tau3=t3, tau21=_safe_divide(t2, t1))
    out["tau32"] = _safe_divide(t3, t2)
    out["softdrop_mass"] = _softdrop_mass(jets, zcut, softdrop_beta, R0)
    e2s, e3 = _pair_sums(jets, tuple(dict.fromkeys((1.0, cbeta_beta))), 1.0)
    out["c2"] = _safe_divide(e3, e2s[1.0] ** 2)
    out["d2"] = _safe_divide(e3, e2s[1.0] ** 3)
    out["girth"] = _girth(jets)
    out["ptd"] = _ptd(jets)
    out["c_beta"] = e2s[cbeta_beta]
    out["charged_fraction"] = _charged_fraction(jets)
    return {k: out[k] for k in OBSERVABLE_NAMES}
