"""What a person sees while a search runs: a terminal (a real pseudo-terminal) and a log without one."""

from __future__ import annotations

import logging
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import yaml

from segsearch.config import load_config_text
from segsearch.data import load_splits
from segsearch.tracking import Progress
from segsearch.training import RunSpec, train

from helpers import tiny_config, tiny_doc

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


def _in_a_terminal(cmd: list[str], cwd: Path) -> str:
    """Run ``cmd`` with a pseudo-terminal as stdout and stderr (as in a shell); return what it showed."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "160", "TERM": "xterm"}
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, cwd=cwd, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=600)
    os.close(leader)
    assert proc.returncode == 0, b"".join(chunks).decode(errors="replace")[-3000:]
    return _ANSI.sub("\n", b"".join(chunks).decode(errors="replace"))


def test_a_terminal_keeps_one_line_per_epoch_and_counts_the_studys_trials(tmp_path: Path):
    cfg = tiny_config(tmp_path, study={"n_trials": 2}, train={"epochs": 2})
    shown = _in_a_terminal([sys.executable, "-m", "segsearch", "launch", str(cfg), "--studies-dir",
                            str(tmp_path / "studies"), "--no-wandb"], tmp_path)
    lines = [ln.strip() for ln in shown.splitlines() if ln.strip()]
    for trial in (0, 1):
        for epoch in (1, 2):
            line = next((ln for ln in lines if ln.startswith(f"trial {trial} epoch {epoch}/2: loss ")), None)
            assert line is not None, f"no line for trial {trial} epoch {epoch} in:\n" + "\n".join(lines[-40:])
            assert "| worst class " in line and " s/epoch" in line  # the 5-class demo: a worst class by name
            assert re.search(r"worst class (background|field|forest|water|road) \d\.\d\d", line)
            assert ("| trial eta " in line) is (epoch == 1)
    assert any("[2/2 trials]" in ln for ln in lines)
    assert not [ln for ln in lines if re.match(r"\[[IWE] \d{4}-", ln)]  # no line in Optuna's own format


def test_without_a_terminal_a_long_epoch_still_prints_its_progress(tmp_path: Path, studies: Path, caplog):
    cfg = load_config_text(yaml.safe_dump(tiny_doc(train={"epochs": 1, "batch_size": 4})))
    spec = RunSpec(train=cfg.train, data=cfg.data, splits=load_splits(cfg.data, studies), run_dir=tmp_path / "run")
    progress = Progress(None, live=False, tick=0.0)  # tick 0: a line at every batch (30 s by default)
    progress.trial_start(7, "", 1)
    with caplog.at_level(logging.INFO, logger="segsearch"):
        train(spec, progress)
    msgs = [r.getMessage() for r in caplog.records]
    batches = [m for m in msgs if m.startswith("trial 7 epoch 1/1: batch ")]
    n = len(spec.splits.train) // 4  # full batches: the loader drops a last batch of a different size
    assert [m.split("batch ")[1].split(" ")[0] for m in batches] == [f"{i}/{n}" for i in range(1, n + 1)]
    assert all("elapsed, epoch eta" in m for m in batches)
    (epoch_line,) = [m for m in msgs if m.startswith("trial 7 epoch 1/1: loss ")]
    assert "worst class" in epoch_line and "trial eta" not in epoch_line  # the last epoch: nothing left
