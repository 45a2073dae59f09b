"""A plan as a commented search-space YAML that ``segsearch launch`` runs without edits."""

from __future__ import annotations

import json
from typing import Any

import yaml

from ._choose import ENCODERS, SEARCH_EPOCHS, Plan, settings


def _dump(obj: Any, indent: int = 2) -> str:
    text = yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, width=110)
    pad = " " * indent
    return "".join(pad + line + "\n" for line in text.splitlines())


def plan_yaml(plan: Plan) -> str:
    fp = plan.fingerprint
    shares = ", ".join(f"{c.name} {100 * c.pixel_share:.1f}%" for c in fp.classes)
    head = [
        f"# written by `segsearch plan {fp.root}{' --budget ' + plan.budget if plan.budget else ''}`: a search fitted",
        "# to this dataset (its fingerprint: the .fingerprint.json beside this file). Edit freely; the README's",
        "# 'The search-space YAML' explains every key.",
        f"# data: {fp.n_pairs} image/mask pairs ({fp.layout} layout), masks: {fp.encoding}; pixels: {shares}",
        *([f"# class names from {fp.class_names_from}"] if fp.class_names_from else []),
        *[f"# note: {n}" for n in plan.notes],
    ]
    study: dict[str, Any] = {"name": plan.name, "objective": "miou", "direction": "maximize",
                             "n_trials": plan.n_trials}
    if plan.budget:
        study["budget"] = plan.budget  # launch ends within it, final model included
    timing = (f"one baseline epoch (unet/resnet34, {plan.image_size} px) took {plan.epoch_seconds} s here"
              if plan.epoch_seconds else "no budget given: trials run train.epochs each")
    losses: dict[str, Any] = {"ce": None, "wce": {"class_weights": ["auto"]}, "dice": None,
                              "focal": {"alpha": {"low": 0.1, "high": 0.9}, "gamma": {"low": 0.5, "high": 4.0}},
                              "jaccard": None, "lovasz": None, "tversky": {"alpha": {"low": 0.3, "high": 0.7}},
                              "ce+dice": {"weight": {"low": 0.1, "high": 0.9}}}
    losses = {k: v for k, v in losses.items() if k not in plan.losses_left_out}
    body = [
        "study:",
        f"  # {timing}",
        _dump(study).rstrip("\n"),
        "  # pruner and sampler chosen by replaying real learning curves (README: Performance)",
        "  sampler: {name: tpe, seed: 0, args: {n_startup_trials: 10}}",
        "  pruner: {name: median, args: {n_startup_trials: 5, n_warmup_steps: 6}}",
        "",
        "data:",
        _dump(settings(plan)).rstrip("\n"),
        "  augmentation: light        # search trials; the final model trains with final.augmentation",
        "",
        "train:",
        "  encoder_weights: null      # set to imagenet once the weights are cached (README: Pretrained weights)",
        f"  epochs: {SEARCH_EPOCHS}                 # a trial's schedule; under a budget it is scaled to the time",
        "  batch_size: 8",
        "  optimizer: adamw",
        "  scheduler: wsd             # the peak rate, then a linear decay over the last 20% (README: train)",
        "  seed: 0",
        "",
        "search:",
        f"  architecture: {json.dumps(plan.architectures)}",
        f"  encoder: {json.dumps(ENCODERS)}",
        "  loss:",
        "    # class-weighted CE, Dice, focal, Lovasz and Tversky" + (
            " matter here: the classes are imbalanced" if plan.imbalanced else ""),
        "    choices:",
        _dump(losses, 6).rstrip("\n"),
        "  lr: {low: 1.0e-4, high: 1.0e-2, log: true}      # from scratch; 1.0e-5 to fine-tune imagenet weights",
        "  weight_decay: {low: 1.0e-6, high: 1.0e-2, log: true}",
        "",
        "final:",
        "  augmentation: full",
        "",
    ]
    return "\n".join(head) + "\n" + "\n".join(body)
