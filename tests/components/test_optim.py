"""Optimizers by name: torch's fused kernels where the device has them, the same updates as the loop."""

import pytest
import torch

from segsearch.components import build_optimizer


def _params(seed: int = 0) -> list[torch.nn.Parameter]:
    g = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(*shape, generator=g)) for shape in ((8, 3, 3, 3), (8,), (16, 8))]


@pytest.mark.parametrize(("name", "fused"), [("adam", True), ("adamw", True), ("sgd", True), ("rmsprop", None)])
def test_adam_adamw_and_sgd_use_the_fused_kernel_on_the_cpu(name, fused):
    opt = build_optimizer(name, _params(), 1e-3, 1e-4, {})
    assert opt.param_groups[0].get("fused") is fused  # RMSprop has no fused kernel: torch's default


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd"])
def test_fused_steps_match_the_loop_and_resume_from_its_state(name):
    a, b = _params(), _params()
    fused = build_optimizer(name, a, 1e-2, 1e-4, {})
    loop = build_optimizer(name, b, 1e-2, 1e-4, {"fused": False})
    assert not loop.param_groups[0]["fused"]
    for step in range(5):
        for pa, pb in zip(a, b, strict=True):
            pa.grad = pb.grad = torch.full_like(pa, 0.1 * (step + 1)) + pa.detach().sin()
        fused.step()
        loop.step()
    for pa, pb in zip(a, b, strict=True):
        torch.testing.assert_close(pa, pb, rtol=1e-5, atol=1e-6)
    resumed = build_optimizer(name, b, 1e-2, 1e-4, {})  # a checkpoint written by the loop loads into a fused one
    resumed.load_state_dict(loop.state_dict())
    resumed.step()


def test_a_user_s_choice_of_kernel_is_kept_and_unknown_parameters_name_the_valid_ones():
    assert build_optimizer("adam", _params(), 1e-3, 0.0, {"foreach": True}).param_groups[0]["foreach"] is True
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['fuse'\]; valid: .*'fused'"):
        build_optimizer("adamw", _params(), 1e-3, 0.0, {"fuse": True})


def _rates(scheduler, optimizer, epochs: int) -> list[float]:
    rates = []
    for _ in range(epochs):
        rates.append(optimizer.param_groups[0]["lr"] / 1e-3)
        optimizer.step()
        scheduler.step_epoch(0.0)
    return rates


def test_wsd_holds_the_peak_rate_then_decays_linearly_and_follows_a_retimed_end():
    from segsearch.components import Scheduler

    opt = torch.optim.SGD(_params(), lr=1e-3)
    wsd = Scheduler("wsd", opt, 10, 4, {}, True)
    assert wsd.impl.decay_start() == 8  # the last epoch at the peak: a continuation starts from its weights
    assert _rates(wsd, opt, 10) == pytest.approx([1.0] * 8 + [2 / 3, 1 / 3])
    # a deadline re-plan moves the end (T_max, as for cosine) and the decay with it, from the epoch reached
    opt = torch.optim.SGD(_params(), lr=1e-3)
    wsd = Scheduler("wsd", opt, 10, 4, {"decay": 0.5}, True)
    assert _rates(wsd, opt, 3) == [1.0, 1.0, 1.0]
    wsd.impl.T_max = 20
    assert wsd.impl.decay_start() == 10
    assert _rates(wsd, opt, 17) == pytest.approx([1.0] * 7 + [(20 - e) / 11 for e in range(10, 20)])
    resumed = Scheduler("wsd", torch.optim.SGD(_params(), lr=1e-3), 10, 4, {"decay": 0.5}, True)
    resumed.load_state_dict(wsd.state_dict())
    assert (resumed.impl.T_max, resumed.impl.last_epoch) == (20, 20)
    with pytest.raises(ValueError, match=r"wsd: decay must be in \(0, 1\], got 0.0"):
        Scheduler("wsd", opt, 10, 4, {"decay": 0.0}, True)


def test_wsd_decay_start_is_a_function_of_epochs_and_decay():
    from segsearch.components._optim import wsd_decay_start

    assert [wsd_decay_start(n) for n in (1, 2, 5, 10, 40)] == [0, 1, 4, 8, 32]
    assert wsd_decay_start(10, 1.0) == 0  # all decay: no peak-rate epoch to continue from
    assert wsd_decay_start(100, 0.001) == 99  # at least one epoch of decay
