"""study.keep on a real SQLite study with real trial folders: what finished trials keep on disk."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import yaml
from optuna.trial import TrialState
from typer.testing import CliRunner

from segsearch.search import retain


def _study(tmp_path: Path) -> optuna.Study:
    study = optuna.create_study(study_name="kept", storage=f"sqlite:///{tmp_path / 'study.db'}",
                                direction="maximize")
    for n, (state, value) in enumerate([(TrialState.COMPLETE, 0.5), (TrialState.COMPLETE, 0.7),
                                        (TrialState.PRUNED, None), (TrialState.FAIL, None)]):
        run_dir = tmp_path / "trials" / f"{n:05d}"
        run_dir.mkdir(parents=True)
        (run_dir / "last.pt").write_bytes(b"x" * 1000)
        (run_dir / "best.pt").write_bytes(b"x" * 300)
        (run_dir / "stable.pt").write_bytes(b"x" * 200)  # scheduler: wsd, the weights before the decay
        study.add_trial(optuna.trial.create_trial(state=state, value=value, user_attrs={"run_dir": str(run_dir)},
                                                  intermediate_values={1: 0.1} if state == TrialState.PRUNED else None))
    return study


def _left(tmp_path: Path) -> dict[int, list[str]]:
    return {n: sorted(p.name for p in (tmp_path / "trials" / f"{n:05d}").iterdir()) for n in range(4)}


@pytest.mark.parametrize(("keep", "freed", "left"), [
    ("all", 0, {0: ["best.pt", "last.pt", "stable.pt"], 2: ["best.pt", "last.pt", "stable.pt"]}),
    ("best", 2400, {0: ["best.pt"], 2: ["best.pt"]}),  # finished trials drop what only a continuation reads
    ("none", 3000, {0: [], 2: []}),
])
def test_finished_trials_drop_what_the_policy_says_and_the_best_and_failed_keep_all(tmp_path, keep, freed, left):
    study = _study(tmp_path)
    assert retain(study, keep) == freed
    got = _left(tmp_path)
    assert {0: got[0], 2: got[2]} == left
    assert got[1] == ["best.pt", "last.pt", "stable.pt"]  # the best trial: the final stage continues from it
    assert got[3] == ["best.pt", "last.pt", "stable.pt"]  # a failed attempt: its retry resumes from last.pt
    assert retain(study, keep) == 0  # nothing left to free


def test_clean_reports_the_space_freed(tmp_path):
    from segsearch.cli import app
    from segsearch.config import load_config_text
    from segsearch.search._study import CONFIG_ATTR

    from helpers import tiny_doc

    studies = tmp_path / "studies"
    (studies / "kept").mkdir(parents=True)
    study = _study(studies / "kept")
    cfg = load_config_text(yaml.safe_dump(tiny_doc(study={"name": "kept"})))
    study.set_user_attr(CONFIG_ATTR, cfg.model_dump_json())
    res = CliRunner().invoke(app, ["clean", "kept", "--studies-dir", str(studies), "--keep", "nothing"])
    assert res.exit_code == 2 and "best, none, all" in res.output
    res = CliRunner().invoke(app, ["clean", "kept", "--studies-dir", str(studies)])
    assert res.exit_code == 0 and "keep best: 0.0 MB freed" in res.output, res.output
    assert not (studies / "kept" / "trials" / "00000" / "last.pt").exists()
