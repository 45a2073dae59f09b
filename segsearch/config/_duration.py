"""Wall-clock budgets as people write them (``90s``, ``8m``, ``1h30m``, ``2.5h``) and the process's start."""

from __future__ import annotations

import os
import re
import time

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")


def parse_duration(text: str | float | int, what: str = "--budget") -> float:
    """Seconds from '8m', '30m', '8h', '1h30m', '90s' or a plain number of seconds; ValueError otherwise."""
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        raw = str(text).strip().lower().replace(" ", "")
        if re.fullmatch(r"\d+(\.\d+)?", raw):
            seconds = float(raw)
        elif raw and _PART.sub("", raw) == "":
            seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(raw))
        else:
            raise ValueError(f"{what} {text!r} is not a duration; write e.g. 90s, 8m, 30m, 1h30m or 8h")
    if seconds <= 0:
        raise ValueError(f"{what} {text!r} must be above zero")
    return seconds


def process_started() -> float:
    """When this process started, as ``time.time()``: a budget covers the interpreter's start-up and imports."""
    try:
        with open("/proc/self/stat") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return _IMPORTED


_IMPORTED = time.time()
