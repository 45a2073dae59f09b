"""Class hierarchy levels and their mIoU; DataConfig checks of the data fields."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from segsearch.data import hierarchy_levels, hierarchy_miou, level_ious, level_miou

from helpers_data import data_cfg

CLASSES = ["background", "head", "torso", "arm", "leg"]
HIERARCHY = {"body": {"body": ["head", "torso", "arm", "leg"]},
             "halves": {"upper": ["head", "torso", "arm"], "lower": ["leg"]}}


def _cfg(**kw):
    return data_cfg(Path("."), classes=CLASSES, hierarchy=HIERARCHY, **kw)


def test_levels_map_classes_to_groups_and_rest() -> None:
    levels = hierarchy_levels(_cfg())
    assert levels["body"] == {0: -1, 1: 0, 2: 0, 3: 0, 4: 0}
    assert levels["halves"] == {0: -1, 1: 0, 2: 0, 3: 0, 4: 1}


def test_level_miou_from_a_confusion_matrix() -> None:
    # rows: truth, columns: prediction
    cm = np.zeros((5, 5), int)
    cm[0, 0] = 100        # background right
    cm[1, 2] = 10         # head taken for torso: wrong part, right half, right body
    cm[2, 2] = 10
    cm[4, 4] = 6          # leg right
    cm[4, 3] = 4          # leg taken for arm: wrong half
    cm[0, 4] = 5          # background taken for leg
    levels = hierarchy_levels(_cfg())
    # body: tp 30, truth 30, predicted 35 -> 30/35
    assert level_miou(cm, levels["body"]) == pytest.approx(30 / 35)
    # upper: tp 20, truth 20, pred 24 -> 20/24; lower: tp 6, truth 10, pred 11 -> 6/15
    assert level_ious(cm, levels["halves"]) == pytest.approx([20 / 24, 6 / 15])
    assert hierarchy_miou(cm, _cfg()) == pytest.approx({"body": 30 / 35, "halves": (20 / 24 + 6 / 15) / 2})


def test_absent_groups_are_left_out() -> None:
    cm = np.zeros((5, 5), int)
    cm[1, 1] = 4
    assert np.isnan(level_ious(cm, hierarchy_levels(_cfg())["halves"])[1])  # no leg anywhere
    assert level_miou(cm, hierarchy_levels(_cfg())["halves"]) == 1.0


@pytest.mark.parametrize(("kw", "message"), [
    ({"hierarchy": {"body": {"body": ["tail"]}}}, "unknown class 'tail'"),
    ({"class_map": {7: 9}}, "class_map: 7 -> 9"),
    ({"colors": {"wing": (1, 2, 3)}}, "unknown class 'wing'"),
    ({"mask_pattern": "mask_of_image"}, "must contain '{stem}'"),
    ({"bands": [0, 1]}, "selects 2 channels but in_channels is 3"),
    ({"augmentation": {"no": "transform"}}, "serialised form"),
])
def test_data_config_names_the_bad_field(kw: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("{", r"\{")):
        data_cfg(Path("."), classes=CLASSES, **kw)


def test_class_map_may_target_the_ignore_index() -> None:
    assert data_cfg(Path("."), classes=CLASSES, class_map={200: 255}, ignore_index=255).class_map == {200: 255}
