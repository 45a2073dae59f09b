"""CLI commands for the dist stage; registered explicitly by segsearch.cli. Keep imports lazy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .._secrets import mask_url
from ._common import StorageOpt, StudiesOpt


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the app."""
    app.command("enqueue")(enqueue)


def enqueue(
    study: Annotated[str, typer.Option("--study", help="Study name.")],
    storage: StorageOpt = None,
    studies_dir: StudiesOpt = Path("studies"),
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="A training setting key=value (TrainConfig field; dotted for *_params: loss_params.gamma=2). "
                      "Repeatable.")] = None,
    from_yaml: Annotated[Path | None, typer.Option(
        "--from-yaml", help="A YAML recipe: TrainConfig fields, flat or under 'train:'.")] = None,
) -> None:
    """Queue your own configuration as the study's next trial. It extends the budget by one.

    Searched keys must lie in the study's search space; other keys are fixed for this trial only.
    """
    from .. import api

    api.configure_logging(False)
    try:
        settings = _read_recipe(from_yaml) if from_yaml else {}
        settings = _merge(settings, parse_assignments(set_ or []))
    except ValueError as exc:
        _fail(str(exc))
    trial = _guard(api.enqueue, study, settings, storage, studies_dir, source=str(from_yaml) if from_yaml else "cli")
    fixed = ", ".join(f"{k}={v}" for k, v in trial.system_attrs.get("fixed_params", {}).items())
    typer.echo(f"queued trial {trial.number} in study {study!r}: {fixed}")
    typer.echo("it runs next on any worker and extends the study's budget by one "
               f"(start one with: segsearch worker --study {study})")


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """``["lr=3e-4", "loss_params.gamma=2"]`` -> ``{"lr": 0.0003, "loss_params": {"gamma": 2}}``."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"--set {item!r}: expected key=value, e.g. --set lr=3e-4")
        value = _parse_value(raw.strip())
        head, _, child = key.partition(".")
        if child:
            if not head.endswith("_params"):
                raise ValueError(f"--set {item!r}: only *_params fields take dotted keys (e.g. loss_params.gamma=2)")
            out.setdefault(head, {})[child] = value
        else:
            out[key] = value
    return out


def _parse_value(raw: str) -> Any:
    import yaml

    try:
        value = yaml.safe_load(raw) if raw else ""
    except yaml.YAMLError as exc:
        raise ValueError(f"cannot parse value {raw!r}: {str(exc).splitlines()[0]}") from None
    if isinstance(value, str):
        try:
            return float(value)  # YAML 1.1 reads 3e-4 as a string
        except ValueError:
            return value
    return value


def _read_recipe(path: Path) -> dict[str, Any]:
    import yaml

    if not path.is_file():
        raise ValueError(f"--from-yaml {path}: no such file")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ValueError(f"--from-yaml {path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if isinstance(doc, dict) and isinstance(doc.get("train"), dict):
        extra = sorted(set(doc) - {"train", "study", "data", "search", "wandb", "final"})
        if extra:
            raise ValueError(f"--from-yaml {path}: unknown top-level keys {extra}")
        doc = doc["train"]
    if not isinstance(doc, dict):
        raise ValueError(f"--from-yaml {path}: expected a mapping of training settings, got {type(doc).__name__}")
    return doc


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = {**out[k], **v} if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _fail(msg: str, code: int = 2) -> None:
    typer.secho(mask_url(msg), fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _guard(fn, *args, **kwargs):
    from ._common import _guard as guard

    return guard(fn, *args, **kwargs)
