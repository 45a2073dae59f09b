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
    assert len(waiting) == 1  # the baseline; the rest of the budget is a count, not placeholder trials
    assert waiting[0].user_attrs.get("baseline") and waiting[0].system_attrs["fixed_params"]["architecture"] == "unet"
    assert study.user_attrs["trial_budget"] == 4
    assert top_up_budget(study, cfg) == 3  # resumed: no second baseline; the queued one counts
    assert len(study.get_trials()) == 1


def test_studies_with_the_same_seed_do_not_draw_the_same_points():
    def first_draws(name: str) -> list[float]:
        cfg = cfg_of(study={"name": name, "sampler": {"name": "random", "seed": 0}})
        study = optuna.create_study(sampler=build_sampler(cfg.study))
        return [study.ask().suggest_float("lr", 1e-5, 1e-1, log=True) for _ in range(3)]

    assert first_draws("a") == first_draws("a")  # reproducible for one study
    assert first_draws("a") != first_draws("b")


def test_the_budget_is_a_count_workers_spend_under_the_lock_not_placeholder_trials(tmp_path):
    from segsearch.search import budget_left, open_storage, open_study
    from segsearch.search._requeue import next_trial

    cfg = cfg_of(study={"n_trials": 3})
    opened = open_storage(cfg.study.name, None, tmp_path, cfg.study)  # the embedded SQLite file, as launch uses
    study = open_study(opened.storage, cfg)
    top_up_budget(study, cfg)
    assert [t.state.name for t in study.get_trials()] == ["WAITING"]  # only the baseline: the dashboard lists it
    assert budget_left(study) == 2
    claimed = []
    while (trial := next_trial(study, open_ended=False)) is not None:
        claimed.append(trial.number)
        assert not study.get_trials(states=(optuna.trial.TrialState.WAITING,))  # nothing but real trials
        study.tell(trial, 0.5)
    assert claimed == [0, 1, 2] and budget_left(study) == 0
    assert study.trials[0].user_attrs.get("baseline")
    cfg5 = cfg_of(study={"n_trials": 5})  # a resumed launch with a larger budget pays for two more
    assert top_up_budget(study, cfg5) == 2 and budget_left(study) == 2


def test_a_new_tpe_study_tries_the_shipped_portfolio_after_its_baseline_expressed_in_its_space():
    import json

    from segsearch.search._portfolio import PORTFOLIO

    shipped = json.loads(PORTFOLIO.read_text())["configs"]
    shipped_space = load_config("search_spaces/arch_loss.yaml")
    off = optuna.create_study(direction="maximize")
    top_up_budget(off, shipped_space)
    assert len(off.trials) == 1  # off by default: the baseline, then the sampler
    cfg = shipped_space.model_copy(update={"study": shipped_space.study.model_copy(update={"portfolio": "auto"})})
    study = optuna.create_study(direction="maximize")
    top_up_budget(study, cfg)
    queued = study.get_trials(states=(optuna.trial.TrialState.WAITING,))
    assert queued[0].user_attrs.get("baseline") and len(queued) == 1 + len(shipped)
    for t, entry in zip(queued[1:], shipped, strict=True):
        fixed = t.system_attrs["fixed_params"]
        assert t.user_attrs["portfolio"] is True
        assert (fixed["architecture"], fixed["encoder"], fixed["loss"]) == (
            entry["architecture"], entry["encoder"], entry["loss"])
        assert fixed["lr"] == pytest.approx(entry["lr"])
        for child, v in entry["loss_params"].items():  # its loss's own parameters, where the space searches them
            key = f"loss.{entry['loss']}.{child}"
            assert key not in fixed or fixed[key] == v or fixed[key] == pytest.approx(v)


def test_the_portfolio_drops_what_the_space_does_not_offer_and_clips_numbers_and_is_tpe_only():
    from segsearch.search._portfolio import portfolio_params

    narrow = cfg_of(study={"sampler": {"name": "tpe"}, "portfolio": "auto"}, search={
        "architecture": ["unet", "fpn"], "encoder": ["resnet18", "resnet34"],
        "loss": {"choices": {"ce": None, "wce": {"class_weights": ["auto"]}}},
        "lr": {"low": 5.0e-4, "high": 1.0e-2, "log": True}})
    got = portfolio_params(narrow)
    # manet is not offered (two entries dropped); fpn/resnet18/wce stays with its lr clipped up into the range
    assert got == [{"architecture": "fpn", "encoder": "resnet18", "loss": "wce", "loss.wce.class_weights": "auto",
                    "lr": 5.0e-4}]
    assert portfolio_params(cfg_of(search=narrow.model_dump()["search"])) == []  # the random sampler: none
    none = cfg_of(study={"sampler": {"name": "tpe"}, "portfolio": "none"}, search=narrow.model_dump()["search"])
    assert portfolio_params(none) == []
    small = optuna.create_study(direction="maximize")
    top_up_budget(small, cfg_of(study={"sampler": {"name": "tpe"}, "n_trials": 1, "portfolio": "auto"}))
    assert len(small.trials) == 1  # a budget of one trial: the baseline alone
