"""Growing a running study's space: which changes are growth, which are refused and what they would orphan."""

from __future__ import annotations

import optuna
import pytest
import yaml
from optuna.trial import TrialState

from segsearch.config import load_config_text, space_fingerprint
from segsearch.search._grow import FilledView, classify, fits, orphans

from helpers import tiny_doc


def cfg_of(search: dict, train: dict | None = None):
    doc = tiny_doc(search=search, train=train or {})
    doc["search"] = search  # replace, not merge: a choice list may shrink
    return load_config_text(yaml.safe_dump(doc))


OLD = {"architecture": ["fpn", "unet"], "lr": {"low": 1e-4, "high": 1e-2, "log": True}}


def growth(new: dict, train: dict | None = None):
    return classify(space_fingerprint(cfg_of(OLD)), space_fingerprint(cfg_of(new, train)), cfg_of(new, train))


def test_adding_choices_widening_ranges_and_searching_a_fixed_setting_are_growth():
    g = growth({"architecture": ["fpn", "unet", "linknet"], "lr": {"low": 1e-5, "high": 1e-2, "log": True},
                "encoder": ["resnet18", "resnet34"]})  # tiny_doc fixes encoder: resnet18
    assert g.ok, g.refused
    text = "; ".join(g.added)
    assert "search.architecture: choice(s) ['linknet'] added" in text
    assert "search.lr.low: widened 0.0001 -> 1e-05" in text
    assert "search.encoder: now searched (earlier trials: 'resnet18')" in text
    # a new loss with its own conditional parameters is one added choice
    g = growth({**OLD, "loss": {"choices": {"ce": None, "focal": {"gamma": {"low": 0.5, "high": 4.0}}}}})
    assert g.ok, g.refused


@pytest.mark.parametrize("new, train, words", [
    ({"architecture": ["fpn"], "lr": OLD["lr"]}, None, ["search.architecture.choices", "['fpn', 'unet'] -> ['fpn']"]),
    ({**OLD, "lr": {"low": 1e-3, "high": 1e-2, "log": True}}, None, ["search.lr.low: 0.0001 -> 0.001"]),
    ({**OLD, "lr": {"low": 1e-4, "high": 1e-2, "log": False}}, None, ["search.lr.log: True -> False"]),
    ({"architecture": OLD["architecture"]}, None, ["search.lr: no longer searched"]),
    ({**OLD, "encoder": ["resnet34", "mobilenet_v2"]}, None, ["train.encoder: 'resnet18') is not in it"]),
    (OLD, {"epochs": 9}, ["train.epochs: 2 -> 9"]),
])
def test_any_other_change_is_refused_and_named(new, train, words):
    g = growth(new, train)
    assert not g.ok
    for w in words:
        assert w in "; ".join(g.refused), g.refused


def _study_with(params: list[dict]) -> optuna.Study:
    study = optuna.create_study(direction="maximize")
    dists = {"architecture": optuna.distributions.CategoricalDistribution(["fpn", "unet"]),
             "lr": optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True)}
    for i, p in enumerate(params):
        study.add_trial(optuna.trial.create_trial(params=p, distributions={k: dists[k] for k in p}, value=0.1 * i))
    return study


def test_orphans_are_the_finished_trials_a_narrower_space_cannot_express():
    study = _study_with([{"architecture": "fpn", "lr": 1e-3}, {"architecture": "unet", "lr": 5e-3},
                         {"architecture": "fpn", "lr": 2e-4}])
    narrower = cfg_of({"architecture": ["fpn"], "lr": {"low": 5e-4, "high": 1e-2, "log": True}})
    assert orphans(study.trials, narrower) == [1, 2]
    assert fits(study.trials[0], narrower) and all(fits(t, cfg_of(OLD)) for t in study.trials)


def test_the_sampler_sees_earlier_trials_with_a_newly_searched_setting_at_the_value_they_ran_with():
    study = _study_with([{"architecture": "fpn", "lr": 1e-3}, {"architecture": "unet", "lr": 5e-3}])
    grown = cfg_of({**OLD, "encoder": ["resnet18", "resnet34"]})
    t = study.ask({**study.trials[0].distributions,
                   "encoder": optuna.distributions.CategoricalDistribution(["resnet18", "resnet34"])})
    study.tell(t, 0.5)
    seen = FilledView(study, grown).get_trials(states=(TrialState.COMPLETE,))
    assert [s.params["encoder"] for s in seen[:2]] == ["resnet18", "resnet18"]  # tiny_doc's train.encoder
    assert seen[2].params == study.trials[2].params  # a trial of the new version is shown as it is
    assert "encoder" not in study.trials[0].params  # the storage is untouched
    # TPE samples from the view without error and with every trial in its model of encoder
    sampler = optuna.samplers.TPESampler(n_startup_trials=1, seed=0)
    value = sampler.sample_independent(FilledView(study, grown), study.trials[2], "encoder",
                                       optuna.distributions.CategoricalDistribution(["resnet18", "resnet34"]))
    assert value in ("resnet18", "resnet34")
