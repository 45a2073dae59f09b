"""From a DataConfig to checked, split samples and training datasets: the entry points training uses."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import DataConfig
from ._demo import make_demo_dataset
from ._io import DataError
from ._layouts import Found, Sample, discover
from ._scan import Checked, cache_path, check_samples
from ._split import split_samples

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Splits:
    train: list[Sample]
    val: list[Sample]
    test: list[Sample] = field(default_factory=list)
    orphans: list[Path] = field(default_factory=list)  # images without a mask
    lonely_masks: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "<file>: <problem>" dropped with data.skip_bad


def resolve_root(cfg: DataConfig, studies_dir: Path | str = "studies") -> Path:
    if cfg.root is not None:
        return Path(cfg.root)
    d = cfg.demo
    assert d is not None  # DataConfig (frozen) requires root or demo
    return make_demo_dataset(Path(studies_dir) / "_data" / f"demo_{d.n_images}x{d.size}_s{d.seed}",
                             d.n_images, d.size, d.seed)


def load_splits(cfg: DataConfig, studies_dir: Path | str = "studies") -> Splits:
    """Find, check and split the samples. Bad files raise DataError naming them (or are skipped with
    ``data.skip_bad``). The check reads image headers and decodes masks once; results are cached
    under ``studies_dir/_data`` so later calls only stat the files."""
    root = resolve_root(cfg, studies_dir)
    if not root.is_dir():
        raise DataError(f"data.root {root}: folder not found")
    found = discover(root, cfg)
    checked = check_samples([s for f in found.values() for s in f.samples], cfg,
                            cache_path(Path(studies_dir) / "_data", root, cfg))
    problems = [c.problem for c in checked if c.problem]
    problems += [f"{p}: no mask found" for f in found.values() for p in f.orphans]
    orphans = [p for f in found.values() for p in f.orphans]
    lonely = [p for f in found.values() for p in f.lonely_masks]
    report_problems(problems, cfg.skip_bad, hints(problems, orphans, lonely, len(checked) + len(orphans)))
    good = {c.sample: c for c in checked if c.problem is None}
    parts = _split(found, good, cfg)
    if not parts["train"] or not parts["val"]:
        raise DataError(f"{root}: {len(good)} good samples are too few for a train and a validation split")
    for p in lonely:
        log.warning("%s: mask without an image", p)
    return Splits(parts["train"], parts["val"], parts["test"], orphans, lonely, problems)


def preflight(cfg: DataConfig, studies_dir: Path | str = "studies") -> Splits:
    """The fast check ``launch`` runs before any trial: ``load_splits`` plus a one-line summary."""
    splits = load_splits(cfg, studies_dir)
    log.info("data: %d train, %d val, %d test samples; %d bad files skipped", len(splits.train),
             len(splits.val), len(splits.test), len(splits.skipped))
    return splits


def hints(problems: list[str], orphans: list[Path], lonely: list[Path], n_total: int) -> list[str]:
    """The YAML changes that would fix ``problems`` (naming, mask values), then ``skip_bad`` when few are bad."""
    from ._hints import naming_hint, skip_hint, values_hint

    found = [h for h in (naming_hint(orphans, lonely), values_hint(problems)) if h]
    skip = skip_hint(len(problems), n_total)
    return [*found, *([skip] if skip else [])]


def report_problems(problems: list[str], skip_bad: bool, fixes: list[str] | None = None) -> None:
    if not problems:
        return
    if skip_bad:
        for p in problems:
            log.warning("skipping bad file: %s", p)
        return
    shown = "\n  ".join(problems[:20])
    more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
    fix = "\nTo fix: " + "; ".join(fixes) if fixes else ""
    raise DataError(f"{len(problems)} bad data file(s):\n  {shown}{more}{fix}")


def _split(found: dict[str, Found], good: dict[Sample, Checked], cfg: DataConfig) -> dict[str, list[Sample]]:
    if "all" not in found:
        return {name: [s for s in found[name].samples if s in good] if name in found else []
                for name in ("train", "val", "test")}
    samples = [s for s in found["all"].samples if s in good]
    presence = group_presence(good.values()) if cfg.stratify else None
    return split_samples(samples, cfg.val_fraction, cfg.test_fraction, cfg.split_seed, presence)


def group_presence(checked) -> dict[str, list[int]]:
    """Per group the union of the classes present in its masks."""
    out: dict[str, set[int]] = {}
    for c in checked:
        out.setdefault(c.sample.group, set()).update(c.presence)
    return {g: sorted(v) for g, v in out.items()}


def auto_num_workers(setting: int | str, device: str) -> int:
    if setting != "auto":
        return int(setting)
    if not device.startswith("cuda"):
        return 0  # on CPU the model needs every core; cached decoded images are cheap to augment
    return max(1, min(8, (os.cpu_count() or 2) - 1))


def loss_class_weights(counts: np.ndarray, cfg: DataConfig) -> list[float]:
    """Weights for ``class_weights: auto``: median-frequency for multiclass, neg/pos for binary."""
    from ._dataset import class_weights_from_counts

    if cfg.mode == "binary":
        return [float(counts[0] / max(counts[1], 1))]
    return class_weights_from_counts(counts)


def make_train_dataset(samples, cfg: DataConfig, transform, mean, std):
    """The training dataset: random crops with ``cfg.crop``, a mosaic wrapper when ``cfg.mosaic`` > 0."""
    from ._dataset import SegDataset
    from ._mosaic import MosaicDataset
    from ._transforms import crop_transform

    fill = cfg.ignore_index if cfg.ignore_index is not None else 0
    pre = crop_transform(cfg.size_hw, fill) if cfg.crop else None
    ds = SegDataset(samples, cfg, transform, mean, std, cache=cfg.cache, pre=pre)
    return MosaicDataset(ds, cfg.mosaic, cfg.size_hw) if cfg.mosaic > 0 else ds
