"""What a finished trial keeps on disk (``study.keep``): a 60-trial study kept ~12 GB of checkpoints.

* ``best`` (default): every finished (complete or pruned) trial keeps ``best.pt`` (its best weights: the
  prediction previews, the report) and drops ``last.pt`` (the resume checkpoint, with the optimizer state),
  and ``stable.pt`` (``scheduler: wsd``), except the study's best trial, whose ``last.pt`` or ``stable.pt`` the
  final stage continues from under a budget;
* ``none``: finished trials drop both, except the study's best trial;
* ``all``: nothing is dropped.

Trials that failed keep everything: a re-queued attempt resumes from ``last.pt``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import optuna
from optuna.trial import TrialState

from .. import rundir

log = logging.getLogger(__name__)

KEEP = ("best", "none", "all")


def retain(study: optuna.Study, keep: str = "best") -> int:
    """Apply the retention policy to the study's finished trials; returns the bytes freed."""
    if keep not in KEEP:
        raise ValueError(f"keep {keep!r}: valid choices are {', '.join(KEEP)}")
    if keep == "all":
        return 0
    finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    from ._multi import best_trial

    top = best_trial(study)
    best = None if top is None else top.number
    names = (rundir.LAST, rundir.STABLE) if keep == "best" else (rundir.LAST, rundir.STABLE, rundir.BEST)
    freed = 0
    for t in finished:
        run_dir = t.user_attrs.get("run_dir")
        if t.number == best or not run_dir:
            continue
        for name in names:
            path = Path(run_dir) / name
            try:
                size = path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("trial %d: could not remove %s: %s", t.number, path, exc)
                continue
            freed += size
    return freed
