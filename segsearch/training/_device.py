"""Device, precision and thread choices; the GPU-only branches are small and explicit."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import os
import resource
import sys
from dataclasses import dataclass

import torch

log = logging.getLogger(__name__)
_told: set[str] = set()


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    amp_dtype: torch.dtype | None  # None = full precision
    channels_last: bool

    @property
    def precision(self) -> str:
        """What the network computes in: ``fp32``, ``bf16`` or ``fp16`` (weights stay fp32)."""
        if self.amp_dtype is None:
            return "fp32"
        return "bf16" if self.amp_dtype == torch.bfloat16 else "fp16"

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)


def resolve_device(name: str) -> torch.device:
    name = name.lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} was asked for but CUDA is not available here; use --device cpu")
    return torch.device(name)


def make_runtime(device: str, amp: str, channels_last: bool) -> Runtime:
    dev = resolve_device(device)
    dtype: torch.dtype | None = None
    if dev.type == "cuda":  # GPU-only: mixed precision, cudnn autotuning
        torch.backends.cudnn.benchmark = True
        if amp == "auto":
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        elif amp in ("bf16", "fp16"):
            dtype = torch.bfloat16 if amp == "bf16" else torch.float16
    else:
        if amp == "bf16" or (amp == "auto" and dev.type == "cpu" and cpu_has_native_bf16()):
            dtype = torch.bfloat16
            _tell_once("cpu_bf16", "CPU: training under bf16 autocast (%s; train.amp: off for full precision)",
                       "asked for" if amp == "bf16" else "the CPU has native bf16 instructions")
        torch.set_num_threads(_cpu_threads())
        keep_freed_memory()
    return Runtime(dev, dtype, channels_last and dev.type == "cuda")


# glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_MAX = 32 << 20  # the largest mmap threshold glibc accepts on 64-bit (HEAP_MAX_SIZE / 2)


@functools.cache  # once per process: the setting is process-wide
def keep_freed_memory() -> bool:
    """Have glibc keep the memory training frees for the next step instead of returning it to the OS.

    By default glibc gives freed blocks back (blocks over a moving threshold are unmapped, the heap's top is
    trimmed), so each step's activations and bf16 weight copies land in fresh pages the kernel must fault in and
    zero again: on one CPU core that cost segsearch 3-4% of its time in the kernel and 6% slower epochs than the
    same model in a short script whose heap happened to settle (bench/LATEST.md, 'Where the launch's epochs went').
    Blocks up to 32 MiB now come from the heap, and its free top is kept. Peak memory is what training needs
    anyway. Left alone where the user set glibc's malloc tunables, and off glibc (macOS, musl: a no-op)."""
    if sys.platform != "linux" or "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", "") or any(
            k.startswith("MALLOC_") and k.endswith("_") for k in os.environ):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_MAX)) and bool(mallopt(_M_TRIM_THRESHOLD, 1 << 30))


def cpu_has_native_bf16() -> bool:
    """Whether the CPU computes bf16 in hardware (AVX512-BF16 or AMX: recent Xeon and EPYC). There bf16 autocast
    trains 1.5-1.8x faster than fp32, models as good within training noise (bench/LATEST.md, 'bf16 on the CPU'); elsewhere oneDNN
    emulates it and it is slower, so ``amp: auto`` stays in full precision."""
    cpu = getattr(torch, "cpu", None)
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


def _tell_once(key: str, msg: str, *args: object) -> None:
    if key not in _told:
        _told.add(key)
        log.info(msg, *args)


def _cpu_threads() -> int:
    env = os.environ.get("SEGSEARCH_THREADS")
    if env:
        return max(1, int(env))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def peak_memory_mb(rt: Runtime) -> float:
    if rt.is_cuda:
        return torch.cuda.max_memory_allocated(rt.device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def release_memory() -> None:
    """Free what a failed attempt left: unreachable objects, CUDA's cached blocks, and on glibc the heap's free
    memory that ``keep_freed_memory`` otherwise keeps (``malloc_trim``): a retry after running out of memory
    needs that room back."""
    import gc

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    if sys.platform == "linux":
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc
            pass
