"""Pruning a multi-objective study (accuracy vs latency): does it save epochs without losing the Pareto front?

Replays the recorded learning curves of the real datasets (``bench/data/curves_NAME.json``, written by
``record_curves.py``) with each configuration's recorded latency (measured here once per architecture /
encoder at the dataset's image size, batch 1, one CPU thread, and written to ``bench/data/costs_NAME.json``;
later runs reuse it) through segsearch's own multi-objective path: a real Optuna study with directions
[maximize, minimize], segsearch's ``report`` / ``should_prune`` (``segsearch.search._multi``) and the shipped
pruner, the trial told ``[best accuracy, latency]`` when it completes.

Per dataset and seed (10 seeds, each a random order of the configurations), for pruning against every trial
(``accuracy only``) and against the trials at most as costly (``Pareto-aware``, what segsearch ships):
- saving: epochs without pruning / epochs with it;
- front kept: the share of the no-pruning Pareto front (every configuration run to the end) that the pruned
  study completes;
- hypervolume: the pruned study's front's hypervolume / the full front's (reference: accuracy 0, latency
  1.1 x the largest).

    python bench/bench_pareto.py
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import DATA, emit, load_curves, median, quiet_logs, real_curve_files

PRUNER = ("asha", {"min_resource": 2, "reduction_factor": 3})  # bench_pruning.py's choice, the shipped spaces'


def latencies(curve_set: dict) -> dict[str, dict[str, float]]:
    """``arch/encoder`` -> measured costs, from the cache or measured now on one thread."""
    cache = DATA / f"costs_{curve_set['name']}.json"
    known = json.loads(cache.read_text()) if cache.is_file() else {}
    todo = {key(r["config"]) for r in curve_set["runs"]} - set(known)
    if todo:
        import torch

        from segsearch.components import build_model, measure_cost
        from segsearch.config import load_config

        torch.set_num_threads(1)
        cfg = load_config(curve_set["doc"]["space"])
        h, w = cfg.data.size_hw
        for k in sorted(todo):
            arch, enc = k.split("/")
            net = build_model(arch, enc, None, 5, cfg.data.in_channels, cfg.data.num_classes, {})
            cost = measure_cost(net, cfg.data.in_channels, (h, w), "cpu", 1, 3, 15)
            known[k] = cost.metrics()
            print(f"  {curve_set['name']}: {k} {known[k]}", flush=True)
        cache.write_text(json.dumps(known, indent=1, sort_keys=True) + "\n")
    return known


def key(config: dict) -> str:
    return f"{config['architecture']}/{config['encoder']}"


def front(points: list[tuple[int, float, float]]) -> set[int]:
    from segsearch.search import pareto_front

    return pareto_front([(i, a, (c,)) for i, a, c in points])


def hypervolume(points: list[tuple[float, float]], ref_cost: float) -> float:
    """Area dominated by (accuracy, cost) points above accuracy 0 and left of ``ref_cost``."""
    area, best = 0.0, 0.0
    for acc, cost in sorted(points, key=lambda p: p[1]):  # cheapest first
        if acc > best:
            area += (acc - best) * (ref_cost - cost)
            best = acc
    return area


def replay(curves: list[list[float]], cost: list[float], seed: int, pareto: bool) -> dict:
    import optuna

    from segsearch.config import StudyConfig
    from segsearch.search import build_pruner
    from segsearch.search._multi import report, should_prune

    cfg = StudyConfig(name="replay", objective=["miou", "latency_ms"], direction=["maximize", "minimize"],
                      pruner={"name": PRUNER[0], "args": PRUNER[1]})
    study = optuna.create_study(directions=["maximize", "minimize"], pruner=build_pruner(cfg, len(curves[0])),
                                sampler=optuna.samplers.RandomSampler(seed=seed), study_name=f"replay-{seed}")
    study.set_metric_names(["miou", "latency_ms"])
    order = list(range(len(curves)))
    random.Random(seed).shuffle(order)
    spent, done = 0, []
    for idx in order:
        trial = study.ask()
        trial.set_user_attr("latency_ms", cost[idx])  # measured before training, as segsearch does
        for step, value in enumerate(curves[idx], start=1):
            report(trial, value, step)
            spent += 1
            if should_prune(trial, pareto=pareto):
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                break
        else:
            study.tell(trial, [max(curves[idx]), cost[idx]])
            done.append(idx)
    return {"epochs": spent, "done": done}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--curves", type=Path, nargs="+", default=None, help="default: bench/data/curves_*.json")
    ap.add_argument("--seeds", type=int, default=10)
    args = ap.parse_args()
    quiet_logs()
    figures: dict = {"pruner": {"name": PRUNER[0], "args": PRUNER[1]}, "datasets": {}}
    summary = []
    for s in [load_curves(f) for f in (args.curves or real_curve_files())]:
        costs = latencies(s)
        curves = [r["values"] for r in s["runs"]]
        cost = [costs[key(r["config"])]["latency_ms"] for r in s["runs"]]
        full = front([(i, max(c), cost[i]) for i, c in enumerate(curves)])
        ref = 1.1 * max(cost)
        hv_full = hypervolume([(max(curves[i]), cost[i]) for i in full], ref)
        d: dict = {"configurations": len(curves), "epochs_without_pruning": sum(map(len, curves)),
                   "front": sorted(f"{key(s['runs'][i]['config'])} {max(curves[i]):.3f} @ {cost[i]:.1f} ms" for i in full)}
        for name, pareto in (("accuracy only", False), ("Pareto-aware", True)):
            runs = [replay(curves, cost, seed, pareto) for seed in range(args.seeds)]
            kept = [len(full & set(r["done"])) / len(full) for r in runs]
            hv = [hypervolume([(max(curves[i]), cost[i]) for i in front([(i, max(curves[i]), cost[i]) for i in r["done"]])], ref)
                  / hv_full for r in runs]
            saving = [d["epochs_without_pruning"] / r["epochs"] for r in runs]
            d[name] = {"saving_median": round(median(saving), 2), "saving_min": round(min(saving), 2),
                       "front_kept_median": round(median(kept), 3), "front_kept_min": round(min(kept), 3),
                       "seeds_whole_front": sum(k == 1.0 for k in kept),
                       "hypervolume_median": round(median(hv), 4), "hypervolume_min": round(min(hv), 4)}
            summary.append(f"{s['name']:11s} {name:14s} saving {d[name]['saving_median']:.2f}x (min "
                           f"{d[name]['saving_min']:.2f}), front kept median {d[name]['front_kept_median']:.2f} "
                           f"(min {d[name]['front_kept_min']:.2f}, whole front in {d[name]['seeds_whole_front']}/"
                           f"{args.seeds}), hypervolume {d[name]['hypervolume_median']:.3f} (min "
                           f"{d[name]['hypervolume_min']:.3f})")
        figures["datasets"][s["name"]] = d
    emit("pareto_pruning", figures, summary)


if __name__ == "__main__":
    main()
