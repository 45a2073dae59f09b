"""Figure 6, worker scaling: trials per minute with k workers on one PostgreSQL study, divided by k times
the rate of one worker, for k = 1, 2, 4, 8; and a check that no trial is lost or run twice.

Each worker is its own process and runs segsearch's claim loop: ``pop_next`` atomically takes the next
queued trial (the budget is held as queued trials, as ``launch`` does), the trial samples two parameters
and reports four epochs (sleeping 0.5 s per epoch, then report + pruning check with the median
pruner), then tells its value. Trials are sleep-dominated so that the 2 cores do not limit the figure.
Workers open the storage first and start together; the clock runs from the start signal to the last
worker's exit. Each k runs twice (1,2,4,8,8,4,2,1) and the median rate counts.

Trials last about 2 s: at 1 s the client-side cost of a trial (Optuna and SQLAlchemy, 0.1-0.2 s of CPU
per trial here) times 8 workers already saturates 2 cores.

Two modes: ``queued`` (a budget of 6 trials per worker held as queued trials, as ``launch`` with
``n_trials`` does: every claim and every pruning check reads the queued trials too) and ``open`` (no
budget: each worker creates its own trials, as ``segsearch worker`` on an open-ended study does).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import WORK, emit, fresh_database, median, quiet_logs

EPOCHS, SLEEP = 4, 0.5


def worker(url: str, study_name: str, out: Path, go: Path, open_ended: int) -> None:
    import optuna

    from segsearch.search import make_storage, pop_next

    quiet_logs()
    study = optuna.load_study(study_name=study_name, storage=make_storage(url, heartbeat_interval=30))
    out.with_suffix(".ready").touch()
    while not go.exists():
        time.sleep(0.01)
    done = []
    while True:
        study._thread_local.cached_all_trials = None
        if open_ended:
            trial_id = study._storage.create_new_trial(study._study_id) if len(done) < open_ended else None
        else:
            trial_id = pop_next(study)
        if trial_id is None:
            break
        trial = optuna.Trial(study, trial_id)
        x = trial.suggest_float("x", -1, 1)
        trial.suggest_categorical("arch", ["unet", "fpn"])
        pruned = False
        for e in range(1, EPOCHS + 1):
            time.sleep(SLEEP)
            trial.report(0.5, e)  # constant: the pruner does its full work but never prunes
            if trial.should_prune():
                pruned = True
                break
        if pruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, -x * x)
        done.append(trial.number)
    out.write_text(json.dumps({"done": done, "end": time.time()}))


def run_k(url: str, k: int, per_worker: int, rep: int, mode: str) -> dict:
    import optuna

    from segsearch.search import make_storage

    name = f"scale-{mode}-k{k}-r{rep}"
    storage = make_storage(url, heartbeat_interval=30)
    study = optuna.create_study(storage=storage, study_name=name, direction="maximize",
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1))
    n = k * per_worker
    if mode == "queued":
        for _ in range(n):
            study.enqueue_trial({}, user_attrs={"token": True})
    d = WORK / "scaling" / name
    d.mkdir(parents=True, exist_ok=True)
    go = d / "go"
    go.unlink(missing_ok=True)
    outs = [d / f"w{i}.json" for i in range(k)]
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", url, name, str(o), str(go),
                               str(per_worker if mode == "open" else 0)]) for o in outs]
    while not all(o.with_suffix(".ready").exists() for o in outs):
        if any(p.poll() not in (None, 0) for p in procs):
            raise RuntimeError(f"a worker failed for k={k}")
        time.sleep(0.05)
    t0 = time.time()
    go.touch()
    for p in procs:
        p.wait()
    results = [json.loads(o.read_text()) for o in outs]
    wall = max(r["end"] for r in results) - t0
    numbers = [x for r in results for x in r["done"]]
    trials = study.get_trials(deepcopy=False)
    finished = [t for t in trials if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)]
    return {"mode": mode, "k": k, "trials": n, "seconds": wall, "per_minute": 60 * len(numbers) / wall,
            "lost": n - len(set(numbers)), "duplicated": len(numbers) - len(set(numbers)),
            "not_finished": len(trials) - len(finished), "per_worker": [len(r["done"]) for r in results]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", nargs=5, metavar=("URL", "STUDY", "OUT", "GO", "OPEN"), help=argparse.SUPPRESS)
    ap.add_argument("--ks", default="1,2,4,8")
    ap.add_argument("--per-worker", type=int, default=6, help="trials per worker")
    ap.add_argument("--modes", default="queued,open")
    args = ap.parse_args()
    if args.worker:
        url, study, out, go, open_ended = args.worker
        worker(url, study, Path(out), Path(go), int(open_ended))
        return
    quiet_logs()
    url = fresh_database()
    ks = [int(k) for k in args.ks.split(",")]
    modes = args.modes.split(",")
    runs = [run_k(url, k, args.per_worker, rep, mode) for rep, order in enumerate((ks, ks[::-1]))
            for k in order for mode in modes]
    ideal = 60 / (EPOCHS * SLEEP)
    figs: dict = {"storage": "postgresql (local)", "trial": f"{EPOCHS} epochs x {SLEEP}s sleep + report/prune",
                  "runs": [{**r, "seconds": round(r["seconds"], 2), "per_minute": round(r["per_minute"], 1)}
                           for r in runs],
                  "target": {"efficiency": 0.95, "lost": 0, "duplicated": 0}}
    lines = []
    for mode in modes:
        mr = [r for r in runs if r["mode"] == mode]
        rate = {k: median([r["per_minute"] for r in mr if r["k"] == k]) for k in ks}
        eff = {k: rate[k] / (k * rate[1]) for k in ks}
        figs[mode] = {"trials_per_minute": {k: round(v, 1) for k, v in rate.items()},
                      "efficiency": {k: round(v, 3) for k, v in eff.items()}}
        lines += [f"{mode:6s} k={k}: {rate[k]:.0f} trials/min (sleep-only bound {k * ideal:.0f}), "
                  f"efficiency {eff[k]:.3f}" for k in ks]
    figs["lost"] = sum(r["lost"] for r in runs)
    figs["duplicated"] = sum(r["duplicated"] for r in runs)
    figs["not_finished"] = sum(r["not_finished"] for r in runs)
    lines.append(f"lost {figs['lost']}, duplicated {figs['duplicated']}, unfinished {figs['not_finished']} over "
                 f"{sum(r['trials'] for r in runs)} trials (target: 0, 0; efficiency >= 0.95)")
    emit("scaling", figs, lines)


if __name__ == "__main__":
    main()
