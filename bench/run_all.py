"""Run every benchmark and write the figures: ``bench/results/*.json`` (latest, not committed) and
``bench/LATEST.md`` (committed). Under 20 minutes on 2 CPU cores.

    python bench/run_all.py                 # all figures, from the recorded curves
    python bench/run_all.py --record        # first re-record bench/data/curves.json (~5 min more)
    python bench/run_all.py --only overhead,storage

Needs a local PostgreSQL where the current user may create databases (figures 3 and 6 drop and
recreate ``segsearch_bench``; set SEGSEARCH_BENCH_PG to another SQLAlchemy URL to change it).
SEGSEARCH_THREADS sets the PyTorch threads (default: every core the process may use).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BENCH, RESULTS, machine

ORDER = ("overhead", "pipeline", "storage", "pruning", "search", "scaling")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(ORDER))
    ap.add_argument("--record", action="store_true", help="re-record the learning curves first")
    args = ap.parse_args()
    t0 = time.monotonic()
    if args.record or not (BENCH / "data" / "curves.json").exists():
        subprocess.run([sys.executable, str(BENCH / "record_curves.py")], check=True)
    seconds, failed = {}, []
    for name in args.only.split(","):
        s0 = time.monotonic()
        rc = subprocess.run([sys.executable, str(BENCH / f"bench_{name}.py")]).returncode
        seconds[name] = round(time.monotonic() - s0, 1)
        if rc:
            failed.append(name)
    total = time.monotonic() - t0
    results = {n: json.loads((RESULTS / f"{n}.json").read_text()) for n in ORDER if (RESULTS / f"{n}.json").exists()}
    latest = {"date": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine(),
              "seconds": {**seconds, "total": round(total, 1)}, "failed": failed, "results": results}
    (RESULTS / "latest.json").write_text(json.dumps(latest, indent=2) + "\n")
    (BENCH / "LATEST.md").write_text(render(latest))
    print(f"\nall benchmarks: {total / 60:.1f} min; figures in {BENCH / 'LATEST.md'}")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def rows(r: dict) -> list[tuple[str, str, str, str]]:
    out = []
    if "overhead" in r:
        f = r["overhead"]["figures"]
        for mode, target in (("memory", 1.03), ("pipeline", 1.10)):
            if mode in f:
                m = f[mode]
                out.append((f"1. runner overhead, {mode} batches: steps only", f"<= {target}",
                            f"{m['ratio_steps']:.3f}", _met(m["ratio_steps"] <= target)))
                out.append((f"1. runner overhead, {mode} batches: with per-epoch work over {m['steps_per_epoch']} "
                            f"steps/epoch ({m['epoch_overhead_ms']:.0f} ms/epoch, mostly the checkpoint)", f"<= {target}",
                            f"{m['ratio_amortised']:.3f}", _met(m["ratio_amortised"] <= target)))
    if "pipeline" in r:
        p = r["pipeline"]
        out.append((f"2. data pipeline headroom (full preset, {p['auto_workers']} loader workers)", ">= 2",
                    f"{p['headroom']:.1f}", _met(p["headroom"] >= 2)))
    if "storage" in r:
        s = r["storage"]
        out.append(("3. report + pruning check p95, PostgreSQL, 1000 trials", "<= 20 ms",
                    f"{s['report_prune_p95_ms_at_1000']:.1f} ms", _met(s["report_prune_p95_ms_at_1000"] <= 20)))
        out.append(("3. per-trial storage overhead, 2000 vs 20 trials", "<= 2x", f"{s['per_trial_growth']:.2f}x",
                    _met(s["per_trial_growth"] <= 2)))
    if "pruning" in r:
        pr = r["pruning"]
        for name, v in pr["pruners"].items():
            ok = v["saving_median"] >= 3 and v["seeds_best_pruned"] == 0
            out.append((f"4. pruning saving, {name} (best config pruned in {v['seeds_best_pruned']}/{pr['seeds']} "
                        f"seeds; equal best in {v['seeds_equal_best']}/{pr['seeds']})", ">= 3x, best never pruned",
                        f"{v['saving_median']:.2f}x", _met(ok)))
    if "search" in r:
        se = r["search"]
        out.append((f"5. TPE vs random: fewer trials to random's best of {se['budget']}", ">= 3x",
                    f"{se['speedup_median']:.2f}x", _met(se["speedup_median"] >= 3)))
        out.append((f"5. TPE ({se['budget']}) >= random ({2 * se['budget']})", ">= 8/10 seeds",
                    f"{se['seeds_tpe_ge_random_2x']}/10", _met(se["seeds_tpe_ge_random_2x"] >= 8)))
    if "scaling" in r:
        sc = r["scaling"]
        for mode in ("queued", "open"):
            for k, e in sc.get(mode, {}).get("efficiency", {}).items():
                if k != "1":
                    out.append((f"6. worker scaling, {mode} trials, k={k} "
                                f"({sc[mode]['trials_per_minute'][k]} trials/min)", ">= 0.95", f"{e:.3f}",
                                _met(e >= 0.95)))
        out.append(("6. lost / duplicated trials", "0 / 0", f"{sc['lost']} / {sc['duplicated']}",
                    _met(sc["lost"] == 0 and sc["duplicated"] == 0)))
    return out


def render(latest: dict) -> str:
    m = latest["machine"]
    lines = ["# Latest benchmark figures", "",
             f"Measured {latest['date'][:10]} on {m['cpus']} CPU cores, {'a GPU' if m['cuda'] else 'no GPU'}, "
             f"torch {m['torch']}, Python {m['python']}; `python bench/run_all.py` took "
             f"{latest['seconds']['total'] / 60:.1f} min. Ratios are medians of alternating repetitions in one run.",
             "", "| figure | target | measured | met |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows(latest["results"])]
    lines += ["", "Raw figures: `bench/results/*.json` after a run (not committed).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
