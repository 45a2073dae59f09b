"""Multi-objective studies: the YAML forms, the Pareto front, pruning on accuracy against cheaper trials, and
``finalize --pick`` rules. Real Optuna studies in memory; no training here (test_launch.py runs one)."""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from segsearch.config import ConfigError, load_config_text, space_hash
from segsearch.final._pick import apply_rule, parse_rule
from segsearch.search import build_pruner, build_sampler, pareto_front
from segsearch.search._multi import report, should_prune

BASE = """
study: {name: mo, STUDY}
data: {demo: {n_images: 8, size: 32}, classes: [a, b]}
search: {lr: {low: 1.0e-4, high: 1.0e-2, log: true}}
"""


def cfg_of(study: str = ""):
    return load_config_text(BASE.replace(", STUDY", ", " + study if study else ""))


def test_objective_list_becomes_accuracy_plus_costs_to_minimize():
    cfg = cfg_of("objective: [miou, latency_ms, peak_memory_mb], direction: [maximize, minimize, minimize]")
    s = cfg.study
    assert (s.objective, s.direction, s.minimize) == ("miou", "maximize", ["latency_ms", "peak_memory_mb"])
    assert s.objectives == ["miou", "latency_ms", "peak_memory_mb"] and s.multi_objective
    assert s.directions == ["maximize", "minimize", "minimize"]
    # the same study written with minimize, and a single direction (costs are minimized anyway)
    assert cfg_of("minimize: [latency_ms, peak_memory_mb]").study == s
    assert cfg_of("objective: [miou, latency_ms, peak_memory_mb]").study == s
    # the stored form reloads to the same study
    assert type(cfg).model_validate(cfg.model_dump()).study == s


def test_a_single_objective_study_hashes_as_before_the_key_existed():
    plain, explicit = cfg_of(), cfg_of("minimize: []")
    assert space_hash(plain) == space_hash(explicit)
    assert space_hash(cfg_of("minimize: [latency_ms]")) != space_hash(plain)  # another study: resuming is refused


@pytest.mark.parametrize("study, words", [
    ("objective: [latency_ms, miou]", ["first objective must be the accuracy one", "latency_ms"]),
    ("objective: [miou, speed]", ["unknown cost objective", "speed", "latency_ms, peak_memory_mb, params_m, flops_g"]),
    ("objective: [miou, latency_ms], direction: [maximize]", ["1 direction(s) for 2 objectives"]),
    ("objective: [miou, latency_ms], direction: [maximize, maximize]", ["cost objectives are minimized",
                                                                        "latency_ms: maximize"]),
    ("objective: [miou, latency_ms, latency_ms]", ["named twice"]),
    ("objective: [miou, latency_ms], minimize: [params_m]", ["not both"]),
    ("objective: [miou, latency_ms], sampler: {name: cmaes}", ["cmaes cannot search a multi-objective", "nsga2"]),
    ("objective: [miou, latency_ms], pruner: {name: hyperband}", ["hyperband cannot prune", "asha"]),
])
def test_bad_objective_lists_name_the_value_and_the_choices(study, words):
    with pytest.raises(ConfigError) as err:
        cfg_of(study)
    for w in words:
        assert w in str(err.value), str(err.value)


def test_pareto_front_keeps_exactly_the_undominated_points():
    # (number, accuracy, (latency, memory))
    pts = [(0, 0.9, (50.0, 100.0)), (1, 0.8, (20.0, 100.0)), (2, 0.7, (30.0, 100.0)),  # 2: 1 beats it on both
           (3, 0.9, (60.0, 100.0)),  # 3: as accurate as 0, slower
           (4, 0.5, (10.0, 300.0)),  # 4: the fastest, more memory: on the front
           (5, 0.9, (50.0, 100.0))]  # 5: equal to 0 on everything: neither dominates
    assert pareto_front(pts) == {0, 1, 4, 5}
    assert pareto_front([(0, 0.2, (1.0,)), (1, 0.1, (2.0,))], maximize=False) == {0, 1}  # minimized accuracy: a trade


