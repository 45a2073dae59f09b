"""Figure 5, search efficiency: how many trials the TPE sampler (as segsearch builds it) needs to reach the
best score random search reaches with N trials, and how often TPE with N trials does at least as well as
random search with 2N. 10 seeds, per curves file (dataset) and overall, for a few TPE settings.

The objective is made of real trials (``record_curves.py``). A lookup table (``--grid table``:
``bench/data/curves_table_NAME.json``, read by default where there are any) is scored exactly (``Table``:
every architecture x loss of the shipped space at three rates was trained, a sampled lr takes the nearest
recorded rate). Other recordings (``curves_now_NAME.json``, else the first recordings ``curves_NAME.json``)
are scored by a surrogate, as follows. A trial samples the shipped search space with segsearch's own
``sample()`` (``search_spaces/arch_loss.yaml`` as it is now, or ``--space``: architecture, encoder, loss
with its children, lr, weight decay; the lr range clipped to the recorded one), and scores the
kernel-weighted mean (Nadaraya-Watson) of the recorded configurations' best validation objective, the
weight ``exp(-d^2 / 2h^2)`` with h = 0.4 and ``d^2`` = w_arch [architecture differs] + w_enc [encoder
differs] + w_loss [loss differs] + (log10 lr difference / s_lr)^2. The weights and the lr scale are
not guessed: they are the ones with the least leave-one-out error over the recorded runs of all files
together (each file's squared error divided by its variance), from a small grid. A recorded
configuration scores about its own value, a new combination the values of its nearest recorded
neighbours; no score beyond the recorded range. Loss children and weight decay were not varied in the
recordings: to the surrogate they are noise dimensions, as they may well be to the real problem. The
demo file (``bench/data/curves.json``, a full grid) is scored the same way over its own space
(architecture x loss x lr).

Targets: TPE reaches random's best-of-N within N/2 trials (median over seeds); TPE(N) >= random(2N) in
at least 8 of 10 seeds. Also reported: the mean regret (best recorded value minus the best found) of TPE(N),
random(N) and random(2N). ``--gp`` adds Optuna's GPSampler as a comparison. ``--baseline`` replays the
studies as ``launch`` runs them: each sampler study's first trial is the space's baseline (seed 001's recipe
in ``arch_loss.yaml``), the rest sampled; random search (N and 2N) stays plain.

    python bench/bench_search.py                       # the lookup tables (else all real curve files), N = 20 and 40
    python bench/bench_search.py --gp --budget 10 20 40
    python bench/bench_search.py --baseline --budget 10 20 40
    python bench/bench_search.py --curves bench/data/curves.json --budget 20
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    ARCH_LOSS,
    DATA,
    RESULTS,
    emit,
    load_curves,
    median,
    quiet_logs,
    real_curve_files,
    shipped,
)

FACTORS = ("architecture", "loss", "encoder")
BANDWIDTH = 0.4
WEIGHT_GRID = (0.1, 0.3, 1.0, 3.0, 10.0)  # squared distance of a mismatch, per factor
LR_SCALE_GRID = (0.25, 0.5, 1.0, 2.0)  # decades of lr that count as distance 1


def shipped_tpe(space: Path = ARCH_LOSS) -> dict[str, Any]:
    """The TPE arguments ``search_spaces/arch_loss.yaml`` ships (``study.sampler.args``), ``multivariate`` and
    ``group`` False dropped (Optuna's defaults), so equal settings compare equal."""
    args = dict(shipped(space)["study"]["sampler"].get("args") or {})
    return {k: v for k, v in args.items() if not (k in ("multivariate", "group") and v is False)}


SHIPPED = shipped_tpe()
SETTINGS: list[dict[str, Any]] = [SHIPPED, *[
    a for a in ({"n_startup_trials": s, **({"multivariate": True, "group": True} if m else {})}
                for s in (5, 10, 20) for m in (False, True)) if a != SHIPPED]]
GP = {"sampler": "gp", "n_startup_trials": 10}  # Optuna's Gaussian-process sampler (--gp), for comparison


class Surrogate:
    def __init__(self, curve_set: dict[str, Any], space_file: Path) -> None:
        from segsearch.config import ParamSpec, load_config

        runs = curve_set["runs"]
        self.points = [(r["config"], max(r["values"])) for r in runs]
        lrs = [float(c["lr"]) for c, _ in self.points]
        self.lr_range = (min(lrs), max(lrs))
        self.weights, self.lr_scale = {"architecture": 1.0, "loss": 1.0, "encoder": 1.0}, 0.5
        doc = curve_set["doc"]
        if "grid" in doc:  # a real dataset: the shipped space
            space = dict(load_config(space_file).search)
        else:  # the demo scenes: their own grid
            sp = doc["space"]
            space = {"architecture": ParamSpec(type="categorical", choices=sp["architecture"]),
                     "loss": ParamSpec(type="categorical", choices=sp["loss"]),
                     "lr": ParamSpec(type="float", low=1e-4, high=1e-2, log=True)}
        space["lr"] = space["lr"].model_copy(update={"low": self.lr_range[0], "high": self.lr_range[1]})
        self.space = space

    def value(self, s: dict[str, Any], skip: int | None = None) -> float:
        num = den = 0.0
        for i, (c, y) in enumerate(self.points):
            if i == skip:
                continue
            d2 = sum(w for k, w in self.weights.items() if k in c and k in s and c[k] != s[k])
            d2 += ((math.log10(s["lr"]) - math.log10(c["lr"])) / self.lr_scale) ** 2
            w = math.exp(-d2 / (2 * BANDWIDTH**2))
            num, den = num + w * y, den + w
        return num / den if den > 0 else sum(y for _, y in self.points) / len(self.points)

    def loo_error(self) -> float:
        """Leave-one-out squared error over the recorded runs, divided by their variance."""
        ys = [y for _, y in self.points]
        mean = sum(ys) / len(ys)
        var = sum((y - mean) ** 2 for y in ys) / len(ys) or 1.0
        return sum((self.value(c, skip=i) - y) ** 2 for i, (c, y) in enumerate(self.points)) / len(ys) / var

    def __call__(self, trial) -> float:
        from segsearch.search._space import sample

        return self.value(sample(trial, self.space))

    @property
    def optimum(self) -> float:
        return max(self.value(c) for c, _ in self.points)


class Table:
    """A lookup table of real trainings (``record_curves.py --grid table``: every architecture x loss of the
    shipped space at a few rates, one encoder): a trial samples the shipped space with segsearch's own
    ``sample()``, the table's encoder only, and scores the recorded run of its architecture, loss and the
    recorded rate nearest its lr (on the log scale), no model in between. Weight decay and the losses'
    children are sampled and have no effect (they were not varied). A configuration whose run failed (pan
    below 128 px) ends pruned, as ``launch`` ends it infeasible."""

    def __init__(self, curve_set: dict[str, Any], space_file: Path) -> None:
        from segsearch.config import load_config

        doc = curve_set["doc"]
        self.lrs = sorted(float(x) for x in doc["grid"]["lr"])
        self.table = {self._key(r["config"]): max(r["values"]) for r in curve_set["runs"]}
        self.failed = {self._key(c["config"]) for c in doc["curves"] if c.get("error")}
        space = dict(load_config(space_file).search)
        space["encoder"] = space["encoder"].model_copy(update={"choices": list(doc["grid"]["encoder"])})
        self.space = space
        want = {(a, lo, lr) for a in space["architecture"].choices for lo in (space["loss"].choices or [])
                for lr in self.lrs}
        missing = want - set(self.table) - self.failed
        if missing:
            raise SystemExit(f"{curve_set['path']}: {len(missing)} of {len(want)} table entries not recorded "
                             "(run record_curves.py --grid table --resume to finish it)")
        self.points = list(self.table.items())

    def _key(self, c: dict[str, Any]) -> tuple[str, str, float]:
        lr = min(self.lrs, key=lambda x: abs(math.log(x) - math.log(float(c["lr"]))))
        return (str(c["architecture"]), str(c["loss"]), lr)

    def __call__(self, trial) -> float:
        import optuna

        from segsearch.search._space import sample

        k = self._key(sample(trial, self.space))
        if k in self.failed:
            raise optuna.TrialPruned("incompatible")
        return self.table[k]

    @property
    def optimum(self) -> float:
        return max(self.table.values())

    @property
    def lr_range(self) -> tuple[float, float]:
        return (self.lrs[0], self.lrs[-1])


def fit(funcs: list[Surrogate]) -> dict[str, Any]:
    """Set every surrogate's factor weights and lr scale to the pooled leave-one-out best."""
    import itertools

    best = None
    for wa, wl, we in itertools.product(WEIGHT_GRID, repeat=3):
        for sl in LR_SCALE_GRID:
            for f in funcs:
                f.weights, f.lr_scale = {"architecture": wa, "loss": wl, "encoder": we}, sl
            err = sum(f.loo_error() for f in funcs) / len(funcs)
            if best is None or err < best[0]:
                best = (err, {"architecture": wa, "loss": wl, "encoder": we}, sl)
    err, weights, sl = best
    for f in funcs:
        f.weights, f.lr_scale = dict(weights), sl
    return {"weights": weights, "lr_scale": sl, "loo_error_over_variance": round(err, 3),
            "per_file": [round(f.loo_error(), 3) for f in funcs]}


def run(f: Surrogate | Table, sampler_name: str, args: dict, n: int, seed: int, name: str,
        first: dict[str, Any] | None = None) -> list[float]:
    """Running best value after each trial. The study's name includes the sampler: segsearch seeds a sampler
    from the seed and the study's name, and TPE's first trials are drawn by a random sampler with that
    seed, so under one name TPE and random search would share their first ``n_startup_trials`` draws (and
    TPE would "reach" random's best-of-N whenever random found it that early). ``first``: Optuna params queued
    as the study's first trial, as ``launch`` queues a new study's baseline."""
    import optuna

    from segsearch.config import StudyConfig
    from segsearch.search import build_sampler

    cfg = StudyConfig(name=f"search-{name}-{sampler_name}", sampler={"name": sampler_name, "seed": seed, "args": args})
    study = optuna.create_study(direction="maximize", sampler=build_sampler(cfg))
    if first:
        study.enqueue_trial(first)
    study.optimize(f, n_trials=n)
    best, out = float("-inf"), []
    for t in study.trials:  # a pruned (infeasible) trial counts as a trial and finds nothing
        best = max(best, t.value if t.value is not None else float("-inf"))
        out.append(best)
    return out


def baseline_first(f: Surrogate | Table, space_file: Path) -> dict[str, Any]:
    """The space's baseline (``launch`` queues it first) as Optuna params of the replay, with its score and
    rank among the recorded runs."""
    import optuna

    from segsearch.config import load_config
    from segsearch.search._baseline import baseline_params

    params = dict(baseline_params(load_config(space_file)) or {})
    if not params:
        raise SystemExit(f"{space_file}: no baseline to queue (study.baseline is off)")
    encoders = f.space["encoder"].choices
    if params.get("encoder") not in encoders:
        params["encoder"] = encoders[0]
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial(params)
    study.optimize(f, n_trials=1)
    value = study.trials[0].value if study.trials[0].value is not None else float("-inf")
    rank = 1 + sum(v > value for _, v in f.points)
    return {"params": params, "value": value, "rank": rank}


def key(a: dict) -> str:
    if a.get("sampler", "tpe") != "tpe":
        return f"{a['sampler']} startup={a['n_startup_trials']}"
    return f"tpe startup={a['n_startup_trials']}" + (",multivariate" if a.get("multivariate") else "") + (
        ",group" if a.get("group") else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--curves", type=Path, nargs="+", default=None,
                    help="default: the lookup tables bench/data/curves_table_*.json, else curves_now_*.json, else curves_*.json")
    ap.add_argument("--space", type=Path, default=ARCH_LOSS, help="the search space the trials sample")
    ap.add_argument("--budget", type=int, nargs="+", default=[20, 40], help="N, TPE's trials (random gets N and 2N)")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--gp", action="store_true", help="also Optuna's GPSampler (slower: a Gaussian process per trial)")
    ap.add_argument("--baseline", action="store_true",
                    help="the sampler's studies start with the space's baseline, as `launch` runs a new study (the "
                         "encoder mapped to the recorded one); random search stays plain")
    ap.add_argument("--md", type=Path, default=RESULTS / "replay_search.md", help="markdown table of the figures")
    args = ap.parse_args()
    quiet_logs()
    settings = SETTINGS + ([GP] if args.gp else [])
    files = args.curves or sorted(DATA.glob("curves_table_*.json")) or real_curve_files(now=True)
    if not files:
        raise SystemExit("no curve files: run bench/record_curves.py --dataset NAME first")
    sets = {s["name"]: s for s in map(load_curves, files)}
    funcs: dict[str, Surrogate | Table] = {
        n: Table(s, args.space) if s["doc"].get("grid", {}).get("kind") == "table" else Surrogate(s, args.space)
        for n, s in sets.items()}
    surrogates = [f for f in funcs.values() if isinstance(f, Surrogate)]
    fitted = fit(surrogates) if surrogates else {"loo_error_over_variance": 0.0}
    rows: list[dict] = []
    lines = ["objectives: " + "; ".join(
        f"{n}: {'lookup table' if isinstance(f, Table) else 'surrogate'} of {len(f.points)} recorded configs, "
        f"optimum {f.optimum:.4f}, lr {f.lr_range[0]:g}..{f.lr_range[1]:g}" for n, f in funcs.items())]
    if surrogates:
        lines.append(f"surrogate fit (leave-one-out): weights {fitted['weights']}, lr scale {fitted['lr_scale']} "
                     f"decades; error / variance {fitted['loo_error_over_variance']} (per file {fitted['per_file']}; "
                     "1 = no better than the mean)")
    if fitted["loo_error_over_variance"] >= 0.9:
        lines.append("WARNING: the surrogate predicts held-out runs no better than their mean: the figures below "
                     "measure noise (record more configurations per dataset)")
    first = {n: baseline_first(f, args.space) for n, f in funcs.items()} if args.baseline else {}
    for n, b in first.items():
        lines.append(f"{n}: every sampler study starts with the baseline {b['params']}, which scores {b['value']:.4f} "
                     f"(rank {b['rank']} of {len(funcs[n].points)} recorded)")
    for N in args.budget:
        rnd = {n: [run(f, "random", {}, 2 * N, s, n) for s in range(args.seeds)] for n, f in funcs.items()}
        for a in settings:
            row: dict = {"budget": N, "tpe_args": a, "key": key(a), "datasets": {}}
            for n, f in funcs.items():
                seeds = []
                for s in range(args.seeds):
                    tpe = run(f, a.get("sampler", "tpe"), {k: v for k, v in a.items() if k != "sampler"}, N, s, n,
                              first[n]["params"] if first else None)
                    target, twice = rnd[n][s][N - 1], rnd[n][s][-1]
                    needed = next((i + 1 for i, v in enumerate(tpe) if v >= target - 1e-12), None)
                    seeds.append({"seed": s, "random_N": round(target, 5), "random_2N": round(twice, 5),
                                  "tpe_N": round(tpe[-1], 5), "tpe_trials_to_random_N": needed})
                need = [x["tpe_trials_to_random_N"] or 2 * N for x in seeds]  # not reached: counted as 2N
                row["datasets"][n] = {
                    "trials_to_random_N_median": median(need),
                    "seeds_within_half": sum(x <= N / 2 for x in need),
                    "seeds_tpe_ge_random_2N": sum(x["tpe_N"] >= x["random_2N"] - 1e-12 for x in seeds),
                    "seeds_tpe_gt_random_2N": sum(x["tpe_N"] > x["random_2N"] + 1e-12 for x in seeds),
                    "tpe_N_median": median([x["tpe_N"] for x in seeds]),
                    "random_N_median": median([x["random_N"] for x in seeds]),
                    "random_2N_median": median([x["random_2N"] for x in seeds]),
                    # how far below the best recorded value each ends, averaged over seeds
                    "regret": {k: round(sum(f.optimum - x[k] for x in seeds) / len(seeds), 4)
                               for k in ("tpe_N", "random_N", "random_2N")}, "seeds": seeds}
            per = list(row["datasets"].values())
            all_need = [x["tpe_trials_to_random_N"] or 2 * N for p in per for x in p["seeds"]]
            row["overall"] = {"trials_to_random_N_median": median(all_need),
                              "seeds_within_half": sum(p["seeds_within_half"] for p in per),
                              "seeds_tpe_ge_random_2N": sum(p["seeds_tpe_ge_random_2N"] for p in per),
                              "worst_dataset_ge_random_2N": min(p["seeds_tpe_ge_random_2N"] for p in per),
                              "worst_dataset_trials_median": max(p["trials_to_random_N_median"] for p in per),
                              "studies": args.seeds * len(per)}
            o = row["overall"]
            row["meets"] = {"half": o["worst_dataset_trials_median"] <= N / 2,
                            "twice": o["worst_dataset_ge_random_2N"] >= 8 * args.seeds / 10}
            rows.append(row)
            lines.append(f"N={N:3d} {row['key']:34s} trials to random's best-of-N: median {o['trials_to_random_N_median']:g}"
                         f" (within N/2 in {o['seeds_within_half']}/{o['studies']}); TPE(N) >= random(2N) in "
                         f"{o['seeds_tpe_ge_random_2N']}/{o['studies']} | " + " | ".join(
                             f"{n} {p['trials_to_random_N_median']:g} tr, {p['seeds_tpe_ge_random_2N']}/{args.seeds}, "
                             f"regret {p['regret']['tpe_N']:.3f} (random N {p['regret']['random_N']:.3f}, "
                             f"2N {p['regret']['random_2N']:.3f})" for n, p in row["datasets"].items()))

    def score(r: dict) -> tuple:
        o = r["overall"]
        return (r["meets"]["half"] + r["meets"]["twice"], o["seeds_tpe_ge_random_2N"], -o["trials_to_random_N_median"])

    chosen = {}
    for a in settings:  # a setting is judged on every budget together
        rs = [r for r in rows if r["tpe_args"] == a]
        chosen[key(a)] = (sum(score(r)[0] for r in rs), sum(score(r)[1] for r in rs),
                          sum(score(r)[2] for r in rs))
    best_key = max(chosen, key=lambda k: chosen[k])
    best = next(a for a in settings if key(a) == best_key)
    lines.append(f"chosen: {best_key} " + "; ".join(
        f"N={r['budget']}: half {'met' if r['meets']['half'] else 'MISSED'}, 2N {'met' if r['meets']['twice'] else 'MISSED'}"
        for r in rows if r["tpe_args"] == best))
    names = list(funcs)
    md = ["| N | TPE settings | trials to random's best-of-N (median; seeds <= N/2) | TPE(N) >= random(2N) | "
          + " | ".join(f"{n}: trials, >= 2N (of {args.seeds}), regret TPE(N) / random(2N)" for n in names) + " |",
          "|---|---|---|---|" + "---|" * len(names)]
    for r in rows:
        o = r["overall"]
        mark = " **(chosen)**" if r["tpe_args"] == best else (" (shipped)" if r["tpe_args"] == SHIPPED else "")
        md.append(f"| {r['budget']} | {r['key']}{mark} | {o['trials_to_random_N_median']:g}; {o['seeds_within_half']}/"
                  f"{o['studies']} | {o['seeds_tpe_ge_random_2N']}/{o['studies']} | " + " | ".join(
                      f"{r['datasets'][n]['trials_to_random_N_median']:g}, {r['datasets'][n]['seeds_tpe_ge_random_2N']}, "
                      f"{r['datasets'][n]['regret']['tpe_N']:.3f} / {r['datasets'][n]['regret']['random_2N']:.3f}"
                      for n in names) + " |")
    args.md.parent.mkdir(parents=True, exist_ok=True)
    args.md.write_text("\n".join(md) + "\n")
    figs = {"files": [str(f) for f in files],
            "objective": {n: "lookup table of recorded best values" if isinstance(f, Table) else
                          "Nadaraya-Watson surrogate of recorded best values" for n, f in funcs.items()},
            "surrogate_fit": fitted, "space": str(args.space), "baseline_first": first,
            "surrogates": {n: {"configs": len(f.points), "optimum": round(f.optimum, 5), "lr_range": f.lr_range}
                           for n, f in funcs.items()},
            "seeds": args.seeds, "settings": rows, "chosen": best,
            "targets": {"trials_to_random_N": "<= N/2", "seeds_tpe_ge_random_2N": 8}}
    emit("search", figs, lines)


if __name__ == "__main__":
    main()
