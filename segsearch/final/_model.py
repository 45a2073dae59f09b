"""Loading a model or ensemble folder as a ready module: normalisation inside, classes, colours, sizes,
and the flip test-time augmentation the folder records."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from .. import rundir
from ._folder import COMBINE

# --------------------------------------------------------------------------- loading


class SegModel(torch.nn.Module):
    """A trained network with what it needs to run: normalisation, classes, colours, sizes.

    ``forward`` takes float NCHW images in [0, 1] and returns logits (normalisation is inside, so
    the exported graphs take the same input).
    """

    mean: torch.Tensor  # buffers
    std: torch.Tensor

    def __init__(self, net: torch.nn.Module, meta: dict[str, Any], path: Path | None = None) -> None:
        super().__init__()
        self.net, self.meta, self.path = net, meta, path
        self.tta = bool(meta.get("tta", False))  # flip test-time augmentation, chosen on validation by finalize
        self.flips = tuple(meta.get("flips", ("horizontal", "vertical")))  # the flips it trained with (TTA's)
        pre = meta["preprocessing"]
        self.register_buffer("mean", torch.tensor(pre["mean"], dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(pre["std"], dtype=torch.float32).view(1, -1, 1, 1))

    @property
    def classes(self) -> list[str]:
        return list(self.meta["classes"])

    @property
    def colors(self) -> dict[str, list[int]]:
        return dict(self.meta["colors"])

    @property
    def mode(self) -> str:
        return self.meta["mode"]

    @property
    def preprocessing(self) -> dict[str, Any]:
        return dict(self.meta["preprocessing"])

    @property
    def image_size(self) -> tuple[int, int]:
        h, w = self.meta["image_size"]
        return int(h), int(w)

    @property
    def stride(self) -> int:
        return int(self.meta.get("stride", 32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.tta:
            return self.net((x - self.mean) / self.std)
        p = self.probabilities(x).clamp(1e-6, 1 - 1e-6)
        return p.log() if self.mode == "multiclass" else torch.logit(p)

    def single_pass(self, x: torch.Tensor) -> torch.Tensor:
        """Probabilities of one forward pass, without test-time augmentation."""
        logits = self.net((x - self.mean) / self.std)
        return logits.softmax(1) if self.mode == "multiclass" else logits.sigmoid()

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        from ._predict import with_flips

        return with_flips(self.single_pass, self.flips)(x) if self.tta else self.single_pass(x)

    def predict(self, image: np.ndarray, tile: int | tuple[int, int] | None = None, overlap: float = 0.5,
                tta: bool | None = None, batch_size: int = 8) -> np.ndarray:
        """Class probabilities (CxHxW float32) for an HxW(xC) image of any size, by sliding window;
        ``tta`` None: flip test-time augmentation as the model folder records (``model.json: tta``)."""
        from ._predict import predict_probabilities

        return predict_probabilities(self, image, tile=tile, overlap=overlap, tta=tta, batch_size=batch_size)

    def predict_mask(self, image: np.ndarray, **kwargs: Any) -> np.ndarray:
        from ._predict import to_mask

        return to_mask(self.predict(image, **kwargs), self.mode, self.meta.get("threshold", 0.5))


class Ensemble(SegModel):
    """Members' probabilities averaged (``mean``) or their labels majority-voted (``vote``).

    ``forward`` returns logits of the combined probabilities, so metrics and argmax work unchanged.
    """

    def __init__(self, members: Sequence[SegModel], meta: dict[str, Any], combine: str = "mean",
                 path: Path | None = None) -> None:
        if combine not in COMBINE:
            raise ValueError(f"unknown combine {combine!r}; valid: {', '.join(COMBINE)}")
        first = members[0].meta
        merged = {**first, **meta, "kind": "ensemble", "combine": combine}
        super().__init__(torch.nn.Identity(), {**merged, "tta": bool(meta.get("tta", False))}, path)
        self.members = torch.nn.ModuleList(members)
        self.combine = combine

    def single_pass(self, x: torch.Tensor) -> torch.Tensor:
        probs = [cast(SegModel, m).probabilities(x) for m in self.members]
        if self.combine == "mean":
            return torch.stack(probs).mean(0)
        if self.mode == "multiclass":
            n = probs[0].shape[1]
            votes = [torch.nn.functional.one_hot(p.argmax(1), n).permute(0, 3, 1, 2).float() for p in probs]
        else:
            thr = self.meta.get("threshold", 0.5)
            votes = [(p > thr).float() for p in probs]
        return torch.stack(votes).mean(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.probabilities(x).clamp(1e-6, 1 - 1e-6)
        return p.log() if self.mode == "multiclass" else torch.logit(p)


def load_model(path: str | Path, combine: str | None = None, device: str = "cpu", tta: bool | None = None
               ) -> SegModel:
    """A model folder (``model.json``) or an ensemble folder (``ensemble.json``) as a ready module (eval mode).

    ``tta``: flip test-time augmentation on or off; None keeps what the folder records (``tta``, chosen on
    validation by ``finalize``)."""
    path = Path(path)
    if (path / rundir.ENSEMBLE).is_file():
        doc = json.loads((path / rundir.ENSEMBLE).read_text())
        members = [_load_single(path / name, device, False) for name in doc["members"]]
        return Ensemble(members, {"members": doc["members"], "trials": doc.get("trials"), "trial": None,
                                  "tta": bool(tta)}, combine or doc.get("combine", "mean"), path).eval()
    if not (path / rundir.MODEL).is_file():
        raise FileNotFoundError(f"{path}: not a model folder (no model.json or ensemble.json); "
                                "write one with `segsearch finalize STUDY`")
    return _load_single(path, device, tta)


def _load_single(path: Path, device: str, tta: bool | None = None) -> SegModel:
    from ..components import build_model

    meta = json.loads((path / rundir.MODEL).read_text())
    n_out = len(meta["classes"])
    net = build_model(meta["architecture"], meta["encoder"], None, meta["encoder_depth"], meta["in_channels"],
                      n_out, meta.get("architecture_params", {}))
    net.load_state_dict(torch.load(path / rundir.WEIGHTS, map_location="cpu", weights_only=True))
    model = SegModel(net, meta, path)
    if tta is not None:
        model.tta = tta
    return model.to(device).eval()


