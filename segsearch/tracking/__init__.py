"""Seeing trials as they run: a Weights & Biases run per trial (``_wandb``), prediction previews
(``_previews``: images with true and predicted masks), and the live progress display (``_progress``)."""

from ._dashboard_plots import save_dashboard_plots
from ._previews import (
           Prediction,
           checkpoint_path,
           confusion_figure,
           confusion_names,
           mask_names,
           overlay,
           palette,
           predict_samples,
           prediction_grid,
)
from ._progress import Progress
from ._wandb import Tracker, WandbRun, epoch_metrics, outcome_summary, resolve_mode, run_config

__all__ = ["Prediction", "Progress", "Tracker", "WandbRun", "checkpoint_path", "confusion_figure",
           "confusion_names", "epoch_metrics",
           "mask_names", "outcome_summary", "overlay", "palette", "predict_samples", "prediction_grid",
           "resolve_mode", "run_config", "save_dashboard_plots"]
