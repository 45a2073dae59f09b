"""The fast integrity check: image headers, decoded masks, sizes; results cached by file stamp.

Each (image, mask) pair gets a problem (``None`` when fine) and the set of classes its mask holds,
which the splitter stratifies on. A second run only stats the files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config import DataConfig
from ._io import DataError, image_header
from ._labels import present_classes, read_label
from ._layouts import Sample

log = logging.getLogger(__name__)
_LABEL_FIELDS = ("mode", "classes", "class_map", "colors", "ignore_index", "mask_per_class")


@dataclass(frozen=True)
class Checked:
    sample: Sample
    problem: str | None  # "<file>: <what is wrong>"
    presence: tuple[int, ...] = ()
    size_hw: tuple[int, int] = (0, 0)


def _stamp(paths: Sequence[Path]) -> list[list[int]] | None:
    try:
        return [[st.st_mtime_ns, st.st_size] for st in (os.stat(p) for p in paths)]
    except OSError:
        return None


def _label_hash(cfg: DataConfig) -> str:
    blob = json.dumps({k: getattr(cfg, k) for k in _LABEL_FIELDS}, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


class ScanCache:
    """Header and mask facts per file, keyed by (mtime, size); stored as JSON when given a path."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.data: dict[str, dict[str, list]] = {"images": {}, "masks": {}}
        if path is not None and path.is_file():
            try:
                self.data = json.loads(path.read_text())
            except (OSError, ValueError):
                pass
        self.dirty = False

    def get(self, kind: str, key: str, stamp: list) -> list | None:
        hit = self.data[kind].get(key)
        return hit[1] if hit is not None and hit[0] == stamp else None

    def put(self, kind: str, key: str, stamp: list, value: list) -> list:
        self.data[kind][key] = [stamp, value]
        self.dirty = True
        return value

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(self.data))
            os.replace(tmp, self.path)
        except OSError as exc:  # a read-only studies folder only costs a re-scan next time
            log.warning("could not write the data check cache %s: %s", self.path, exc)


def cache_path(cache_dir: Path | None, root: Path, cfg: DataConfig) -> Path | None:
    if cache_dir is None:
        return None
    tag = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:8]
    return Path(cache_dir) / f"scan-{tag}-{_label_hash(cfg)}.json"


def _image_facts(path: Path, cache: ScanCache) -> list:
    stamp = _stamp([path])
    if stamp is None:
        return [0, 0, 0, f"{path}: image file not found"]
    hit = cache.get("images", str(path), stamp)
    if hit is not None:
        return hit
    try:
        facts: list = [*image_header(path), None]
    except DataError as exc:
        facts = [0, 0, 0, str(exc)]
    return cache.put("images", str(path), stamp, facts)


def _mask_facts(sample: Sample, cfg: DataConfig, cache: ScanCache) -> list:
    files = list(sample.class_masks or (sample.mask,))
    stamp = _stamp(files)
    if stamp is None:
        return [0, 0, [], f"{sample.mask}: mask file not found"]
    key = "|".join(str(f) for f in files)
    hit = cache.get("masks", key, stamp)
    if hit is not None:
        return hit
    try:
        label = read_label(sample, cfg)
        facts = [int(label.shape[0]), int(label.shape[1]), present_classes(label, cfg), None]
    except DataError as exc:
        facts = [0, 0, [], str(exc)]
    return cache.put("masks", key, stamp, facts)


def _channel_problem(path: Path, c: int, cfg: DataConfig) -> str | None:
    if cfg.bands is not None:
        return None if c > max(cfg.bands) else f"{path}: image has {c} channels, data.bands asks for {cfg.bands}"
    if c == cfg.in_channels or (cfg.in_channels == 3 and c in (1, 4)):
        return None
    return f"{path}: image has {c} channels, data.in_channels is {cfg.in_channels}"


def check_sample(sample: Sample, cfg: DataConfig, cache: ScanCache) -> Checked:
    ih, iw, ic, ierr = _image_facts(sample.image, cache)
    mh, mw, presence, merr = _mask_facts(sample, cfg, cache)
    problem = ierr or merr or _channel_problem(sample.image, ic, cfg)
    if problem is None and (ih, iw) != (mh, mw):
        problem = f"{sample.image}: image is {iw}x{ih} but its mask {sample.mask.name} is {mw}x{mh}"
    return Checked(sample, problem, tuple(presence), (ih, iw))


def check_samples(samples: Sequence[Sample], cfg: DataConfig, cache_file: Path | None = None) -> list[Checked]:
    """Check every pair (headers, decoded masks, sizes, channel counts, class values)."""
    cache = ScanCache(cache_file)
    out = [check_sample(s, cfg, cache) for s in samples]
    cache.save()
    return out
