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
            help="process name (top, qg, qg-mixtures, w, zjets, dijet-resonance, minbias) "
            "or a YAML card"
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


@app.command()
@_friendly
def train(
    data: Annotated[Path, typer.Argument(help="dataset directory or any readable file")],
    model: Annotated[str, typer.Option(help="registered model name")],
    out: Annotated[Path, typer.Option("--out", help="run directory to write")],
    preset: Annotated[
        str | None, typer.Option(help="small (CPU; the default) or default (paper)")
    ] = None,
    epochs: Annotated[int | None, typer.Option(help="maximum epochs")] = None,
    batch_size: Annotated[int | None, typer.Option(help="jets per batch")] = None,
    lr: Annotated[float | None, typer.Option(help="learning rate")] = None,
    optimizer: Annotated[str | None, typer.Option(help="adamw or sgd")] = None,
    gradient_clip_norm: Annotated[
        float | None, typer.Option(help="clip the gradients' global L2 norm")
    ] = None,
    schedule: Annotated[str | None, typer.Option(help="cosine, onecycle, constant")] = None,
    seed: Annotated[int | None, typer.Option(help="training seed")] = None,
    max_particles: Annotated[int | None, typer.Option(help="constituents per jet")] = None,
    devices: Annotated[str | None, typer.Option(help="devices (auto or a number)")] = None,
    num_nodes: Annotated[int | None, typer.Option(help="nodes for DDP")] = None,
    accelerator: Annotated[
        str | None, typer.Option(help="auto (CUDA, then MPS, then CPU), cuda, mps or cpu")
    ] = None,
    resume: Annotated[Path | None, typer.Option(help="checkpoint to continue from")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML/JSON TrainConfig file")] = None,
    loss: Annotated[str | None, typer.Option(help="cross_entropy or focal")] = None,
    focal_gamma: Annotated[float | None, typer.Option(help="focal loss gamma")] = None,
    focal_alpha: Annotated[float | None, typer.Option(help="focal loss alpha")] = None,
    balance_classes: Annotated[
        bool | None,
        typer.Option(
            "--balance-classes/--no-balance-classes", help="weight classes to equal total weight"
        ),
    ] = None,
    decorrelate: Annotated[
        str | None, typer.Option(help="decorrelate from the mass: pearson, disco, adversary")
    ] = None,
    strength: Annotated[
        float | None, typer.Option("--lambda", help="decorrelation strength (default 10)")
    ] = None,
    decorrelate_variable: Annotated[
        str | None, typer.Option(help="jet-table field to decorrelate from (default mass)")
    ] = None,
    bias_corrected: Annotated[
        bool | None,
        typer.Option(
            "--bias-corrected/--no-bias-corrected",
            help="disco: the bias-corrected (U-statistic) dCorr², unweighted jets only",
        ),
    ] = None,
    particle_features: Annotated[
        str | None,
        typer.Option(
            help="per-particle inputs: kinematic, kinpid (default), topodnn or "
            "comma-separated names"
        ),
    ] = None,
) -> None:
    """Train a tagger; the run directory gets the config, checkpoints and metrics.

    ``--decorrelate disco --lambda 10`` adds a mass-decorrelation penalty (or adversary) on
    background jets; ``--loss focal`` trains with focal loss (scores then are not
    probabilities). Options given here override the ``--config`` file's fields; what is not
    given keeps the file's value (``--lambda`` alone changes only the file's strength)."""
    from heplearn.training import train as _train
    from heplearn.training.engine import evaluate as _evaluate

    base = _read_config_file(config) if config else None
    result = _train(
        data,
        out,
        base,
        resume=resume,
        model=model,
        preset=preset,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        optimizer=optimizer,
        gradient_clip_norm=gradient_clip_norm,
        schedule=schedule,
        seed=seed,
        max_particles=max_particles,
        devices=None if devices is None else (devices if devices == "auto" else int(devices)),
        num_nodes=num_nodes,
        accelerator=accelerator,
        loss=loss,
        focal_gamma=focal_gamma,
        focal_alpha=focal_alpha,
        balance_classes=balance_classes,
        particle_features=particle_features
        if particle_features is None or "," not in particle_features
        else [name.strip() for name in particle_features.split(",")],
        decorrelation=_decorrelation_update(
            base, decorrelate, strength, decorrelate_variable, bias_corrected
        ),
    )
    if not result.is_main_process:  # DDP: rank 0 evaluates and reports
        return
    metrics = _evaluate(result.run_dir, data)
    _out.print(
        f"{model}: {result.parameters} parameters, {result.train_seconds:.0f} s; test AUC "
        f"{metrics['auc']:.4f}, 1/eps_B(0.3) {metrics['rejection_at_0.3']:.1f}, 1/JSD(0.5) "
        f"{_fmt_optional(metrics['inverse_jsd_at_0.5'])}; wrote {out}"
    )


def _decorrelation_update(base, method, strength, variable, bias_corrected) -> dict | None:
    """``--decorrelate``, ``--lambda``, ``--decorrelate-variable`` and ``--bias-corrected``
    merged into the config file's ``decorrelation`` block (None: keep the file's, or no
    decorrelation)."""
    given = {
        "method": method,
        "strength": strength,
        "variable": variable,
        "bias_corrected": bias_corrected,
    }
    if all(v is None for v in given.values()):
        return None
    block = dict((base or {}).get("decorrelation") or {})
    if method is None and "method" not in block:
        raise HeplearnError(
            "--lambda, --decorrelate-variable and --bias-corrected need --decorrelate "
            "(pearson, disco or adversary) or a decorrelation block in --config"
        )
    block.update({k: v for k, v in given.items() if v is not None})
    return block


def _fmt_optional(x: float | None) -> str:
    return "undefined" if x is None else f"{x:.1f}"


def _read_config_file(path: Path) -> dict:
    import yaml

    if not path.is_file():
        raise HeplearnError(f"config file {str(path)!r} does not exist")
    data = yaml.safe_load(path.read_text())  # JSON is YAML too
    if not isinstance(data, dict):
        raise HeplearnError(f"{path}: expected a mapping of TrainConfig fields")
    return data


@app.command()
@_friendly
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="a run directory from heplearn train")],
    data: Annotated[Path | None, typer.Option(help="data (default: the run's own)")] = None,
    bootstrap: Annotated[int, typer.Option(help="bootstrap resamples")] = 100,
) -> None:
    """Evaluate a trained run on its held-out test split (metrics, plots, report)."""
    from heplearn.training.engine import evaluate as _evaluate

    metrics = _evaluate(run_dir, data, bootstrap=bootstrap)
    typer.echo(json.dumps({k: metrics[k] for k in sorted(metrics)}, indent=2, default=str))


