"""Warm start (``launch --warm-start``): does starting from another dataset's best configurations reach a cold
search's best in fewer trials? Replayed on the recorded learning curves of the real datasets.

Each ``bench/data/curves_NAME.json`` records the same kind of configurations (architecture, encoder, loss, lr)
trained on one dataset; a configuration's value is its best recorded epoch. For a target dataset T and a
source S: the warm search tries S's ``TOP_K`` best configurations that T's recording also holds (what
``--warm-start S`` queues), then the rest in a random order; the cold search tries all of T's in a random order
(what a sampler's random start-up does). Per seed (10): trials the warm search needs to reach the cold search's
best of its first N trials, and the best of the first 3 trials of each. ``auto``: the source ``--warm-start
auto`` picks for T by the data descriptors (``segsearch.search._warm.distance``, computed from
``bench/data/real``).

    python bench/bench_warm_start.py
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, load_curves, median, quiet_logs, real_curve_files

TOP_K = 3


def key(config: dict) -> str:
    return json.dumps({k: v for k, v in config.items() if k != "part"}, sort_keys=True)


def descriptors(sets: dict[str, dict]) -> dict[str, dict]:
    from segsearch.config import load_config
    from segsearch.data import load_splits
    from segsearch.search._warm import describe_data

    out = {}
    for name, s in sets.items():
        cfg = load_config(s["doc"]["space"])
        out[name] = describe_data(cfg, load_splits(cfg.data, Path("/tmp/segsearch_bench_warm")))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--n", type=int, default=10, help="the cold search's trials whose best the warm one must reach")
    args = ap.parse_args()
    quiet_logs()
    from segsearch.search._warm import distance

    sets = {s["name"]: s for s in (load_curves(f) for f in real_curve_files())}
    values = {n: {key(r["config"]): max(r["values"]) for r in s["runs"]} for n, s in sets.items()}
    desc = descriptors(sets)
    rows, summary = [], []
    for target, tv in values.items():
        near = min((distance(desc[target], desc[s]), s) for s in values if s != target)[1]
        for source, sv in values.items():
            if source == target:
                continue
            top = [k for k in sorted(sv, key=lambda k: -sv[k]) if k in tv][:TOP_K]
            need, first3_warm, first3_cold, reached = [], [], [], 0
            for seed in range(args.seeds):
                cold = list(tv)
                random.Random(seed).shuffle(cold)
                rest = [k for k in cold if k not in top]
                warm = top + rest
                goal = max(tv[k] for k in cold[: args.n])
                n_warm = next(i + 1 for i in range(len(warm)) if max(tv[k] for k in warm[: i + 1]) >= goal)
                need.append(n_warm)
                reached += n_warm <= args.n
                first3_warm.append(max(tv[k] for k in warm[:3]))
                first3_cold.append(max(tv[k] for k in cold[:3]))
            row = {"target": target, "source": source, "auto_pick": source == near,
                   "data_distance": distance(desc[target], desc[source]), "configurations": len(tv),
                   "warm_trials_to_cold_best_of_n_median": median(need), "n": args.n,
                   "seeds_warm_faster": sum(x < args.n for x in need),
                   "best_of_3_warm_median": round(median(first3_warm), 4),
                   "best_of_3_cold_median": round(median(first3_cold), 4),
                   "best_overall": round(max(tv.values()), 4)}
            rows.append(row)
            summary.append(f"{target:10s} <- {source:10s}{' (auto)' if row['auto_pick'] else '       '} distance "
                           f"{row['data_distance']:.2f}: warm reaches cold's best-of-{args.n} in "
                           f"{row['warm_trials_to_cold_best_of_n_median']:.1f} trials (median; faster in "
                           f"{row['seeds_warm_faster']}/{args.seeds} seeds); best of 3: warm "
                           f"{row['best_of_3_warm_median']:.3f}, cold {row['best_of_3_cold_median']:.3f} "
                           f"(best recorded {row['best_overall']:.3f})")
    emit("warm_start", {"rows": rows, "descriptors": desc, "top_k": TOP_K}, summary)


if __name__ == "__main__":
    main()
