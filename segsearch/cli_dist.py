"""CLI commands for the dist stage; registered explicitly by segsearch.cli. Keep imports lazy."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the app."""
