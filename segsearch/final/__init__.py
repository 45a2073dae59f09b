"""The final stage: retrain the best trial(s) into a self-describing model folder, evaluate it on the test
split, export it, and predict with it.

``finalize`` (``_stage``) trains; ``_folder`` writes what a model folder holds; ``load_model``
(``_model``) reads one back; ``evaluate_model``, ``export_model`` and ``predict_paths`` use it.
"""

from ._evaluate import evaluate_model
from ._export import FILES, FORMATS, TOLERANCES, ExportMismatch, check_inputs, compare, export_model
from ._folder import COMBINE, class_colors, splits_from_folder
from ._model import Ensemble, SegModel, load_model
from ._predict import (
    IMAGE_EXTS,
    gaussian_weights,
    iter_images,
    overlay,
    predict_paths,
    predict_probabilities,
    save_mask,
    sliding_window,
    to_mask,
    to_unit_tensor,
    whole_image,
    window_starts,
    with_flips,
)
from ._stage import (
    check_passes,
    choose_tta,
    final_data_config,
    final_train_config,
    finalize,
    pick_trials,
    plan_final,
)
from ._threshold import choose_threshold

__all__ = ["COMBINE", "FILES", "FORMATS", "IMAGE_EXTS", "TOLERANCES", "Ensemble", "ExportMismatch", "SegModel",
           "check_inputs", "check_passes", "choose_threshold", "choose_tta", "class_colors", "compare", "evaluate_model", "export_model",
           "final_data_config", "final_train_config", "finalize", "gaussian_weights", "iter_images", "load_model",
           "overlay", "pick_trials", "plan_final", "predict_paths", "predict_probabilities", "save_mask",
           "sliding_window", "splits_from_folder", "to_mask", "to_unit_tensor", "whole_image", "window_starts",
           "with_flips"]
