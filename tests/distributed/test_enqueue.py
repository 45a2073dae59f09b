"""``enqueue_settings``: validation against TrainConfig and the search space, budget extension, priority."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from segsearch.config import load_config
from segsearch.search import enqueue_settings, pop_next, top_up_budget

from helpers import tiny_config


def _study(tmp_path: Path):
    cfg = load_config(tiny_config(tmp_path))
    study = optuna.create_study(direction="maximize")
    assert top_up_budget(study, cfg) == 3
    return study, cfg


def test_enqueued_recipe_runs_next_and_extends_the_budget(tmp_path: Path) -> None:
    study, cfg = _study(tmp_path)
    trial = enqueue_settings(study, cfg, {"architecture": "unet", "lr": "5e-3", "batch_size": 4})
    assert trial.system_attrs["fixed_params"] == {"architecture": "unet", "lr": 0.005, "batch_size": 4}
    assert pop_next(study) == trial._trial_id  # ahead of the baseline
    # the budget: n_trials 3 + 1 enqueued, minus the queued baseline and the running recipe: 2 more to sample
    assert top_up_budget(study, cfg) == 2
    assert len(study.get_trials()) == 2  # no placeholder trials


@pytest.mark.parametrize(("settings", "message"), [
    ({"architecture": "deeplabv3"}, "architecture='deeplabv3' is not in the study's search space"),
    ({"lr": 0.5}, "lr=0.5 is outside the study's search range"),
    ({"lrr": 1}, "unknown training setting 'lrr'"),
    ({"batch_size": 0}, "batch_size=0"),
    ({"optimizer": "adamz"}, "adamz"),
    ({}, "nothing to enqueue"),
])
def test_bad_settings_are_refused_with_the_value(tmp_path: Path, settings: dict, message: str) -> None:
    study, cfg = _study(tmp_path)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
        enqueue_settings(study, cfg, settings)
    assert len(study.get_trials()) == 1  # the baseline only: nothing was added
