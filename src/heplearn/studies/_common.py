"""What every study shares: cached data generation and the summary/report writer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from heplearn.simulate.cards import ProcessCard

__all__ = ["study_dataset", "study_jets", "finish_study", "DATA_DIR", "SHARD_JETS"]

#: where studies cache the datasets they generate (reused by manifest on the next run)
DATA_DIR = Path("data")
#: the shard size of :func:`heplearn.simulate.generate` (its default)
SHARD_JETS = 5_000


def study_dataset(
    card: ProcessCard | str,
    n_jets: int,
    *,
    seed: int,
    detector: str = "none",
    workers: int | None = None,
    progress: bool = True,
    tag: str | None = None,
    shard_jets: int = SHARD_JETS,
) -> Path:
    """Generate (or reuse) ``DATA_DIR/{tag or card name}-{detector}-{n_jets}-seed{seed}``
    (with ``-shard{shard_jets}`` appended when that is not :data:`SHARD_JETS`).

    :func:`heplearn.simulate.generate` reuses every complete shard whose manifest matches,
    so a second call with the same arguments costs only the checksum check; a card that
    differs (e.g. a changed shower setting) must get its own ``tag`` or card name. The
    shard size is part of the dataset (each shard has its own seed): a quick study picks
    it so that the shards split evenly over two cores (e.g. 2 × 4000 for 8000 jets).
    """
    from heplearn.simulate import generate

    card = ProcessCard.cast(card)
    suffix = "" if shard_jets == SHARD_JETS else f"-shard{shard_jets}"
    out = DATA_DIR / f"{tag or card.name}-{detector}-{n_jets}-seed{seed}{suffix}"
    generate(
        card,
        out,
        n_jets=n_jets,
        seed=seed,
        detector=detector,
        workers=workers,
        progress=progress,
        shard_jets=shard_jets,
    )
    return out


def study_jets(
    process: str,
    n_jets: int,
    data: Path | None,
    *,
    seed: int,
    detector: str,
    workers: int | None,
    progress: bool,
):
    """The jet table and its source record: ``data`` when given, else the cached
    :func:`study_dataset` of ``process`` (generated on first use)."""
    from heplearn.training import load_jets

    if data is None:
        data = study_dataset(
            process, n_jets, seed=seed, detector=detector, workers=workers, progress=progress
        )
    return load_jets(data)


def finish_study(
    out: Path,
    title: str,
    summary: dict[str, Any],
    figures: Sequence[Path] = (),
    text: str = "",
    metrics: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write ``OUT/summary.json`` and ``OUT/report.md`` (both atomically) and return the
    summary. ``metrics`` (flat or per row) becomes the report's table; ``text`` its notes."""
    from heplearn.evaluation.report import write_json, write_report

    write_json(out / "summary.json", summary)
    write_report(out, title, metrics or {}, [Path(f) for f in figures], extra_text=text)
    return summary
