"""The ``segsearch`` command: a thin layer over ``segsearch.api``. Nothing heavy is imported at start-up."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ._common import (
    NoWandb,
    StorageOpt,
    StudiesOpt,
    Verbose,
    _fail,
    _guard,
    ending,
)

app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Find the best semantic-segmentation model for a dataset (Optuna x segmentation-models-pytorch).")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"segsearch {version('segsearch')}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """Find the best semantic-segmentation model for a dataset (Optuna x segmentation-models-pytorch)."""



@app.command()
def launch(
    config: Annotated[Path, typer.Argument(help="Search-space YAML (e.g. search_spaces/quickstart.yaml), or a dataset "
                                                "folder: planned with defaults, then run")],
    storage: StorageOpt = None,
    studies_dir: StudiesOpt = Path("studies"),
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda, cuda:N (overrides train.device)")] = None,
    n_trials: Annotated[int | None, typer.Option("--n-trials", help="Override study.n_trials (total budget).")] = None,
    timeout: Annotated[float | None, typer.Option(help="Seconds for the search (overrides study.timeout).")] = None,
    budget: Annotated[str | None, typer.Option(
        help="Wall-clock budget for the whole launch, start-up to final model: 8m, 30m, 2h, 1h30m.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes on this machine (CPU).")] = 1,
    gpus: Annotated[str | None, typer.Option(help="'all' or indices like 0,2,3: one worker per GPU.")] = None,
    warm_start: Annotated[str | None, typer.Option(
        "--warm-start", help="auto, or study names A,B: a new study first tries the best configurations of past "
                             "studies on the most similar data (auto: the nearest two).")] = None,
    fork: Annotated[str | None, typer.Option(
        "--fork", help="NEW_NAME: copy the study's finished trials that fit CONFIG's changed space into a new study "
                       "and run that (a running study accepts only a grown space).")] = None,
    search: Annotated[str, typer.Option(
        "--search", help="With --budget: auto (search only where the budget has room for it), always, or never "
                         "(train the baseline alone for the whole budget).")] = "auto",
    no_wandb: NoWandb = False,
    verbose: Verbose = False,
) -> None:
    """Create or resume the study of CONFIG and run it until its trial budget is spent.

    With --budget it ends within that wall-clock time, final model included."""
    if not config.exists():  # before any import: an error path costs about what --help does (bench_startup)
        _fail(f"{config}: no such search-space file or dataset folder")
    from .. import api
    from ..config import process_started
    from ..pool import parse_gpus

    api.configure_logging(verbose)
    try:
        gpu_list = parse_gpus(gpus)
    except ValueError as exc:
        _fail(str(exc))
    res = _guard(api.launch, config, storage=storage, studies_dir=studies_dir, device=device, n_trials=n_trials,
                 timeout=timeout, workers=workers, gpus=gpu_list, use_wandb=not no_wandb, budget=budget,
                 started=process_started(), fork=fork, warm_start=warm_start, search=search)
    with ending(res.interrupted):
        _print_summary(res, studies_dir)


@app.command()
def worker(
    study: Annotated[str, typer.Option("--study", help="Study name.")],
    storage: StorageOpt = None,
    studies_dir: StudiesOpt = Path("studies"),
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda, cuda:N")] = None,
    gpu: Annotated[str | None, typer.Option(help="GPU index for this worker (sets CUDA_VISIBLE_DEVICES).")] = None,
    max_trials: Annotated[int | None, typer.Option("--max-trials", help="Stop after this many trials.")] = None,
    timeout: Annotated[float | None, typer.Option(help="Stop taking trials after this many seconds.")] = None,
    no_wandb: NoWandb = False,
    verbose: Verbose = False,
) -> None:
    """Attach a worker to an existing study (the search space is read from the study)."""
    import os

    from .. import api

    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu
        device = device or "cuda"
    api.configure_logging(verbose)
    res = _guard(api.attach_worker, study, storage=storage, studies_dir=studies_dir, device=device,
                 max_trials=max_trials, timeout=timeout, use_wandb=not no_wandb)
    with ending(res.interrupted):
        pass


@app.command()
def status(
    study: Annotated[str | None, typer.Argument(help="Study name (none: list the studies).")] = None,
    storage: StorageOpt = None,
    studies_dir: StudiesOpt = Path("studies"),
    limit: Annotated[int, typer.Option(help="Rows of the trial table (best first).")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Trials by state, the best trial with its parameters and metrics, and a table of trials.
    Without a study: the studies in --studies-dir (and in --storage when given)."""
    from .. import api

    api.configure_logging(False)
    if study is None:
        found = _guard(api.list_studies, storage, studies_dir)
        if as_json:
            typer.echo(api.to_json(found))
        elif not found:
            typer.echo(f"no studies in {studies_dir}/" + (" nor in the storage" if storage else ""))
        for name, where in found.items():
            typer.echo(f"{name:<32} {where}")
        return
    res, rows = _guard(api.status, study, storage, studies_dir)
    if as_json:
        typer.echo(api.to_json({"states": res.states, "best": res.best, "trials": rows}))
        return
    from ..results import print_status

    print_status(res, rows, limit)


@app.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Argument(help="Folder to write images/ and masks/ into.")],
    n_images: Annotated[int, typer.Option(help="Number of scenes.")] = 120,
    size: Annotated[int, typer.Option(help="Side in pixels.")] = 64,
    seed: int = 0,
) -> None:
    """Write the generated demo dataset (textured scenes, 5 imbalanced classes) to a folder."""
    from .. import api

    path = _guard(api.demo_data, out, n_images, size, seed)
    typer.echo(f"wrote {n_images} images and masks to {path}")


def _print_summary(res, studies_dir: Path) -> None:
    from ..results import print_launch_summary

    print_launch_summary(res, studies_dir)


from . import _data, _dist, _final, _results  # noqa: E402 - explicit registration below

for _stage in (_data, _dist, _results, _final):
    _stage.register(app)
for _cmd in app.registered_commands:  # the list in --help shows each summary whole (click cuts at 45 characters)
    if _cmd.short_help is None and _cmd.callback is not None and _cmd.callback.__doc__:
        _cmd.short_help = " ".join(_cmd.callback.__doc__.strip().split("\n\n")[0].split())


def main() -> None:
    from .._secrets import mask_argv

    args = mask_argv()  # what records argv (W&B's run metadata) sees no password; typer parses the original
    try:
        app(args=args)
    except BrokenPipeError:  # pragma: no cover - `segsearch status | head`
        sys.exit(0)


if __name__ == "__main__":
    main()
