"""Names users may write, with "did you mean" errors. Kept free of torch imports."""

from __future__ import annotations

import difflib

ARCHITECTURES = (
    "unet", "unetplusplus", "manet", "linknet", "fpn", "pspnet", "pan",
    "deeplabv3", "deeplabv3plus", "upernet", "segformer", "dpt",
)
LOSSES = ("ce", "wce", "bce", "dice", "focal", "jaccard", "lovasz", "tversky")
LOSS_PARAMS = {
    "ce": ("class_weights", "label_smoothing"),
    "wce": ("class_weights", "label_smoothing"),
    "bce": ("pos_weight",),
    "dice": ("smooth", "log_loss"),
    "focal": ("alpha", "gamma"),
    "jaccard": ("smooth", "log_loss"),
    "lovasz": ("per_image",),
    "tversky": ("alpha", "beta", "gamma"),
}
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULERS = ("none", "cosine", "wsd", "step", "plateau", "onecycle")
# what each scheduler reads from ``scheduler_params`` (components/_optim.py); anything else is a typo
SCHEDULER_PARAMS = {"none": (), "cosine": ("eta_min",), "wsd": ("decay",), "step": ("step_size", "gamma"),
                    "plateau": ("factor", "patience"), "onecycle": ()}
SAMPLERS = ("tpe", "random", "gp", "cmaes", "qmc", "grid", "nsga2")
PRUNERS = ("none", "median", "percentile", "asha", "successive_halving", "hyperband", "wilcoxon")
AUGMENTATIONS = ("none", "light", "full")


def did_you_mean(value: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(str(value).lower(), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_name(value: str, choices: tuple[str, ...], what: str) -> str:
    v = str(value).lower().replace("-", "_") if what in ("pruner",) else str(value).lower()
    if v not in choices:
        raise ValueError(f"unknown {what} {value!r}; valid: {', '.join(choices)}{did_you_mean(v, choices)}")
    return v


DEVICES = ("auto", "cpu", "cuda", "cuda:N", "mps")


def check_device(value: str) -> str:
    """A device name as ``train.device`` and ``--device`` take it (whether this machine has it is torch's to say)."""
    v = str(value).lower()
    if v in ("auto", "cpu", "cuda", "mps") or (v.startswith("cuda:") and v[5:].isdigit()):
        return v
    raise ValueError(f"device {value!r} is not one of {', '.join(DEVICES)}")


def parse_loss(name: str) -> list[str]:
    """Split a loss name such as ``ce+dice`` into its known parts."""
    parts = [p.strip() for p in str(name).lower().split("+")]
    if not 1 <= len(parts) <= 3 or any(not p for p in parts):
        raise ValueError(f"loss {name!r}: write one loss or a sum of up to three, e.g. 'ce+dice'")
    for p in parts:
        check_name(p, LOSSES, "loss")
    return parts


REDUCTIONS = ("class-mean", "micro-imagewise", "micro", "macro", "macro-imagewise", "weighted")


def metric_label(reduction: str, mode: str, name: str = "mIoU") -> str:
    """How a figure is named where it is shown: 'mIoU (class mean)', 'IoU (foreground)', ..."""
    if reduction == "class-mean":
        return name.removeprefix("m") + " (foreground)" if mode == "binary" else f"{name} (class mean)"
    return f"{name} ({reduction})"


def objective_label(cfg) -> str:
    """The study's objective as people read it, e.g. 'val mIoU (class mean)'."""
    name = {"miou": "mIoU", "mdice": "mDice"}[cfg.study.objective]
    return "val " + metric_label(cfg.train.metric_reduction, cfg.data.mode, name)
