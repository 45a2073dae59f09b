import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("SEGSEARCH_THREADS", "2")


@pytest.fixture
def studies(tmp_path: Path) -> Path:
    d = tmp_path / "studies"
    d.mkdir()
    return d
