"""CLI commands for the data stage: ``prepare`` and ``inspect``. Imports stay lazy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import StudiesOpt as Studies

Out = Annotated[Path | None, typer.Option("--out", help="Output folder.")]


def register(app: typer.Typer) -> None:
    app.command()(prepare)
    app.command()(inspect)


def prepare(
    config: Annotated[Path, typer.Argument(help="Search-space YAML whose data section describes the dataset.")],
    out: Out = None,
    studies_dir: Studies = Path("studies"),
) -> None:
    """Write stratified, grouped train/val/test split CSVs and print class presence per split."""
    from .. import api
    from ._common import _guard

    res = _guard(api.prepare, config, out, studies_dir)
    typer.echo(res.table())
    for name, path in res.paths.items():
        typer.echo(f"{name}: {path}")
    typer.echo("use them with data.layout: csv")


def inspect(
    config: Annotated[Path, typer.Argument(help="Search-space YAML whose data section describes the dataset.")],
    out: Out = None,
    studies_dir: Studies = Path("studies"),
) -> None:
    """Integrity check and EDA: problems by file, class pixel shares, sizes, plots, class weights."""
    from .. import api
    from ._common import _guard

    report = _guard(api.inspect, config, out, studies_dir)
    out_dir = report["out"]
    problems = report.get("problems", [])
    for p in problems:
        typer.secho(f"  {p}", fg=typer.colors.YELLOW)
    typer.echo(f"class weights (what class_weights: auto uses): {report.get('class_weights')}")
    typer.echo(f"summary: {Path(out_dir) / 'summary.md'} (plots beside it)")
    if problems:
        typer.secho(f"{len(problems)} problem(s) found", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
