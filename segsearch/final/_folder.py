"""The model folder: what ``finalize`` writes beside the weights so that a model describes itself
(``model.json``, ``config.yaml``, ``splits.json``), and the ensemble folder over several."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import yaml

from .. import rundir
from ..components import preprocessing
from ..config import DataConfig, SearchSpaceFile, TrainConfig, space_hash
from ..data import Sample, Splits, flip_axes
from ..training import save_atomic, versions

log = logging.getLogger(__name__)

PALETTE = [(0, 0, 0), (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
           (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128),
           (220, 190, 255), (170, 110, 40), (255, 250, 200), (128, 0, 0), (170, 255, 195), (128, 128, 0),
           (255, 215, 180), (0, 0, 128), (128, 128, 128), (255, 255, 255)]
COMBINE = ("mean", "vote")

# --------------------------------------------------------------------------- the model folder


def _write_model_folder(run_dir: Path, cfg: SearchSpaceFile, t: Any, tcfg: TrainConfig, data: DataConfig,
                        splits: Splits) -> None:

    best = torch.load(run_dir / rundir.BEST, map_location="cpu", weights_only=False)
    save_atomic(best["model"], run_dir / rundir.WEIGHTS)
    split_lists = {name: [_sample_doc(s) for s in getattr(splits, name)] for name in ("train", "val", "test")}
    (run_dir / rundir.SPLITS).write_text(json.dumps(split_lists, indent=1))
    pre = preprocessing(tcfg.encoder, tcfg.encoder_weights)
    meta = {
        "format": 1,
        "kind": "model",
        "study": cfg.study.name,
        "trial": t.number,
        "trial_value": t.values[0] if t.values else None,
        "params": dict(t.params),
        "space_hash": space_hash(cfg),
        "architecture": tcfg.architecture,
        "architecture_params": dict(tcfg.architecture_params),
        "encoder": tcfg.encoder,
        "encoder_depth": tcfg.encoder_depth,
        "in_channels": data.in_channels,
        "bands": data.bands,
        "classes": list(data.classes),
        "colors": class_colors(data),
        "mode": data.mode,
        "threshold": tcfg.threshold,
        "image_size": list(data.size_hw),
        # how predict sees an image: resized to image_size as in training, or windows at native scale (crops)
        "inference": "sliding_window" if data.crop else "resize",
        "flips": list(flip_axes(data, splits.train)),  # what training flipped; flip TTA uses the same axes
        "stride": 2 ** tcfg.encoder_depth,
        "preprocessing": {"mean": _fit(pre["mean"], data.in_channels), "std": _fit(pre["std"], data.in_channels),
                          "input": "float32 NCHW, RGB, scaled to [0, 1] (uint8 / 255, uint16 / 65535)"},
        "output": "logits NxCxHxW; softmax (multiclass) or sigmoid (binary, multilabel) for probabilities",
        "best_epoch": int(best.get("epoch", 0)),
        "seed": tcfg.seed,
        "split_seed": data.split_seed,
        "split_hash": _split_hash(split_lists),
        "split_sizes": {k: len(v) for k, v in split_lists.items()},
        "versions": versions(),
    }
    (run_dir / rundir.MODEL).write_text(json.dumps(meta, indent=2))
    doc = {"study": cfg.study.name, "trial": t.number, "space_hash": meta["space_hash"],
           "train": json.loads(tcfg.model_dump_json()), "data": json.loads(data.model_dump_json()),
           "final": json.loads(cfg.final.model_dump_json()), "versions": meta["versions"]}
    (run_dir / rundir.CONFIG).write_text(yaml.safe_dump(doc, sort_keys=False))


def _sample_doc(s: Sample) -> dict[str, Any]:
    return {"image": str(s.image), "mask": str(s.mask), "group": s.group, "class_masks": [str(p) for p in s.class_masks]}


def _split_hash(split_lists: dict[str, list[dict[str, Any]]]) -> str:
    return hashlib.sha256(json.dumps(split_lists, sort_keys=True).encode()).hexdigest()[:16]


def _fit(values: Sequence[float], n: int) -> list[float]:
    return [float(v) for v in (list(values) * n)[:n]]


def class_colors(data: DataConfig) -> dict[str, list[int]]:
    """``data.colors`` where given, a fixed palette otherwise (binary: background black, foreground red)."""
    names = list(data.classes) if data.mode != "binary" else ["background", *data.classes]
    given = data.colors or {}
    return {n: list(given.get(n, PALETTE[i % len(PALETTE)])) for i, n in enumerate(names)}


def splits_from_folder(folder: Path) -> Splits:
    raw = json.loads((folder / rundir.SPLITS).read_text())

    def samples(name: str) -> list[Sample]:
        return [Sample(Path(d["image"]), Path(d["mask"]), d["group"], tuple(Path(p) for p in d["class_masks"]))
                for d in raw.get(name, [])]

    return Splits(samples("train"), samples("val"), samples("test"))
