"""optuna-dashboard on a study's storage, with the trials' prediction previews as Optuna artifacts.

optuna-dashboard has no authentication: it binds 127.0.0.1 unless told otherwise; put it behind a reverse
proxy with a password (or an SSH tunnel) to share it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import rundir
from ..config import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    opened: Any  # search.OpenedStorage: its url goes to Optuna only, its ``shown`` to people
    study: Any | None  # optuna.Study when one was named
    artifacts: Path | None


def resolve(study: str | None, storage: str | None, studies_dir: str | Path = "studies",
            artifacts: str | Path | None = None) -> Target:
    """The storage and artifact folder to serve: a named study's (embedded or given URL), or a bare URL."""
    from ..search import ENV_VAR, OpenedStorage, make_storage, open_storage

    studies_dir = Path(studies_dir)
    if study is None:
        url = storage or os.environ.get(ENV_VAR)
        if not url:
            raise ConfigError("give a STUDY (its embedded storage is studies/<study>/study.db) or --storage URL")
        return Target(OpenedStorage(url, make_storage(url)), None, Path(artifacts) if artifacts else None)
    opened = open_storage(study, storage, studies_dir, existing=True)
    loaded = opened.load(study)  # fails clearly when the study is not there
    return Target(opened, loaded, Path(artifacts) if artifacts else studies_dir / study / "artifacts")


def add_missing_previews(study: Any, studies_dir: str | Path, artifacts: Path, n: int = 4) -> int:
    """Attach prediction previews of finished trials that have a checkpoint but no artifact (trials run
    without tracking). Optuna cannot change a finished trial, so they go on the study, one
    ``trial-<n>-predictions.png`` each. Returns how many were added."""
    import shutil
    import tempfile

    from optuna.artifacts import FileSystemArtifactStore, get_all_artifact_meta, upload_artifact
    from optuna.trial import TrialState

    from ..data import load_splits
    from ..search import stored_config
    from ..tracking import checkpoint_path, predict_samples, prediction_grid
    from ._report import run_dirs

    dirs = run_dirs(study, Path(studies_dir))
    on_study = {m.filename for m in get_all_artifact_meta(study)}
    todo = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
            if not any(k.startswith("artifacts:") for k in t.system_attrs)
            and f"trial-{t.number}-predictions.png" not in on_study
            and t.number in dirs and checkpoint_path(dirs[t.number]) is not None]
    if not todo:
        return 0
    log.info("adding prediction previews of %d trial(s) to the study", len(todo))
    cfg = stored_config(study)
    val = load_splits(cfg.data, studies_dir).val
    artifacts.mkdir(parents=True, exist_ok=True)
    store = FileSystemArtifactStore(str(artifacts))
    with tempfile.TemporaryDirectory() as tmp:
        for t in todo:
            png = dirs[t.number] / rundir.PREVIEW
            if not png.is_file():
                preds = predict_samples(dirs[t.number], val, n)
                prediction_grid(preds, cfg.data, png, title=f"trial {t.number}, epoch {t.user_attrs.get('best_epoch')}")
            named = Path(tmp) / f"trial-{t.number}-predictions.png"
            shutil.copyfile(png, named)
            upload_artifact(artifact_store=store, file_path=str(named), study_or_trial=study, mimetype="image/png")
    return len(todo)


def dashboard_url(host: str, port: int, study: Any | None) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    base = f"http://{shown}:{port}/dashboard"
    if study is None:
        return base
    from ..search import study_id

    return f"{base}/studies/{study_id(study)}"


def serve(target: Target, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Run optuna-dashboard until interrupted (blocks)."""
    import optuna_dashboard
    from optuna.artifacts import FileSystemArtifactStore

    store = None
    if target.artifacts is not None:
        target.artifacts.mkdir(parents=True, exist_ok=True)
        store = FileSystemArtifactStore(str(target.artifacts))
    log.info("optuna-dashboard on %s (artifacts: %s)", target.opened.shown, target.artifacts or "none")
    optuna_dashboard.run_server(target.opened.storage, host=host, port=port, artifact_store=store)


__all__ = ["Target", "add_missing_previews", "dashboard_url", "resolve", "serve"]
