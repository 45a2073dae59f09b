"""Every sampler and pruner the YAML names builds and drives a real Optuna study over a conditional space."""

import math

import optuna
import pytest

from segsearch.config import ParamSpec, StudyConfig
from segsearch.search import build_pruner, build_sampler, sample

SPACE = {
    "loss": ParamSpec(type="categorical", choices=["ce", "focal"],
                      children={"focal": {"gamma": ParamSpec(type="float", low=0.5, high=3.0)}}),
    "lr": ParamSpec(type="float", low=1e-4, high=1e-1, log=True),
    "batch_size": ParamSpec(type="int", low=4, high=16, step=4),
}


def curve(settings: dict, epoch: int) -> float:
    """A learning curve that peaks near lr=1e-2: a stand-in for training."""
    quality = 1.0 - abs(math.log10(settings["lr"]) + 2) / 3
    return quality * (1 - 0.5 ** epoch)


@pytest.mark.parametrize("sampler", ["tpe", "random", "gp", "cmaes", "qmc"])
@pytest.mark.parametrize("pruner", ["none", "median", "percentile", "asha", "hyperband", "wilcoxon"])
def test_sampler_and_pruner_run_a_study(sampler, pruner):
    cfg = StudyConfig(name="t", sampler={"name": sampler, "seed": 0}, pruner={"name": pruner})
    study = optuna.create_study(direction="maximize", sampler=build_sampler(cfg), pruner=build_pruner(cfg, epochs=4))
    for _ in range(6):
        trial = study.ask()
        settings = sample(trial, SPACE)
        state = optuna.trial.TrialState.COMPLETE
        for epoch in range(1, 5):
            trial.report(curve(settings, epoch), epoch)
            if trial.should_prune():
                state = optuna.trial.TrialState.PRUNED
                break
        study.tell(trial, curve(settings, epoch) if state == optuna.trial.TrialState.COMPLETE else None, state=state)
    assert len(study.trials) == 6 and all(t.state.is_finished() for t in study.trials)
    assert study.best_value > 0


def test_wrong_pruner_argument_names_the_valid_ones():
    cfg = StudyConfig(name="t", pruner={"name": "median", "args": {"n_startup": 3}})
    with pytest.raises(ValueError, match="n_startup_trials"):
        build_pruner(cfg, epochs=4)


def _draws_of_the_oversized(infeasible_as: str) -> int:
    """40 trials of the shipped TPE over architecture x lr, where 'manet' runs out of memory at every batch.
    How many times the sampler proposes 'manet' after its 10 random start-up trials."""
    from segsearch.search._objective import _infeasible

    space = {"architecture": ParamSpec(type="categorical", choices=["unet", "fpn", "manet", "linknet"]),
             "lr": ParamSpec(type="float", low=1e-4, high=1e-1, log=True)}
    study = optuna.create_study(direction="maximize", sampler=build_sampler(StudyConfig(name="oom")))
    drawn = 0
    for n in range(40):
        trial = study.ask()
        settings = sample(trial, space)
        if settings["architecture"] != "manet":
            study.tell(trial, curve(settings, 4) * (1.0 if settings["architecture"] == "unet" else 0.9))
            continue
        drawn += n >= 10
        if infeasible_as == "infeasible":  # what run_trial records for out of memory at the smallest batch
            study.tell(trial, state=_infeasible(trial, "oom", "out of memory at batch 2", {"memory": 1.0}).state)
        else:  # what it recorded before: a failed trial, which samplers do not see
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
    if infeasible_as == "infeasible":
        oom = [t for t in study.trials if t.params.get("architecture") == "manet"]
        assert oom and all(t.state == optuna.trial.TrialState.PRUNED and t.constraints == {"memory": 1.0}
                           and t.user_attrs["infeasible"] for t in oom)
    return drawn


def test_a_configuration_that_cannot_run_teaches_tpe_to_avoid_it():
    infeasible, failed = _draws_of_the_oversized("infeasible"), _draws_of_the_oversized("failed")
    assert infeasible < failed / 2, (infeasible, failed)


def _first_pruned_epoch(study: optuna.Study, values: list[float], planned: int | None) -> int | None:
    trial = study.ask()
    if planned is not None:  # what run_trial records for a trial whose schedule a budget re-planned
        trial.set_user_attr("epochs_fitted", planned)
    for epoch, v in enumerate(values, start=1):
        trial.report(v, epoch)
        if trial.should_prune():
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            return epoch
    study.tell(trial, max(values))
    return None


@pytest.mark.parametrize("pruner, args", [("asha", {"min_resource": 2, "reduction_factor": 2}),
                                          ("median", {"n_startup_trials": 2, "n_warmup_steps": 2}),
                                          # one bracket (max / min < reduction_factor): rungs at 2, 6, ...
                                          ("hyperband", {"min_resource": 2, "max_resource": 4, "reduction_factor": 3})])
def test_a_pruner_judges_a_longer_trial_at_the_same_point_of_its_schedule(pruner, args):
    # written for 4-epoch trials: first judged at epoch 2 (half the schedule); a trial planned for 8 at epoch 4
    cfg = StudyConfig(name="t", pruner={"name": pruner, "args": args})
    study = optuna.create_study(direction="maximize", pruner=build_pruner(cfg, epochs=4))
    for _ in range(3):
        assert _first_pruned_epoch(study, [0.9] * 8, planned=8) is None
    assert _first_pruned_epoch(study, [0.1] * 8, planned=8) == 4
    assert _first_pruned_epoch(study, [0.1] * 4, planned=None) == 2
    assert _first_pruned_epoch(study, [0.1] * 3, planned=3) == 2  # shorter: as written
