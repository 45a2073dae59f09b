"""``segsearch plan``: a folder of images and masks in, a search-space YAML fitted to it out.

``fingerprint`` (in ``data``) reads what the folder holds; ``choose`` decides the settings (and, with a
budget, times the baseline's training steps here to size the images and the trial count); ``plan_yaml``
writes them as a commented YAML that ``segsearch launch`` runs without edits.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import ConfigError
from ._choose import Plan, choose, study_name


def fingerprint_path(yaml_path: Path) -> Path:
    return yaml_path.with_name(yaml_path.stem + ".fingerprint.json")


def plan_dataset(data_dir: str | Path, budget: str | None = None, out: str | Path | None = None,
                 force: bool = False) -> tuple[Path, Plan]:
    """Fingerprint ``data_dir``, choose the settings and write ``out`` (default ``<folder name>.yaml``) and
    its ``.fingerprint.json``. Nothing is written when the data or the arguments are refused."""
    folder = Path(data_dir).expanduser()
    _precheck(folder)  # before numpy, pydantic and the readers are imported: a typo costs a fraction of a second
    from ..config import load_config_text, parse_duration
    from ..data import DataError, fingerprint

    if budget is not None:
        try:
            parse_duration(budget)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    target = Path(out) if out is not None else Path(f"{study_name(folder.resolve().name)}.yaml")
    for path in (target, fingerprint_path(target)):
        if path.exists() and not force:
            raise ConfigError(f"{path} exists; give --out for another file or --force to replace it")
    try:
        fp = fingerprint(folder)
    except DataError as exc:
        raise ConfigError(str(exc)) from None
    from ._yaml import plan_yaml

    plan = choose(fp, study_name(folder.resolve().name), budget)
    text = plan_yaml(plan)
    load_config_text(text)  # what launch will read: a plan that does not validate is a bug, never a file
    target.parent.mkdir(parents=True, exist_ok=True)
    _write(fingerprint_path(target), json.dumps({**fp.to_json(), "plan": {
        "image_size": plan.image_size, "n_trials": plan.n_trials, "budget": plan.budget,
        "epoch_seconds": plan.epoch_seconds, "notes": plan.notes}}, indent=2, default=str))
    _write(target, text)
    return target, plan


_EXTS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")  # as data._io.IMAGE_EXTS


def _precheck(folder: Path) -> None:
    if not folder.is_dir():
        raise ConfigError(f"{folder.resolve()}: no such folder")
    if not any(p.suffix.lower() in _EXTS for p in folder.rglob("*")):
        raise ConfigError(f"{folder.resolve()}: empty folder: no images ({', '.join(_EXTS)}) in it or below it")


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def table(plan: Plan) -> list[str]:
    """The fingerprint as a short table for the terminal."""
    fp = plan.fingerprint
    sizes = ", ".join(f"{k} ({n})" for k, n in list(fp.image_sizes.items())[:3])
    more = f" and {len(fp.image_sizes) - 3} more" if len(fp.image_sizes) > 3 else ""
    naming = fp.mask_suffix and f"mask_suffix {fp.mask_suffix!r}" or fp.mask_pattern and \
        f"mask_pattern {fp.mask_pattern!r}" or fp.group_pattern and f"group_pattern {fp.group_pattern!r}" or "same stem"
    rows = [
        ("layout", f"{fp.layout}: {fp.images_dir}/ + {fp.masks_dir}/, paired by {naming}"),
        ("pairs", f"{fp.n_pairs} of {fp.n_images} images ({fp.images_per_mask} images per mask)"),
        ("image sizes", sizes + more),
        ("channels / depth", f"{', '.join(fp.channels)} / {', '.join(fp.bit_depth)}"),
        ("masks", f"{fp.encoding} -> mode {fp.mode}" + (f", class_map {fp.class_map}" if fp.class_map else "")
         + (f", ignore_index {fp.ignore_index}" if fp.ignore_index is not None else "")),
        ("class names", f"from {fp.class_names_from}" if fp.class_names_from else
         "none found beside the masks (labelmap.txt, _classes.csv, classes.txt): class_<value>"),
    ]
    out = [f"{k:<17} {v}" for k, v in rows]
    out.append(f"{'class':<17} {'pixels':>8} {'images':>8} {'median area':>12}")
    for c in fp.classes:
        out.append(f"{c.name:<17} {100 * c.pixel_share:>7.2f}% {100 * c.image_share:>7.1f}% "
                   f"{100 * c.median_area:>11.2f}%")
    out.append(f"{'plan':<17} image_size {plan.image_size}, {plan.n_trials} trials, "
               f"{len(plan.architectures)} architectures x 2 encoders x 8 losses"
               + (f", budget {plan.budget} ({plan.epoch_seconds} s per baseline epoch)" if plan.budget else ""))
    out += [f"note: {n}" for n in plan.notes]
    return out


__all__ = ["Plan", "fingerprint_path", "plan_dataset", "study_name", "table"]
