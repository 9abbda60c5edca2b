"""The ``heplearn`` command line: a thin shell over the library.

Every command parses its arguments and calls the public function of the same name;
a :class:`~heplearn.errors.HeplearnError` is printed as one line and exits with status 2.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from heplearn.errors import HeplearnError

app = typer.Typer(
    name="heplearn",
    help="Machine learning for particle physics: simulate, load, represent, train, evaluate.",
    no_args_is_help=True,
    add_completion=False,
)
_err = Console(stderr=True)
_out = Console()


def _friendly(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except HeplearnError as err:
            _err.print(f"[bold red]error:[/] {err}", markup=True, highlight=False)
            raise typer.Exit(code=2) from None

    return wrapper


@app.command()
@_friendly
def generate(
    process: Annotated[
        str,
        typer.Argument(
            help="process name (top, qg, w, zjets, dijet-resonance, minbias) or a YAML card"
        ),
    ],
    jets: Annotated[int, typer.Option("--jets", help="number of jets, split over classes")],
    out: Annotated[Path, typer.Option("--out", help="dataset directory to write")],
    seed: Annotated[int, typer.Option("--seed", help="dataset seed")] = 1,
    workers: Annotated[int | None, typer.Option(help="Dask workers (default: cores)")] = None,
    detector: Annotated[str, typer.Option(help="none, atlas-like or cms-like")] = "none",
    pileup: Annotated[float, typer.Option(help="mean number of pileup interactions")] = 0.0,
    scheduler: Annotated[str | None, typer.Option(help="address of a Dask scheduler")] = None,
    shard_jets: Annotated[int, typer.Option(help="jets per shard")] = 5000,
) -> None:
    """Generate a jet dataset with Pythia8, a fast detector and FastJet."""
    from heplearn.simulate import generate as _generate

    manifest = _generate(
        process,
        out,
        n_jets=jets,
        seed=seed,
        detector=detector,
        pileup=pileup,
        workers=workers,
        scheduler=scheduler,
        shard_jets=shard_jets,
    )
    _out.print(f"wrote {manifest.parent}")


@app.command()
@_friendly
def inspect(
    path: Annotated[Path, typer.Argument(help="a file or dataset directory")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Tell what a file or dataset is: format, trees/keys, events, jets, fields, classes."""
    from heplearn.data.readers import format_inspection
    from heplearn.data.readers import inspect as _inspect

    info = _inspect(path)
    typer.echo(json.dumps(info, indent=2, default=str) if as_json else format_inspection(info))


@app.command()
@_friendly
def convert(
    path: Annotated[Path, typer.Argument(help="input file")],
    out: Annotated[Path, typer.Option("--out", help="dataset directory to write")],
    format: Annotated[str | None, typer.Option(help="input format (default: detect)")] = None,
    tree: Annotated[str | None, typer.Option(help="ROOT tree name (root-tree format)")] = None,
    map: Annotated[
        list[str] | None,
        typer.Option("--map", help="FIELD=BRANCH for a generic ROOT tree; repeat"),
    ] = None,
    shard_size: Annotated[int, typer.Option(help="jets per shard")] = 100_000,
    max_constituents: Annotated[int | None, typer.Option(help="keep the hardest N")] = None,
) -> None:
    """Convert any supported input into a heplearn dataset directory."""
    from heplearn.data.convert import convert as _convert

    mapping = None
    if map:
        mapping = {}
        for item in map:
            if "=" not in item:
                raise HeplearnError(f"--map {item!r}: expected FIELD=BRANCH, e.g. px=part_px")
            key, value = item.split("=", 1)
            mapping[key.strip()] = value.strip()
    result = _convert(
        path,
        out,
        format=format,
        tree=tree,
        mapping=mapping,
        shard_size=shard_size,
        max_constituents=max_constituents,
    )
    _out.print(f"wrote {result}")


def main() -> None:  # pragma: no cover
    app()
