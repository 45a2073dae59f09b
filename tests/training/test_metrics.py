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


def test_class_mean_sums_over_the_split_then_averages_classes():
    a = acc(reduction="class-mean")
    a.update(logits_for(PRED[:1]), TARGET[:1])
    a.update(logits_for(PRED[1:]), TARGET[1:])
    s = a.compute()
    assert s.miou == pytest.approx((0.6 + 0.6) / 2)
    assert s.mdice == pytest.approx((0.75 + 0.75) / 2)  # 2*3 / (2*3 + 1 + 1) per class
    assert not s.collapsed


def test_class_absent_from_truth_and_predictions_is_left_out_not_counted_as_one():
    a = acc(reduction="class-mean", num_classes=3)
    a.update(logits_for(PRED, 3), TARGET)
    s = a.compute()
    assert s.per_class_iou[:2] == pytest.approx([0.6, 0.6]) and s.per_class_iou[2] != s.per_class_iou[2]  # NaN
    assert s.miou == pytest.approx(0.6)


def _imbalanced_masks(n_classes: int = 9, bg_share: float = 0.76, n: int = 6, size: int = 32) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    masks = torch.zeros(n, size, size, dtype=torch.long)
    fg = torch.rand(n, size, size, generator=g) > bg_share
    masks[fg] = torch.randint(1, n_classes, (int(fg.sum()),), generator=g)
    return masks


def test_constant_background_predictor_scores_what_it_deserves_and_is_flagged():
    masks = _imbalanced_masks()
    bg = (masks == 0).float().mean().item()
    constant = torch.zeros_like(masks)
    s = acc(reduction="class-mean", num_classes=9)
    s.update(logits_for(constant, 9), masks)
    scores = s.compute()
    assert scores.miou == pytest.approx(bg / 9, abs=1e-6)  # background IoU = its share; 8 classes at 0
    assert scores.miou < 0.1
    assert scores.collapsed
    # seed 001's micro-imagewise figure pools classes: the same predictor looks good there (labelled, not default)
    m = acc(reduction="micro-imagewise", num_classes=9)
    m.update(logits_for(constant, 9), masks)
    assert m.compute().miou > 0.5


def test_binary_class_mean_is_the_foreground_iou_and_all_background_collapses():
    target = (torch.rand(4, 1, 16, 16, generator=torch.Generator().manual_seed(1)) > 0.96).long()
    a = acc(mode="binary", num_classes=1, reduction="class-mean")
    a.update(torch.full(target.shape, -5.0), target)  # predicts background everywhere
    s = a.compute()
    assert s.miou == 0.0 and s.collapsed
    b = acc(mode="binary", num_classes=1, reduction="class-mean")
    b.update(target.float() * 10 - 5, target)  # perfect
    s = b.compute()
    assert s.miou == pytest.approx(1.0) and not s.collapsed


def test_include_background_false_drops_class_zero_from_the_class_mean():
    masks = _imbalanced_masks(n_classes=3)
    a = acc(reduction="class-mean", num_classes=3, include_background=False)
    a.update(logits_for(masks, 3), masks)
    s = a.compute()
    assert len(s.per_class_iou) == 2 and s.miou == pytest.approx(1.0)


def test_bootstrap_interval_is_a_point_for_identical_images_and_narrows_with_more_images():
    from segsearch.training._metrics import bootstrap_interval

    same = torch.tensor([[3, 1]] * 8), torch.tensor([[1, 1]] * 8), torch.tensor([[1, 0]] * 8)
    lo, hi = bootstrap_interval(*same)
    assert lo == pytest.approx(hi) == pytest.approx((3 / 5 + 1 / 2) / 2)
    g = torch.Generator().manual_seed(1)
    tp, fp, fn = (torch.randint(0, 50, (10, 3), generator=g) for _ in range(3))
    few = bootstrap_interval(tp, fp, fn)
    many = bootstrap_interval(tp.repeat(10, 1), fp.repeat(10, 1), fn.repeat(10, 1))
    assert few is not None and many is not None
    assert few[0] < many[0] < many[1] < few[1]  # the same images, ten times as many: a narrower interval
    assert bootstrap_interval(tp[:1], fp[:1], fn[:1]) is None


def test_bootstrap_leaves_a_class_out_of_a_resample_without_it_never_counts_it_as_one():
    from segsearch.training._metrics import bootstrap_interval

    # class 0: IoU 0.5 in every image; class 1 only in the last image, missed there (IoU 0)
    tp = torch.tensor([[2, 0]] * 4)
    fp = torch.tensor([[1, 0]] * 4)
    fn = torch.tensor([[1, 0]] * 3 + [[1, 6]])
    lo, hi = bootstrap_interval(tp, fp, fn)
    assert hi == pytest.approx(0.5)  # resamples without the last image: class 0 alone (1.0 for class 1: 0.75)
    assert lo == pytest.approx(0.25)  # with it: (0.5 + 0) / 2
