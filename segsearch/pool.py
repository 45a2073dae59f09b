"""Several worker processes on one machine: one per GPU (CUDA_VISIBLE_DEVICES) or N on the CPU.

The storage URL reaches the children through SEGSEARCH_STORAGE, never argv (``ps`` shows argv).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def parse_gpus(spec: str | list[str] | None) -> list[str]:
    if not spec:
        return []
    items = spec if isinstance(spec, list) else [spec]
    if items == ["all"]:
        import torch

        n = torch.cuda.device_count()
        if n == 0:
            raise ValueError("--gpus all: no CUDA device is visible here; use --workers N to run on the CPU")
        return [str(i) for i in range(n)]
    out = [g.strip() for item in items for g in str(item).split(",") if g.strip()]
    bad = [g for g in out if not g.isdigit()]
    if bad:
        raise ValueError(f"--gpus {','.join(items)}: expected 'all' or GPU indices like 0,2,3; got {bad}")
    return out


def worker_commands(study: str, studies_dir: Path, workers: int, gpus: list[str], use_wandb: bool,
                    timeout: float | None, device: str | None) -> list[tuple[list[str], dict[str, str]]]:
    base = [sys.executable, "-m", "segsearch", "worker", "--study", study, "--studies-dir", str(studies_dir)]
    if not use_wandb:
        base.append("--no-wandb")
    if timeout:
        base += ["--timeout", str(timeout)]
    jobs = []
    if gpus:
        for g in gpus:
            jobs.append(([*base, "--device", "cuda"], {"CUDA_VISIBLE_DEVICES": g}))
    else:
        threads = max(1, (os.cpu_count() or 1) // max(1, workers))
        for _ in range(workers):
            jobs.append(([*base, "--device", device or "cpu"], {"SEGSEARCH_THREADS": str(threads)}))
    return jobs


def run_pool(study: str, url: str, studies_dir: Path, workers: int = 1, gpus: list[str] | None = None,
             use_wandb: bool = True, timeout: float | None = None, device: str | None = None) -> bool:
    """Start the workers, forward Ctrl-C/SIGTERM to them, wait. Returns True when interrupted."""
    jobs = worker_commands(study, studies_dir, workers, gpus or [], use_wandb, timeout, device)
    procs = []
    for cmd, extra in jobs:
        env = {**os.environ, **extra, "SEGSEARCH_STORAGE": url}
        procs.append(subprocess.Popen(cmd, env=env, start_new_session=True))
    log.info("started %d worker process(es)%s", len(procs), f" on GPUs {','.join(gpus)}" if gpus else "")
    interrupted = False

    def forward(signum, frame):
        nonlocal interrupted
        interrupted = True
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM if not _forwarded.get("once") else signal.SIGINT)
        _forwarded["once"] = True

    _forwarded: dict[str, bool] = {}
    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        codes = [p.wait() for p in procs]
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    failed = [c for c in codes if c not in (0, 130)]
    if failed:
        log.warning("%d worker process(es) exited with an error: %s", len(failed), failed)
    return interrupted
