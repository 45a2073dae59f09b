"""The search-space file as typed, frozen pydantic models.

Everything a user can write in a search-space YAML is declared here; nothing
else is accepted. No torch import: this module is loaded by ``segsearch --help``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ._registry import (
    ARCHITECTURES,
    OPTIMIZERS,
    PRUNERS,
    SAMPLERS,
    SCHEDULER_PARAMS,
    SCHEDULERS,
    check_device,
    check_name,
    parse_loss,
)

# which epoch's weights a finished run keeps (``final.checkpoint``, ``training.keeps_last``)
KeptEpoch = Literal["auto", "best", "last"]

Scalar = str | int | float | bool | None
AUGMENTATION_PRESETS = ("none", "light", "full")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SamplerConfig(_Strict):
    name: str = "tpe"
    seed: int | None = 0
    args: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        return check_name(v, SAMPLERS, "sampler")


class PrunerConfig(_Strict):
    name: str = "median"
    args: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        return check_name(v, PRUNERS, "pruner")


CostMetric = Literal["latency_ms", "peak_memory_mb", "params_m", "flops_g"]  # measured per trial before it trains (deploy)
COST_METRICS: tuple[str, ...] = ("latency_ms", "peak_memory_mb", "params_m", "flops_g")


class ConstraintSpec(_Strict):
    max: float = Field(gt=0, description="the largest value a deployable model may have")


class DeployConfig(_Strict):
    """Where the model will run: each trial's latency, parameters and FLOPs are measured for this before it
    trains (study.constraints bound them)."""

    device: Literal["cpu", "cuda"] | None = Field(
        default=None, description="device the latency is measured on; null: the trial's own (cpu measures CPU "
                                  "latency on a GPU worker)")
    batch_size: int = Field(default=1, ge=1)
    image_size: int | list[int] | None = Field(default=None, description="null: data.image_size")
    warmup: int = Field(default=3, ge=0)
    repeats: int = Field(default=10, ge=1, description="timed forward passes; the latency is their median")


class StudyConfig(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
    objective: Literal["miou", "mdice"] = Field(
        default="miou", description="the accuracy objective, reported every epoch and pruned on; a list "
                                    "[miou, latency_ms, ...] makes a multi-objective study (see minimize)")
    direction: Literal["maximize", "minimize"] = "maximize"
    minimize: list[CostMetric] = Field(
        default_factory=list, description="deployment costs minimized alongside the accuracy objective (a "
                                          "multi-objective study with a Pareto front); written either here or as "
                                          "objective: [miou, latency_ms] with direction: [maximize, minimize]")
    n_trials: int | None = Field(default=20, ge=1)
    timeout: float | None = Field(default=None, gt=0, description="seconds of wall time for this launch")
    budget: str | float | None = Field(default=None, description="wall-clock budget of each launch, start-up to final "
                                                         "model, as launch --budget takes it (8m, 2h); the flag wins")
    sampler: SamplerConfig = SamplerConfig()
    pruner: PrunerConfig = PrunerConfig()
    storage: str | None = None
    heartbeat_interval: int = Field(default=30, ge=1)
    grace_period: int | None = Field(default=None, ge=2)
    max_retry: int = Field(default=2, ge=0, description="re-queues of a trial whose worker died")
    keep: Literal["best", "none", "all"] = Field(
        default="best", description="checkpoints a finished trial keeps: best (best.pt; last.pt only for the study's "
                                    "best trial), none (only the best trial's), all")
    portfolio: Literal["auto", "none"] = Field(
        default="none", description="auto: with the tpe sampler a new study tries segsearch's shipped portfolio "
                                    "(configurations that did well on the development datasets) right after its "
                                    "baseline; none (default until it is shown to help: bench/LATEST.md): the "
                                    "sampler from the start")
    constraints: dict[CostMetric, ConstraintSpec] = Field(
        default_factory=dict, description="hard limits for deployment, e.g. {latency_ms: {max: 20}}: a trial that "
                                          "breaks one is infeasible before it trains an epoch, and TPE learns to avoid "
                                          "its neighbours")
    baseline: Literal["recipe", "none"] | dict[str, Any] = Field(
        default="recipe", description="the first trial of a new study: seed 001's recipe expressed in the space, "
                                      "your own settings (a dict of train keys), or none")

    @model_validator(mode="before")
    @classmethod
    def _objective_list(cls, raw: Any) -> Any:
        """``objective: [miou, latency_ms]`` with ``direction: [maximize, minimize]``: the first is the
        accuracy objective, the rest are costs to minimize."""
        if not isinstance(raw, dict) or not isinstance(raw.get("objective"), list):
            return raw
        names, dirs = list(raw["objective"]), raw.get("direction", "maximize")
        dirs = list(dirs) if isinstance(dirs, list) else [dirs] + ["minimize"] * (len(names) - 1)
        if not names or names[0] not in ("miou", "mdice"):
            raise ValueError(f"study.objective: the first objective must be the accuracy one (miou or mdice), "
                             f"got {names[:1]}; the others may be {', '.join(COST_METRICS)}")
        if len(dirs) != len(names):
            raise ValueError(f"study.direction: {len(dirs)} direction(s) for {len(names)} objectives {names}")
        costs = names[1:]
        unknown = [c for c in costs if c not in COST_METRICS]
        if unknown:
            raise ValueError(f"study.objective: unknown cost objective(s) {unknown}; valid: {', '.join(COST_METRICS)}")
        if len(set(costs)) != len(costs):
            raise ValueError(f"study.objective: an objective is named twice in {names}")
        wrong = [f"{n}: {d}" for n, d in zip(costs, dirs[1:], strict=True) if d != "minimize"]
        if wrong:
            raise ValueError(f"study.direction: cost objectives are minimized, got {', '.join(wrong)}")
        if raw.get("minimize"):
            raise ValueError("study: give the cost objectives either in objective: [...] or in minimize, not both")
        return {**raw, "objective": names[0], "direction": dirs[0], "minimize": costs}

    @model_validator(mode="after")
    def _multi_objective_support(self) -> StudyConfig:
        if self.minimize:
            if self.sampler.name == "cmaes":
                raise ValueError("study.sampler: cmaes cannot search a multi-objective study (objective "
                                 f"{self.objectives}); use tpe, nsga2, gp, random or qmc")
            if self.pruner.name == "hyperband":
                raise ValueError("study.pruner: hyperband cannot prune a multi-objective study (objective "
                                 f"{self.objectives}); use median, percentile, asha or none")
        return self

    @property
    def objectives(self) -> list[str]:
        """Every objective of the study, the accuracy one first."""
        return [self.objective, *self.minimize]

    @property
    def directions(self) -> list[str]:
        return [self.direction, *["minimize"] * len(self.minimize)]

    @property
    def multi_objective(self) -> bool:
        return bool(self.minimize)

    @field_validator("budget")
    @classmethod
    def _budget(cls, v: str | float | None) -> str | float | None:
        if v is not None:
            from ._duration import parse_duration

            parse_duration(v, "study.budget")  # ValueError: not a duration, with examples
        return v

    @field_validator("baseline")
    @classmethod
    def _baseline(cls, v: Any) -> Any:
        if isinstance(v, dict):
            unknown = sorted(set(v) - set(TrainConfig.model_fields))
            if unknown:
                raise ValueError(f"study.baseline: unknown training setting(s) {unknown}; "
                                 f"valid: {', '.join(sorted(TrainConfig.model_fields))}")
        return v


class DemoConfig(_Strict):
    n_images: int = Field(default=120, ge=8)
    size: int = Field(default=64, ge=16)
    seed: int = 0


class DataConfig(_Strict):
    root: Path | None = None
    demo: DemoConfig | None = None
    layout: Literal["folders", "csv", "presplit"] = "folders"
    images_dir: str = "images"
    masks_dir: str = "masks"
    mask_suffix: str = ""
    group_pattern: str | None = Field(
        default=None,
        description="regex with one group applied to an image stem; images with the same group share a mask",
    )
    classes: list[str] = Field(min_length=1)
    mode: Literal["binary", "multiclass", "multilabel"] = "multiclass"
    image_size: int | tuple[int, int] = 64
    in_channels: int = Field(default=3, ge=1)
    ignore_index: int | None = None
    class_map: dict[int, int] | None = None
    colors: dict[str, tuple[int, int, int]] | None = None
    hierarchy: dict[str, dict[str, list[str]]] | None = None
    val_fraction: float = Field(default=0.2, gt=0, lt=1)
    test_fraction: float = Field(default=0.1, ge=0, lt=1)
    split_seed: int = 0
    cache: bool = True
    skip_bad: bool = False
    augmentation: str | dict[str, Any] = Field(
        default="light", description="none, light, full, or an albumentations pipeline in A.to_dict form")
    mosaic: float = Field(default=0.0, ge=0, le=1)
    flips: Literal["auto", "both", "horizontal", "vertical", "none"] = Field(
        default="auto", description="flips of the light/full augmentation and of flip TTA; auto: the axes along "
        "which the training masks' classes are as likely on either side (segsearch.data.flip_symmetry)")
    mask_pattern: str | None = Field(
        default=None, description="mask stem from an image key, e.g. '{stem}_mask' or 'label_{stem}'")
    splits_dir: str = Field(default="splits", description="layout csv: folder (under root) with train/val/test.csv")
    mask_per_class: bool = Field(default=False, description="multilabel: masks_dir/<class>/<stem>.* per class")
    bands: list[int] | None = Field(default=None, description="0-based channels of multi-band images to keep")
    crop: bool = Field(default=False, description="train on random image_size crops instead of resizing")
    cache_mb: int = Field(default=2048, ge=0, description="memory for decoded images per dataset")
    stratify: bool = Field(default=True, description="stratify splits by the classes present in each mask")

    @field_validator("augmentation")
    @classmethod
    def _augmentation(cls, v: str | dict[str, Any]) -> str | dict[str, Any]:
        if isinstance(v, dict):
            if "transform" not in v:
                raise ValueError("a custom augmentation is albumentations' serialised form: a dict with 'transform'")
            return v
        if v not in AUGMENTATION_PRESETS:
            raise ValueError(f"unknown augmentation preset {v!r}; valid: {', '.join(AUGMENTATION_PRESETS)}")
        return v

    @model_validator(mode="after")
    def _source(self) -> DataConfig:
        if self.root is None and self.demo is None:
            raise ValueError("give data.root (a dataset folder) or data.demo (generate the demo dataset)")
        if self.mode == "binary" and len(self.classes) != 1:
            raise ValueError(
                f"mode 'binary' predicts one foreground class, got classes {self.classes}; "
                "list only the foreground class (e.g. [pipe]) or use mode 'multiclass'"
            )
        if self.val_fraction + self.test_fraction >= 1:
            raise ValueError("val_fraction + test_fraction must be below 1")
        self._check_classes()
        return self

    def _check_classes(self) -> None:
        n, names = len(self.classes), set(self.classes)
        if len(names) != n:
            raise ValueError(f"data.classes has duplicates: {self.classes}")
        allowed = n if self.mode != "binary" else 2
        for src, dst in (self.class_map or {}).items():
            if not (0 <= dst < allowed or dst == self.ignore_index):
                raise ValueError(f"data.class_map: {src} -> {dst}, but targets are 0..{allowed - 1} "
                                 f"or ignore_index ({self.ignore_index})")
        for name in self.colors or {}:
            if name not in names:
                raise ValueError(f"data.colors: unknown class {name!r}; classes are {self.classes}")
        for level, groups in (self.hierarchy or {}).items():
            for group, members in groups.items():
                for name in members:
                    if name not in names:
                        raise ValueError(f"data.hierarchy.{level}.{group}: unknown class {name!r}; "
                                         f"classes are {self.classes}")
        if self.mask_pattern is not None and "{stem}" not in self.mask_pattern:
            raise ValueError(f"data.mask_pattern {self.mask_pattern!r} must contain '{{stem}}'")
        if self.bands is not None and len(self.bands) != self.in_channels:
            raise ValueError(f"data.bands selects {len(self.bands)} channels but in_channels is {self.in_channels}")

    @property
    def size_hw(self) -> tuple[int, int]:
        s = self.image_size
        return (s, s) if isinstance(s, int) else (int(s[0]), int(s[1]))

    @property
    def num_classes(self) -> int:
        return len(self.classes)


class TrainConfig(_Strict):
    """Every training setting; any of them can be moved into ``search``."""

    architecture: str = "unet"
    architecture_params: dict[str, Any] = Field(default_factory=dict)
    encoder: str = "resnet18"
    encoder_weights: str | None = None
    encoder_depth: int = Field(default=5, ge=3, le=5)
    loss: str = "ce"
    loss_params: dict[str, Any] = Field(default_factory=dict)
    optimizer: str = "adamw"
    optimizer_params: dict[str, Any] = Field(default_factory=dict)
    lr: float = Field(default=1e-3, gt=0)
    weight_decay: float = Field(default=1e-4, ge=0)
    scheduler: str = "cosine"
    scheduler_params: dict[str, Any] = Field(default_factory=dict)
    batch_size: int = Field(default=8, ge=1)
    accumulation: int = Field(default=1, ge=1, description="batches per optimizer step (gradient accumulation)")
    epochs: int = Field(default=10, ge=1)
    num_workers: int | Literal["auto"] = "auto"
    device: str = "auto"
    amp: Literal["auto", "off", "bf16", "fp16"] = "auto"
    channels_last: bool = True
    compile: bool = False
    seed: int = 0
    metric_reduction: Literal["class-mean", "micro-imagewise", "micro", "macro", "macro-imagewise", "weighted"] = (
        "class-mean")
    include_background: bool = True
    threshold: float = Field(default=0.5, gt=0, lt=1)
    grad_clip: float | None = Field(default=None, gt=0)
    checkpoint_interval: float = Field(
        default=120, ge=0, description="seconds of work a crash may lose (one epoch when epochs are longer): the "
        "resume checkpoint is written when skipping it could lose more; 0: every epoch")

    @field_validator("architecture")
    @classmethod
    def _arch(cls, v: str) -> str:
        return check_name(v, ARCHITECTURES, "architecture")

    @field_validator("loss")
    @classmethod
    def _loss(cls, v: str) -> str:
        parse_loss(v)
        return v.lower()

    @field_validator("optimizer")
    @classmethod
    def _opt(cls, v: str) -> str:
        return check_name(v, OPTIMIZERS, "optimizer")

    @field_validator("scheduler")
    @classmethod
    def _sched(cls, v: str) -> str:
        return check_name(v, SCHEDULERS, "scheduler")

    @field_validator("device")
    @classmethod
    def _device(cls, v: str) -> str:
        return check_device(v)

    @model_validator(mode="after")
    def _scheduler_params(self) -> TrainConfig:
        allowed = SCHEDULER_PARAMS[self.scheduler]
        unknown = sorted(set(self.scheduler_params) - set(allowed))
        if unknown:
            raise ValueError(f"scheduler_params: {unknown} is not read by scheduler {self.scheduler!r}; "
                             f"valid: {list(allowed) or 'none'}")
        decay = self.scheduler_params.get("decay", 0.2)
        if self.scheduler == "wsd" and not (isinstance(decay, (int, float)) and 0 < decay <= 1):
            raise ValueError(f"scheduler_params.decay: the share of the epochs that decay, in (0, 1]; got {decay!r}")
        return self


class ParamSpec(_Strict):
    """One searchable parameter: categorical (optionally with conditional children), int or float."""

    type: Literal["categorical", "int", "float"]
    choices: list[Scalar] | None = None
    children: dict[str, dict[str, ParamSpec]] = Field(default_factory=dict)
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> ParamSpec:
        if self.type == "categorical":
            if not self.choices:
                raise ValueError("a categorical parameter needs a non-empty 'choices' list")
        else:
            if self.low is None or self.high is None:
                raise ValueError(f"an {self.type} parameter needs 'low' and 'high'")
            if self.low > self.high:
                raise ValueError(f"low ({self.low}) is above high ({self.high})")
            if self.log and self.low <= 0:
                raise ValueError(f"a log-scaled parameter needs low > 0, got {self.low}")
            if self.log and self.step is not None:
                raise ValueError("'log' and 'step' cannot be combined")
        return self


class WandbConfig(_Strict):
    enabled: bool = True
    project: str = "segsearch"
    entity: str | None = None
    mode: Literal["auto", "online", "offline", "disabled"] = "auto"
    tags: list[str] = Field(default_factory=list)
    log_images: int = Field(default=4, ge=0)
    group: str | None = Field(default=None, description="W&B run group; default: the study name")
    init_timeout: float = Field(default=20, gt=0, description="seconds wandb.init may take before logging offline")


class FinalConfig(_Strict):
    auto: bool = False
    epochs: int = Field(default=30, ge=1)
    patience: int = Field(default=8, ge=1)
    augmentation: str = "full"
    mosaic: float = Field(default=0.0, ge=0, le=1)  # measured: hurt the final model on real data (bench/LATEST.md)
    top_k: int = Field(default=1, ge=1)
    seed: int = 0
    combine: Literal["mean", "vote"] = Field(
        default="mean", description="ensembles: average probabilities or majority-vote labels")
    export: bool = Field(default=False, description="export TorchScript and ONNX (checked) after finalizing")
    tta: Literal["auto", "on", "off"] = Field(
        default="auto", description="flip test-time augmentation of the final model: auto keeps it when it scores "
        "higher on validation")
    threshold: Literal["auto", "off"] = Field(
        default="off", description="binary and multilabel models: auto picks the foreground threshold that scores "
        "best on validation (kept at train.threshold unless it gains 0.01); off (default: measured not to pay on "
        "the benchmark data, bench/LATEST.md) keeps train.threshold")
    checkpoint: KeptEpoch = Field(
        default="auto", description="the weights the final model keeps: best (the epoch that scored highest on "
        "validation), last (the last epoch), auto (default: the last when the schedule had annealed, i.e. the last "
        "epoch trained at under 5% of the peak learning rate, and it does not predict one class; the best otherwise)")
    budget_share: float = Field(default=0.25, gt=0, lt=1,
                                description="with launch --budget: the share of the budget kept for the final model")


class SearchSpaceFile(_Strict):
    study: StudyConfig
    data: DataConfig
    train: TrainConfig = TrainConfig()
    search: dict[str, ParamSpec] = Field(default_factory=dict)
    wandb: WandbConfig = WandbConfig()
    final: FinalConfig = FinalConfig()
    deploy: DeployConfig = DeployConfig()

    @model_validator(mode="after")
    def _search_keys(self) -> SearchSpaceFile:
        fields = set(TrainConfig.model_fields)
        for key, spec in self.search.items():
            if key not in fields:
                raise ValueError(
                    f"search.{key}: "
                    + _unknown(key, sorted(f for f in fields if not f.endswith("_params")), "search parameter")
                )
            if spec.children and f"{key}_params" not in fields:
                raise ValueError(f"search.{key}: only architecture, loss, optimizer and scheduler take conditional parameters")
            for choice in spec.children:
                if choice not in (spec.choices or []):
                    raise ValueError(f"search.{key}: conditional parameters given for {choice!r}, which is not a choice")
            if spec.type == "categorical":
                for value in spec.choices or []:
                    try:
                        one: dict[str, Any] = {key: value}
                        TrainConfig(**one)
                    except Exception as exc:
                        msg = str(exc).split("\n")[-1].strip() if "\n" in str(exc) else str(exc)
                        raise ValueError(f"search.{key}: choice {value!r}: {_first_error(exc) or msg}") from None
        return self


def _first_error(exc: Exception) -> str | None:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        errs = errors()
        if errs:
            return str(errs[0].get("msg", "")).removeprefix("Value error, ")
    return None


def _unknown(value: str, choices: list[str], what: str) -> str:
    from ._registry import did_you_mean

    return f"unknown {what} {value!r}; valid: {', '.join(choices)}{did_you_mean(value, choices)}"
