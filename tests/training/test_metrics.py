"""Validation metrics (smp.metrics) against values computed by hand."""

import pytest
import torch

from segsearch.training import MetricAccumulator

# two 2x2 images, 2 classes; logits chosen so predictions are exactly PRED
PRED = torch.tensor([[[0, 1], [1, 1]], [[0, 0], [0, 1]]])
TARGET = torch.tensor([[[0, 1], [0, 1]], [[0, 0], [1, 1]]])


def logits_for(pred: torch.Tensor, classes: int = 2) -> torch.Tensor:
    return torch.nn.functional.one_hot(pred, classes).permute(0, 3, 1, 2).float() * 5


def acc(**kw) -> MetricAccumulator:
    args = {"mode": "multiclass", "num_classes": 2, "ignore_index": None, "threshold": 0.5,
            "reduction": "micro-imagewise", "include_background": True}
    args.update(kw)
    return MetricAccumulator(**args)


def test_micro_imagewise_and_per_class_by_hand():
    a = acc()
    a.update(logits_for(PRED[:1]), TARGET[:1])  # two batches: accumulation across batches
    a.update(logits_for(PRED[1:]), TARGET[1:])
    s = a.compute()
    # image 1: class0 tp1 fp0 fn1; class1 tp2 fp1 fn0 -> micro iou = 3/(3+1+1)=0.6
    # image 2: class0 tp2 fp1 fn0; class1 tp1 fp0 fn1 -> 0.6
    assert s.miou == pytest.approx(0.6)
    assert s.mdice == pytest.approx(2 * 3 / (2 * 3 + 1 + 1))
    # per class over the dataset: class0 tp3 fp1 fn1 -> 0.6 ; class1 tp3 fp1 fn1 -> 0.6
    assert s.per_class_iou == pytest.approx([0.6, 0.6])
    assert s.confusion == [[3, 1], [1, 3]]


def test_background_can_be_left_out_and_macro():
    a = acc(include_background=False, reduction="macro")
    a.update(logits_for(PRED), TARGET)
    s = a.compute()
    assert s.miou == pytest.approx(3 / 5)  # class 1 only: tp3 fp1 fn1
    assert len(s.per_class_iou) == 1


def test_ignore_index_excluded():
    target = TARGET.clone()
    target[0, 1, 0] = 255  # the one wrong pixel of image 1 becomes ignored
    a = acc(ignore_index=255)
    a.update(logits_for(PRED), target)
    s = a.compute()
    # image 1 now perfect (iou 1), image 2 unchanged (0.6)
    assert s.miou == pytest.approx((1.0 + 0.6) / 2)


def test_binary_threshold():
    a = acc(mode="binary", num_classes=1)
    logits = torch.tensor([[[[3.0, -3.0], [0.1, -0.1]]]])
    target = torch.tensor([[[[1, 0], [0, 0]]]])
    a.update(logits, target)
    s = a.compute()
    assert s.miou == pytest.approx(1 / 2)  # tp1 fp1 fn0
    assert s.confusion is None
