"""finalize: the same train() with fixed settings, test metrics, a self-describing folder, resume, seeds."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

import segsearch
from segsearch.final import finalize
from segsearch.training import EpochResult, Reporter, RunSpec, StopTraining

CLASSES = ["background", "field", "forest", "water", "road"]


def test_model_folder_describes_itself(finalized: Path) -> None:
    for name in ("model.pt", "model.json", "config.yaml", "splits.json", "metrics.json", "best.pt", "last.pt"):
        assert (finalized / name).is_file(), name
    meta = json.loads((finalized / "model.json").read_text())
    assert meta["classes"] == CLASSES and list(meta["colors"]) == CLASSES
    assert meta["encoder"] == "resnet18" and meta["architecture"] in ("unet", "fpn")
    assert meta["trial"] in (0, 1) and meta["seed"] == 0 and meta["image_size"] == [32, 32]
    assert len(meta["space_hash"]) >= 8 and len(meta["split_hash"]) == 16
    assert meta["versions"]["torch"] == version("torch")
    assert len(meta["preprocessing"]["mean"]) == 3
    doc = yaml.safe_load((finalized / "config.yaml").read_text())
    assert doc["data"]["augmentation"] == "full" and doc["data"]["mosaic"] == 0.5
    assert doc["train"]["epochs"] == 2 and doc["train"]["seed"] == 0
    splits = json.loads((finalized / "splits.json").read_text())
    assert splits["test"] and not {d["image"] for d in splits["test"]} & {d["image"] for d in splits["train"]}


def test_test_metrics(finalized: Path) -> None:
    m = json.loads((finalized / "metrics.json").read_text())
    assert m["split"] == "test" and m["n_images"] == len(json.loads((finalized / "splits.json").read_text())["test"])
    for block in (m, m["micro_imagewise"]):
        assert 0 <= block["miou"] <= 1 and 0 <= block["mdice"] <= 1
    assert m["metric"] == "mIoU (class mean)" and isinstance(m["collapsed"], bool)
    assert list(m["per_class"]) == CLASSES
    cm = np.array(m["confusion"]["matrix"])
    assert cm.shape == (5, 5) and cm.sum() == m["n_images"] * 32 * 32
    # the headline is the class mean of IoUs from the summed confusion matrix (absent classes left out)
    tp, fp, fn = np.diag(cm), cm.sum(0) - np.diag(cm), cm.sum(1) - np.diag(cm)
    present = (tp + fp + fn) > 0
    assert m["miou"] == pytest.approx(float(np.mean(tp[present] / (tp + fp + fn)[present])))
    iv = m["miou_interval"]  # over the test images; the split's own figure lies within it
    assert iv["level"] == 0.95 and iv["low"] <= m["miou"] <= iv["high"] and iv["low"] < iv["high"]
    assert set(m["hierarchy"]["land"]["groups"]) == {"vegetation", "water"}


def test_load_model_predicts_probabilities(finalized: Path) -> None:
    model = segsearch.load_model(finalized)
    assert model.classes == CLASSES and model.preprocessing["std"]
    image = np.random.default_rng(0).integers(0, 255, (40, 56, 3), dtype=np.uint8)
    probs = model.predict(image)
    assert probs.shape == (5, 40, 56)
    np.testing.assert_allclose(probs.sum(0), 1.0, atol=1e-4)
    assert model.predict_mask(image).shape == (40, 56)


class StopAfter(Reporter):
    """Interrupts training after the given epoch, like a Ctrl-C between epochs."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def epoch_end(self, result: EpochResult, is_best: bool) -> None:
        if result.epoch == self.epoch:
            raise StopTraining("interrupted")


class StartedAt(Reporter):
    def __init__(self) -> None:
        self.start: int | None = None
        self.epochs: list[int] = []

    def run_start(self, spec: RunSpec, n_params: int, start_epoch: int) -> None:
        self.start = start_epoch

    def epoch_end(self, result: EpochResult, is_best: bool) -> None:
        self.epochs.append(result.epoch)


def test_interrupted_finalize_resumes_at_the_right_epoch(study: tuple[str, Path], tmp_path: Path) -> None:
    name, studies = study
    out = tmp_path / "final"
    with pytest.raises(StopTraining):
        finalize(name, studies_dir=studies, out=out, reporters=[StopAfter(1)], live=False)
    assert torch.load(out / "last.pt", weights_only=False)["epoch"] == 1
    assert not (out / "model.json").exists()
    seen = StartedAt()
    finalize(name, studies_dir=studies, out=out, reporters=[seen], live=False)
    assert seen.start == 1 and seen.epochs == [2]
    assert json.loads((out / "training.json").read_text())["resumed_from"] == 1
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(ln)["epoch"] for ln in lines] == [1, 2]
    assert (out / "model.json").is_file()


