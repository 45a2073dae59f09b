"""The baseline trial every new study starts with, and per-study sampler seeds."""

from __future__ import annotations

import optuna
import pytest
import yaml

from segsearch.config import SearchSpaceFile, load_config, load_config_text
from segsearch.search import build_sampler, top_up_budget
from segsearch.search._baseline import baseline_params

from helpers import tiny_doc


def cfg_of(**sections) -> SearchSpaceFile:
    return load_config_text(yaml.safe_dump(tiny_doc(**sections)))


def test_shipped_space_starts_with_seed_001s_recipe():
    cfg = load_config("search_spaces/arch_loss.yaml")
    p = baseline_params(cfg)
    assert p["architecture"] == "unet" and p["encoder"] == "resnet34"
    assert p["loss"] == "ce+dice" and p["loss.ce+dice.weight"] == pytest.approx(0.7)
    assert p["lr"] == pytest.approx(1e-3)


def test_recipe_is_expressed_in_the_space_nearest_choice_and_clipped_range():
    cfg = cfg_of(search={"architecture": ["fpn", "pspnet"], "encoder": ["mobilenet_v2", "resnet18"],
                         "lr": {"low": 1.0e-2, "high": 1.0e-1, "log": True},
                         "loss": {"choices": {"focal": {"gamma": {"low": 1.0, "high": 4.0}}, "dice": None}}})
    p = baseline_params(cfg)
    assert p["architecture"] == "fpn" and p["encoder"] == "resnet18"
    assert p["lr"] == pytest.approx(1e-2)
    assert p["loss"] == "focal" and p["loss.focal.gamma"] == pytest.approx(2.5)  # midpoint of an unknown child


def test_baseline_none_and_own_settings():
    assert baseline_params(cfg_of(study={"baseline": "none"})) is None
    own = baseline_params(cfg_of(study={"baseline": {"architecture": "fpn", "lr": 5.0e-3}}))
    assert own == {"architecture": "fpn", "lr": 5.0e-3}
    with pytest.raises(ValueError, match="not in the study's search space"):
        baseline_params(cfg_of(study={"baseline": {"architecture": "linknet"}}))
    with pytest.raises(ValueError, match="unknown training setting"):
        cfg_of(study={"baseline": {"archtecture": "fpn"}})


def test_new_study_queues_the_baseline_first_and_the_budget_stays_exact():
    cfg = cfg_of(study={"n_trials": 4})
    study = optuna.create_study(direction="maximize")
    assert top_up_budget(study, cfg) == 4
    waiting = study.get_trials(states=(optuna.trial.TrialState.WAITING,))
    assert len(waiting) == 4
    assert waiting[0].user_attrs.get("baseline") and waiting[0].system_attrs["fixed_params"]["architecture"] == "unet"
    assert top_up_budget(study, cfg) == 0  # resumed: no second baseline, nothing more queued


def test_studies_with_the_same_seed_do_not_draw_the_same_points():
    def first_draws(name: str) -> list[float]:
        cfg = cfg_of(study={"name": name, "sampler": {"name": "random", "seed": 0}})
        study = optuna.create_study(sampler=build_sampler(cfg.study))
        return [study.ask().suggest_float("lr", 1e-5, 1e-1, log=True) for _ in range(3)]

    assert first_draws("a") == first_draws("a")  # reproducible for one study
    assert first_draws("a") != first_draws("b")
