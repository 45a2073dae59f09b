"""What every stage's commands share: the options (one definition, so --storage means the same everywhere)
and the guard that turns a user's error into a message and exit code 2."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def ending(interrupted: bool) -> Iterator[None]:
    """What runs in the block (the summary) runs as usual; after a stop (``interrupted``) every trial's state,
    W&B run and log is written by then, so a further Ctrl-C or SIGTERM in the block ends the process at once
    with 130, and the process then exits 130 skipping the interpreter's teardown: that resets the signal
    handlers first, so a second Ctrl-C during its seconds of cleanup killed the process by the signal
    (exit -2)."""
    import logging
    import os
    import signal
    import sys

    if not interrupted:
        yield
        return

    def now(signum: int, frame: object) -> None:
        os._exit(130)

    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, now)
    yield
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
