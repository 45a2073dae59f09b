"""The CLI starts fast: no torch (or smp/optuna) import for --help."""

import subprocess
import sys
import time


def test_help_imports_no_heavy_library():
    code = ("import sys, segsearch.cli as c\n"
            "heavy = [m for m in ('torch', 'segmentation_models_pytorch', 'optuna', 'albumentations', 'wandb')"
            " if m in sys.modules]\n"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_help_answers_quickly_and_lists_commands():
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "segsearch", "--help"], capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - t0
    for cmd in ("launch", "worker", "status"):
        assert cmd in out.stdout
    assert elapsed < 5  # generous for a loaded CI machine; typically ~0.3 s (see bench/)
