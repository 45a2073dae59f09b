"""The CLI starts fast: no torch (or smp/optuna) import for --help."""

import subprocess
import sys


def test_help_imports_no_heavy_library():
    code = ("import sys, segsearch.cli as c\n"
            "heavy = [m for m in ('torch', 'segmentation_models_pytorch', 'optuna', 'albumentations', 'wandb')"
            " if m in sys.modules]\n"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "segsearch", "--help"], capture_output=True, text=True, check=True)
    for cmd in ("launch", "worker", "status", "demo-data"):
        assert cmd in out.stdout