@app.command("export-onnx")
@_friendly
def export_onnx(
    run_dir: Annotated[Path, typer.Argument(help="a run directory from heplearn train")],
    out: Annotated[Path | None, typer.Option(help="ONNX file (default RUN/model.onnx)")] = None,
) -> None:
    """Export a trained tagger (input scaling included) to ONNX."""
    from heplearn.training.engine import export_onnx as _export

    _out.print(f"wrote {_export(run_dir, out)}")


@app.command()
@_friendly
def landscape(
    process: Annotated[str, typer.Argument(help="top or qg")] = "top",
    quick: Annotated[bool, typer.Option("--quick", help="2-core CPU sizes (default)")] = False,
    medium: Annotated[
        bool, typer.Option("--medium", help="100k training jets, small presets (CPU, hours)")
    ] = False,
    full: Annotated[bool, typer.Option("--full", help="published sizes, for a GPU")] = False,
    data: Annotated[Path | None, typer.Option(help="use this dataset")] = None,
    models: Annotated[
        list[str] | None, typer.Option("--models", help="models to compare; repeat")
    ] = None,
    out: Annotated[Path, typer.Option(help="output directory")] = Path("runs/landscape"),
    seed: Annotated[int, typer.Option(help="seed of data and training")] = 1,
    workers: Annotated[int | None, typer.Option(help="Dask workers for generation")] = None,
    learning_curve: Annotated[
        bool, typer.Option("--learning-curve", help="AUC and 1/eps_B vs training size")
    ] = False,
    curve_steps: Annotated[
        float,
        typer.Option(
            "--curve-steps",
            help="fraction of the full point's optimiser steps each learning-curve point gets",
        ),
    ] = 1.0,
    test_data: Annotated[
        Path | None,
        typer.Option(help="an independent sample whose every jet joins the test set"),
    ] = None,
    trainings: Annotated[
        int,
        typer.Option(
            help="train each model N times (seeds SEED..SEED+N-1); quote medians and the "
            "16-84% spread over trainings",
        ),
    ] = 1,
    preset: Annotated[
        str | None,
        typer.Option(
            help="preset of every trained model: small or default (published); default: the "
            "mode's (small for --quick/--medium, default for --full); use another --out to "
            "keep the mode's own runs",
        ),
    ] = None,
) -> None:
    """Train and compare the tagger landscape; print the table, write landscape.json."""
    from heplearn.evaluation.landscape import format_table
    from heplearn.evaluation.landscape import landscape as _landscape

    if quick + medium + full > 1:
        raise HeplearnError("--quick, --medium and --full exclude each other")
    rows = _landscape(
        process,
        mode="full" if full else "medium" if medium else "quick",
        data=data,
        models=models,
        out=out,
        seed=seed,
        workers=workers,
        learning_curve=learning_curve,
        curve_step_fraction=curve_steps,
        test_data=test_data,
        trainings=trainings,
        preset=preset,
    )
    # a wide table: when stdout is a file or pipe, do not wrap it at rich's default 80 columns
    console = _out if _out.is_terminal else Console(width=160)
    console.print(format_table(rows))
    _out.print(f"wrote {out / 'landscape.json'} and {out / 'report.md'}")


@app.command()
@_friendly
def study(
    name: Annotated[str, typer.Argument(help="focal, decorrelation, cwola, anomaly, reweighting")],
    quick: Annotated[
        bool, typer.Option("--quick", help="2-core CPU sizes, < 15 min (default)")
    ] = False,
    full: Annotated[bool, typer.Option("--full", help="the papers' sample sizes")] = False,
    data: Annotated[Path | None, typer.Option(help="use this dataset")] = None,
    out: Annotated[Path | None, typer.Option(help="output directory (default runs/NAME)")] = None,
    seed: Annotated[int, typer.Option(help="seed of data and training")] = 1,
    workers: Annotated[int | None, typer.Option(help="Dask workers for generation")] = None,
) -> None:
    """Run a physics-aware-learning study: data, training, figures, summary.json, report.md."""
    from heplearn.studies import run_study

    if quick and full:
        raise HeplearnError("--quick and --full exclude each other")
    out = out or Path("runs") / name
    summary = run_study(name, out, quick=not full, data=data, seed=seed, workers=workers)
    _out.print_json(data=_jsonable(summary))
    _out.print(f"wrote {out / 'summary.json'} and {out / 'report.md'}")


def _jsonable(obj):
    from heplearn.evaluation.report import to_jsonable

    return to_jsonable(obj)


def main() -> None:  # pragma: no cover
    app()
