"""final.threshold: the foreground threshold of binary and multilabel models, chosen on validation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import segsearch
from segsearch import api
from segsearch.final import choose_threshold, evaluate_model, finalize, splits_from_folder
from segsearch.final._threshold import CANDIDATES, MIN_GAIN, ThresholdSweep, pick_threshold

from helpers import tiny_config
from helpers_data import make_folder_dataset


def _iou_at(prob: np.ndarray, target: np.ndarray, t: float, keep: np.ndarray) -> float:
    pred = (prob > t) & keep
    truth = (target == 1) & keep
    return float((pred & truth).sum() / (pred | truth).sum())


def test_sweep_gives_the_iou_of_every_threshold_as_thresholding_would() -> None:
    rng = np.random.default_rng(0)
    target = (rng.random((6, 1, 24, 24)) < 0.1).astype(np.int64)  # 10 % foreground
    # an uncalibrated model: foreground pixels get lowish probabilities, background a spread below them
    prob = np.where(target == 1, rng.uniform(0.2, 0.9, target.shape), rng.uniform(0.0, 0.45, target.shape))
    prob = np.round(prob, 4) + 0.00005  # keep probabilities off the candidates' exact values
    target[0, 0, :2] = 255  # ignored pixels count nowhere
    sweep = ThresholdSweep(ignore_index=255)
    logits = torch.logit(torch.from_numpy(prob).float())
    for i in range(0, 6, 4):  # two batches, summed
        sweep.update(logits[i:i + 4], torch.from_numpy(target[i:i + 4, 0]))
    ious = sweep.compute()
    keep = target != 255
    assert list(ious) == CANDIDATES
    for t, v in ious.items():
        assert v == pytest.approx(_iou_at(prob, target, t, keep), abs=2e-3), t
    assert max(ious, key=lambda t: ious[t]) < 0.5  # this model's best cut is below 0.5


def test_multilabel_sweep_is_the_mean_over_channels_present() -> None:
    target = torch.zeros(2, 3, 8, 8, dtype=torch.long)
    target[:, 0, :4] = 1  # channel 0: top half; channel 1: nothing; channel 2: one column
    target[:, 2, :, 0] = 1
    prob = target.float() * 0.7 + 0.1  # 0.8 on the truth, 0.1 elsewhere: perfect for 0.1 < t < 0.8
    sweep = ThresholdSweep()
    sweep.update(torch.logit(prob), target)
    ious = sweep.compute([0.05, 0.5, 0.9])
    # channel 1 is absent from truth and (at 0.5 and 0.9) from prediction: left out, not counted as 1.0
    assert ious[0.5] == pytest.approx(1.0)
    assert ious[0.9] == 0.0  # nothing predicted where two channels have truth
    fp_all = 2 * 8 * 8
    assert ious[0.05] == pytest.approx((64 / fp_all + 0.0 + 16 / fp_all) / 3)  # everything predicted: 3 channels


def test_pick_keeps_the_training_threshold_unless_another_gains_enough() -> None:
    flat = {t: 0.60 for t in CANDIDATES}
    assert pick_threshold(flat, 0.5) == 0.5
    small = {**flat, 0.3: 0.60 + MIN_GAIN / 2}
    assert pick_threshold(small, 0.5) == 0.5  # a gain below MIN_GAIN is noise
    big = {**flat, 0.3: 0.65, 0.25: 0.65, 0.2: 0.649}
    assert pick_threshold(big, 0.5) == 0.3  # the near-best candidate nearest the training threshold
    assert pick_threshold({t: float("nan") for t in CANDIDATES}, 0.5) == 0.5


@pytest.fixture(scope="module")
def binary_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A binary study (0/1 masks, 32 px), one trial of one epoch, finalized for one epoch with
    ``final.threshold: auto``."""
    root = tmp_path_factory.mktemp("thr")
    make_folder_dataset(root / "data", n=16, size=32, n_classes=2)
    cfg = tiny_config(root, study={"name": "thr", "n_trials": 1},
                      data={"demo": None, "root": str(root / "data"), "mode": "binary", "classes": ["fg"]},
                      train={"epochs": 1}, search={"architecture": ["unet"]},
                      final={"epochs": 1, "augmentation": "none", "threshold": "auto"})
    api.launch(cfg, studies_dir=root / "studies", use_wandb=False, live=False)
    return finalize("thr", studies_dir=root / "studies", live=False)


def test_finalize_chooses_the_threshold_on_validation_and_predict_and_evaluate_follow_it(binary_model: Path) -> None:
    meta = json.loads((binary_model / "model.json").read_text())
    val = {float(t): v for t, v in meta["threshold_val"].items()}
    assert meta["train_threshold"] == 0.5 and set(CANDIDATES) <= set(val)
    assert meta["threshold"] == pick_threshold(val, 0.5)
    # evaluate uses the recorded threshold: its validation IoU is the sweep's at that threshold
    assert evaluate_model(binary_model, "val", write=False)["miou"] == pytest.approx(val[meta["threshold"]], abs=2e-3)
    model = segsearch.load_model(binary_model)
    image = np.random.default_rng(1).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    probs = model.predict(image)
    np.testing.assert_array_equal(model.predict_mask(image), (probs[0] > meta["threshold"]).astype(np.uint8))


def test_threshold_off_keeps_the_training_one_and_multiclass_models_are_left_alone(
        binary_model: Path, finalized: Path, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    shutil.copytree(binary_model, folder)
    splits = splits_from_folder(folder)
    assert choose_threshold(folder, splits, "off") == 0.5
    meta = json.loads((folder / "model.json").read_text())
    assert meta["threshold"] == 0.5 and "threshold_val" not in meta
    # auto again from there: the sweep starts from the training threshold, not from a previous choice
    assert choose_threshold(folder, splits, "auto") == json.loads((binary_model / "model.json").read_text())["threshold"]
    before = (finalized / "model.json").read_text()
    assert choose_threshold(finalized, splits_from_folder(finalized), "auto") is None
    assert (finalized / "model.json").read_text() == before
