"""CLI commands for the final stage; registered explicitly by segsearch.cli. Keep imports lazy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .. import rundir
from ._common import StorageOpt, StudiesOpt

ModelArg = Annotated[Path, typer.Argument(help="A model folder (model.json) or ensemble folder (ensemble.json).")]
CombineOpt = Annotated[str | None, typer.Option(help="Ensembles: mean (average probabilities) or vote.")]
DeviceOpt = Annotated[str, typer.Option(help="auto (a GPU when there is one), cpu, cuda, cuda:N, mps.")]


def finalize(
    study: Annotated[str, typer.Argument(help="Study name.")],
    storage: StorageOpt = None,
    studies_dir: StudiesOpt = Path("studies"),
    trial: Annotated[int | None, typer.Option(help="Retrain this trial number instead of the best.")] = None,
    top_k: Annotated[int | None, typer.Option("--top-k", help="Retrain the K best distinct configurations "
                                                 "as an ensemble (default: final.top_k).")] = None,
    epochs: Annotated[int | None, typer.Option(help="Override final.epochs.")] = None,
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="Continue from the last checkpoint.")] = True,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: studies/<study>/final).")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda, cuda:N (overrides train.device)")] = None,
    augmentation: Annotated[str | None, typer.Option(help="Override final.augmentation: none, light, full.")] = None,
    export: Annotated[bool, typer.Option("--export", help="Also export TorchScript and ONNX.")] = False,
    budget: Annotated[str | None, typer.Option(
        help="Wall-clock limit, e.g. 10m: continues the trial's checkpoint when a full retrain does not fit.")] = None,
    pick: Annotated[str | None, typer.Option(
        help='Choose the trial by a rule instead of the best accuracy, e.g. "max miou where latency_ms <= 20" '
             "(metrics: miou, mdice, latency_ms, peak_memory_mb, params_m, flops_g, seconds_per_epoch).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    """Retrain the best trial with the final schedule and augmentation, evaluate on test, write the model folder."""
    from .. import api
    from ._common import _guard

    api.configure_logging(verbose)
    path = _guard(api.finalize, study, storage=storage, studies_dir=studies_dir, export=export, trial=trial,
                  top_k=top_k, resume=resume and not budget, epochs=epochs, out=out, device=device,
                  augmentation=augmentation, budget=budget, pick=pick)
    _print_metrics(path)


def evaluate(
    model: ModelArg,
    split: Annotated[str, typer.Option(help="test or val.")] = "test",
    combine: CombineOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full metrics as JSON.")] = False,
    device: DeviceOpt = "auto",
) -> None:
    """Test-split metrics of a model folder (written to <folder>/metrics.json for the test split)."""
    from .. import api

    api.configure_logging(False)
    if split not in ("test", "val"):
        _fail(f"--split must be test or val, got {split!r}")
    metrics = _call(api.evaluate, model, split=split, combine=combine, device=device)
    if as_json:
        typer.echo(json.dumps(metrics, indent=2))
    else:
        _show(metrics, model)


def export(
    model: ModelArg,
    fmt: Annotated[list[str] | None, typer.Option("--format", help="torchscript, onnx (repeat; default both).")] = None,
    image: Annotated[list[Path] | None, typer.Option("--image", help="Images to check the export on "
                                                        "(default: the model's test split).")] = None,
) -> None:
    """Export to TorchScript and ONNX; each is checked against PyTorch on real images (export.json)."""
    from .. import api

    api.configure_logging(False)
    doc = _call(api.export, model, formats=fmt, images=image)
    for name, rep in (doc.get("members") or {"": doc}).items():
        for r in rep["formats"].values():
            where = model / name / r["file"] if name else model / r["file"]
            typer.echo(f"{where}: max abs diff {r['max_abs_diff']:.2e} vs PyTorch "
                       f"(tolerance {r['tolerance']:.0e} x max(1, |logits|)) {'ok' if r['passed'] else 'FAILED'}")


def predict(
    model: ModelArg,
    inputs: Annotated[list[Path], typer.Argument(help="Images and/or folders of images.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for <stem>_mask.png and <stem>_overlay.png.")],
    tile: Annotated[int | None, typer.Option(help="Slide windows of N px at native resolution (default: as the model "
                                                  "was trained: the image resized, or windows for crop-trained models).")] = None,
    overlap: Annotated[float, typer.Option(help="Overlap of neighbouring windows, 0 to <1.")] = 0.5,
    tta: Annotated[bool | None, typer.Option(
        "--tta/--no-tta", help="Average over horizontal and vertical flips; default: as finalize chose on "
        "validation (model.json: tta).")] = None,
    whole: Annotated[bool, typer.Option("--whole", help="One pass over the whole image, no windows.")] = False,
    overlays: Annotated[bool, typer.Option("--overlay/--no-overlay", help="Write colour overlays.")] = True,
    combine: CombineOpt = None,
    device: DeviceOpt = "auto",
) -> None:
    """Segment images of any size (sliding window with Gaussian blending); writes index masks and overlays."""
    from .. import api

    api.configure_logging(False)
    if not 0 <= overlap < 1:
        _fail(f"--overlap must be in [0, 1), got {overlap}")
    records = _call(api.predict, model, inputs, out, tile=tile, overlap=overlap, tta=tta, overlays=overlays,
                    whole=whole, combine=combine, device=device)
    typer.echo(f"wrote {len(records)} mask(s) to {out}")


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the app."""
    app.command()(finalize)
    app.command()(evaluate)
    app.command()(export)
    app.command()(predict)


def _fail(msg: str) -> None:
    from ._common import _fail as fail

    fail(msg)


def _call(fn, *args, **kwargs):
    """Like cli._guard, plus the errors of model folders (missing files, bad values)."""
    from ._common import _guard

    try:
        return _guard(fn, *args, **kwargs)
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))


def _print_metrics(path: Path) -> None:
    metrics = json.loads((path / rundir.TEST_METRICS).read_text())
    _show(metrics, path)


def _interval(m: dict) -> str:
    iv = m.get("miou_interval")
    return "" if not iv else f" (95% interval {iv['low']:.3f}-{iv['high']:.3f} over these images)"


def _show(m: dict, path: Path) -> None:
    typer.echo(f"{path}: {m['split']} split, {m['n_images']} images")
    label = m.get("metric", "mIoU (class mean)")
    typer.echo(f"  {label} {m['miou']:.4f}{_interval(m)}  Dice {m['mdice']:.4f}")
    if m.get("collapsed"):
        typer.echo("  COLLAPSED: the model predicts one class (nearly) everywhere")
    mi = m["micro_imagewise"]
    typer.echo(f"  mIoU {mi['miou']:.4f}  mDice {mi['mdice']:.4f}  (micro-imagewise, seed 001's figure; "
               "absent classes count as 1.0)")
    for name, v in m["per_class"].items():
        iou = "n/a" if v["iou"] is None else f"{v['iou']:.4f}"
        dice = "n/a" if v["dice"] is None else f"{v['dice']:.4f}"
        typer.echo(f"    {name:<20} IoU {iou}  Dice {dice}")
    for level, v in (m.get("hierarchy") or {}).items():
        typer.echo(f"  level {level}: mIoU {v['miou'] if v['miou'] is None else round(v['miou'], 4)}")
    if "best_single" in m:
        beats = m["ensemble_beats_best_single"]
        typer.echo(f"  best single model (trial {m['best_single']['trial']}): mIoU {m['best_single']['miou']:.4f}; "
                   + ", ".join(f"{c}: {'beats it' if b else 'does not beat it'}" for c, b in beats.items()))
