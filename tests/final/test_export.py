"""TorchScript and ONNX exports match the PyTorch model on real images within the stated tolerance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
import torch

import segsearch
from segsearch.final import TOLERANCES, export_model, to_unit_tensor


@pytest.fixture(scope="module")
def exported(finalized: Path) -> dict[str, Any]:
    return export_model(finalized)


def test_exports_match_pytorch_on_test_images(finalized: Path, exported: dict[str, Any]) -> None:
    on_disk = json.loads((finalized / "export.json").read_text())
    assert on_disk == exported and exported["formats"].keys() == {"torchscript", "onnx"}
    for fmt, r in exported["formats"].items():
        assert r["passed"] and r["tolerance"] == TOLERANCES[fmt]
        assert r["max_abs_diff"] <= TOLERANCES[fmt] * r["max_abs_logit"]
        assert r["argmax_agreement"] == 1.0
    assert exported["check_inputs"][1][2:] == [64, 64]  # dynamic height and width were exercised


def test_exported_files_run_on_another_size(finalized: Path, exported: dict[str, Any]) -> None:
    model = segsearch.load_model(finalized)
    image = np.random.default_rng(1).integers(0, 255, (64, 96, 3), dtype=np.uint8)
    x = to_unit_tensor(image)
    with torch.inference_mode():
        ref = model(x).numpy()
        ts = torch.jit.load(str(finalized / "model.torchscript.pt"))(x).numpy()
    onnx = ort.InferenceSession(str(finalized / "model.onnx")).run(None, {"image": x.numpy()})[0]
    scale = max(1.0, float(np.abs(ref).max()))
    assert np.abs(ts - ref).max() <= TOLERANCES["torchscript"] * scale
    assert np.abs(onnx - ref).max() <= TOLERANCES["onnx"] * scale


def test_unknown_format_is_refused(finalized: Path) -> None:
    with pytest.raises(ValueError, match="valid: torchscript, onnx"):
        export_model(finalized, formats=["tflite"])
