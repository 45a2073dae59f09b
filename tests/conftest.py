import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import optuna
import pytest

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("SEGSEARCH_THREADS", "2")


@pytest.fixture(scope="session", autouse=True)
def _temporary_files_under_pytest(tmp_path_factory: pytest.TempPathFactory):
    """Temporary files of the tests and of what they start (W&B's offline media and artifact folders, which
    processes ended at once leave behind) go under pytest's own folder, which pytest prunes, not /tmp."""
    tmp = tmp_path_factory.mktemp("tmp", numbered=False)
    old = os.environ.get("TMPDIR")
    os.environ["TMPDIR"], tempfile.tempdir = str(tmp), None
    yield
    if old is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = old
    tempfile.tempdir = None


@pytest.fixture
def studies(tmp_path: Path) -> Path:
    d = tmp_path / "studies"
    d.mkdir()
    return d


# One small real study shared by the results and tracking tests: W&B offline, one trial pruned, previews.
STUDY = "seen"


@dataclass(frozen=True)
class Made:
    name: str
    studies: Path
    config: Path
    result: object  # segsearch.api.LaunchResult

    def study(self) -> optuna.Study:
        from segsearch import api

        return api.load_study(self.name, None, self.studies)


@pytest.fixture(scope="session")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    """Grid order: two healthy learning rates (the pruner's startup trials), then one too small to learn,
    which the median pruner stops after its first epoch."""
    from segsearch import api

    from helpers import tiny_config

    tmp = tmp_path_factory.mktemp("results")
    cfg = tiny_config(
        tmp,
        study={"name": STUDY, "n_trials": 3, "sampler": {"name": "grid"},
               "pruner": {"name": "median", "args": {"n_startup_trials": 2, "n_warmup_steps": 0}}},
        search={"architecture": ["fpn"], "lr": [3.0e-3, 2.0e-3, 1.0e-9]},
        wandb={"enabled": True, "mode": "offline", "project": "segsearch-test", "tags": ["ci"], "log_images": 2},
    )
    res = api.launch(cfg, studies_dir=tmp / "studies", use_wandb=True, live=False)
    return Made(STUDY, tmp / "studies", cfg, res)
