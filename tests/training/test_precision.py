"""Precision on the CPU: ``amp: auto`` uses bf16 autocast where the CPU computes bf16 in hardware."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from segsearch.config import load_config_text
from segsearch.data import load_splits
from segsearch.training import RunSpec, make_runtime, train
from segsearch.training._device import cpu_has_native_bf16

from helpers import tiny_doc


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        pytest.skip("no /proc/cpuinfo to read the CPU's flags from")
    lines = [ln for ln in text.splitlines() if ln.startswith("flags")]
    return set(lines[0].split(":", 1)[1].split()) if lines else set()


def test_native_bf16_is_what_the_cpu_flags_say():
    flags = _cpu_flags()
    assert cpu_has_native_bf16() == bool(flags & {"avx512_bf16", "amx_bf16", "amx_tile"})


@pytest.mark.parametrize(("amp", "native", "expected"), [
    ("auto", True, torch.bfloat16),
    ("auto", False, None),  # emulated bf16 is slower than fp32: full precision
    ("off", True, None),
    ("bf16", False, torch.bfloat16),  # asked for: always
    ("fp16", True, None),  # fp16 autocast is a CUDA choice; on the CPU it means full precision
])
def test_cpu_precision_by_setting(amp, native, expected):
    if native != cpu_has_native_bf16() and amp == "auto":
        pytest.skip(f"this CPU {'has' if cpu_has_native_bf16() else 'lacks'} native bf16")
    rt = make_runtime("cpu", amp, channels_last=True)
    assert rt.amp_dtype == expected
    assert rt.precision == {torch.bfloat16: "bf16", None: "fp32"}[expected]
    assert not rt.channels_last  # channels-last is a GPU path


def test_a_bf16_run_on_the_cpu_trains_and_keeps_full_precision_weights(tmp_path: Path, studies: Path):
    doc = tiny_doc(train={"epochs": 2, "amp": "bf16", "architecture": "unet", "lr": 3e-3})
    cfg = load_config_text(yaml.safe_dump(doc))
    splits = load_splits(cfg.data, studies)
    result = train(RunSpec(train=cfg.train, data=cfg.data, splits=splits, run_dir=tmp_path / "run"))
    assert result.precision == "bf16"
    losses = [h.train_loss for h in result.history]
    assert len(losses) == 2 and all(0 < x < 10 for x in losses)
    assert 0 <= result.best_value <= 1
    state = torch.load(tmp_path / "run" / "last.pt", map_location="cpu", weights_only=False)["model"]
    floats = [v.dtype for v in state.values() if v.is_floating_point()]
    assert floats and set(floats) == {torch.float32}  # autocast computes in bf16; the weights stay fp32
