"""Figure 3, storage cost on PostgreSQL: the latency of one epoch report plus pruning check in a study that
already holds 1000 finished trials (p95; target 20 ms), and how the per-trial overhead a worker pays grows
from a study of 20 trials to one of 2000 (target at most 2x).

The storage is the one workers use (``segsearch.search.make_storage``: RDBStorage with heartbeats and
retries) on a fresh local database; the pruner is the median pruner. Finished trials are inserted in
bulk with intermediate values, as a long study would hold them, then the tables are analysed (as
autovacuum would have done while the study grew). "Per-trial overhead" is what a trial
costs the worker apart from training: claim a queued trial (``pop_next``), sample two parameters, set
the user attributes ``OptunaReporter`` sets, 10 reports with pruning checks, tell, read the best value.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, fresh_database, median, pctl, quiet_logs

EPOCHS = 10


def _fill(study, n: int, rng: random.Random) -> None:
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    dists = {"lr": FloatDistribution(1e-4, 3e-2, log=True), "architecture": CategoricalDistribution(["unet", "fpn"])}
    trials = []
    for _ in range(n):
        top = rng.uniform(0.3, 0.7)
        curve = {e: top * (1 - 0.5 ** (e + 1)) for e in range(1, EPOCHS + 1)}
        pruned = rng.random() < 0.5
        if pruned:
            curve = {e: v for e, v in curve.items() if e <= rng.randint(1, 4)}
        trials.append(optuna.trial.create_trial(
            state=optuna.trial.TrialState.PRUNED if pruned else optuna.trial.TrialState.COMPLETE,
            value=None if pruned else max(curve.values()),
            params={"lr": 10 ** rng.uniform(-4, -1.6), "architecture": rng.choice(["unet", "fpn"])},
            distributions=dists, intermediate_values=curve,
            user_attrs={"epochs_run": len(curve), "seed": rng.randint(0, 2**31), "val_miou": top}))
    study.add_trials(trials)


def _analyze(storage) -> None:
    import sqlalchemy

    with storage.engine.connect() as con:
        con.execute(sqlalchemy.text("ANALYZE"))
        con.commit()


def _one_trial(study, rng: random.Random) -> tuple[float, list[float]]:
    """A worker's bookkeeping for one trial; returns (total seconds, seconds of each report+prune)."""
    import optuna

    from segsearch.search import best_value, pop_next

    study.enqueue_trial({}, user_attrs={"token": True})
    t0 = time.perf_counter()
    study._thread_local.cached_all_trials = None
    trial = optuna.Trial(study, pop_next(study))
    trial.suggest_float("lr", 1e-4, 3e-2, log=True)
    trial.suggest_categorical("architecture", ["unet", "fpn"])
    trial.set_user_attr("seed", 1)
    trial.set_user_attr("run_dir", "studies/x/trials/00001")
    trial.set_user_attr("n_params", 14_000_000)
    top = rng.uniform(0.3, 0.7)
    lat = []
    pruned = False
    for e in range(1, EPOCHS + 1):
        trial.set_user_attr("epochs_run", e)
        trial.set_user_attr("seconds_per_epoch", 12.5)
        r0 = time.perf_counter()
        trial.report(top * (1 - 0.5 ** (e + 1)), e)
        pruned = trial.should_prune()
        lat.append(time.perf_counter() - r0)
        if pruned:
            break
    if pruned:
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    else:
        study.tell(trial, top)
    best_value(study)
    return time.perf_counter() - t0, lat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--probe", type=int, default=15, help="trials measured at each study size")
    ap.add_argument("--sizes", default="20,1000,2000")
    args = ap.parse_args()
    quiet_logs()
    import optuna

    from segsearch.search import make_storage

    url = fresh_database()
    storage = make_storage(url, heartbeat_interval=30)
    study = optuna.create_study(storage=storage, study_name="storage-bench", direction="maximize",
                                sampler=optuna.samplers.RandomSampler(seed=0),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1))
    rng = random.Random(0)
    sizes = [int(s) for s in args.sizes.split(",")]
    per_size: dict[int, dict] = {}
    fill_s = 0.0
    for size in sizes:
        missing = size - len(study.get_trials(deepcopy=False))
        t0 = time.perf_counter()
        for chunk in range(0, max(0, missing), 250):
            _fill(study, min(250, missing - chunk), rng)
        _analyze(storage)  # what autovacuum does to a study that grew over hours rather than seconds
        fill_s += time.perf_counter() - t0
        _one_trial(study, rng)  # warm: the cache of finished trials is filled once per worker
        totals, lats = [], []
        for _ in range(args.probe):
            total, lat = _one_trial(study, rng)
            totals.append(total)
            lats.extend(lat)
        per_size[size] = {"trials_in_study": size, "per_trial_ms_median": round(1000 * median(totals), 1),
                          "report_prune_ms_p50": round(1000 * median(lats), 2),
                          "report_prune_ms_p95": round(1000 * pctl(lats, 95), 2), "samples": len(lats)}
    lo, hi = per_size[min(sizes)], per_size[max(sizes)]
    mid = per_size[1000] if 1000 in per_size else hi
    growth = hi["per_trial_ms_median"] / lo["per_trial_ms_median"]
    figs = {"storage": "postgresql (local, RDBStorage via make_storage)", "pruner": "median",
            "per_size": list(per_size.values()), "report_prune_p95_ms_at_1000": mid["report_prune_ms_p95"],
            "per_trial_growth": round(growth, 2), "fill_seconds": round(fill_s, 1),
            "targets": {"report_prune_p95_ms": 20, "per_trial_growth": 2.0}}
    lines = [f"{r['trials_in_study']:5d} trials: report+prune p50 {r['report_prune_ms_p50']:.1f} ms, "
             f"p95 {r['report_prune_ms_p95']:.1f} ms; per-trial overhead {r['per_trial_ms_median']:.0f} ms"
             for r in per_size.values()]
    lines.append(f"p95 at 1000 trials {mid['report_prune_ms_p95']:.1f} ms (target <= 20); per-trial overhead "
                 f"x{growth:.2f} from {min(sizes)} to {max(sizes)} trials (target <= 2)")
    emit("storage", figs, lines)


if __name__ == "__main__":
    main()
