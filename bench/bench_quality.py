"""Quality benchmark: ``segsearch launch --budget B`` against seed 001's recipe (``bench/recipe.py``) given the
same wall-clock budget B and the same train/val/test split, on the real datasets of ``bench/real_data.py``.

For each dataset and budget it runs, each pinned to one core (``taskset -c N``, OMP_NUM_THREADS=1)::

    segsearch launch bench/data/real/<name>/space.yaml --budget B --studies-dir WORK/<name>-<B> --no-wandb
    python bench/recipe.py --space bench/data/real/<name>/space.yaml --budget B --out WORK/<name>-<B>-recipe

one after the other, or both at once on two cores with ``--parallel``. Then ``bench/score.py`` scores
segsearch's final model (``WORK/<name>-<B>/<study>/final``) and the recipe's model the same way: one
confusion matrix over the test split at native resolution, class-mean IoU (classes absent from ground
truth and prediction left out; binary: foreground IoU), and a flag for models that predict one class
everywhere. Results: ``bench/results/quality.json`` and ``quality.md``, printed as a table.

Run from the repository root, after ``python bench/real_data.py``::

    python bench/bench_quality.py                       # all datasets, 8m: ~2 x 8 min per dataset (~65 min for 4)
    python bench/bench_quality.py --parallel            # both methods at once on cores 0 and 1: ~9 min per dataset
    python bench/bench_quality.py --budgets 8m,20m --datasets nuclei,mri9,skin --parallel   # ~90 min
    python bench/bench_quality.py --rescore             # score the models of an earlier run again, no training
    python bench/bench_quality.py --planned --datasets mri9 --parallel   # folder in: `segsearch plan` writes the YAML
    python bench/bench_quality.py --parallel --seeds 0,1,2   # three trainings of each method: training noise
    python bench/bench_quality.py --parallel --recipe-bf16   # the recipe under bf16 autocast too (same precision)
    python bench/bench_quality.py --parallel --recipe-bf16 --recipe-fused   # and its Adam on the fused kernel too

With ``--seeds`` each method runs once per seed (segsearch: ``train.seed`` in a copy of the YAML; the recipe:
``--seed``), on the same split, and the table ends with each dataset's mean difference over the seeds: the
paired interval of one row covers which test images were drawn, the seeds show how much one training moves, and
the mean's interval resamples both (the seeds, then the test images; ``bench/score.py``'s ``pooled_difference``).

With ``--planned`` both methods run on the YAML that ``segsearch plan bench/data/real/<name> --budget B``
writes (its own split fractions, classes and image size; ``launch`` runs it unedited, the budget coming
from ``study.budget``), so its figures compare with each other, not with the space.yaml runs.

Each run takes its budget plus a few seconds; scoring takes ~10-20 s per model. WORK defaults to
``$SEGSEARCH_BENCH_DIR/quality`` (``/tmp/segsearch_bench/quality``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import RESULTS, WORK, emit

REPO = Path(__file__).resolve().parent.parent
REAL = REPO / "bench" / "data" / "real"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "SEGSEARCH_THREADS": "1",
       "WANDB_MODE": "disabled", "PYTHONUNBUFFERED": "1"}


def parse_budget(text: str) -> float:
    from bench.recipe import parse_budget as parse

    return parse(text)


def segsearch_cmd() -> list[str]:
    exe = shutil.which("segsearch") or str(Path(sys.executable).with_name("segsearch"))
    return [exe] if Path(exe).is_file() else [sys.executable, "-m", "segsearch"]


def start(cmd: list[str], core: int, log: Path) -> tuple[subprocess.Popen, float, Any]:
    f = log.open("w")
    f.write("$ " + " ".join(cmd) + "\n")
    f.flush()
    return subprocess.Popen(["taskset", "-c", str(core), *cmd], cwd=REPO, env=ENV, stdout=f,
                            stderr=subprocess.STDOUT), time.time(), f


def finish(run: tuple[subprocess.Popen, float, Any]) -> dict[str, Any]:
    """Wait for ``run``; its wall time is taken when it exits."""
    proc, t0, f = run
    while proc.poll() is None:
        time.sleep(0.5)
    rc, wall = proc.returncode, round(time.time() - t0, 1)
    f.close()
    lines = [ln.strip() for ln in Path(f.name).read_text(errors="replace").splitlines() if ln.strip()]
    return {"rc": rc, "wall_s": wall, "last_line": lines[-1][-300:] if lines else ""}


PLANNED = False  # --planned: both methods run on the YAML `segsearch plan` writes for the folder
RECIPE_BF16 = False  # --recipe-bf16: the recipe trains under bf16 autocast (bench/recipe.py --bf16)
RECIPE_FUSED = False  # --recipe-fused: the recipe's Adam steps with torch's fused kernel (bench/recipe.py --fused)
SEED = 0  # --seeds: the seed of the runs under way (0: the YAML as written)


def run_tag(name: str, budget: str) -> str:
    return f"{name}-{budget}" + (f"-s{SEED}" if SEED else "")


def space_for(name: str, budget: str, work: Path) -> Path:
    base = work / f"{name}-{budget}-plan.yaml" if PLANNED else REAL / name / "space.yaml"
    if not SEED:
        return base
    import yaml

    seeded = work / f"{run_tag(name, budget)}.yaml"
    doc = yaml.safe_load(base.read_text())  # the same data, split and space; only the training seed differs
    doc.setdefault("train", {})["seed"] = SEED
    doc["study"]["name"] = f"{doc['study']['name']}_s{SEED}"
    work.mkdir(parents=True, exist_ok=True)
    seeded.write_text(yaml.safe_dump(doc, sort_keys=False))
    return seeded


def plan_space(name: str, budget: str, work: Path, core: int) -> None:
    """``segsearch plan bench/data/real/<name> --budget B``: the folder-in path (its calibration is not timed
    into the budget: the user runs it once, before the launch)."""
    out = space_for(name, budget, work)
    cmd = [*segsearch_cmd(), "plan", str(REAL / name), "--budget", budget, "--out", str(out), "--force"]
    subprocess.run(["taskset", "-c", str(core), *cmd], cwd=REPO, env=ENV, check=True)


def run_pair(name: str, budget: str, work: Path, cores: list[int], parallel: bool) -> dict[str, Any]:
    space = space_for(name, budget, work)
    studies, recipe_out = work / run_tag(name, budget), work / f"{run_tag(name, budget)}-recipe"
    for p in (studies, recipe_out):
        shutil.rmtree(p, ignore_errors=True)  # a fresh study: launching the same YAML again would resume it
        p.mkdir(parents=True)
    seg = [*segsearch_cmd(), "launch", str(space), "--studies-dir", str(studies), "--no-wandb"]
    if not PLANNED:  # a planned YAML holds its budget (study.budget): launched as written
        seg[seg.index(str(space)) + 1:seg.index(str(space)) + 1] = ["--budget", budget]
    rec = [sys.executable, "bench/recipe.py", "--space", str(space), "--budget", budget, "--out", str(recipe_out),
           "--seed", str(SEED), *(["--bf16"] if RECIPE_BF16 else []), *(["--fused"] if RECIPE_FUSED else [])]
    print(f"[{name} {budget}] segsearch on core {cores[0]}, recipe on core {cores[-1]}"
          f"{' at once' if parallel else ', one after the other'}", flush=True)
    if parallel:
        a, b = start(seg, cores[0], studies / "launch.log"), start(rec, cores[-1], recipe_out / "recipe.log")
        while a[0].poll() is None and b[0].poll() is None:  # each one's wall time when it exits
            time.sleep(0.5)
        first, second = (a, b) if a[0].poll() is not None else (b, a)
        done = {id(first): finish(first)}
        done[id(second)] = finish(second)
        return {"segsearch": done[id(a)], "recipe": done[id(b)]}
    res = {"segsearch": finish(start(seg, cores[0], studies / "launch.log"))}
    res["recipe"] = finish(start(rec, cores[-1], recipe_out / "recipe.log"))
    return res


def final_folder(name: str, budget: str, work: Path) -> Path:
    from segsearch.config import load_config

    study = load_config(space_for(name, budget, work)).study.name
    return work / run_tag(name, budget) / study / "final"


def chosen_settings(final: Path) -> dict[str, Any]:
    """Architecture, encoder, loss (with its parameters), optimizer and lr of segsearch's final model."""
    import yaml

    folder = final / "member_0" if (final / "ensemble.json").is_file() else final
    cfg = folder / "config.yaml"
    if not cfg.is_file():
        return {}
    doc = yaml.safe_load(cfg.read_text())
    t = doc.get("train", {})
    keep = ("architecture", "encoder", "loss", "loss_params", "optimizer", "lr", "batch_size", "epochs")
    out = {k: t.get(k) for k in keep}
    out["trial"] = doc.get("trial")
    training = folder / "training.json"
    if training.is_file():
        tj = json.loads(training.read_text())
        out.update(final_how=tj.get("how"), final_best_epoch=tj.get("best_epoch"))
    return out


