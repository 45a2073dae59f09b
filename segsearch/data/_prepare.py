"""``segsearch prepare``: grouped, multi-label-stratified train/val/test CSVs from a folders dataset."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from ..config import DataConfig
from ._build import group_presence, hints, report_problems, resolve_root
from ._io import DataError
from ._layouts import SPLITS, Sample, find_folder
from ._scan import cache_path, check_samples
from ._split import split_samples


@dataclass(frozen=True)
class Prepared:
    """The written CSVs and, per split, images, groups and images holding each class."""

    paths: dict[str, Path]
    classes: list[str]
    images: dict[str, int]
    groups: dict[str, int]
    presence: dict[str, list[int]]

    def table(self) -> str:
        head = "| split | images | groups | " + " | ".join(self.classes) + " |"
        rule = "|" + "---|" * (3 + len(self.classes))
        rows = [f"| {s} | {self.images[s]} | {self.groups[s]} | " + " | ".join(str(v) for v in self.presence[s])
                + " |" for s in self.paths]
        return "\n".join([head, rule, *rows])


def label_names(cfg: DataConfig) -> list[str]:
    """Names of the target values: binary targets are background and the one class."""
    return ["background", *cfg.classes] if cfg.mode == "binary" else list(cfg.classes)


def prepare_splits(cfg: DataConfig, out_dir: Path | str | None = None,
                   studies_dir: Path | str = "studies") -> Prepared:
    """Split a folders dataset into ``train/val/test.csv`` (columns image, mask, group) under ``out_dir``
    (default ``root/<data.splits_dir>``, which ``layout: csv`` reads). Deterministic for ``split_seed``."""
    if cfg.layout == "presplit":
        raise DataError("data.layout is presplit: the dataset is already split into train/, val/, test/")
    root = resolve_root(cfg, studies_dir)
    found = find_folder(root, cfg)
    checked = check_samples(found.samples, cfg, cache_path(Path(studies_dir) / "_data", root, cfg))
    problems = [c.problem for c in checked if c.problem] + [f"{p}: no mask found" for p in found.orphans]
    report_problems(problems, cfg.skip_bad,
                    hints(problems, found.orphans, found.lonely_masks, len(checked) + len(found.orphans)))
    good = [c for c in checked if c.problem is None]
    if len(good) < 2:
        raise DataError(f"{root}: {len(good)} good samples are too few to split")
    presence = group_presence(good)
    parts = split_samples([c.sample for c in good], cfg.val_fraction, cfg.test_fraction, cfg.split_seed, presence)
    out = Path(out_dir) if out_dir is not None else root / cfg.splits_dir
    out.mkdir(parents=True, exist_ok=True)
    paths = {s: _write_csv(out / f"{s}.csv", parts[s], root) for s in SPLITS}
    result = _summarise(paths, parts, presence, cfg)
    (out / "summary.json").write_text(json.dumps({**result.__dict__, "paths": {k: str(v) for k, v in paths.items()}},
                                                 indent=2))
    return result


def _write_csv(path: Path, samples: list[Sample], root: Path) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["image", "mask", "group"])
        for s in samples:
            w.writerow([_rel(s.image, root), _rel(s.mask, root), s.group])
    return path


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def _summarise(paths: dict[str, Path], parts: dict[str, list[Sample]], presence: dict[str, list[int]],
               cfg: DataConfig) -> Prepared:
    names = label_names(cfg)
    images, groups, pres = {}, {}, {}
    for s in paths:
        images[s] = len(parts[s])
        groups[s] = len({x.group for x in parts[s]})
        counts = [0] * len(names)
        for x in parts[s]:
            for c in presence.get(x.group, ()):
                counts[c] += 1
        pres[s] = counts
    return Prepared(paths, names, images, groups, pres)
