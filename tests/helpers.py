"""Shared test helpers: tiny configs on the generated demo data (real files, real training)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

TINY: dict[str, Any] = {
    "study": {
        "name": "tiny",
        "n_trials": 3,
        "sampler": {"name": "random", "seed": 0},
        "pruner": {"name": "none"},
    },
    "data": {
        "demo": {"n_images": 24, "size": 32, "seed": 0},
        "classes": ["background", "field", "forest", "water", "road"],
        "image_size": 32,
        "augmentation": "none",
    },
    # checkpoint every epoch: the crash tests kill workers at arbitrary epochs and expect them to resume there
    "train": {"encoder": "resnet18", "epochs": 2, "batch_size": 8, "num_workers": 0, "device": "cpu",
              "checkpoint_interval": 0},
    "search": {"architecture": ["unet", "fpn"], "lr": {"low": 1.0e-3, "high": 1.0e-2, "log": True}},
    "wandb": {"enabled": False},
}


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def tiny_config(tmp_path: Path, name: str = "tiny.yaml", **sections: dict[str, Any]) -> Path:
    """Write a tiny search-space YAML (TINY with ``sections`` merged in) and return its path."""
    doc = merge(TINY, sections)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def tiny_doc(**sections: dict[str, Any]) -> dict[str, Any]:
    return merge(TINY, sections)
