"""Where a budgeted search's epochs went: per trial, what it was, how far it got, why it stopped.

Reads finished studies (the SQLite files ``bench/bench_quality.py`` leaves under its work folder) and prints,
for each, one row per trial and the pruning saving in a real search: the epochs the trials that started
training would have run without pruning (each trial's planned ``epochs_fitted``) over the epochs they ran::

    python bench/search_epochs.py /tmp/segsearch_bench/quality/mri_struct-20m-s1/*.db

No training, a second per study.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def describe(t: FrozenTrial) -> str:
    p = t.params
    return "/".join(str(p[k]) for k in ("architecture", "encoder", "loss") if k in p) + (
        f" lr {p['lr']:.1e}" if "lr" in p else "")


def outcome(t: FrozenTrial) -> str:
    ua = t.user_attrs
    if t.state == TrialState.COMPLETE:
        return "complete"
    if ua.get("infeasible"):
        return f"infeasible ({ua.get('fail_reason')})"
    if t.state == TrialState.PRUNED:
        return "pruned"
    return f"{t.state.name.lower()} ({ua.get('fail_reason', '')})"


def summarise(db: Path) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{db}"
    for summary in optuna.get_all_study_summaries(storage):
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        print(f"\n{db}: study {summary.study_name}")
        print("| # | configuration | outcome | epochs run / planned | best validation |")
        print("|---|---|---|---|---|")
        ran = planned = 0
        kinds: Counter[str] = Counter()
        for t in study.trials:
            run = len(t.intermediate_values)
            plan = int(t.user_attrs.get("epochs_fitted", run))
            kind = outcome(t)
            kinds[kind.split(" ")[0]] += 1
            best = max(t.intermediate_values.values()) if t.intermediate_values else None
            if run:
                ran, planned = ran + run, planned + max(plan, run)
            print(f"| {t.number} | {describe(t)} | {kind} | {run} / {plan} |"
                  f" {'' if best is None else f'{best:.3f}'} |")
        print(f"outcomes: {dict(kinds)}; epochs run {ran}, without pruning {planned}: saving "
              f"x{planned / ran:.2f}" if ran else "no epochs run")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", nargs="+", type=Path, help="study SQLite files")
    for db in ap.parse_args().db:
        summarise(db)


if __name__ == "__main__":
    main()
