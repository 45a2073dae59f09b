"""Does a setting pay? ``segsearch launch --budget B`` on a real dataset's space as written (A) against the same
space with some settings changed (B), side by side, each pinned to its own core, then B's final model scored
against A's on the same test images with the independent scorer (``bench/score.py``): "difference" is B minus
A with its paired bootstrap interval over the test images. Each seed is one more pair of trainings (both YAML
copies get ``train.seed`` and ``study.sampler.seed`` = the seed), so the table shows training noise too.

Run from the repository root, after ``python bench/real_data.py`` (one pair per dataset and seed, B + ~30 s)::

    python bench/ab_setting.py --set train.scheduler=wsd --budget 8m --datasets mri_struct,skin --seeds 0,1
    python bench/ab_setting.py --set train.scheduler=wsd --set train.scheduler_params.decay=0.3 --budget 8m
    python bench/ab_setting.py --set-a train.scheduler=cosine --budget 20m --datasets mri_struct   # A changed
    python bench/ab_setting.py --args-a="--search never" --args-b="--search always" --budget 60m --datasets skin

``--set KEY=VALUE`` takes a dotted path into the YAML; the value is read as YAML (``0.3`` is a number);
``--set-a`` changes A instead. ``--args-a`` / ``--args-b`` add ``segsearch launch`` arguments to one side (the
question "does the search pay": ``--search never`` against ``--search always``, as ``bench/search_pays.sh`` asks
it with every launch at once on a GPU). A's
core alternates between pairs (0, 1, 0, ...) so that neither variant always gets the same core. Results:
``WORK/ab.json`` and a table printed at the end; WORK defaults to ``$SEGSEARCH_BENCH_DIR/ab``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import WORK
from bench.bench_quality import ENV, REAL, REPO, finish, segsearch_cmd, start


def parse_sets(items: list[str]) -> dict[str, Any]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            sys.exit(f"--set {item!r}: expected KEY=VALUE, e.g. train.scheduler=wsd")
        out[key] = yaml.safe_load(value)
    return out


def apply(doc: dict[str, Any], sets: dict[str, Any]) -> dict[str, Any]:
    for key, value in sets.items():
        *parents, leaf = key.split(".")
        node = doc
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return doc


def write_space(name: str, seed: int, sets: dict[str, Any], out: Path) -> Path:
    doc = yaml.safe_load((REAL / name / "space.yaml").read_text())
    doc.setdefault("train", {})["seed"] = seed
    doc["study"].setdefault("sampler", {})["seed"] = seed
    out.write_text(yaml.safe_dump(apply(doc, sets), sort_keys=False))
    return out


def run_pair(name: str, seed: int, sides: dict[str, tuple[dict[str, Any], list[str]]], budget: str, work: Path,
             flip: bool) -> dict[str, Any]:
    """``sides``: for "A" and "B", the YAML changes and the extra launch arguments."""
    runs = {}
    for variant, core in (("A", int(flip)), ("B", 1 - int(flip))):
        tag = work / f"{name}_s{seed}_{variant}"
        sets, extra = sides[variant]
        space = write_space(name, seed, sets, tag.with_suffix(".yaml"))
        tag.mkdir(parents=True, exist_ok=False)
        cmd = [*segsearch_cmd(), "launch", str(space), "--budget", budget, "--studies-dir", str(tag), "--no-wandb",
               *extra]
        runs[variant] = start(cmd, core, tag / "launch.log")
    print(f"[{name} seed {seed}] A on core {int(flip)}, B on core {1 - int(flip)}", flush=True)
    done = {v: finish(r) for v, r in runs.items()}
    study = yaml.safe_load((REAL / name / "space.yaml").read_text())["study"]["name"]
    finals = {v: work / f"{name}_s{seed}_{v}" / study / "final" for v in runs}
    score = work / f"{name}_s{seed}_score.json"
    subprocess.run([sys.executable, "bench/score.py", "--space", str(work / f"{name}_s{seed}_A.yaml"),
                    "--model", str(finals["B"]), "--against", str(finals["A"]), "--out", str(score)],
                   cwd=REPO, env=ENV, check=True, stdout=subprocess.DEVNULL)
    s = json.loads(score.read_text())
    return {"dataset": name, "seed": seed, "B": s.get("miou"), "A": (s.get("against") or {}).get("miou"),
            "B_collapsed": s.get("collapsed"), "A_collapsed": (s.get("against") or {}).get("collapsed"),
            "difference": s.get("difference"), "wall_s": {v: d["wall_s"] for v, d in done.items()},
            "rc": {v: d["rc"] for v, d in done.items()}}


def describe(sides: dict[str, tuple[dict[str, Any], list[str]]]) -> str:
    parts = []
    for variant, (sets, extra) in sides.items():
        said = [f"{k}={v}" for k, v in sets.items()] + ([" ".join(extra)] if extra else [])
        parts.append(f"{variant}: {', '.join(said) or 'the space as written'}")
    return "; ".join(parts)


def table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| dataset | seed | A | B | B - A [95% interval] | wall s A / B |", "|---|---|---|---|---|---|"]
    for r in rows:
        d = r.get("difference") or {}
        lo, hi = d.get("low"), d.get("high")
        interval = f" [{lo:+.3f}, {hi:+.3f}]" if lo is not None and hi is not None else ""
        delta = f"{r['B'] - r['A']:+.3f}" if r["A"] is not None and r["B"] is not None else "-"
        lines.append(f"| {r['dataset']} | {r['seed']} | {r['A']:.3f} | {r['B']:.3f} | {delta}{interval} "
                     f"| {r['wall_s']['A']:.0f} / {r['wall_s']['B']:.0f} |")
    for name in dict.fromkeys(r["dataset"] for r in rows):
        ds = [r["B"] - r["A"] for r in rows if r["dataset"] == name]
        lines.append(f"| {name} | mean of {len(ds)} | | | {statistics.mean(ds):+.3f} "
                     f"({sum(d >= 0.0005 for d in ds)} of {len(ds)} above, {sum(d <= -0.0005 for d in ds)} below) | |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", dest="sets", action="append", default=[], help="KEY=VALUE for B, e.g. train.scheduler=wsd")
    ap.add_argument("--set-a", dest="sets_a", action="append", default=[], help="KEY=VALUE for A")
    ap.add_argument("--args-a", default="", help='launch arguments for A, e.g. "--search never"')
    ap.add_argument("--args-b", default="", help='launch arguments for B, e.g. "--search always"')
    ap.add_argument("--budget", default="8m")
    ap.add_argument("--datasets", default="mri_struct,skin,mri9,nuclei")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--work", type=Path, default=WORK / "ab")
    args = ap.parse_args()
    sides = {"A": (parse_sets(args.sets_a), shlex.split(args.args_a)),
             "B": (parse_sets(args.sets), shlex.split(args.args_b))}
    if sides["A"] == sides["B"]:
        sys.exit("A and B are the same: give --set/--set-a or --args-a/--args-b")
    args.work.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    pairs = [(int(s), n) for s in args.seeds.split(",") for n in args.datasets.split(",")]
    for i, (seed, name) in enumerate(pairs):
        rows.append(run_pair(name, seed, sides, args.budget, args.work, flip=bool(i % 2)))
        (args.work / "ab.json").write_text(json.dumps({"A": sides["A"], "B": sides["B"], "budget": args.budget,
                                                       "rows": rows}, indent=1))
        print("\n".join([describe(sides), *table(rows)]), flush=True)


if __name__ == "__main__":
    main()
