"""Warm start: the data distance, and the portfolio when no past study exists (real Optuna, no training)."""

from __future__ import annotations

import optuna
import yaml

from segsearch.config import load_config_text
from segsearch.search._portfolio import portfolio_params
from segsearch.search._warm import distance, warm_start

from helpers import tiny_doc

MRI = {"mode": "multiclass", "classes": 9, "in_channels": 3, "image_size": [96, 96], "train_images": 136,
       "largest_class_share": 0.71}


def test_distance_is_zero_for_the_same_data_and_grows_with_each_difference():
    assert distance(MRI, MRI) == 0
    binary = {**MRI, "mode": "binary", "classes": 1}
    bigger = {**MRI, "image_size": [192, 192]}
    imbalanced = {**MRI, "largest_class_share": 0.98}
    assert distance(MRI, binary) > distance(MRI, bigger) > 0 and distance(MRI, imbalanced) > 0
    assert distance(MRI, binary) == distance(binary, MRI)  # symmetric
    assert distance(MRI, {k: v for k, v in MRI.items() if k != "largest_class_share"}) == 0  # unknown: not counted


def test_auto_with_no_past_study_queues_the_shipped_portfolio_after_the_baseline():
    doc = tiny_doc(search={"architecture": ["unet", "fpn", "manet"], "encoder": ["resnet18", "resnet34"],
                           "loss": ["ce", "dice", "ce+dice", "wce"], "lr": {"low": 1e-4, "high": 1e-2, "log": True}})
    doc["study"]["sampler"] = {"name": "tpe"}
    cfg = load_config_text(yaml.safe_dump(doc))
    study = optuna.create_study(direction="maximize")
    queued = warm_start(study, cfg, "auto", {}, MRI, room=5)
    want = portfolio_params(cfg, force=True)
    assert queued == len(want) > 0
    waiting = study.get_trials()
    assert [t.system_attrs["fixed_params"] for t in waiting] == want
    assert all(t.user_attrs["portfolio"] for t in waiting)
    assert warm_start(optuna.create_study(), cfg, "auto", {}, MRI, room=1) == 1  # the budget's room caps it
