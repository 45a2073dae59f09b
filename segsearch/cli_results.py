"""CLI commands for the results stage: ``report`` and ``dashboard``. Imports stay lazy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._cli_options import StorageOpt as Storage
from ._cli_options import StudiesOpt as Studies


def register(app: typer.Typer) -> None:
    app.command()(report)
    app.command()(dashboard)


def report(
    study: Annotated[str, typer.Argument(help="Study name.")],
    storage: Storage = None,
    studies_dir: Studies = Path("studies"),
    out: Annotated[Path | None, typer.Option("--out", help="Folder. Default: studies/<study>/report")] = None,
    images: Annotated[int, typer.Option("--images", min=1, help="Validation images in predictions.png.")] = 4,
) -> None:
    """Write the study's report: trial table, best trial's per-class scores, plots and predictions."""
    from . import api
    from .cli import _guard
    from .report import write_report

    api.configure_logging(False)
    st = _guard(api.load_study, study, storage, studies_dir)
    res = _guard(write_report, st, studies_dir, out, images)
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
    from . import api
    from .cli import _guard
    from .dashboard import add_missing_previews, dashboard_url, resolve, serve

    api.configure_logging(False)
    target = _guard(resolve, study, storage, studies_dir, artifacts)
    if previews and target.study is not None and target.artifacts is not None:
        try:
            add_missing_previews(target.study, studies_dir, target.artifacts)
        except Exception as exc:  # noqa: BLE001 - previews are a nicety; the dashboard still runs
            typer.secho(f"note: prediction previews not added: {exc}", fg=typer.colors.YELLOW, err=True)
    typer.echo(f"optuna-dashboard: {dashboard_url(host, port, target.study)}  (Ctrl-C to stop)")
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.secho("warning: the dashboard has no authentication; anyone who reaches this port can read and "
                    "change the study", fg=typer.colors.YELLOW, err=True)
    try:
        serve(target, host, port)
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        from .cli import _fail

        _fail(f"cannot serve on {host}:{port}: {exc}")