def test_resuming_with_other_settings_is_refused(study: tuple[str, Path], ensemble: Path) -> None:
    name, studies = study
    with pytest.raises(ValueError, match="other settings"):
        finalize(name, studies_dir=studies, top_k=2, epochs=3, live=False)
    with pytest.raises(ValueError, match="already holds an ensemble"):
        finalize(name, studies_dir=studies, top_k=1, live=False)


def test_same_seed_gives_the_same_metrics(study: tuple[str, Path], tmp_path: Path) -> None:
    """Seed, split, initialisation, batch order, mosaic and the full augmentation are fixed by final.seed."""
    name, studies = study
    runs = [finalize(name, studies_dir=studies, out=tmp_path / d, epochs=1, augmentation="full", live=False)
            for d in ("a", "b")]
    a, b = (json.loads((r / "metrics.json").read_text()) for r in runs)
    assert a["miou"] == b["miou"] and a["confusion"] == b["confusion"]
    ma, mb = (json.loads((r / "model.json").read_text()) for r in runs)
    assert ma["split_hash"] == mb["split_hash"] and ma["seed"] == mb["seed"] == 0


def test_flip_tta_is_chosen_on_validation_and_followed_by_load_and_predict(finalized: Path, tmp_path: Path) -> None:
    import shutil

    from segsearch.final import choose_tta, evaluate_model, with_flips

    meta = json.loads((finalized / "model.json").read_text())
    scores = meta["tta_val"]  # finalize measured both on validation and kept flips only if they scored higher
    assert set(scores) == {"with", "without"} and meta["tta"] == (scores["with"] > scores["without"])
    assert evaluate_model(finalized, "val", write=False, tta=False)["miou"] == pytest.approx(scores["without"])
    assert evaluate_model(finalized, "val", write=False, tta=True)["miou"] == pytest.approx(scores["with"])

    folder = tmp_path / "model"
    shutil.copytree(finalized, folder)
    splits = segsearch.final.splits_from_folder(folder)
    for setting, expected in (("on", True), ("off", False)):
        assert choose_tta(folder, splits, setting) is expected
        assert json.loads((folder / "model.json").read_text())["tta"] is expected
        assert segsearch.load_model(folder).tta is expected

    choose_tta(folder, splits, "on")
    model, plain = segsearch.load_model(folder), segsearch.load_model(folder, tta=False)
    x = torch.rand(2, 3, 32, 32)
    with torch.inference_mode():
        flipped = (plain.single_pass(x) + plain.single_pass(x.flip(3)).flip(3) + plain.single_pass(x.flip(2)).flip(2)) / 3
        np.testing.assert_allclose(model.probabilities(x), flipped, atol=1e-5)
        np.testing.assert_allclose(with_flips(plain.single_pass)(x), flipped, atol=1e-5)
        assert (model(x).argmax(1) == flipped.argmax(1)).all()  # forward (used by evaluate) follows the flips
    image = np.random.default_rng(1).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    np.testing.assert_allclose(model.predict(image), plain.predict(image, tta=True), atol=1e-5)
    assert not np.allclose(model.predict(image), model.predict(image, tta=False), atol=1e-6)


def test_the_final_model_is_never_worse_on_validation_than_the_trial_it_copies(study, tmp_path):
    import optuna

    from segsearch import api

    name, studies = study
    copy = f"sqlite:///{tmp_path / 'copy.db'}"  # the shared study stays as it is for the other tests
    optuna.copy_study(from_study_name=name, from_storage=api.load_study(name, None, studies)._storage,
                      to_storage=copy)
    st = optuna.load_study(study_name=name, storage=copy)
    t = max((t for t in st.get_trials() if t.state == optuna.trial.TrialState.COMPLETE), key=lambda t: t.value)
    # the same trial (folder, weights, settings) reported as perfect on validation: no retrain can beat it
    st.add_trial(optuna.trial.create_trial(value=1.0, params=t.params, distributions=t.distributions,
                                           user_attrs=t.user_attrs, system_attrs=t.system_attrs))
    perfect = st.get_trials()[-1].number
    out = finalize(name, storage=copy, studies_dir=studies, trial=perfect, out=tmp_path / "final", epochs=1,
                   live=False)
    assert json.loads((out / "training.json").read_text())["kept_trial_weights"] is True
    kept = torch.load(out / "best.pt", weights_only=False)["model"]
    trial_best = torch.load(Path(t.user_attrs["run_dir"]) / "best.pt", weights_only=False)["model"]
    assert all(torch.equal(kept[k], trial_best[k]) for k in trial_best)


