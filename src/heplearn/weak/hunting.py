"""CWoLa hunting: a weakly supervised resonance search in sliding m_jj windows.

For a window (a signal region in m_jj with a sideband on each side), a classifier learns
signal region against sidebands from per-event features little correlated with m_jj;
any difference it finds beyond statistics is a localised resonance (CWoLa: the signal
region is the mixture richer in signal). Every event is scored out-of-fold
(:func:`~heplearn.weak.kfold.kfold_scores`); a cut keeping a fixed fraction ε of the
sideband events selects the signal-like ones in the whole spectrum; a bump hunt
(:func:`~heplearn.weak.bumphunt.bump_hunt`) fits the selected m_jj spectrum outside the
signal region and tests the excess inside it (Collins, Howe, Nachman, arXiv:1805.02664
and arXiv:1902.02634).

The same machinery gives the idealised reference: signal-region data against a pure
background ``template`` of the same window (a perfect background model; in simulation an
independent QCD sample), as in the LHC Olympics "idealised anomaly detector"
(Kasieczka et al., arXiv:2101.08320).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from heplearn.weak.bumphunt import BumpHunt, bump_hunt
from heplearn.weak.errors import BumpHuntError, WeakSupervisionError
from heplearn.weak.kfold import KFoldScores, kfold_scores

__all__ = [
    "Window",
    "sliding_windows",
    "HuntScores",
    "hunting_scores",
    "default_classifier",
    "select_efficiency",
    "reference_efficiency",
    "HuntResult",
    "cwola_hunt",
]


@dataclass(frozen=True)
class Window:
    """A signal region [signal_low, signal_high) in m_jj (GeV) with sidebands
    [sideband_low, signal_low) and [signal_high, sideband_high)."""

    sideband_low: float
    signal_low: float
    signal_high: float
    sideband_high: float

    def __post_init__(self) -> None:
        if not (self.sideband_low < self.signal_low < self.signal_high < self.sideband_high):
            raise BumpHuntError(
                "window edges must increase: sideband_low < signal_low < signal_high < "
                f"sideband_high, got {self.sideband_low}, {self.signal_low}, "
                f"{self.signal_high}, {self.sideband_high}"
            )

    @property
    def signal_region(self) -> tuple[float, float]:
        return (self.signal_low, self.signal_high)

    @property
    def centre(self) -> float:
        return 0.5 * (self.signal_low + self.signal_high)

    def in_signal_region(self, mjj: ArrayLike) -> np.ndarray:
        m = np.asarray(mjj)
        return (m >= self.signal_low) & (m < self.signal_high)

    def in_sidebands(self, mjj: ArrayLike) -> np.ndarray:
        m = np.asarray(mjj)
        return ((m >= self.sideband_low) & (m < self.signal_low)) | (
            (m >= self.signal_high) & (m < self.sideband_high)
        )


def sliding_windows(
    first_signal_low: float,
    last_signal_low: float,
    *,
    signal_width: float,
    sideband_width: float,
    step: float,
) -> list[Window]:
    """Signal regions of width ``signal_width`` starting at ``first_signal_low``,
    ``first_signal_low + step``, ... up to ``last_signal_low``, each with sidebands of
    ``sideband_width`` on both sides (GeV)."""
    if signal_width <= 0 or sideband_width <= 0 or step <= 0:
        raise BumpHuntError(
            "signal_width, sideband_width and step must be > 0, got "
            f"{signal_width}, {sideband_width}, {step}"
        )
    if last_signal_low < first_signal_low:
        raise BumpHuntError(
            f"last_signal_low ({last_signal_low}) < first_signal_low ({first_signal_low})"
        )
    n = int(np.floor((last_signal_low - first_signal_low) / step + 1e-9)) + 1
    lows = first_signal_low + step * np.arange(n)
    return [
        Window(
            float(lo - sideband_width),
            float(lo),
            float(lo + signal_width),
            float(lo + signal_width + sideband_width),
        )
        for lo in lows
    ]


@dataclass(frozen=True)
class HuntScores:
    """Out-of-fold scores of the data events of one window.

    ``scores`` and ``fold`` have one entry per data event; ``kfold`` holds the full
    bookkeeping, whose row indices count the data events first and then the template
    events (if any). ``extra_scores`` and ``extra_fold`` are those of the ``extra``
    events (scored, never trained on; they do not change the data's folds).
    """

    scores: np.ndarray
    fold: np.ndarray
    kfold: KFoldScores
    n_data: int
    training_label: np.ndarray  # over the pool (data, then template); -1 = not trained on
    extra_scores: np.ndarray | None = None
    extra_fold: np.ndarray | None = None


def default_classifier(seed: int) -> Any:
    """The classifier of :func:`hunting_scores` unless told otherwise: a small xgboost BDT
    (:class:`~heplearn.models.tabular.BoostedTrees`, depth 3, up to 300 trees, learning
    rate 0.05, early stopping after 20 rounds, one thread)."""
    from heplearn.models.tabular import BoostedTrees

    # one thread: k small fits, and xgboost's all-core default oversubscribes a busy CPU
    return BoostedTrees(
        n_estimators=300,
        max_depth=3,
        learning_rate=0.05,
        early_stopping_rounds=20,
        n_jobs=1,
        random_state=seed,
    )


def _balanced_weights(y: np.ndarray) -> np.ndarray:
    n1, n0 = int((y == 1).sum()), int((y == 0).sum())
    return np.where(y == 1, 0.5 * len(y) / max(n1, 1), 0.5 * len(y) / max(n0, 1))


def hunting_scores(
    features: ArrayLike,
    mjj: ArrayLike,
    window: Window,
    *,
    seed: int,
    k: int = 5,
    template: tuple[ArrayLike, ArrayLike] | None = None,
    make_estimator: Callable[[int], Any] | None = None,
    extra: ArrayLike | None = None,
) -> HuntScores:
    """Train signal region against sidebands (or against a template) with k folds and
    score every data event out-of-fold.

    Without ``template`` (CWoLa hunting): label 1 = data events in the signal region,
    0 = data events in the sidebands. With ``template = (features_t, mjj_t)`` (idealised):
    label 1 = data events in the signal region, 0 = template events in the signal region
    (template events elsewhere are ignored). Classes are weighted to equal total weight.
    Each fold's model (``make_estimator(seed)``, default a small
    :class:`~heplearn.models.tabular.BoostedTrees`, early-stopped on the validation fold)
    scores the data events of its fold, whatever their m_jj (Collins, Howe, Nachman,
    arXiv:1805.02664).

    Parameters
    ----------
    features : array_like, shape (n_events, K)
        Per-event features (e.g. :data:`~heplearn.weak.features.DIJET_FEATURES`).
    mjj : array_like, shape (n_events,)
        Dijet invariant mass (GeV).
    window : Window
    seed : int
        Seeds the folds and the estimators.
    extra : array_like, shape (n_extra, K), optional
        Further events to score and never train on (e.g. a labelled signal sample for
        efficiency curves); each is scored by the model of the fold it is assigned to.
    """
    X = np.asarray(features, dtype=np.float64)
    m = np.asarray(mjj, dtype=np.float64)
    if X.ndim != 2 or m.shape != (len(X),):
        raise WeakSupervisionError(
            f"features must be (n_events, K) and mjj (n_events,), got {X.shape} and {m.shape}"
        )
    n_data = len(X)
    sr = window.in_signal_region(m)
    label = np.full(n_data, -1, dtype=np.int64)
    label[sr] = 1
    if template is None:
        label[window.in_sidebands(m)] = 0
        pool = X
    else:
        Xt = np.asarray(template[0], dtype=np.float64)
        mt = np.asarray(template[1], dtype=np.float64)
        if Xt.ndim != 2 or Xt.shape[1] != X.shape[1] or mt.shape != (len(Xt),):
            raise WeakSupervisionError(
                f"template features must be (n, {X.shape[1]}) with one mjj per row, got "
                f"{Xt.shape} and {mt.shape}"
            )
        keep = window.in_signal_region(mt)
        pool = np.concatenate([X, Xt[keep]])
        label = np.concatenate([label, np.zeros(int(keep.sum()), dtype=np.int64)])
    Xe = None
    if extra is not None:
        Xe = np.asarray(extra, dtype=np.float64)
        if Xe.ndim != 2 or Xe.shape[1] != X.shape[1]:
            raise WeakSupervisionError(f"extra features must be (n, {X.shape[1]}), got {Xe.shape}")
    for c, what in ((1, "signal-region"), (0, "template" if template is not None else "sideband")):
        if int((label == c).sum()) < 2 * k:
            raise WeakSupervisionError(
                f"window {window.signal_region}: only {int((label == c).sum())} {what} events, "
                f"too few for k={k} folds"
            )
    make = make_estimator or default_classifier
    strat = label + 1  # 0 = not trained on, 1 = label 0, 2 = label 1
    models: list[Any] = []

    def fit(train: np.ndarray, val: np.ndarray | None):
        est = make(seed)
        y = label[train]
        kw: dict[str, Any] = {"sample_weight": _balanced_weights(y)}
        if val is not None:
            kw["eval_set"] = (pool[val], label[val])
        est.fit(pool[train], y, **kw)
        models.append(est)
        return lambda rows: est.predict_proba(pool[rows])[:, 1]

    kf = kfold_scores(fit, len(pool), k=k, seed=seed, trainable=label >= 0, stratify=strat)
    extra_scores = extra_fold = None
    if Xe is not None:
        # extra events join folds at random (their own stream: the data folds do not
        # depend on them) and are scored by that fold's model, which never saw them
        extra_fold = np.random.default_rng([seed, 7]).integers(0, k, len(Xe))
        extra_scores = np.empty(len(Xe))
        for i, est in enumerate(models):
            rows = extra_fold == i
            if rows.any():
                extra_scores[rows] = est.predict_proba(Xe[rows])[:, 1]
    return HuntScores(
        kf.scores[:n_data], kf.fold[:n_data], kf, n_data, label, extra_scores, extra_fold
    )


def _fold_ranks(s: np.ndarray, seed: int) -> np.ndarray:
    tie_break = np.random.default_rng(seed).random(len(s))
    rank = np.empty(len(s), dtype=np.int64)
    rank[np.lexsort((tie_break, s))] = np.arange(len(s))  # higher rank = more signal-like
    return rank


def reference_efficiency(
    scores: ArrayLike,
    *,
    reference: ArrayLike,
    fold: ArrayLike | None = None,
    seed: int = 0,
    others: tuple[ArrayLike, ArrayLike | None] | None = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Each event's score as the efficiency on the reference events of its fold.

    q_i = (number of reference events of fold(i) ranking at or above event i) / n_ref,
    the fraction of reference events a cut just passing event i keeps. Events are ranked
    by score within the fold, ties broken by a seeded random key. Smaller q = more
    signal-like; −q is a score on one scale across folds (each fold's model has its own),
    and a cut q <= ε is the cut of :func:`select_efficiency`.

    ``others = (scores, fold)`` ranks further events (e.g. a labelled signal sample scored
    by the same fold models) against the same reference events; then ``(q, q_others)`` is
    returned.
    """
    s = np.asarray(scores, dtype=np.float64)
    ref = np.asarray(reference, dtype=bool)
    if ref.shape != s.shape:
        raise WeakSupervisionError(f"reference must have shape {s.shape}, got {ref.shape}")
    f = np.zeros(len(s), dtype=np.int64) if fold is None else np.asarray(fold)
    n = len(s)
    if others is not None:
        so = np.asarray(others[0], dtype=np.float64)
        fo = np.zeros(len(so), dtype=np.int64) if others[1] is None else np.asarray(others[1])
        s = np.concatenate([s, so])
        f = np.concatenate([f, fo])
        ref = np.concatenate([ref, np.zeros(len(so), dtype=bool)])
    rank = _fold_ranks(s, seed)
    q = np.empty(len(s))
    for g in np.unique(f):
        in_f = f == g
        r = np.sort(rank[in_f & ref])
        if len(r) == 0:
            raise WeakSupervisionError(f"fold {g} has no reference events to set the cut")
        # reference events ranking at or above each event of the fold
        q[in_f] = (len(r) - np.searchsorted(r, rank[in_f], side="left")) / len(r)
    return q[:n] if others is None else (q[:n], q[n:])


