"""CLI commands for the data stage: ``prepare`` and ``inspect``. Imports stay lazy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import StudiesOpt as Studies
from ._common import _guard

Out = Annotated[Path | None, typer.Option("--out", help="Output folder.")]


def register(app: typer.Typer) -> None:
    app.command()(plan)
    app.command()(prepare)
    app.command()(inspect)


def plan(
    data_dir: Annotated[Path, typer.Argument(help="Dataset folder: images/ and masks/ (or train/ val/ [test/] each "
                                                  "holding them).")],
    budget: Annotated[str | None, typer.Option(help="Wall-clock budget the search is fitted to: 30m, 2h, 8h.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="YAML to write (default: ./<folder name>.yaml).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing YAML.")] = False,
) -> None:
    """Fingerprint a folder of images and masks and write a search-space YAML fitted to it and the budget."""
    from .. import api
    from ..plan import fingerprint_path, table

    api.configure_logging(False)
    path, planned = _guard(api.plan, data_dir, budget, out, force)
    for line in table(planned):
        typer.echo(line)
    typer.echo(f"wrote {path} and {fingerprint_path(path)}")
    typer.echo(f"next: segsearch launch {path}")


def prepare(
    config: Annotated[Path, typer.Argument(help="Search-space YAML whose data section describes the dataset, or a "
                                                "dataset folder (planned with defaults).")],
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
    config: Annotated[Path, typer.Argument(help="Search-space YAML whose data section describes the dataset, or a "
                                                "dataset folder (planned with defaults).")],
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
    flips = report.get("flips") or {}
    if flips.get("least_symmetric"):
        why = "; ".join(f"{a}: class {v['class']!r} mirror overlap {v['mirror_overlap']:.2f}"
                        for a, v in flips["least_symmetric"].items())
        typer.echo(f"flips (data.flips: {flips['setting']}): {', '.join(flips['axes']) or 'none'} ({why}; "
                   f"a flip needs >= {flips['needed']})")
    typer.echo(f"summary: {Path(out_dir) / 'summary.md'} (plots beside it)")
    if problems:
        typer.secho(f"{len(problems)} problem(s) found", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
