"""Options every stage's commands share (one definition, so --storage means the same everywhere)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

StorageOpt = Annotated[str | None, typer.Option("--storage", envvar="SEGSEARCH_STORAGE", show_envvar=True,
                                               help="Optuna storage URL, e.g. postgresql://user@host/db. "
                                                    "Default: studies/<study>/study.db")]
StudiesOpt = Annotated[Path, typer.Option("--studies-dir", help="Where study folders (and generated data) live.")]
NoWandb = Annotated[bool, typer.Option("--no-wandb", help="Do not log to Weights & Biases.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")]
