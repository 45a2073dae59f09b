"""Every loss against values computed by hand on small tensors."""

import math

import pytest
import torch
import torch.nn.functional as F

from segsearch.components import build_loss

LOGITS = torch.tensor([[[[2.0, -1.0], [0.5, -3.0]]]])  # (1,1,2,2) binary logits
TARGET = torch.tensor([[[[1, 0], [1, 1]]]])
P = torch.sigmoid(LOGITS).flatten()
T = TARGET.flatten().float()


def test_ce_multiclass_matches_log_softmax():
    logits = torch.tensor([[[[1.0]], [[2.0]], [[0.5]]]])  # (1,3,1,1)
    target = torch.tensor([[[1]]])
    expected = -math.log(math.exp(2.0) / (math.exp(1.0) + math.exp(2.0) + math.exp(0.5)))
    assert build_loss("ce", {}, "multiclass", 3)(logits, target).item() == pytest.approx(expected, rel=1e-5)


def test_weighted_ce_uses_given_and_auto_weights():
    logits = torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    target = torch.randint(0, 3, (2, 4, 4), generator=torch.Generator().manual_seed(1))
    w = [0.2, 1.0, 5.0]
    expected = F.cross_entropy(logits, target, weight=torch.tensor(w))
    given = build_loss("wce", {"class_weights": w}, "multiclass", 3)(logits, target)
    auto = build_loss("wce", {}, "multiclass", 3, class_weights=w)(logits, target)
    assert given.item() == pytest.approx(expected.item(), rel=1e-6)
    assert auto.item() == pytest.approx(expected.item(), rel=1e-6)
    with pytest.raises(ValueError, match="auto"):
        build_loss("wce", {}, "multiclass", 3)


def test_dice_binary():
    dice = 2 * (P * T).sum() / (P.sum() + T.sum())
    assert build_loss("dice", {}, "binary", 1)(LOGITS, TARGET).item() == pytest.approx(1 - dice.item(), rel=1e-5)


def test_jaccard_binary():
    inter = (P * T).sum()
    iou = inter / (P.sum() + T.sum() - inter)
    assert build_loss("jaccard", {}, "binary", 1)(LOGITS, TARGET).item() == pytest.approx(1 - iou.item(), rel=1e-5)


def test_focal_binary_with_alpha_gamma():
    alpha, gamma = 0.25, 2.0
    pt = torch.where(T == 1, P, 1 - P)
    at = torch.where(T == 1, torch.tensor(alpha), torch.tensor(1 - alpha))
    expected = (-(at * (1 - pt) ** gamma * torch.log(pt))).mean()
    got = build_loss("focal", {"alpha": alpha, "gamma": gamma}, "binary", 1)(LOGITS, TARGET)
    assert got.item() == pytest.approx(expected.item(), rel=1e-4)


def test_tversky_binary():
    alpha, beta = 0.3, 0.7
    tp, fp, fn = (P * T).sum(), (P * (1 - T)).sum(), ((1 - P) * T).sum()
    expected = 1 - tp / (tp + alpha * fp + beta * fn)
    got = build_loss("tversky", {"alpha": alpha, "beta": beta}, "binary", 1)(LOGITS, TARGET)
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)


def test_lovasz_hinge_by_hand():
    # logits [2, -1], both positive: errors [-1, 2] -> sorted [2, -1], lovasz gradient [0.5, 0.5] -> 1.0
    logits = torch.tensor([[[[2.0, -1.0]]]])
    target = torch.tensor([[[[1, 1]]]])
    assert build_loss("lovasz", {}, "binary", 1)(logits, target).item() == pytest.approx(1.0, rel=1e-6)


def test_weighted_sum_of_ce_and_dice():
    logits = torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(2))
    target = torch.randint(0, 3, (2, 4, 4), generator=torch.Generator().manual_seed(3))
    ce = build_loss("ce", {}, "multiclass", 3)(logits, target)
    dice = build_loss("dice", {}, "multiclass", 3)(logits, target)
    got = build_loss("ce+dice", {"weight": 0.7}, "multiclass", 3)(logits, target)
    assert got.item() == pytest.approx(0.7 * ce.item() + 0.3 * dice.item(), rel=1e-6)


def test_ignore_index_pixels_do_not_count():
    logits = torch.tensor([[[[3.0, -2.0]], [[-1.0, 4.0]]]])  # (1,2,1,2)
    target = torch.tensor([[[0, 255]]])
    only_first = F.cross_entropy(logits[..., :1], target[..., :1])
    assert build_loss("ce", {}, "multiclass", 2, ignore_index=255)(logits, target).item() == pytest.approx(only_first.item())


@pytest.mark.parametrize("name", ["ce", "dice", "focal", "jaccard", "lovasz", "tversky", "ce+dice", "focal+dice"])
@pytest.mark.parametrize("mode", ["binary", "multiclass", "multilabel"])
def test_every_loss_runs_in_every_mode_and_backpropagates(name, mode):
    c = 1 if mode == "binary" else 3
    logits = torch.randn(2, c, 8, 8, requires_grad=True)
    if mode == "multiclass":
        target = torch.randint(0, c, (2, 8, 8))
    else:
        target = torch.randint(0, 2, (2, c, 8, 8))
    loss = build_loss(name, {}, mode, c)(logits, target)
    loss.backward()
    assert torch.isfinite(loss) and logits.grad is not None


def test_unknown_parameter_is_named_with_valid_ones():
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['gama'\].*gamma"):
        build_loss("focal", {"gama": 2}, "binary", 1)


@pytest.mark.parametrize("mode", ["binary", "multiclass"])
def test_focal_with_gamma_below_one_keeps_gradients_finite_on_confident_pixels(mode):
    # (1 - pt) ** gamma has an infinite derivative at pt == 1 when gamma < 1 (smp's version gives NaN)
    c = 1 if mode == "binary" else 3
    logits = torch.full((1, c, 2, 2), -50.0)
    logits[:, 0] = 50.0
    logits.requires_grad_(True)
    target = torch.ones(1, 1, 2, 2, dtype=torch.long) if mode == "binary" else torch.zeros(1, 2, 2, dtype=torch.long)
    loss = build_loss("focal", {"gamma": 0.6}, mode, c)(logits, target)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
