"""Figure 5, search efficiency: how many trials the TPE sampler (as segsearch builds it) needs to reach the
best score random search reaches with the whole budget, and how often TPE with the budget does at least
as well as random search with twice the budget. 10 seeds.

The objective is a lookup table made of real trials (``bench/data/curves.json``): the search space is
the recorded one (architecture x loss, learning rate log-uniform over the recorded range), and a
sampled configuration scores the best validation mIoU recorded for its architecture and loss,
interpolated linearly in log(lr) between the recorded learning rates. Cheap, and shaped like the
real problem (a ridge in the learning rate whose height depends on the categorical choices).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import DATA, emit, median, quiet_logs  # noqa: E402


class Table:
    def __init__(self, doc: dict) -> None:
        self.space = doc["space"]
        self.lrs = sorted(self.space["lr"])
        self.score = {(c["config"]["architecture"], c["config"]["loss"], c["config"]["lr"]): max(c["miou"])
                      for c in doc["curves"]}

    def __call__(self, trial) -> float:
        arch = trial.suggest_categorical("architecture", self.space["architecture"])
        loss = trial.suggest_categorical("loss", self.space["loss"])
        lr = trial.suggest_float("lr", self.lrs[0], self.lrs[-1], log=True)
        x = math.log(lr)
        for lo, hi in zip(self.lrs, self.lrs[1:], strict=False):
            if lr <= hi:
                w = (x - math.log(lo)) / (math.log(hi) - math.log(lo))
                return (1 - w) * self.score[(arch, loss, lo)] + w * self.score[(arch, loss, hi)]
        return self.score[(arch, loss, self.lrs[-1])]

    @property
    def optimum(self) -> float:
        return max(self.score.values())


def run(table: Table, sampler_name: str, args: dict, n: int, seed: int) -> list[float]:
    """Running best value after each trial."""
    import optuna

    from segsearch.config import StudyConfig
    from segsearch.search import build_sampler

    cfg = StudyConfig(name="search", sampler={"name": sampler_name, "seed": seed, "args": args})
    study = optuna.create_study(direction="maximize", sampler=build_sampler(cfg))
    study.optimize(table, n_trials=n)
    best, out = float("-inf"), []
    for t in study.trials:
        best = max(best, t.value)
        out.append(best)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--curves", type=Path, default=DATA / "curves.json")
    ap.add_argument("--budget", type=int, default=20)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--startup", type=int, default=5, help="TPE n_startup_trials")
    args = ap.parse_args()
    quiet_logs()
    table = Table(json.loads(args.curves.read_text()))
    tpe_args = {"n_startup_trials": args.startup, "multivariate": True}
    rows = []
    for seed in range(args.seeds):
        rnd = run(table, "random", {}, 2 * args.budget, seed)
        tpe = run(table, "tpe", tpe_args, args.budget, seed)
        target = rnd[args.budget - 1]
        needed = next((i + 1 for i, v in enumerate(tpe) if v >= target - 1e-12), None)
        rows.append({"seed": seed, "random_best": round(target, 5), "random_2x_best": round(rnd[-1], 5),
                     "tpe_best": round(tpe[-1], 5), "tpe_trials_to_match": needed,
                     "speedup": round(args.budget / needed, 2) if needed else None})
    matched = [r for r in rows if r["tpe_trials_to_match"]]
    beats_2x = sum(r["tpe_best"] >= r["random_2x_best"] - 1e-12 for r in rows)
    speedups = [args.budget / r["tpe_trials_to_match"] if r["tpe_trials_to_match"] else 0.0 for r in rows]
    figs = {"objective": "lookup table of recorded trials (best mIoU), linear in log(lr)", "optimum": table.optimum,
            "budget": args.budget, "tpe_args": tpe_args, "seeds": rows,
            "speedup_median": round(median(speedups), 2),
            "seeds_tpe_matched_random": len(matched), "seeds_tpe_ge_random_2x": beats_2x,
            "targets": {"speedup": 3.0, "seeds_tpe_ge_random_2x": 8}}
    lines = [f"budget {args.budget} trials; table optimum {table.optimum:.4f}; TPE {tpe_args}",
             f"TPE reaches random search's best-of-{args.budget} after a median of "
             f"{median([r['tpe_trials_to_match'] or 2 * args.budget for r in rows]):.0f} trials "
             f"(x{median(speedups):.2f} fewer; target >= 3); matched in {len(matched)}/{args.seeds} seeds",
             f"TPE with {args.budget} trials >= random with {2 * args.budget}: {beats_2x}/{args.seeds} seeds "
             "(target >= 8)"]
    emit("search", figs, lines)


if __name__ == "__main__":
    main()
