"""Figure 4, pruning saving: total epochs trained without pruning divided by total epochs with a pruner,
and how often the winner gets pruned, over 10 seeds, replaying learning curves of real trials through
Optuna's pruners as segsearch builds them (``build_pruner``).

Curves: the files ``record_curves.py`` writes once, by default every real dataset
(``bench/data/curves_now_NAME.json``, the shipped space as a trial trains it; ``--curves bench/data/curves_NAME.json`` for the first recordings, ``bench/data/curves.json`` for the demo scenes). Each file
is its own study: each seed replays every recorded configuration once, in a random order, as a trial
of a fresh study. The trial reports its validation objective epoch by epoch and asks the pruner after
every epoch, the last one included (as segsearch's reporter does: a trial pruned at its last epoch is
PRUNED); a finished trial's value is its best epoch (what segsearch records).

The winner is the configuration that ends best without pruning (highest recorded value). Per seed:
"best pruned" when the winner was pruned, "equal best" when the best finished value equals the best
without pruning. Targets: at least 3x fewer epochs than no pruning; the winner pruned in at most 1 of
10 seeds (here: on every dataset). Several settings per pruner; the chosen default is the largest
overall saving among the settings that meet the winner target on every dataset, or, when none does,
the setting that prunes the winner least often (then the largest saving).

    python bench/bench_pruning.py                        # all real curve files
    python bench/bench_pruning.py --report best          # the pruner sees each trial's best value so far
    python bench/bench_pruning.py --curves bench/data/curves_long_*.json --train-epochs 12   # 24-epoch trials
    python bench/bench_pruning.py --curves bench/data/curves_nuclei.json bench/data/curves_mri9.json
    python bench/bench_pruning.py --curves bench/data/curves_ema_*.json --signal ema1   # the pruner sees a weight
                                                         # average's validation curve (record_curves.py --ema)

With ``--signal NAME`` the pruner sees the curve of the weight average ``NAME`` recorded beside each run; a
trial's value and the winner stay the raw run's (``--value NAME``: the average's too).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import RESULTS, curve_of, emit, load_curves, median, quiet_logs, real_curve_files, shipped

_PRUNER = shipped()["study"]["pruner"]  # the pruner search_spaces/arch_loss.yaml ships
SHIPPED: tuple[str, dict] = (_PRUNER["name"], dict(_PRUNER.get("args") or {}))
# (pruner, args): the shipped default first, then a few settings of each
SETTINGS: list[tuple[str, dict]] = [SHIPPED, *[s for s in [
    ("none", {}),  # the reference for the equal-budget figure
    *[("asha", {"min_resource": m, "reduction_factor": r}) for m in (1, 2, 3, 4) for r in (2, 3, 4)],
    *[("asha", {"min_resource": m, "reduction_factor": 2}) for m in (5, 6, 8)],
    *[("median", {"n_startup_trials": s, "n_warmup_steps": w}) for s in (3, 5) for w in (1, 2, 3, 4, 5, 6)],
    # Optuna's percentile is the share kept: 25 prunes below the top quarter, 75 only the bottom quarter
    *[("percentile", {"percentile": p, "n_startup_trials": 5, "n_warmup_steps": w}) for p in (25.0, 75.0, 90.0)
      for w in (1, 2, 3)],
    *[("hyperband", {"min_resource": m, "reduction_factor": r}) for m in (1, 2) for r in (2, 3, 4)],
] if s != SHIPPED]]


def replay_study(pruner_name: str, args: dict, epochs: int, seed: int):
    """A fresh study with the pruner as segsearch builds it for trials of ``epochs`` (``build_pruner``)."""
    import optuna

    from segsearch.config import StudyConfig
    from segsearch.search import build_pruner

    cfg = StudyConfig(name="replay", pruner={"name": pruner_name, "args": args})
    return optuna.create_study(direction="maximize", pruner=build_pruner(cfg, epochs),
                               sampler=optuna.samplers.RandomSampler(seed=seed), study_name=f"replay-{seed}")


def start(study, curve: list[float], train_epochs: int | None):
    """A new trial; with ``train_epochs`` it records its planned epochs (the curve's), as a budget launch's do."""
    trial = study.ask()
    if train_epochs:
        trial.set_user_attr("epochs_fitted", len(curve))
    return trial


def replay(curves: list[list[float]], pruner_name: str, args: dict, epochs: int, seed: int,
           report: str = "raw", train_epochs: int | None = None, signals: list[list[float]] | None = None) -> dict:
    """One study; ``report`` ``best``: the pruner sees each trial's best value so far instead of the epoch's.
    ``train_epochs``: the settings are written for trials that long (``train.epochs``) and each trial records its
    own planned epochs, as a ``--budget`` launch's trials do, so the pruner judges it at the same point of its
    schedule; None: the settings apply to the curves' epochs as written. ``signals``: what the pruner sees, per
    curve (default: the curves)."""
    import optuna

    study = replay_study(pruner_name, args, train_epochs or epochs, seed)
    order = list(range(len(curves)))
    random.Random(seed).shuffle(order)
    spent, best, pruned = 0, float("-inf"), set()
    for idx in order:
        curve, seen = curves[idx], (signals or curves)[idx]
        trial = start(study, curve, train_epochs)
        for step, value in enumerate(seen, start=1):
            trial.report(max(seen[:step]) if report == "best" else value, step)
            spent += 1
            if trial.should_prune():
                pruned.add(idx)
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                break
        else:
            study.tell(trial, max(curve))
            best = max(best, max(curve))
    return {"epochs": spent, "best": best, "pruned": pruned}


def replay_budget(curves: list[list[float]], pruner_name: str, args: dict, epochs: int, seed: int, budget: int,
                  train_epochs: int | None = None, signals: list[list[float]] | None = None) -> float:
    """The question a user asks: the best value found when a study may train ``budget`` epochs in all. Trials
    draw the recorded configurations in a shuffled order (reshuffled when all were drawn) until the epochs are
    spent; the trial the budget cuts counts with its best epoch so far (a ``--budget`` launch keeps it)."""
    import optuna

    study = replay_study(pruner_name, args, train_epochs or epochs, seed)
    rng, order, spent, best = random.Random(seed), [], 0, float("-inf")
    while spent < budget:
        if not order:
            order = list(range(len(curves)))
            rng.shuffle(order)
        idx = order.pop()
        curve, seen = curves[idx], (signals or curves)[idx]
        trial = start(study, curve, train_epochs)
        for step, value in enumerate(seen, start=1):
            trial.report(value, step)
            spent += 1
            if spent >= budget or step == len(curve):
                best = max(best, max(curve[:step]))
                study.tell(trial, max(curve[:step]))
                break
            if trial.should_prune():
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                break
    return best


def key(name: str, args: dict) -> str:
    return name + (" " if args else "") + ",".join(f"{k.replace('n_startup_trials', 'startup').replace('n_warmup_steps', 'warmup')}="
                                 f"{v:g}" for k, v in args.items())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--curves", type=Path, nargs="+", default=None, help="default: bench/data/curves_now_*.json, else curves_*.json")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--saving", type=float, default=3.0, help="target: fewer epochs than no pruning, x")
    ap.add_argument("--max-best-pruned", type=int, default=1, help="target: winner pruned in at most this many seeds")
    ap.add_argument("--md", type=Path, default=RESULTS / "replay_pruning.md", help="markdown table of the figures")
    ap.add_argument("--train-epochs", type=int, default=None,
                    help="the settings are written for trials this long (train.epochs); longer curves are judged at "
                         "the same point of their schedule, as a --budget launch judges its longer trials")
    ap.add_argument("--budget-trials", type=int, default=4,
                    help="the equal-budget figure: a study may train this many unpruned trials' epochs")
    ap.add_argument("--budget-seeds", type=int, default=40, help="studies per dataset for the equal-budget figure")
    ap.add_argument("--report", choices=("raw", "best"), default="raw",
                    help="what the pruner sees each epoch: the epoch's value (as segsearch reports) or the best so far")
    ap.add_argument("--signal", default="raw",
                    help="the curve the pruner sees: raw, or a weight average recorded beside each run (ema1, ...)")
    ap.add_argument("--value", default="raw", help="the curve a trial's value and the winner come from (raw, ema1, ...)")
    args = ap.parse_args()
    quiet_logs()
    files = args.curves or real_curve_files(now=True)
    if not files:
        raise SystemExit("no curve files: run bench/record_curves.py --dataset NAME first")
    sets = [load_curves(f) for f in files]
    datasets: dict = {}
    for s in sets:
        curves = [curve_of(r, args.value, s["path"]) for r in s["runs"]]
        signals = [curve_of(r, args.signal, s["path"]) for r in s["runs"]]
        best_idx = max(range(len(curves)), key=lambda i: max(curves[i]))
        datasets[s["name"]] = {"file": s["path"], "trials": len(curves), "_signals": signals,
                               "epochs_per_trial": s["epochs"], "epochs_without_pruning": sum(map(len, curves)),
                               "best_without_pruning": max(curves[best_idx]),
                               "winner": s["runs"][best_idx]["config"], "_curves": curves, "_best": best_idx}
    rows = []
    for name, pargs in SETTINGS:
        row: dict = {"pruner": name, "args": pargs, "key": key(name, pargs), "datasets": {}}
        spent_by_seed = [0] * args.seeds
        full_all = 0
        for dname, d in datasets.items():
            runs = [replay(d["_curves"], name, pargs, d["epochs_per_trial"], s, args.report, args.train_epochs,
                           d["_signals"]) for s in range(args.seeds)]
            savings = [d["epochs_without_pruning"] / r["epochs"] for r in runs]
            at_budget = [replay_budget(d["_curves"], name, pargs, d["epochs_per_trial"], s,
                                       args.budget_trials * d["epochs_per_trial"], args.train_epochs, d["_signals"])
                         for s in range(args.budget_seeds)]
            for i, r in enumerate(runs):
                spent_by_seed[i] += r["epochs"]
            full_all += d["epochs_without_pruning"]
            row["datasets"][dname] = {
                "saving_median": round(median(savings), 2), "saving_min": round(min(savings), 2),
                "saving_max": round(max(savings), 2),
                "seeds_best_pruned": sum(d["_best"] in r["pruned"] for r in runs),
                "seeds_equal_best": sum(abs(r["best"] - d["best_without_pruning"]) < 1e-12 for r in runs),
                "best_found_median": round(median([r["best"] for r in runs]), 4),
                "regret_median": round(median([d["best_without_pruning"] - r["best"] for r in runs]), 4),
                "regret_max": round(max(d["best_without_pruning"] - r["best"] for r in runs), 4),
                "mean_pruned_fraction": round(sum(len(r["pruned"]) for r in runs) / (len(runs) * d["trials"]), 3),
                "budget_regret_mean": round(d["best_without_pruning"] - sum(at_budget) / len(at_budget), 4)}
        all_savings = [full_all / s for s in spent_by_seed]
        per = row["datasets"].values()
        row["overall"] = {"saving_median": round(median(all_savings), 2), "saving_min": round(min(all_savings), 2),
                          "seeds_best_pruned": sum(p["seeds_best_pruned"] for p in per),
                          "worst_dataset_best_pruned": max(p["seeds_best_pruned"] for p in per),
                          "seeds_equal_best": sum(p["seeds_equal_best"] for p in per),
                          "regret_max": max(p["regret_max"] for p in per),
                          "budget_regret_mean": round(sum(p["budget_regret_mean"] for p in per) / len(per), 4),
                          "studies": args.seeds * len(datasets)}
        o = row["overall"]
        row["meets"] = {"saving": o["saving_median"] >= args.saving,
                        "winner": o["worst_dataset_best_pruned"] <= args.max_best_pruned}
        rows.append(row)
    # the winner first (pruning that doesn't kill the winner): among the settings that meet its target on
    # every dataset the largest saving; when none does, the fewest winners pruned, then the largest saving
    pruning = [r for r in rows if r["pruner"] != "none"]
    ok = [r for r in pruning if r["meets"]["winner"]]
    if ok:
        chosen = max(ok, key=lambda r: (r["overall"]["saving_median"], -r["overall"]["seeds_best_pruned"]))
    else:
        chosen = min(pruning, key=lambda r: (r["overall"]["seeds_best_pruned"], r["overall"]["worst_dataset_best_pruned"],
                                          -r["overall"]["saving_median"]))
    names = list(datasets)
    lines = [f"{len(datasets)} datasets, {args.seeds} seeds each: " + "; ".join(
        f"{n}: {d['trials']} trials x {d['epochs_per_trial']} epochs = {d['epochs_without_pruning']}, winner "
        f"{d['best_without_pruning']:.4f} {d['winner']['architecture']}/{d['winner'].get('encoder', '')}/"
        f"{d['winner']['loss']}/lr {d['winner']['lr']:g}" for n, d in datasets.items())]
    for r in rows:
        o = r["overall"]
        lines.append(f"{r['key']:45s} overall x{o['saving_median']:.2f} (min {o['saving_min']:.2f}), winner pruned "
                     f"{o['seeds_best_pruned']}/{o['studies']}, loss at budget {o['budget_regret_mean']:.3f} | " + " | ".join(
                         f"{n} x{r['datasets'][n]['saving_median']:.2f} {r['datasets'][n]['seeds_best_pruned']}/"
                         f"{args.seeds}" for n in names))
    lines.append(f"chosen: {chosen['key']} (targets: saving {'met' if chosen['meets']['saving'] else 'MISSED'}, "
                 f"winner {'met' if chosen['meets']['winner'] else 'MISSED'})")
    md = [f"| pruner settings | overall saving (median, min) | winner pruned (of {args.seeds * len(names)}) | "
          f"largest loss of best value | loss at a budget of {args.budget_trials} trials (mean) | "
          + " | ".join(f"{n}: saving, winner pruned (of {args.seeds})" for n in names) + " |",
          "|---|---|---|---|---|" + "---|" * len(names)]
    for r in rows:
        o = r["overall"]
        mark = " **(chosen)**" if r is chosen else (" (shipped)" if (r["pruner"], r["args"]) == SHIPPED else "")
        md.append(f"| {r['key']}{mark} | x{o['saving_median']:.2f}, x{o['saving_min']:.2f} | {o['seeds_best_pruned']} | "
                  f"{o['regret_max']:.3f} | {o['budget_regret_mean']:.3f} | "
                  + " | ".join(f"x{r['datasets'][n]['saving_median']:.2f}, {r['datasets'][n]['seeds_best_pruned']}"
                               for n in names) + " |")
    args.md.parent.mkdir(parents=True, exist_ok=True)
    args.md.write_text("\n".join(md) + "\n")
    figs = {"files": [str(f) for f in files], "seeds": args.seeds, "report": args.report, "signal": args.signal,
            "value": args.value,
            "datasets": {n: {k: v for k, v in d.items() if not k.startswith("_")} for n, d in datasets.items()},
            "settings": rows, "chosen": {"pruner": chosen["pruner"], "args": chosen["args"],
                                         "overall": chosen["overall"], "meets": chosen["meets"]},
            "target": {"saving": args.saving, "max_best_pruned_per_dataset": args.max_best_pruned}}
    emit("pruning", figs, lines)


if __name__ == "__main__":
    main()
