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


def stop_now_on_next_signal() -> None:
    """After a stop the trial's state is written: a further Ctrl-C or SIGTERM (during the summary or the
    interpreter's shutdown) ends the process at once with 130, never killed by the signal itself."""
    import os
    import signal

    def now(signum: int, frame: object) -> None:
        os._exit(130)

    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, now)


def exit_interrupted() -> None:
    """Exit 130 after a stop, skipping the interpreter's teardown: it resets the signal handlers first, so a
    second Ctrl-C during its seconds of cleanup killed the process by the signal instead (exit -2). Every
    trial's state, W&B run and log is written and closed by then."""
    import logging
    import os
    import sys

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)


def _guard(fn, *args, **kwargs):
    """Run an API call; known user errors become a clear message and exit code 2."""
    from ..errors import SegsearchError

    try:
        return fn(*args, **kwargs)
    except SegsearchError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted", 130)
