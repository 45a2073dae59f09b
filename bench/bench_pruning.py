"""Figure 4, pruning saving: total epochs trained without pruning divided by total epochs with a pruner,
over 10 seeds, replaying learning curves of real trials (``bench/data/curves.json``, made once by
``record_curves.py``) through Optuna's pruners as segsearch builds them (``build_pruner``).

Each seed replays every recorded configuration once, in a random order, as a trial of a fresh study:
the trial reports its validation mIoU epoch by epoch and stops when the pruner says so; a finished
trial's value is its best epoch (what segsearch records). A seed counts as "equal best score" when the
best value found with pruning equals the best without, and "best pruned" when the configuration that
finishes best without pruning was pruned. Target: at least 3x fewer epochs, the best never pruned.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import DATA, emit, median, quiet_logs  # noqa: E402

PRUNERS = {
    "median": {"n_startup_trials": 5, "n_warmup_steps": 1},
    "percentile": {"n_startup_trials": 5, "n_warmup_steps": 1},
    "asha": {"min_resource": 1, "reduction_factor": 3},
    "hyperband": {"min_resource": 1, "reduction_factor": 3},
}


def replay(curves: list[list[float]], pruner_name: str, args: dict, epochs: int, seed: int) -> dict:
    import optuna

    from segsearch.config import StudyConfig
    from segsearch.search import build_pruner

    cfg = StudyConfig(name="replay", pruner={"name": pruner_name, "args": args})
    study = optuna.create_study(direction="maximize", pruner=build_pruner(cfg, epochs),
                                sampler=optuna.samplers.RandomSampler(seed=seed), study_name=f"replay-{seed}")
    order = list(range(len(curves)))
    random.Random(seed).shuffle(order)
    spent, best, pruned = 0, float("-inf"), set()
    for idx in order:
        trial = study.ask()
        curve = curves[idx]
        for step, value in enumerate(curve, start=1):
            trial.report(value, step)
            spent += 1
            if step < len(curve) and trial.should_prune():
                pruned.add(idx)
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                break
        else:
            study.tell(trial, max(curve))
            best = max(best, max(curve))
    return {"epochs": spent, "best": best, "pruned": pruned}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--curves", type=Path, default=DATA / "curves.json")
    ap.add_argument("--seeds", type=int, default=10)
    args = ap.parse_args()
    quiet_logs()
    doc = json.loads(args.curves.read_text())
    curves = [c["miou"] for c in doc["curves"]]
    epochs = max(len(c) for c in curves)
    full = sum(len(c) for c in curves)
    best_all = max(max(c) for c in curves)
    best_idx = max(range(len(curves)), key=lambda i: max(curves[i]))
    figs: dict = {"curves": len(curves), "epochs_per_trial": epochs, "seeds": args.seeds,
                  "epochs_without_pruning": full, "best_without_pruning": best_all, "pruners": {}}
    lines = [f"{len(curves)} recorded trials x {epochs} epochs = {full} epochs without pruning; best mIoU "
             f"{best_all:.4f} ({doc['curves'][best_idx]['config']})"]
    for name, pargs in PRUNERS.items():
        runs = [replay(curves, name, pargs, epochs, s) for s in range(args.seeds)]
        savings = [full / r["epochs"] for r in runs]
        equal = sum(abs(r["best"] - best_all) < 1e-12 for r in runs)
        best_pruned = sum(best_idx in r["pruned"] for r in runs)
        figs["pruners"][name] = {"args": pargs, "saving_median": round(median(savings), 2),
                                 "saving_min": round(min(savings), 2), "saving_max": round(max(savings), 2),
                                 "epochs_median": median([r["epochs"] for r in runs]),
                                 "seeds_equal_best": equal, "seeds_best_pruned": best_pruned,
                                 "mean_pruned_fraction": round(sum(len(r["pruned"]) for r in runs)
                                                               / (len(runs) * len(curves)), 3)}
        lines.append(f"{name:10s} {pargs}: x{median(savings):.2f} fewer epochs (median; {min(savings):.2f}-"
                     f"{max(savings):.2f}); equal best in {equal}/{args.seeds} seeds; best config pruned in "
                     f"{best_pruned}/{args.seeds}")
    figs["target"] = {"saving": 3.0, "best_pruned": 0}
    emit("pruning", figs, lines)


if __name__ == "__main__":
    main()
