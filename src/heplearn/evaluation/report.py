"""Run-directory outputs: an atomic JSON writer and a short markdown report.

Both write to a temporary file in the target directory and rename it over the target
(:func:`os.replace`), so an interrupted run never leaves half a ``metrics.json`` or
``report.md``.

JSON conventions (strict JSON, readable by any parser):

- NaN (a metric that is undefined) is written as ``null``;
- +inf / -inf (e.g. a rejection with no background passing) are written as the strings
  ``"inf"`` / ``"-inf"``, so that "unbounded" stays distinguishable from "missing";
- numpy scalars and arrays become numbers and lists, paths become strings, tuples become
  lists, dataclasses and NamedTuples (e.g. ``RejectionResult``) become objects; mapping
  keys become strings. Any other type raises :class:`ReportError` naming its location.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from heplearn.errors import InputFileError
from heplearn.evaluation.metrics import EvaluationError

__all__ = ["ReportError", "to_jsonable", "write_json", "write_report"]


class ReportError(EvaluationError):
    """An object cannot be written as JSON or a report cannot be assembled."""


def to_jsonable(obj: Any, _where: str = "$") -> Any:
    """Convert ``obj`` to plain JSON types following the module's conventions.

    Examples
    --------
    >>> to_jsonable({"a": float("nan"), "b": float("inf"), "c": np.float32(0.5)})
    {'a': None, 'b': 'inf', 'c': 0.5}
    """
    if obj is None or isinstance(obj, (bool, str, np.bool_)):
        return bool(obj) if isinstance(obj, np.bool_) else obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if math.isnan(x):
            return None
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v, f"{_where}[{i}]") for i, v in enumerate(obj.tolist())]
    if hasattr(obj, "to_dict") and callable(obj.to_dict):
        return to_jsonable(obj.to_dict(), _where)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj), _where)
    if isinstance(obj, tuple) and hasattr(obj, "_asdict"):  # NamedTuple
        return to_jsonable(obj._asdict(), _where)
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v, f"{_where}.{k}") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v, f"{_where}[{i}]") for i, v in enumerate(obj)]
    raise ReportError(
        f"cannot write {type(obj).__name__} at {_where} as JSON; expected numbers, strings, "
        "booleans, None, lists, mappings, numpy arrays or paths"
    )


def _atomic_write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write ``obj`` as indented, strict JSON to ``path``, atomically.

    NaN becomes ``null`` and ±inf the strings ``"inf"``/``"-inf"`` (see the module
    docstring); the conversion happens before anything is written, so a failure leaves
    the previous file untouched.

    Parameters
    ----------
    path : path-like
        Target file; its directory is created if needed.
    obj : object
        Mappings, sequences, numbers, strings, numpy arrays, dataclasses, paths.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    text = json.dumps(to_jsonable(obj), indent=2, allow_nan=False) + "\n"
    return _atomic_write_text(Path(path), text)


# keys whose values are shown next to their base metric rather than on their own
_COMPANIONS = (
    "_uncertainty",
    "_n_background_pass",
    "_is_lower_bound",
    "_lower_bound",
    "_spread",
)


def _fmt_number(x: Any) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        v = float(x)
        if not math.isfinite(v):
            return str(v)
        if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
            return f"{v:.3g}"
        return f"{v:.4g}" if abs(v) < 100 else f"{v:.0f}"
    return str(x)


def _fmt_metric(metrics: Mapping[str, Any], key: str) -> str:
    value = metrics[key]
    if metrics.get(f"{key}_is_lower_bound"):
        n = metrics.get(f"{key}_n_background_pass")
        return f"> {_fmt_number(value)} (lower bound: {n} bkg jets pass)"
    unc = metrics.get(f"{key}_uncertainty")
    spread = metrics.get(f"{key}_spread")
    # repeated trainings: the median's 16-84% range over the trainings
    tail = f" [{_fmt_number(spread[0])}, {_fmt_number(spread[1])}]" if spread else ""
    if unc is not None and isinstance(value, (int, float, np.number)):
        return f"{_fmt_number(value)} ± {_fmt_number(unc)}{tail}"
    return (_fmt_number(value) if not hasattr(value, "is_lower_bound") else str(value)) + tail


def _headline_keys(metrics: Mapping[str, Any]) -> list[str]:
    keys = []
    for key in metrics:
        base = next((key[: -len(c)] for c in _COMPANIONS if key.endswith(c)), None)
        if base is not None and base in metrics:
            continue
        keys.append(key)
    return keys


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def _metrics_table(metrics: Mapping[str, Any]) -> list[str]:
    if metrics and all(isinstance(v, Mapping) for v in metrics.values()):
        # {model: {metric: value}}: one row per model
        columns: list[str] = []
        for row in metrics.values():
            columns += [k for k in _headline_keys(row) if k not in columns]
        if all(row.get("model") == name for name, row in metrics.items()):
            columns.remove("model")  # it is the first column already
        lines = [
            "| model | " + " | ".join(_escape(c) for c in columns) + " |",
            "| --- |" + " --- |" * len(columns),
        ]
        for name, row in metrics.items():
            cells = [_escape(_fmt_metric(row, c)) if c in row else "" for c in columns]
            lines.append(f"| {_escape(str(name))} | " + " | ".join(cells) + " |")
        return lines
    lines = ["| metric | value |", "| --- | --- |"]
    for key in _headline_keys(metrics):
        value = metrics[key]
        if isinstance(value, Mapping):
            value_text = json.dumps(to_jsonable(value))
        else:
            value_text = _fmt_metric(metrics, key)
        lines.append(f"| {_escape(str(key))} | {_escape(value_text)} |")
    return lines


def write_report(
    run_dir: str | os.PathLike[str],
    title: str,
    metrics: Mapping[str, Any],
    figures: Sequence[str | os.PathLike[str]] = (),
    extra_text: str = "",
    *,
    filename: str = "report.md",
) -> Path:
    """Write a short markdown report ``run_dir/report.md`` (atomically).

    The report holds the title, a metrics table, the figures (linked relative to
    ``run_dir``, so the directory can be moved or published as is) and free text.
    ``metrics`` is either flat (``{metric: value}``, e.g. from
    :func:`heplearn.evaluation.metrics.evaluate_scores`) or per model
    (``{model: {metric: value}}``, one row per model). Companion keys ``<m>_uncertainty``,
    ``<m>_is_lower_bound`` and ``<m>_n_background_pass`` are folded into the cell of
    ``<m>``: ``1250 ± 80`` or ``> 790 (lower bound: 12 bkg jets pass)``.

    Parameters
    ----------
    run_dir : path-like
        The run directory (created if needed).
    title : str
        First-level heading.
    metrics : mapping
        Flat or per-model metrics.
    figures : sequence of path-like
        Existing image files, shown in order.
    extra_text : str
        Markdown appended at the end (e.g. data size, machine, notes).
    filename : str
        Name of the report inside ``run_dir``.

    Returns
    -------
    pathlib.Path
        The written report.

    Raises
    ------
    heplearn.errors.InputFileError
        A listed figure does not exist.
    """
    run = Path(run_dir)
    lines = [f"# {title}", ""]
    if metrics:
        lines += ["## Metrics", "", *_metrics_table(metrics), ""]
    if figures:
        lines += ["## Figures", ""]
        for fig in figures:
            p = Path(fig)
            if not p.is_file():
                raise InputFileError(f'figure "{p}" listed for the report does not exist')
            rel = Path(os.path.relpath(p.resolve(), run.resolve())).as_posix()
            lines += [f"![{p.stem}]({rel})", ""]
    if extra_text:
        lines += [extra_text.rstrip(), ""]
    return _atomic_write_text(run / filename, "\n".join(lines))