def select_efficiency(
    scores: ArrayLike,
    efficiency: float,
    *,
    reference: ArrayLike,
    fold: ArrayLike | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Events passing a cut that keeps a fraction ``efficiency`` of the reference events.

    The cut is set separately in each fold (each fold's model has its own score scale):
    events are ranked by score, ties broken by a seeded random key (a classifier that
    learnt nothing gives many equal scores), and an event passes when it ranks at or above
    the ⌈ε n_ref⌉-th highest reference event of its fold (see
    :func:`reference_efficiency`). With the sideband events as reference, ε is the
    background efficiency wherever the features are independent of m_jj.
    ``efficiency = 1`` keeps every event.
    """
    if not 0.0 < efficiency <= 1.0:
        raise WeakSupervisionError(f"efficiency must be in (0, 1], got {efficiency}")
    s = np.asarray(scores, dtype=np.float64)
    if efficiency == 1.0:
        return np.ones(len(s), dtype=bool)
    q = reference_efficiency(s, reference=reference, fold=fold, seed=seed)
    f = np.zeros(len(s), dtype=np.int64) if fold is None else np.asarray(fold)
    ref = np.asarray(reference, dtype=bool)
    keep = np.zeros(len(s), dtype=bool)
    for g in np.unique(f):
        in_f = f == g
        n_ref = int((in_f & ref).sum())
        n_keep = max(1, int(np.ceil(efficiency * n_ref - 1e-9)))
        keep |= in_f & (q * n_ref <= n_keep + 1e-9)
    return keep


@dataclass
class HuntResult:
    """One window of :func:`cwola_hunt`: the scores and, per efficiency, the bump hunt (or
    the reason it failed, e.g. too few events left to fit)."""

    window: Window
    scores: HuntScores
    hunts: dict[float, BumpHunt] = field(default_factory=dict)
    failures: dict[float, str] = field(default_factory=dict)

    def significance(self, efficiency: float) -> float | None:
        hunt = self.hunts.get(efficiency)
        return None if hunt is None else hunt.significance


def cwola_hunt(
    features: ArrayLike,
    mjj: ArrayLike,
    window: Window,
    *,
    edges: ArrayLike,
    sqrt_s: float,
    seed: int,
    efficiencies: Sequence[float] = (1.0, 0.1, 0.01),
    k: int = 5,
    template: tuple[ArrayLike, ArrayLike] | None = None,
    make_estimator: Callable[[int], Any] | None = None,
    n_params: int = 4,
    extra: ArrayLike | None = None,
    scores: ArrayLike | None = None,
    fold: ArrayLike | None = None,
) -> HuntResult:
    """CWoLa hunting in one window: out-of-fold scores, cuts at fixed sideband
    efficiencies, and a bump hunt of the selected m_jj spectrum for each.

    Without ``scores``, :func:`hunting_scores` trains (signal region against the
    sidebands, or against ``template``; ``extra`` events are scored too). With ``scores``
    (one per event, e.g. from a supervised classifier trained elsewhere, and optionally
    the ``fold`` of the model that scored each event) the training is skipped. The cut
    keeping ε of the sideband events is set per fold (:func:`select_efficiency`).
    ``edges`` (GeV) is the binned fit range of :func:`~heplearn.weak.bumphunt.bump_hunt`;
    the window's signal-region ends must be bin edges. References: Collins, Howe,
    Nachman, arXiv:1805.02664.
    """
    m = np.asarray(mjj, dtype=np.float64)
    if scores is None:
        hs = hunting_scores(
            features,
            m,
            window,
            seed=seed,
            k=k,
            template=template,
            make_estimator=make_estimator,
            extra=extra,
        )
    else:
        s = np.asarray(scores, dtype=np.float64)
        if s.shape != m.shape:
            raise WeakSupervisionError(f"scores must have shape {m.shape}, got {s.shape}")
        f = np.zeros(len(s), dtype=np.int64) if fold is None else np.asarray(fold)
        if f.shape != s.shape:
            raise WeakSupervisionError(f"fold must have shape {s.shape}, got {f.shape}")
        kf = KFoldScores(s, f, [], [])
        hs = HuntScores(s, f, kf, len(s), np.full(len(s), -1, dtype=np.int64))
    result = HuntResult(window, hs)
    reference = window.in_sidebands(m)
    for eff in efficiencies:
        passed = select_efficiency(hs.scores, eff, reference=reference, fold=hs.fold, seed=seed)
        try:
            result.hunts[eff] = bump_hunt(
                m[passed],
                signal_region=window.signal_region,
                edges=edges,
                sqrt_s=sqrt_s,
                n_params=n_params,
            )
        except BumpHuntError as err:
            result.failures[eff] = str(err)
    return result
