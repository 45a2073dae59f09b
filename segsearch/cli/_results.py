"""CLI commands for the results stage: ``report``, ``dashboard`` and ``clean``. Imports stay lazy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import StorageOpt as Storage
from ._common import StudiesOpt as Studies


def register(app: typer.Typer) -> None:
    app.command()(report)
    app.command()(dashboard)
    app.command()(clean)


def clean(
    study: Annotated[str, typer.Argument(help="Study name.")],
    keep: Annotated[str | None, typer.Option(help="best, none or all (default: the study's study.keep).")] = None,
    storage: Storage = None,
    studies_dir: Studies = Path("studies"),
) -> None:
    """Drop the checkpoints finished trials no longer need (study.keep) and report the space freed."""
    from .. import api
    from ._common import _guard

    api.configure_logging(False)
    freed, used = _guard(api.clean, study, keep, storage, studies_dir)
    typer.echo(f"keep {used}: {freed / 2**20:.1f} MB freed")


def report(
    study: Annotated[str, typer.Argument(help="Study name.")],
    storage: Storage = None,
    studies_dir: Studies = Path("studies"),
    out: Annotated[Path | None, typer.Option("--out", help="Folder. Default: studies/<study>/report")] = None,
    images: Annotated[int, typer.Option("--images", min=1, help="Validation images in predictions.png.")] = 4,
) -> None:
    """Write the study's report: trial table, best trial's per-class scores, plots and predictions."""
    from .. import api
    from ._common import _guard

    api.configure_logging(False)
    res = _guard(api.report, study, storage, studies_dir, out, images)
    for note in res.notes:
        typer.secho(f"note: {note}", fg=typer.colors.YELLOW, err=True)
    typer.echo(f"report: {res.files['report.md']}  (also {res.files['report.html'].name}, trials.csv and "
               f"{sum(p.suffix == '.png' for p in res.files.values())} PNGs in {res.folder})")


def dashboard(
    study: Annotated[str | None, typer.Argument(help="Study name (serves its storage and artifacts).")] = None,
    storage: Storage = None,
    studies_dir: Studies = Path("studies"),
    host: Annotated[str, typer.Option(help="Interface to bind; the dashboard has no password, "
                                           "keep 127.0.0.1 unless a proxy guards it.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8080,
    artifacts: Annotated[Path | None, typer.Option(
        "--artifacts", help="Artifact folder. Default: studies/<study>/artifacts")] = None,
    previews: Annotated[bool, typer.Option(
        "--previews/--no-previews", help="First attach prediction previews to trials that lack one.")] = True,
) -> None:
    """Serve optuna-dashboard on a study's storage (embedded or PostgreSQL), with prediction previews."""
    from .. import api
    from ._common import _guard

    api.configure_logging(False)

    def announce(text: str) -> None:
        note = text.startswith(("note:", "warning:"))
        typer.secho(text, fg=typer.colors.YELLOW if note else None, err=note)

    try:
        _guard(api.dashboard, study, storage, studies_dir, host, port, artifacts, previews, announce)
    except KeyboardInterrupt:
        pass
