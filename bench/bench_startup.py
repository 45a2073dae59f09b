"""Light commands: how long the CLI's error paths take, as a ratio to ``segsearch --help`` in the same run.

Each command runs in a fresh interpreter, alternating with ``--help`` (A B A B); the figure is the median of
the per-pair ratios. Target: every error path at most 2x ``--help`` (it reads no dataset and imports no torch).

    python bench/bench_startup.py              # ~1 min
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, median

TARGET = 2.0


def _seconds(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "segsearch", *argv], capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "empty").mkdir()
        cases = {
            "status of a missing study": ["status", "nosuch", "--studies-dir", tmp],
            "status listing the studies": ["status", "--studies-dir", tmp],
            "plan of a missing folder": ["plan", f"{tmp}/nowhere"],
            "plan of an empty folder": ["plan", f"{tmp}/empty"],
            "launch of a missing YAML": ["launch", f"{tmp}/nowhere.yaml"],
            "--version": ["--version"],
        }
        _seconds(["--help"])  # warm the file cache
        figures, lines = {}, []
        help_s = []
        for name, argv in cases.items():
            ratios = []
            for r in range(args.reps):
                pair = {}
                for who in (("help", "cmd") if r % 2 == 0 else ("cmd", "help")):
                    pair[who] = _seconds(["--help"] if who == "help" else argv)
                ratios.append(pair["cmd"] / pair["help"])
                help_s.append(pair["help"])
            figures[name] = round(median(ratios), 3)
            met = "yes" if figures[name] <= TARGET else "NO"
            lines.append(f"{name}: {figures[name]:.2f}x --help (target <= {TARGET}x): {met}")
    figures["help_seconds"] = round(median(help_s), 3)
    lines.append(f"--help itself: {figures['help_seconds']:.2f} s")
    emit("startup", figures, lines)


if __name__ == "__main__":
    main()
