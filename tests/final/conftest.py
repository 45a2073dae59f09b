"""One tiny real study shared by the final-stage tests, and its finalized model (2 epochs, 32 px, resnet18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from segsearch import api
from segsearch.final import finalize

from helpers import tiny_config

FINAL = {"epochs": 2, "patience": 5, "augmentation": "full", "mosaic": 0.5, "seed": 0}
HIERARCHY = {"land": {"vegetation": ["field", "forest"], "water": ["water"]}}


@pytest.fixture(scope="session")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A complete 2-trial study (unet / fpn, 1 epoch each); returns (name, studies_dir)."""
    root = tmp_path_factory.mktemp("final_study")
    cfg = tiny_config(root, study={"name": "fin", "n_trials": 2}, train={"epochs": 1},
                      data={"hierarchy": HIERARCHY}, final=FINAL)
    res = api.launch(cfg, studies_dir=root / "studies", use_wandb=False, live=False)
    assert res.states.get("COMPLETE") == 2, res.states
    return "fin", root / "studies"


@pytest.fixture(scope="session")
def ensemble(study: tuple[str, Path]) -> Path:
    """Both trials retrained (full augmentation, mosaic, 2 epochs) as a 2-model ensemble, evaluated on test."""
    name, studies = study
    return finalize(name, studies_dir=studies, top_k=2, live=False)


@pytest.fixture(scope="session")
def finalized(ensemble: Path) -> Path:
    """The best trial's model folder: member 0 of the ensemble is exactly what ``finalize`` (top_k 1) writes."""
    return ensemble / "member_0"
