"""The study's own plots in optuna-dashboard, labelled as people read them: the validation objective per epoch of
every trial (x: epoch, whole numbers; y: the metric's name), and the best trial's per-class IoU.

optuna-dashboard shows any plotly figure saved on the study (``save_plotly_graph_object``); it stores the figure's
JSON, so the figures are written here as plotly JSON without the plotly package. Saved after every finished
trial and when ``segsearch dashboard`` starts; each replaces its previous version.
"""

from __future__ import annotations

import json
import math
from typing import Any

CURVES_ID = "segsearch-learning-curves"
CLASSES_ID = "segsearch-best-per-class-iou"


class _Figure:
    """What ``save_plotly_graph_object`` reads from a figure: its plotly JSON."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec

    def to_json(self) -> str:
        return json.dumps(self.spec)


def learning_curves(study: Any, label: str) -> dict[str, Any]:
    data = []
    last = 1
    for t in study.get_trials(deepcopy=False):
        iv = t.intermediate_values
        if not iv:
            continue
        epochs = sorted(iv)
        last = max(last, epochs[-1])
        data.append({"type": "scatter", "mode": "lines+markers", "name": f"trial {t.number} ({t.state.name.lower()})",
                     "x": epochs, "y": [None if math.isnan(iv[e]) else iv[e] for e in epochs]})
    xaxis: dict[str, Any] = {"title": {"text": "epoch"}, "tickformat": "d", "rangemode": "tozero"}
    if last <= 20:
        xaxis["dtick"] = 1
    return {"data": data, "layout": {"title": {"text": f"{label} per epoch, every trial"}, "xaxis": xaxis,
                                     "yaxis": {"title": {"text": label}}}}


def best_per_class(study: Any) -> dict[str, Any] | None:
    from ..search import accuracy, best_trial

    done = [t for t in study.get_trials(deepcopy=False) if accuracy(t) is not None and t.user_attrs.get("per_class_iou")]
    best = best_trial(study, done)
    if best is None:
        return None
    iou = best.user_attrs["per_class_iou"]
    names = list(iou)
    return {"data": [{"type": "bar", "x": names, "y": [iou[n] for n in names],
                      "text": [f"{iou[n]:.3f}" if iou[n] is not None else "-" for n in names], "textposition": "auto"}],
            "layout": {"title": {"text": f"best trial {best.number}: validation IoU per class (objective "
                                         f"{accuracy(best):.4f})"},
                       "xaxis": {"title": {"text": "class"}}, "yaxis": {"title": {"text": "IoU"}, "range": [0, 1]}}}


def save_dashboard_plots(study: Any) -> None:
    """Write (or replace) the study's learning-curve and best-per-class figures for optuna-dashboard."""
    from optuna_dashboard import save_plotly_graph_object

    label = (study.metric_names or ["objective"])[0]
    save_plotly_graph_object(study, _Figure(learning_curves(study, label)), graph_object_id=CURVES_ID)
    classes = best_per_class(study)
    if classes is not None:
        save_plotly_graph_object(study, _Figure(classes), graph_object_id=CLASSES_ID)
