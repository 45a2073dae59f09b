"""From a dataset's fingerprint (and a budget) to the settings of a search fitted to it."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..data import Fingerprint

log = logging.getLogger(__name__)

# the shipped space's choices (search_spaces/arch_loss.yaml; why: bench/LATEST.md, 'Collapse from scratch')
ARCHITECTURES = ["unet", "unetplusplus", "manet", "linknet", "fpn", "pan", "deeplabv3plus", "upernet", "segformer"]
ENCODERS = ["resnet18", "resnet34"]
MIN_SIZE, MAX_SIZE = 64, 512
SEARCH_EPOCHS = 12  # train.epochs: a trial's schedule without a budget (a budget scales it)
STARTUP_SECONDS = 30.0  # imports, data scan and the budget's own timing, before the first trial
# binary masks whose foreground is rarer than this leave plain CE out of the losses: from scratch on mri_struct
# (1.6% foreground) every 12-epoch CE run on record predicted background everywhere (bench/LATEST.md, 'Pruner and
# sampler'); at 24 epochs one of two recovered ('Pruning longer trials')
RARE_FOREGROUND = 0.05


@dataclass
class Plan:
    name: str
    fingerprint: Fingerprint
    image_size: int
    classes: list[str]
    mode: str
    in_channels: int
    imbalanced: bool
    architectures: list[str]
    n_trials: int
    budget: str | None = None
    epoch_seconds: float | None = None  # measured: one baseline epoch at image_size on this machine
    notes: list[str] = field(default_factory=list)
    losses_left_out: list[str] = field(default_factory=list)


def study_name(folder: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", folder).strip("._-") or "dataset"
    return name if name[0].isalnum() else f"d{name}"[:100]


def choose(fp: Fingerprint, name: str, budget: str | None = None) -> Plan:
    """The plan's settings; with a budget, the image size and trial count are calibrated by timing the
    baseline's training steps on this machine (imports torch)."""
    classes = [c.name for c in fp.classes]
    if fp.mode == "binary":
        classes = [c for c in classes if c != "background"] or ["foreground"]
    shares = {c.name: c.pixel_share for c in fp.classes}
    rarest = min(shares.values()) if shares else 1.0
    imbalanced = max(shares.values(), default=0) > 0.8 or rarest < 0.05
    channels = max((int(c) for c in fp.channels), default=3)
    in_channels = 3 if channels in (1, 3, 4) else channels  # grey is repeated, alpha dropped (see README: Data)
    size = _round_size(fp.median_side)
    plan = Plan(name, fp, size, classes, fp.mode, in_channels, imbalanced, _architectures(size), 40, budget)
    if size < fp.median_side:
        plan.notes.append(f"images are resized to {size} px (median shorter side {fp.median_side} px)")
    foreground = sum(v for k, v in shares.items() if k != "background")
    if fp.mode == "binary" and foreground < RARE_FOREGROUND:
        plan.losses_left_out.append("ce")
        plan.notes.append(f"plain CE is left out of the losses: the foreground is {foreground:.1%} of the pixels, "
                          "and from scratch on such masks CE learned to predict background everywhere")
    if budget is not None:
        _fit_budget(plan)
    return plan


def _round_size(side: int) -> int:
    return max(MIN_SIZE, min(MAX_SIZE, side // 32 * 32))


def _architectures(size: int) -> list[str]:
    # pan's pyramid pooling needs 128 px or more (a trial would end infeasible, reason 'incompatible')
    return [a for a in ARCHITECTURES if a != "pan" or size >= 128]


_SEARCH_TRIALS = 4  # halve the image size while the search pays for fewer full trials (measured: bench/LATEST.md)


def _fit_budget(plan: Plan) -> None:
    """Halve the image size until the budget pays for a search of ``_SEARCH_TRIALS`` full trials and the final model,
    then size the trial count to what the budget can start (the pruner stops most of them early)."""
    from ..config import parse_duration

    seconds = parse_duration(plan.budget or "0")
    while True:
        per_epoch = _epoch_seconds(plan)
        search_epochs = max(0.0, seconds - STARTUP_SECONDS) * 0.75 / per_epoch
        if search_epochs >= _SEARCH_TRIALS * SEARCH_EPOCHS or plan.image_size <= MIN_SIZE:
            break
        smaller = _round_size(plan.image_size // 2)
        plan.notes.append(f"{plan.budget} pays for {search_epochs:.0f} search epochs at {plan.image_size} px "
                          f"({per_epoch:.1f} s each): images resized to {smaller} px")
        plan.image_size = smaller
        plan.architectures = _architectures(smaller)
    plan.epoch_seconds = round(per_epoch, 2)
    # trials planned at a third of the search each; a pruned trial costs about its first rung (6 epochs)
    plan.n_trials = int(min(60, max(8, search_epochs / 6)))
    from ..search._budget import SEARCH_ROOM

    if search_epochs < SEARCH_ROOM * SEARCH_EPOCHS:
        plan.notes.append(f"{plan.budget} pays for only {search_epochs:.0f} epochs of search at {plan.image_size} px "
                          f"(a search needs {SEARCH_ROOM} x {SEARCH_EPOCHS}): launch will train the baseline alone "
                          "(no room to search)")


def _epoch_seconds(plan: Plan) -> float:
    from ..config import DataConfig, TrainConfig
    from ..training import epoch_seconds

    fp = plan.fingerprint
    data = DataConfig.model_validate({"root": fp.root, "classes": plan.classes, "mode": plan.mode,
                                      "image_size": plan.image_size, "in_channels": plan.in_channels})
    n_train = int(fp.n_pairs * 0.7)
    tcfg = TrainConfig.model_validate({"architecture": "unet", "encoder": "resnet34", "encoder_weights": None,
                                       "batch_size": 8, "loss": "ce+dice"})
    return epoch_seconds(tcfg, data, n_train, max(1, fp.n_pairs - n_train))


def settings(plan: Plan) -> dict[str, Any]:
    """The data section's values that come from the fingerprint (only those that differ from the defaults)."""
    fp = plan.fingerprint
    data: dict[str, Any] = {"root": fp.root}
    if fp.layout != "folders":
        data["layout"] = fp.layout
    for key, default in (("images_dir", "images"), ("masks_dir", "masks"), ("mask_suffix", ""),
                         ("mask_pattern", None), ("group_pattern", None)):
        if getattr(fp, key) != default:
            data[key] = getattr(fp, key)
    data["classes"] = plan.classes
    data["mode"] = plan.mode
    if fp.mask_per_class:
        data["mask_per_class"] = True
    for key in ("class_map", "ignore_index", "colors"):
        if getattr(fp, key) is not None:
            data[key] = getattr(fp, key)
    data["image_size"] = plan.image_size
    if plan.in_channels != 3:
        data["in_channels"] = plan.in_channels
    return data
