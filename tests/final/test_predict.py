"""predict: images larger than the training size, sliding windows without seams, TTA, files written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

import segsearch
from segsearch.cli import app
from segsearch.data import read_image
from segsearch.final import sliding_window, to_unit_tensor, whole_image, window_starts


@pytest.fixture(scope="module")
def big_image(finalized: Path) -> np.ndarray:
    """A real 90x125 scene stitched from 12 demo images (~11x the 32x32 training area)."""
    train = json.loads((finalized / "splits.json").read_text())["train"]
    tiles = [read_image(d["image"], 3) for d in train[:12]]
    rows = [np.concatenate(tiles[i * 4:(i + 1) * 4], 1) for i in range(3)]
    return np.ascontiguousarray(np.concatenate(rows, 0)[:90, :125])


def _seam_ratio(probs: torch.Tensor, xs: list[int], ys: list[int]) -> float:
    """Mean jump across the given columns/rows relative to the mean jump anywhere (1 = no seam)."""
    dx = (probs[:, :, 1:] - probs[:, :, :-1]).abs().mean((0, 1))
    dy = (probs[:, 1:, :] - probs[:, :-1, :]).abs().mean((0, 2))
    return max(float(dx[[x - 1 for x in xs]].mean() / dx.mean()), float(dy[[y - 1 for y in ys]].mean() / dy.mean()))


def test_large_image_gets_a_mask_of_its_size(finalized: Path, big_image: np.ndarray) -> None:
    model = segsearch.load_model(finalized)
    probs = model.predict(big_image, tta=True)
    assert probs.shape == (5, 90, 125)
    np.testing.assert_allclose(probs.sum(0), 1.0, atol=1e-4)
    assert model.predict_mask(big_image).shape == (90, 125)


def test_overlapping_windows_leave_no_seams(finalized: Path, big_image: np.ndarray) -> None:
    model = segsearch.load_model(finalized)
    x = to_unit_tensor(big_image)
    with torch.inference_mode():
        hard = sliding_window(model.probabilities, x, (32, 32), overlap=0.0, blend="mean")
        soft = sliding_window(model.probabilities, x, (32, 32), overlap=0.5)
        whole = whole_image(model.probabilities, x, model.stride)
    tile_edges = ([32, 64, 96], [32, 64])
    assert _seam_ratio(hard, *tile_edges) > 2.0  # the measure does see seams where there are some
    assert _seam_ratio(soft, *tile_edges) < 1.5
    own = [sorted({e for s in window_starts(n, 32, 0.5) for e in (s, s + 32)} - {0, n}) for n in (125, 90)]
    assert _seam_ratio(soft, own[0], own[1]) < 1.5
    # where both fit, blended windows agree with one pass over the whole image at least as well as hard tiles
    soft_err, hard_err = (float((p - whole).abs().mean()) for p in (soft, hard))
    assert soft_err <= hard_err + 1e-6
    assert float((soft.argmax(0) == whole.argmax(0)).float().mean()) >= 0.9


def test_predict_cli_writes_masks_and_overlays(finalized: Path, big_image: np.ndarray, tmp_path: Path) -> None:
    src = tmp_path / "in" / "sub"
    src.mkdir(parents=True)
    Image.fromarray(big_image).save(src / "scene.png")
    Image.fromarray(big_image[:20, :24]).save(tmp_path / "in" / "small.jpg")  # smaller than a window
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["predict", str(finalized), str(tmp_path / "in"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    mask = Image.open(out / "sub" / "scene_mask.png")
    assert mask.mode == "P" and mask.size == (125, 90)
    assert np.asarray(mask).max() < 5
    assert Image.open(out / "sub" / "scene_overlay.png").size == (125, 90)
    assert Image.open(out / "small_mask.png").size == (24, 20)


def test_a_model_trained_on_resized_images_predicts_at_its_training_scale(finalized: Path) -> None:
    """Training resized whole images to 32 px (``data.crop: false``), so predict resizes an image of any size
    the same way and resizes the probabilities back: the same scene at 3x the resolution gets the same
    segmentation. (Windows of the training size at native resolution, the default before, showed the model
    objects 3x larger than any it was trained on.)"""
    model = segsearch.load_model(finalized)
    assert model.meta["inference"] == "resize"
    val = json.loads((finalized / "splits.json").read_text())["val"]
    agree = []
    for d in val:
        small = read_image(d["image"], 3)
        big = np.kron(small, np.ones((3, 3, 1), np.uint8))  # the scene at 3x the resolution
        x = to_unit_tensor(big)
        with torch.inference_mode():  # what the model sees: the image as training resized it
            seen = torch.nn.functional.interpolate(x, size=(32, 32), mode="bilinear", antialias=True)
            expected = torch.nn.functional.interpolate(model.probabilities(seen), size=(96, 96), mode="bilinear")[0]
        np.testing.assert_allclose(model.predict(big), expected.numpy(),
                                   atol=1e-5)
        assert model.predict_mask(big, tile=32).shape == (96, 96)  # sliding windows on request
        agree.append(float((model.predict_mask(big)[1::3, 1::3] == model.predict_mask(small)).mean()))
    assert float(np.mean(agree)) >= 0.9, agree


def test_model_commands_run_on_the_device_asked_and_refuse_one_not_valid_or_not_here(finalized: Path,
                                                                                      tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["evaluate", str(finalized), "--split", "val", "--device", "gpu"])
    assert bad.exit_code == 2 and "--device gpu" in bad.output and "auto, cpu, cuda, cuda:N, mps" in bad.output
    if not torch.cuda.is_available():
        missing = runner.invoke(app, ["predict", str(finalized), str(finalized), "--out", str(tmp_path / "out"),
                                      "--device", "cuda"])
        assert missing.exit_code == 2 and "CUDA is not available" in missing.output
        assert not (tmp_path / "out").exists()  # refused before anything is written
    ok = runner.invoke(app, ["evaluate", str(finalized), "--split", "val", "--device", "cpu", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["split"] == "val"