def _mo_study(pruner: str = "median", args: dict | None = None) -> optuna.Study:
    cfg = cfg_of(f"objective: [miou, latency_ms], pruner: {{name: {pruner}, args: {args or {}}}}".replace("'", ""))
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=build_sampler(cfg.study),
                                pruner=build_pruner(cfg.study, 5))
    study.set_metric_names(["val mIoU", "latency_ms"])
    return study


def _run(study: optuna.Study, curve: list[float], latency: float, pareto: bool = True) -> optuna.trial.FrozenTrial:
    trial = study.ask({"lr": optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True)})
    trial.set_user_attr("latency_ms", latency)
    for step, v in enumerate(curve, start=1):
        report(trial, v, step)
        if should_prune(trial, pareto=pareto):
            study.tell(trial, state=TrialState.PRUNED)
            return study.trials[-1]
    study.tell(trial, [max(curve), latency])
    return study.trials[-1]


@pytest.mark.parametrize("pruner, args", [("median", {"n_startup_trials": 2, "n_warmup_steps": 0}),
                                          ("asha", {"min_resource": 1, "reduction_factor": 2}),
                                          ("wilcoxon", {"p_threshold": 0.5})])
def test_multi_objective_trials_report_and_prune_on_accuracy_against_trials_as_cheap(pruner, args):
    study = _mo_study(pruner, args)
    for _ in range(2):  # two expensive, accurate trials
        assert _run(study, [0.6, 0.7, 0.8], 100.0).state == TrialState.COMPLETE
    slow_learner = [0.1, 0.2, 0.3]
    # an expensive trial that learns slowly is behind trials that cost as much: pruned, with its curve kept
    costly = _run(study, slow_learner, 150.0)
    assert costly.state == TrialState.PRUNED and costly.intermediate_values[1] == 0.1
    # the same curve on a model 10x cheaper: no trial as cheap has done better, so it may be the front's cheap end
    cheap = _run(study, slow_learner, 10.0)
    assert cheap.state == TrialState.COMPLETE and cheap.values == [0.3, 10.0]
    assert cheap.number in {t.number for t in study.best_trials}  # Optuna's own front agrees
    # against every trial (a single-objective pruner's view) the cheap one would have been pruned
    assert _run(study, slow_learner, 10.0, pareto=False).state == TrialState.PRUNED


def test_tpe_keeps_sampling_a_multi_objective_study_with_pruned_trials():
    # Optuna's TPE ranks pruned trials by study.direction, which a multi-objective study cannot answer: the
    # sampler segsearch builds for it answers with the accuracy's direction
    cfg = cfg_of("objective: [miou, latency_ms], sampler: {name: tpe, args: {n_startup_trials: 2}}")
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=build_sampler(cfg.study))
    dist = {"lr": optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True)}
    for i in range(8):
        t = study.ask(dist)
        report(t, 0.1 * (i % 3), 1)
        if i % 2:
            study.tell(t, state=TrialState.PRUNED)
        else:
            study.tell(t, [0.1 * (i % 3), 10.0 * i])
    assert len(study.trials) == 8 and all(t.state != TrialState.FAIL for t in study.trials)


@pytest.mark.parametrize("text, words", [
    ("best miou", ["must start with max or min"]),
    ("max latency", ["unknown metric 'latency'", "did you mean 'latency_ms'"]),
    ("max miou where latency_ms is small", ["cannot read the condition 'latency_ms is small'"]),
])
def test_bad_pick_rules_say_what_is_wrong_and_the_form(text, words):
    with pytest.raises(ConfigError) as err:
        parse_rule(text)
    for w in words:
        assert w in str(err.value)


def test_pick_rules_choose_from_accuracy_and_costs():
    study = _mo_study("none")
    for acc, lat in ((0.9, 50.0), (0.8, 20.0), (0.95, 120.0), (0.7, 5.0)):
        _run(study, [acc], lat)
    done = study.get_trials(states=(TrialState.COMPLETE,))
    for rule, want in (("max miou where latency_ms <= 60", 0), ("max miou", 2), ("min latency_ms", 3),
                       ("min latency_ms where miou >= 0.8", 1), ("max value where latency_ms < 50", 1)):
        assert apply_rule(parse_rule(rule), done, "miou", True)[0].number == want, rule
    with pytest.raises(ConfigError, match="no complete trial meets it"):
        apply_rule(parse_rule("max miou where latency_ms <= 1"), done, "miou", True)