def score_pair(name: str, budget: str, work: Path, runs: dict[str, Any]) -> dict[str, Any]:
    from bench.score import score_model

    space = space_for(name, budget, work)
    row: dict[str, Any] = {"dataset": name, "budget": budget, "budget_s": parse_budget(budget), "seed": SEED,
                           "recipe_precision": "bf16" if RECIPE_BF16 else "fp32", "recipe_fused": RECIPE_FUSED}
    scored: dict[str, dict[str, Any]] = {}
    for method, model in (("segsearch", final_folder(name, budget, work)),
                          ("recipe", work / f"{run_tag(name, budget)}-recipe")):
        run = runs.get(method, {})
        entry: dict[str, Any] = {**run, "model": str(model)}
        try:
            s = scored[method] = score_model(space, model)
            entry.update(miou=s["miou"], metric=s["metric"], collapsed=s["collapsed"],
                         per_class_iou=s["per_class_iou"], predicted_share=s["predicted_share"],
                         split_matches=s.get("split_matches"), image_confusions=s["image_confusions"],
                         images_in_order=s["images_in_order"])  # for the interval over seeds
        except Exception as exc:  # a missing or broken model is a result, not a crash
            entry.update(miou=None, collapsed=None, error=f"{type(exc).__name__}: {exc}")
            if run.get("rc"):
                entry["error"] = f"exited with {run['rc']}: {run.get('last_line', '')}"
        row[method] = entry
    row["segsearch"]["chosen"] = chosen_settings(final_folder(name, budget, work))
    if len(scored) == 2:  # segsearch minus the recipe, resampling the test images (bench/score.py)
        from bench.score import paired_difference

        row["difference"] = paired_difference(scored["segsearch"], scored["recipe"])
    return row


