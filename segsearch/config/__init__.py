"""Search-space files: load, validate, hash. No torch import here."""

from ._duration import parse_duration, process_started
from ._load import ConfigError, describe_changes, load_config, load_config_text, space_fingerprint, space_hash
from ._registry import REDUCTIONS, check_device, metric_label, objective_label
from ._schema import (
    DataConfig,
    DeployConfig,
    FinalConfig,
    KeptEpoch,
    ParamSpec,
    SearchSpaceFile,
    StudyConfig,
    TrainConfig,
    WandbConfig,
)

__all__ = [
    "ConfigError",
    "REDUCTIONS",
    "check_device",
    "metric_label",
    "objective_label",
    "describe_changes",
    "space_fingerprint",
    "DataConfig",
    "DeployConfig",
    "FinalConfig",
    "KeptEpoch",
    "ParamSpec",
    "SearchSpaceFile",
    "StudyConfig",
    "TrainConfig",
    "WandbConfig",
    "load_config",
    "parse_duration",
    "process_started",
    "load_config_text",
    "space_hash",
]
