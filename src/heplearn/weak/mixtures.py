"""Mixed samples of known composition from a labelled table, with the labels hidden.

CWoLa (Metodiev, Nachman, Thaler, arXiv:1708.02949) trains on two mixtures

    M1 = f1 S + (1 − f1) B,    M2 = f2 S + (1 − f2) B,    f1 > f2,

whose signal fractions the method never sees. :func:`make_mixtures` builds such mixtures
from a labelled sample (simulation, where the truth is known) so that the method can be
tested against the fully supervised classifier: each mixture draws ``round(f_k n_k)``
signal and ``n_k − round(f_k n_k)`` background rows, without replacement and disjoint
across mixtures, from a seeded permutation. :func:`hide_labels` turns a jet table into
the table CWoLa trains on: ``label`` becomes the mixture label, the truth moves to
``true_label`` (for evaluation only).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import awkward as ak
import numpy as np
from numpy.typing import ArrayLike

from heplearn.weak.errors import IdenticalFractionsWarning, MixtureError

__all__ = ["Mixtures", "make_mixtures", "hide_labels", "check_fractions", "binary_labels"]


@dataclass(frozen=True)
class Mixtures:
    """Rows drawn into mixtures of given signal fractions.

    Attributes
    ----------
    index : numpy.ndarray, shape (n,)
        Row of the source sample of each mixed row (mixture 0 first, then 1, ...).
    mixture : numpy.ndarray, shape (n,)
        Mixture id of each row: the position of its fraction in ``fractions``.
    true_label : numpy.ndarray, shape (n,)
        The hidden truth (1 signal, 0 background), for evaluation only.
    fractions : tuple of float
        The requested signal fractions.
    realised_fractions : tuple of float
        Signal fractions actually drawn (differ from the request by the rounding of
        ``f_k n_k``).
    """

    index: np.ndarray
    mixture: np.ndarray
    true_label: np.ndarray
    fractions: tuple[float, ...]
    realised_fractions: tuple[float, ...]

    @property
    def sizes(self) -> tuple[int, ...]:
        """Number of rows of each mixture."""
        return tuple(int(n) for n in np.bincount(self.mixture, minlength=len(self.fractions)))

    @property
    def cwola_label(self) -> np.ndarray:
        """The CWoLa training label: 1 for mixture 0 ("sample 1"), 0 for mixture 1.

        List the mixture expected to be richer in signal first, so that the classifier's
        output grows with signal-likeness (with the order reversed it is still optimal, but
        decreasing). Defined for exactly two mixtures.
        """
        if len(self.fractions) != 2:
            raise MixtureError(
                f"cwola_label needs exactly two mixtures, got {len(self.fractions)} "
                f"(fractions {list(self.fractions)}); train mixtures pairwise"
            )
        return (self.mixture == 0).astype(np.int64)


def check_fractions(fractions: Sequence[float], *, warn: bool = True) -> tuple[float, ...]:
    """Validate signal fractions: at least two, each in [0, 1].

    Raises :class:`~heplearn.weak.errors.MixtureError` otherwise and, with ``warn``, emits
    :class:`~heplearn.weak.errors.IdenticalFractionsWarning` when two are equal (the
    mixtures then have the same distribution and CWoLa has nothing to learn).
    """
    try:
        fr = tuple(float(f) for f in fractions)
    except (TypeError, ValueError):
        raise MixtureError(f"fractions must be a sequence of numbers, got {fractions!r}") from None
    if len(fr) < 2:
        raise MixtureError(f"fractions: need at least two mixtures, got {list(fr)}")
    bad = [f for f in fr if not (0.0 <= f <= 1.0)]  # also catches NaN
    if bad:
        raise MixtureError(f"fractions must lie in [0, 1]; got {list(fr)} (bad: {bad})")
    if warn and len(set(fr)) < len(fr):
        warnings.warn(
            f"fractions {list(fr)}: two mixtures have the same signal fraction, so their "
            "distributions are identical and CWoLa has nothing to learn (AUC 0.5 expected)",
            IdenticalFractionsWarning,
            stacklevel=2,
        )
    return fr


def binary_labels(
    labels: ArrayLike,
    where: str = "labels",
    classes: str = "0 (background) or 1 (signal)",
    both: str = "a single class; mixtures of different signal fractions need "
    "both signal (1) and background (0) rows",
) -> np.ndarray:
    """``labels`` as int64 ``(n,)`` holding both 0 and 1, or a :class:`MixtureError` that
    names ``where``, what the classes mean (``classes``) and why both are needed
    (``both``)."""
    y = np.asarray(labels)
    if y.ndim != 1:
        raise MixtureError(f"{where}: expected shape (n,), got {y.shape}")
    values = np.unique(y)
    if not np.isin(values, [0, 1]).all():
        raise MixtureError(f"{where}: expected {classes}, got values {values[:10].tolist()}")
    if len(values) < 2:
        raise MixtureError(f"{where}: {values.tolist()} alone: {both}")
    return y.astype(np.int64)


def parton_flavour(parton_pid: ArrayLike) -> np.ndarray:
    """Quark/gluon truth of jets from the PDG id of their hard parton: 1 for a quark or
    antiquark (|id| 1–6), 0 for a gluon (21), −1 when the jet has no hard parton (id 0,
    written by :mod:`heplearn.simulate` when none lies within R) or any other id.

    This is the hard-process definition of the energyflow quark/gluon samples (Komiske,
    Metodiev, Thaler, arXiv:1810.05165): well defined in a leading-order Pythia event,
    not an observable.
    """
    pid = np.abs(np.asarray(parton_pid, dtype=np.int64))
    return np.where((pid >= 1) & (pid <= 6), 1, np.where(pid == 21, 0, -1)).astype(np.int64)


def make_mixtures(
    labels: ArrayLike,
    fractions: Sequence[float],
    *,
    n_per_mixture: int | Sequence[int] | None = None,
    seed: int,
) -> Mixtures:
    """Draw disjoint mixtures of given signal fractions from labelled rows.

    Mixture k holds ``n_k`` rows of which ``round(f_k n_k)`` are signal (label 1) and the
    rest background (label 0), drawn without replacement from a permutation fixed by
    ``seed``; no row enters two mixtures. The mixtures model
    M_k = f_k S + (1 − f_k) B of CWoLa (Metodiev, Nachman, Thaler, arXiv:1708.02949).

    Parameters
    ----------
    labels : array_like, shape (n_rows,)
        Truth labels of the source rows: 1 signal, 0 background.
    fractions : sequence of float
        Signal fraction f_k ∈ [0, 1] of each mixture (at least two).
    n_per_mixture : int or sequence of int, optional
        Rows per mixture. Default: the largest size, equal for every mixture, that the
        available signal and background rows allow.
    seed : int
        Seed of the draw.

    Returns
    -------
    Mixtures
        Source row indices, mixture ids and the hidden truth.

    Raises
    ------
    MixtureError
        Labels of a single class or not in {0, 1}, a fraction outside [0, 1], or not
        enough signal or background rows for the requested sizes.

    Warns
    -----
    IdenticalFractionsWarning
        Two fractions are equal.
    """
    y = binary_labels(labels)
    fr = check_fractions(fractions)
    sig = np.flatnonzero(y == 1)
    bkg = np.flatnonzero(y == 0)
    if n_per_mixture is None:
        need_s, need_b = sum(fr), sum(1.0 - f for f in fr)
        n_eq = min(
            len(sig) / need_s if need_s > 0 else np.inf,
            len(bkg) / need_b if need_b > 0 else np.inf,
        )
        n = int(np.floor(n_eq + 1e-9)) if np.isfinite(n_eq) else 0
        # rounding f_k n may need one more row of a class than the bound allows
        while n > 0 and (
            sum(int(round(f * n)) for f in fr) > len(sig)
            or sum(n - int(round(f * n)) for f in fr) > len(bkg)
        ):
            n -= 1
        sizes = [n] * len(fr)
    elif isinstance(n_per_mixture, (int, np.integer)):
        sizes = [int(n_per_mixture)] * len(fr)
    else:
        sizes = [int(n) for n in n_per_mixture]
        if len(sizes) != len(fr):
            raise MixtureError(
                f"n_per_mixture has {len(sizes)} entries but there are {len(fr)} fractions"
            )
    if any(n <= 0 for n in sizes):
        raise MixtureError(
            f"n_per_mixture must be positive, got {sizes} (available: {len(sig)} signal, "
            f"{len(bkg)} background rows)"
        )
    n_sig = [int(round(f * n)) for f, n in zip(fr, sizes, strict=True)]
    n_bkg = [n - s for n, s in zip(sizes, n_sig, strict=True)]
    if sum(n_sig) > len(sig):
        raise MixtureError(
            f"not enough signal rows: mixtures of sizes {sizes} with fractions {list(fr)} "
            f"need {sum(n_sig)} signal rows, the sample has {len(sig)}"
        )
    if sum(n_bkg) > len(bkg):
        raise MixtureError(
            f"not enough background rows: mixtures of sizes {sizes} with fractions {list(fr)} "
            f"need {sum(n_bkg)} background rows, the sample has {len(bkg)}"
        )
    rng = np.random.default_rng(seed)
    sig = rng.permutation(sig)
    bkg = rng.permutation(bkg)
    index, mixture = [], []
    s0 = b0 = 0
    for k, (ns, nb) in enumerate(zip(n_sig, n_bkg, strict=True)):
        rows = np.concatenate([sig[s0 : s0 + ns], bkg[b0 : b0 + nb]])
        s0, b0 = s0 + ns, b0 + nb
        index.append(rng.permutation(rows))
        mixture.append(np.full(len(rows), k, dtype=np.int64))
    idx = np.concatenate(index)
    return Mixtures(
        index=idx,
        mixture=np.concatenate(mixture),
        true_label=y[idx],
        fractions=fr,
        realised_fractions=tuple(s / n for s, n in zip(n_sig, sizes, strict=True)),
    )


def hide_labels(table: ak.Array, mixtures: Mixtures) -> ak.Array:
    """The rows of ``table`` drawn into ``mixtures``, with the truth hidden.

    Returns a jet table (in the order of ``mixtures.index``) whose ``label`` is the CWoLa
    label (1 for mixture 0, 0 for mixture 1; see :attr:`Mixtures.cwola_label`), with the
    mixture id in ``mixture`` and the former label in ``true_label`` (for evaluation only:
    a training that reads ``true_label`` is no longer weakly supervised).
    """
    if "label" not in table.fields:
        raise MixtureError("hide_labels: the table has no 'label' field")
    if len(mixtures.index) and int(mixtures.index.max()) >= len(table):
        raise MixtureError(
            f"hide_labels: mixtures index rows up to {int(mixtures.index.max())} but the "
            f"table has {len(table)} rows (built from another table?)"
        )
    rows = table[mixtures.index]
    truth = ak.to_numpy(rows["label"]).astype(np.int64)
    if not np.array_equal(truth, mixtures.true_label):
        raise MixtureError(
            "hide_labels: the table's labels differ from the ones the mixtures were drawn "
            "from (built from another table?)"
        )
    rows = ak.with_field(rows, mixtures.cwola_label, "label")
    rows = ak.with_field(rows, mixtures.mixture, "mixture")
    return ak.with_field(rows, truth, "true_label")