def fmt(v: Any, spec: str = ".3f") -> str:
    return "-" if v is None else format(v, spec)


def table(rows: list[dict[str, Any]]) -> list[str]:
    tags = [t for t, on in (("bf16", any(r.get("recipe_precision") == "bf16" for r in rows)),
                            ("fused Adam", any(r.get("recipe_fused") for r in rows))) if on]
    recipe = f"recipe ({', '.join(tags)})" if tags else "recipe"
    lines = [f"| dataset | budget | seed | segsearch test mIoU | {recipe} test mIoU | difference (95% interval) "
             "| segsearch wall s | recipe wall s | collapsed (segsearch / recipe) | segsearch's choice |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        s, c = r["segsearch"], r["recipe"]
        ch = s.get("chosen") or {}
        choice = f"{ch.get('architecture')}/{ch.get('encoder')}/{ch.get('loss')}" if ch else s.get("error", "-")
        d = r.get("difference")
        diff = f"{d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}] {d['verdict']}" if d else "-"
        lines.append(f"| {r['dataset']} | {r['budget']} | {r.get('seed', 0)} | {fmt(s.get('miou'))} | {fmt(c.get('miou'))} | {diff} "
                     f"| {fmt(s.get('wall_s'), '.0f')} | {fmt(c.get('wall_s'), '.0f')} "
                     f"| {s.get('collapsed')} / {c.get('collapsed')} | {choice} |")
    return lines


def over_seeds(rows: list[dict[str, Any]]) -> list[str]:
    """Per dataset and budget with more than one seed: mean of each method and of the paired differences, with
    an interval that resamples the seeds and the test images (``bench/score.py``'s ``pooled_difference``)."""
    from bench.score import pooled_difference

    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        if r["segsearch"].get("miou") is not None and r["recipe"].get("miou") is not None:
            groups.setdefault((r["dataset"], r["budget"]), []).append(r)
    lines = ["| dataset | budget | seeds | segsearch mean | recipe mean | mean difference [95% interval over seeds "
             "and test images] | differences by seed | segsearch >= recipe |", "|---|---|---|---|---|---|---|---|"]
    for (name, budget), rs in groups.items():
        if len(rs) < 2:
            continue
        seg = [r["segsearch"]["miou"] for r in rs]
        rec = [r["recipe"]["miou"] for r in rs]
        diffs = [a - b for a, b in zip(seg, rec, strict=True)]
        p = pooled_difference([(r["segsearch"], r["recipe"]) for r in rs])
        pooled = f"{p['difference']:+.3f} [{p['low']:+.3f}, {p['high']:+.3f}] {p['verdict']}"
        lines.append(f"| {name} | {budget} | {len(rs)} | {sum(seg) / len(seg):.3f} | {sum(rec) / len(rec):.3f} "
                     f"| {pooled} | {', '.join(f'{d:+.3f}' for d in diffs)} "
                     f"| {sum(d >= 0 for d in diffs)}/{len(diffs)} |")
    return lines if len(lines) > 2 else []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", help="comma-separated (default: every bench/data/real/*/space.yaml)")
    ap.add_argument("--budgets", default="8m", help="comma-separated wall-clock budgets, e.g. 8m,20m")
    ap.add_argument("--parallel", action="store_true", help="run segsearch and the recipe at once on two cores")
    ap.add_argument("--cores", default="0,1", help="core of segsearch, core of the recipe")
    ap.add_argument("--work", type=Path, default=WORK / "quality", help="studies and recipe outputs")
    ap.add_argument("--rescore", action="store_true", help="only score the models of an earlier run")
    ap.add_argument("--seeds", default="0", help="comma-separated training seeds, each a run of both methods")
    ap.add_argument("--planned", action="store_true",
                    help="both methods on the YAML `segsearch plan <folder> --budget B` writes (not space.yaml)")
    ap.add_argument("--recipe-bf16", action="store_true",
                    help="the recipe trains under bf16 autocast (bench/recipe.py --bf16), as segsearch does on such CPUs")
    ap.add_argument("--recipe-fused", action="store_true",
                    help="the recipe's Adam uses torch's fused kernel (bench/recipe.py --fused), as segsearch's does")
    args = ap.parse_args()
    global PLANNED, RECIPE_BF16, RECIPE_FUSED, SEED
    PLANNED, RECIPE_BF16, RECIPE_FUSED = args.planned, args.recipe_bf16, args.recipe_fused
    if RECIPE_BF16:
        from segsearch.training._device import cpu_has_native_bf16

        if not cpu_has_native_bf16():  # emulated bf16 is many times slower (233 s against 16 s per epoch on AVX2)
            sys.exit("--recipe-bf16: this CPU has no native bf16 (AVX512-BF16 or AMX), so segsearch trains in fp32 "
                     "here; run without --recipe-bf16 for the same precision")
    seeds = [int(x) for x in args.seeds.split(",")]
    names = args.datasets.split(",") if args.datasets else sorted(p.parent.name for p in REAL.glob("*/space.yaml"))
    if not names:
        sys.exit("no datasets: run `python bench/real_data.py` first")
    missing = [n for n in names if not (REAL / n / "space.yaml").is_file()]
    if missing:
        sys.exit(f"no space.yaml for {missing} under {REAL}: run `python bench/real_data.py`")
    budgets = args.budgets.split(",")
    for b in budgets:
        parse_budget(b)
    cores = [int(c) for c in args.cores.split(",")]
    help_text = subprocess.run([*segsearch_cmd(), "launch", "--help"], capture_output=True, text=True).stdout
    if not args.rescore and "--budget" not in help_text:
        sys.exit("this segsearch has no `launch --budget` yet")
    os.sched_setaffinity(0, {cores[0]})  # scoring in this process: one core, one thread
    import torch

    torch.set_num_threads(1)
    rows, t0 = [], time.time()
    for budget in budgets:
        for name in names:
            for SEED in seeds:
                if args.planned and not args.rescore and SEED == seeds[0]:
                    args.work.mkdir(parents=True, exist_ok=True)
                    SEED, first = 0, SEED  # one plan per dataset and budget; the seeds copy it
                    plan_space(name, budget, args.work, cores[0])
                    SEED = first
                runs = {} if args.rescore else run_pair(name, budget, args.work, cores, args.parallel)
                rows.append(score_pair(name, budget, args.work, runs))
                print("\n".join(table(rows[-1:])[2:]), flush=True)
    lines = table(rows)
    summary = over_seeds(rows)
    if summary:
        lines += ["", *summary]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "quality.md").write_text("\n".join(lines) + "\n")
    per_image = ("image_confusions", "images_in_order")  # for over_seeds only: out of the printed JSON line
    rows = [{**r, **{m: {k: v for k, v in r[m].items() if k not in per_image} for m in ("segsearch", "recipe")}}
            for r in rows]
    emit("quality", {"rows": rows, "parallel": args.parallel, "cores": cores, "work": str(args.work),
                     "seconds": round(time.time() - t0, 1), "table": lines}, lines)


if __name__ == "__main__":
    main()
