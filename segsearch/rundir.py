"""The files of a trial folder (``studies/<study>/trials/<NNNNN>/``) and of a model folder (``final/``), named in
one place. No imports: every layer may use these names.

A trial folder holds ``config.yaml`` (the resolved settings), ``owner.json`` (which study and trial chain
wrote it), ``metrics.jsonl`` (one line per epoch), ``last.pt`` (the resume checkpoint), ``best.pt`` (the
best epoch's weights), ``stable.pt`` (``scheduler: wsd`` only: the weights before the rate's decay) and
``predictions.png``. A model folder adds ``model.pt`` and ``model.json`` (what
``load_model`` reads), ``splits.json``, ``metrics.json`` (test metrics), ``training.json`` and
``settings.json``; an ensemble folder holds ``ensemble.json`` over member folders.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CONFIG = "config.yaml"
OWNER = "owner.json"
METRICS = "metrics.jsonl"
LAST = "last.pt"
BEST = "best.pt"
STABLE = "stable.pt"  # a ``scheduler: wsd`` run's weights at the end of its peak-rate phase: where a continuation starts
PREVIEW = "predictions.png"
CONFUSION = "confusion.png"  # a trial's validation confusion matrix at its best epoch
WEIGHTS = "model.pt"
MODEL = "model.json"
ENSEMBLE = "ensemble.json"
SPLITS = "splits.json"
TEST_METRICS = "metrics.json"
TRAINING = "training.json"
SETTINGS = "settings.json"
EXPORT = "export.json"
STUDY_DB = "study.db"  # an embedded study: studies/<study>/study.db


def read_json(folder: str | Path, name: str) -> Any:
    """A JSON file of a run or model folder."""
    return json.loads((Path(folder) / name).read_text())


def write_json(folder: str | Path, name: str, doc: Any) -> Path:
    """Write a JSON file of a run or model folder (indented, so people can read it)."""
    path = Path(folder) / name
    path.write_text(json.dumps(doc, indent=2, default=str))
    return path
