"""What every stage's commands share: the options (one definition, so --storage means the same everywhere)
and the guard that turns a user's error into a message and exit code 2."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .._secrets import mask_url

StorageOpt = Annotated[str | None, typer.Option("--storage", envvar="SEGSEARCH_STORAGE", show_envvar=True,
                                               help="Optuna storage URL, e.g. postgresql://user@host/db. "
                                                    "Default: studies/<study>/study.db")]
StudiesOpt = Annotated[Path, typer.Option("--studies-dir", help="Where study folders (and generated data) live.")]
NoWandb = Annotated[bool, typer.Option("--no-wandb", help="Do not log to Weights & Biases.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")]


def _fail(msg: str, code: int = 2) -> None:
    typer.secho(mask_url(msg), fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _guard(fn, *args, **kwargs):
    """Run an API call; known user errors become a clear message and exit code 2."""
    from ..errors import SegsearchError

    try:
        return fn(*args, **kwargs)
    except SegsearchError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted", 130)
