"""Deployment cost measured before a trial trains: latency, peak memory, parameters, FLOPs (real smp models)."""

from __future__ import annotations

import pytest
import torch

from segsearch.components import build_model, measure_cost


@pytest.fixture(scope="module")
def unet() -> torch.nn.Module:
    return build_model("unet", "resnet18", None, 5, 3, 2, {})


def test_cost_of_a_model_at_two_batch_sizes(unet):
    weights_mib = sum(p.numel() * p.element_size() for p in unet.parameters()) / 2**20
    one = measure_cost(unet, 3, (64, 64), "cpu", batch_size=1, warmup=1, repeats=2)
    four = measure_cost(unet, 3, (64, 64), "cpu", batch_size=4, warmup=1, repeats=2)
    assert one.params_m == four.params_m == pytest.approx(14.33, abs=0.01)
    assert four.flops_g == pytest.approx(4 * one.flops_g, rel=1e-6)  # FLOPs scale with the batch
    assert one.latency_ms > 0 and four.latency_ms > 0
    # peak memory: the weights plus the activations alive at once; activations grow with the batch
    act_one, act_four = one.peak_memory_mb - weights_mib, four.peak_memory_mb - weights_mib
    assert act_one > 1.0  # at least the first conv's 64 x 32 x 32 float output (0.25 MiB) and more
    assert act_four == pytest.approx(4 * act_one, rel=0.05)
    assert set(one.metrics()) == {"latency_ms", "peak_memory_mb", "params_m", "flops_g"}


def test_peak_memory_grows_with_the_image(unet):
    small = measure_cost(unet, 3, (32, 32), "cpu", warmup=0, repeats=1)
    large = measure_cost(unet, 3, (128, 128), "cpu", warmup=0, repeats=1)
    assert large.peak_memory_mb > small.peak_memory_mb
