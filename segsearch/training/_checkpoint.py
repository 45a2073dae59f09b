"""Atomic checkpoints: write a temp file, then rename over the old one.

``CheckpointWriter`` on a GPU takes the write off the training path: it snapshots the state to the
CPU (a copy torch.save would make anyway) and a background thread writes it while the GPU trains
on. On the CPU it writes in place: a copy there costs as much as the write (measured in
bench/bench_overhead.py) and a writer thread would compete with training for the cores. A crash
mid-write leaves the previous checkpoint intact; ``close`` waits for every queued write.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from pathlib import Path
from typing import Any

import torch

from ..errors import DiskFull, is_disk_full


def save_atomic(obj: Any, path: Path) -> None:
    """Write ``obj`` to a temp file, then rename it over ``path``: a failed write removes its temp file and
    leaves the previous file as it was. A full disk raises ``DiskFull`` (torch's own message for it reads
    "unexpected pos ...")."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with tmp.open("wb") as f:  # closed on failure too: an open handle would keep the space taken
            torch.save(obj, f)
        os.replace(tmp, path)
    except BaseException as exc:
        usage = _usage(tmp)  # before the temp file goes: what the write ran into
        tmp.unlink(missing_ok=True)
        if interrupted(exc):  # Ctrl-C mid-write: the worker hands the trial back, as anywhere else
            raise KeyboardInterrupt from exc
        full = is_disk_full(exc) or (usage is not None and usage[0] < 2**20)
        if full:
            detail = str(exc).splitlines()[0] if isinstance(exc, OSError) else ""  # torch's reads "unexpected pos"
            raise DiskFull(path, detail, usage) from exc
        raise


def interrupted(exc: BaseException | None) -> bool:
    """Whether ``exc`` is, or was raised while handling, a KeyboardInterrupt: torch.save turns one raised in
    the middle of writing a tensor's bytes (a second Ctrl-C) into RuntimeError "unexpected pos ...", which
    would fail the trial (or read as a full disk) instead of handing it back."""
    while exc is not None:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__context__
    return False


def _usage(path: Path) -> tuple[int, int] | None:
    """(free, total) bytes of the filesystem holding ``path``."""
    import shutil

    try:
        u = shutil.disk_usage(path.parent)
    except OSError:
        return None
    return u.free, u.total


def load(path: Path, device: torch.device | str = "cpu") -> dict[str, Any] | None:
    if not path.is_file():
        return None
    return torch.load(path, map_location=device, weights_only=False)


def snapshot(obj: Any) -> Any:
    """A deep copy whose tensors live on the CPU and share nothing with the originals."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: snapshot(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(snapshot(v) for v in obj)
    return obj


class CheckpointWriter:
    """Writes checkpoints in order on one background thread (at most one waiting, to bound host memory)."""

    def __init__(self, background: bool = True) -> None:
        self.background = background
        self._queue: queue.Queue[tuple[Any, Path, float] | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self.seconds: dict[str, float] = {}  # file name -> what its latest write took (snapshot included)
        self._thread = threading.Thread(target=self._run, daemon=True, name="segsearch-checkpoint")
        if background:
            self._thread.start()

    def save(self, obj: Any, path: Path) -> None:
        t0 = time.perf_counter()
        if not self.background:
            save_atomic(obj, path)
            self.seconds[path.name] = time.perf_counter() - t0
            return
        self._raise()
        self._queue.put((snapshot(obj), path, time.perf_counter() - t0))

    def close(self) -> None:
        """Wait until everything queued is on disk; re-raise a write error."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        self._raise()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            obj, path, copied = item
            t0 = time.perf_counter()
            try:
                save_atomic(obj, path)
                self.seconds[path.name] = copied + time.perf_counter() - t0
            except BaseException as exc:
                self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            err, self._error = self._error, None
            if isinstance(err, DiskFull):
                raise err
            raise RuntimeError(f"writing a checkpoint failed: {err}") from err
