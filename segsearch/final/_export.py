"""Export a model folder to TorchScript and ONNX, each checked against the PyTorch model on real images.

The exported graphs take what ``SegModel.forward`` takes (float32 NCHW in [0, 1], normalisation
inside) and return logits; batch, height and width are dynamic. A format passes when, on every
check input, ``max |exported - pytorch| <= tolerance * max(1, max |pytorch|)`` (logits).
The measured differences go to ``<folder>/export.json``.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import rundir
from ..errors import ExportMismatch

log = logging.getLogger(__name__)

FORMATS = ("torchscript", "onnx")
TOLERANCES = {"torchscript": 1e-5, "onnx": 1e-4}
FILES = {"torchscript": "model.torchscript.pt", "onnx": "model.onnx"}
OPSET = 17




def export_model(path: str | Path, formats: Sequence[str] = FORMATS, images: Sequence[str | Path] | None = None,
                 n_images: int = 4) -> dict[str, Any]:
    """Export a model folder (or each member of an ensemble folder) and verify it; returns export.json's content."""
    path = Path(path)
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ValueError(f"unknown export format(s) {bad or formats}; valid: {', '.join(FORMATS)}")
    if (path / rundir.ENSEMBLE).is_file():
        members = json.loads((path / rundir.ENSEMBLE).read_text())["members"]
        doc: dict[str, Any] = {"members": {m: export_model(path / m, formats, images, n_images) for m in members}}
        (path / rundir.EXPORT).write_text(json.dumps(doc, indent=2))
        return doc
    from ._model import load_model

    model = load_model(path, tta=False)  # the network's own pass; flip TTA is the caller's to apply
    flips = " and ".join(f"its {a} flip" for a in model.flips)
    inputs = check_inputs(model, path, images, n_images)
    with torch.inference_mode():
        reference = [model(x).numpy() for x in inputs]
    doc = {
        "input": {"name": "image", "dtype": "float32", "layout": "NCHW", "range": [0, 1],
                  "dynamic": ["batch", "height", "width"], "multiple_of": model.stride},
        "output": {"name": "logits", "layout": "NKHW"},
        "mask": "argmax over K" if model.mode == "multiclass"
                else f"sigmoid(logits) > {model.meta.get('threshold', 0.5)}",
        "tta": f"flips: average the probabilities of the image and {flips}"
               if json.loads((path / rundir.MODEL).read_text()).get("tta") and model.flips else None,
        "rule": "max |exported - pytorch| <= tolerance * max(1, max |pytorch|)",
        "check_inputs": [list(x.shape) for x in inputs],
        "formats": {},
    }
    for fmt in formats:
        file = path / FILES[fmt]
        _EXPORT[fmt](model, inputs[0], file)
        outputs = _RUN[fmt](file, inputs)
        doc["formats"][fmt] = {"file": file.name, **compare(reference, outputs, TOLERANCES[fmt])}
    (path / rundir.EXPORT).write_text(json.dumps(doc, indent=2))
    failed = [f for f, r in doc["formats"].items() if not r["passed"]]
    if failed:
        raise ExportMismatch(f"{path}: {', '.join(failed)} output differs from PyTorch beyond tolerance; "
                             f"see {path / 'export.json'}")
    for r in doc["formats"].values():
        log.info("exported %s: max abs diff %.2e (tolerance %.0e)", r["file"], r["max_abs_diff"], r["tolerance"])
    return doc


def check_inputs(model: Any, path: Path, images: Sequence[str | Path] | None, n: int) -> list[torch.Tensor]:
    """A batch of real images at the training size, and one of them at twice that size (dynamic shapes)."""
    import cv2

    from ..data import read_image
    from ._predict import to_unit_tensor

    files = [Path(p) for p in images] if images else _split_images(path, n)
    if not files:
        raise FileNotFoundError(f"{path}: no images to check the export on; pass images=[...] (--image)")
    h, w = model.image_size
    arrays = [read_image(f, model.meta["in_channels"], model.meta.get("bands")) for f in files[:n]]
    batch = torch.cat([to_unit_tensor(_resize(a, h, w, cv2)) for a in arrays])
    large = to_unit_tensor(_resize(arrays[0], 2 * h, 2 * w, cv2))
    return [batch, large]


def _resize(a: np.ndarray, h: int, w: int, cv2: Any) -> np.ndarray:
    out = cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR) if a.shape[:2] != (h, w) else a
    return out[:, :, None] if out.ndim == 2 else out


def _split_images(path: Path, n: int) -> list[Path]:
    splits = json.loads((path / rundir.SPLITS).read_text()) if (path / rundir.SPLITS).is_file() else {}
    docs = (splits.get("test") or []) + (splits.get("val") or [])
    return [Path(d["image"]) for d in docs if Path(d["image"]).is_file()][:n]


def compare(reference: Sequence[np.ndarray], outputs: Sequence[np.ndarray], tolerance: float) -> dict[str, Any]:
    diffs = [float(np.abs(o - r).max()) for r, o in zip(reference, outputs, strict=True)]
    scales = [max(1.0, float(np.abs(r).max())) for r in reference]
    agree = [float((o.argmax(1) == r.argmax(1)).mean()) for r, o in zip(reference, outputs, strict=True)]
    return {"max_abs_diff": max(diffs), "max_abs_diff_per_input": diffs, "max_abs_logit": max(scales),
            "tolerance": tolerance, "argmax_agreement": min(agree),
            "passed": all(d <= tolerance * s for d, s in zip(diffs, scales, strict=True))}


def _export_torchscript(model: torch.nn.Module, example: torch.Tensor, file: Path) -> None:
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about shape checks in smp's forward
        traced = torch.jit.trace(model, example, check_trace=False)
    traced.save(str(file))


def _run_torchscript(file: Path, inputs: Sequence[torch.Tensor]) -> list[np.ndarray]:
    loaded = torch.jit.load(str(file), map_location="cpu").eval()
    with torch.inference_mode():
        return [loaded(x).numpy() for x in inputs]


def _export_onnx(model: torch.nn.Module, example: torch.Tensor, file: Path) -> None:
    axes = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example,), str(file), dynamo=False, opset_version=OPSET, input_names=["image"],
                          output_names=["logits"], dynamic_axes={"image": axes, "logits": axes})


def _run_onnx(file: Path, inputs: Sequence[torch.Tensor]) -> list[np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(file), providers=["CPUExecutionProvider"])
    return [session.run(["logits"], {"image": x.numpy()})[0] for x in inputs]


_EXPORT = {"torchscript": _export_torchscript, "onnx": _export_onnx}
_RUN = {"torchscript": _run_torchscript, "onnx": _run_onnx}

__all__ = ["FILES", "FORMATS", "TOLERANCES", "ExportMismatch", "check_inputs", "compare", "export_model"]
