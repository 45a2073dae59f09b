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
    for cmd in ("launch", "worker", "status", "demo-data", "plan"):
        assert cmd in out.stdout
    listed = out.stdout.split("Commands:")[1]
    assert "..." not in listed and "budget is spent." in listed  # each summary whole, not cut at 45 chars


def _heavy_after(*argv: str) -> tuple[int, str, list[str]]:
    """Run the CLI in a fresh interpreter; its exit code, output and the heavy libraries it imported."""
    code = ("import sys\nfrom segsearch.cli import main\nsys.argv = ['segsearch', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\nelse:\n    code = 0\n"
            "heavy = [m for m in ('torch', 'segmentation_models_pytorch', 'albumentations', 'wandb') if m in sys.modules]\n"
            "print('HEAVY=' + ','.join(heavy))\nsys.exit(code)")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
    heavy = out.stdout.rsplit("HEAVY=", 1)[1].strip()
    return out.returncode, out.stdout + out.stderr, [h for h in heavy.split(",") if h]


def test_version_and_error_paths_import_no_heavy_library(tmp_path):
    code, text, heavy = _heavy_after("--version")
    assert code == 0 and text.startswith("segsearch ") and heavy == []
    (tmp_path / "empty").mkdir()
    for argv, needle in ((["plan", str(tmp_path / "nowhere")], "no such folder"),
                         (["plan", str(tmp_path / "empty")], "empty folder"),
                         (["status", "nosuch", "--studies-dir", str(tmp_path)], "no study 'nosuch'"),
                         (["launch", str(tmp_path / "nowhere.yaml")], "no such search-space file or dataset folder")):
        code, text, heavy = _heavy_after(*argv)
        assert code == 2 and needle in text and heavy == [], (argv, text, heavy)


def test_status_without_a_study_lists_the_studies(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "study.db").write_bytes(b"")
    (tmp_path / "not_a_study").mkdir()
    code, text, _ = _heavy_after("status", "--studies-dir", str(tmp_path))
    assert code == 0 and "one" in text and "not_a_study" not in text
