"""A CPU runtime keeps the memory a training step frees for the next step (glibc would return it to the OS, and
every step would fault the same pages in again). Each case runs in a fresh interpreter: glibc's thresholds are
per process and move as memory is freed."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux" or platform.libc_ver()[0] != "glibc",
                                reason="glibc's malloc only")

# a step's worth of activations: 24 tensors of 4 MiB, then all freed. The first step faults its pages in; the
# page faults of the next three are counted. (Under glibc's defaults the second step always faults them all in
# again; the third and fourth vary from run to run, as glibc's thresholds move.)
_STEPS = """
import resource, sys, torch
from segsearch.training import make_runtime
if sys.argv[1] == "runtime":
    make_runtime("cpu", "off", False)
def step():
    xs = [torch.ones(1024 * 1024) for _ in range(24)]
    del xs
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
_PAGES = 96 * 2**20 // os.sysconf("SC_PAGE_SIZE")  # one step's pages


def _faults(mode: str, **env: str) -> int:
    clean = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES" and not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", _STEPS, mode], env={**clean, **env}, capture_output=True,
                         text=True, check=True)
    return int(out.stdout.split()[-1])


def test_a_cpu_runtime_reuses_freed_memory_instead_of_faulting_it_in_again():
    assert _faults("plain") > 0.75 * _PAGES  # glibc's default: what a step freed went back to the OS
    assert _faults("runtime") < 0.4 * _PAGES  # measured: 0-12% of one step's pages over the three


def test_the_users_own_malloc_tunables_are_left_alone():
    # a user who tunes glibc's malloc (here: its default mmap threshold, held fixed) keeps that behaviour
    assert _faults("runtime", GLIBC_TUNABLES="glibc.malloc.mmap_threshold=131072") > 0.75 * _PAGES
