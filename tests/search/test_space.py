"""Conditional sampling with a real Optuna study, and grid expansion."""

import optuna

from segsearch.config import ParamSpec
from segsearch.search import grid_points, params_to_settings, sample

SPACE = {
    "architecture": ParamSpec(type="categorical", choices=["unet", "fpn"]),
    "loss": ParamSpec(
        type="categorical",
        choices=["ce", "focal", "ce+dice"],
        children={
            "focal": {"gamma": ParamSpec(type="float", low=0.5, high=3.0)},
            "ce+dice": {"weight": ParamSpec(type="float", low=0.1, high=0.9, step=0.4)},
        },
    ),
    "batch_size": ParamSpec(type="int", low=4, high=16, step=4),
    "lr": ParamSpec(type="float", low=1e-4, high=1e-1, log=True),
}


def test_children_are_sampled_only_with_their_choice():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    seen = set()
    for _ in range(40):
        trial = study.ask()
        settings = sample(trial, SPACE)
        study.tell(trial, 0.0)
        seen.add(settings["loss"])
        if settings["loss"] == "focal":
            assert set(trial.params) == {"architecture", "loss", "loss.focal.gamma", "batch_size", "lr"}
            assert 0.5 <= settings["loss_params"]["gamma"] <= 3.0
        elif settings["loss"] == "ce+dice":
            assert "loss.ce+dice.weight" in trial.params and "loss.focal.gamma" not in trial.params
        else:
            assert "loss_params" not in settings and not any(k.startswith("loss.") for k in trial.params)
        assert settings["batch_size"] in (4, 8, 12, 16)
        assert 1e-4 <= settings["lr"] <= 1e-1
    assert seen == {"ce", "focal", "ce+dice"}


def test_params_round_trip_to_settings():
    settings = params_to_settings({"loss": "focal", "loss.focal.gamma": 2.0, "lr": 0.01})
    assert settings == {"loss": "focal", "loss_params": {"gamma": 2.0}, "lr": 0.01}


def test_grid_expands_conditional_children():
    space = {k: v for k, v in SPACE.items() if k in ("architecture", "loss")}
    space["loss"] = ParamSpec(type="categorical", choices=["ce", "ce+dice"],
                              children={"ce+dice": {"weight": ParamSpec(type="float", low=0.1, high=0.9, step=0.4)}})
    points = grid_points(space)
    # 2 architectures x (ce + 3 weights of ce+dice)
    assert len(points) == 2 * (1 + 3)
    assert {"architecture": "fpn", "loss": "ce+dice", "loss.ce+dice.weight": 0.5} in points
    assert len({tuple(sorted(p.items())) for p in points}) == len(points)