def test_flip_tta_uses_the_flips_the_model_trained_with(finalized: Path, tmp_path: Path) -> None:
    import shutil

    from segsearch.config import DataConfig
    from segsearch.data import flip_axes
    from segsearch.final import choose_tta

    meta = json.loads((finalized / "model.json").read_text())
    data = DataConfig(**yaml.safe_load((finalized / "config.yaml").read_text())["data"])
    assert meta["flips"] == list(flip_axes(data, segsearch.final.splits_from_folder(finalized).train))

    folder = tmp_path / "model"
    shutil.copytree(finalized, folder)
    splits = segsearch.final.splits_from_folder(folder)
    (folder / "model.json").write_text(json.dumps({**meta, "flips": ["horizontal"]}))
    choose_tta(folder, splits, "on")
    model, plain = segsearch.load_model(folder), segsearch.load_model(folder, tta=False)
    x = torch.rand(2, 3, 32, 32)
    with torch.inference_mode():
        np.testing.assert_allclose(model.probabilities(x), (plain.single_pass(x) + plain.single_pass(x.flip(3)).flip(3)) / 2,
                                   atol=1e-5)
    (folder / "model.json").write_text(json.dumps({**meta, "flips": []}))  # trained without flips: no flip TTA
    assert choose_tta(folder, splits, "on") is False and segsearch.load_model(folder).tta is False


def test_the_final_model_keeps_the_annealed_end_of_the_trial_it_copies(tmp_path):
    from segsearch import api
    from segsearch.final._stage import _trial_own

    from helpers import tiny_config

    cfg = tiny_config(tmp_path, study={"name": "keep", "n_trials": 1}, train={"epochs": 8, "lr": 1e-3})
    studies = tmp_path / "studies"
    api.launch(cfg, studies_dir=studies, use_wandb=False, live=False)
    t = api.load_study("keep", None, studies).trials[0]
    run_dir = Path(t.user_attrs["run_dir"])
    assert t.user_attrs["best_epoch"] < t.user_attrs["epochs_run"] == 8  # the trial peaked before its end
    out = finalize("keep", studies_dir=studies, budget="1s", out=tmp_path / "final", live=False)
    training = json.loads((out / "training.json").read_text())
    assert training["how"] == "trial_weights" and training["best_epoch"] == 8  # no time to train: its own weights
    kept = torch.load(out / "best.pt", weights_only=False)["model"]
    last = torch.load(run_dir / "last.pt", weights_only=False)["model"]
    assert all(torch.equal(kept[k], last[k]) for k in last)  # the cosine schedule's annealed end, not its peak
    best = _trial_own(t, "best", 1e-3)  # final.checkpoint: best keeps the best epoch on validation
    assert best.path == run_dir / "best.pt" and best.epoch == t.user_attrs["best_epoch"] and best.value == t.value


def test_a_trial_whose_best_weights_are_its_last_epoch_is_copied_without_loading_its_resume_checkpoint(tmp_path):
    import pickle

    import optuna

    from segsearch.final._stage import _trial_own

    run_dir = tmp_path / "trial"
    run_dir.mkdir()
    torch.save({"model": {"w": torch.ones(3)}, "epoch": 12}, run_dir / "best.pt")
    (run_dir / "last.pt").write_bytes(b"not a checkpoint: loading it would raise")
    t = optuna.trial.create_trial(value=0.5, user_attrs={"run_dir": str(run_dir), "best_epoch": 12,
                                                         "epochs_run": 12})
    own = _trial_own(t, "auto", 1e-3)
    assert (own.path, own.epoch, own.value) == (run_dir / "best.pt", 12, 0.5)
    own.write(tmp_path / "final.pt")
    assert (tmp_path / "final.pt").read_bytes() == (run_dir / "best.pt").read_bytes()
    with pytest.raises(pickle.UnpicklingError):  # the same trial ending past its best epoch reads last.pt
        _trial_own(optuna.trial.create_trial(value=0.5, user_attrs={**t.user_attrs, "epochs_run": 13}), "auto", 1e-3)
