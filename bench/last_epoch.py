"""Which epoch's weights should a finished schedule keep: the best on validation, or the last?

Trains the study's baseline (seed 001's recipe in the space) as a launch with no room to search trains it (the
final augmentation without mosaic, cosine over N epochs, the space's precision), and after every epoch scores
the weights on the validation and the test split (the training loop's own metric: a confusion matrix summed
over the split, class-mean IoU, binary: foreground IoU; no test-time augmentation). The test curve is never
used to choose anything; it says what each selection rule would have scored::

    python bench/last_epoch.py --space bench/data/real/mri_struct/space.yaml --epochs 50 --seed 1 --out /tmp/le/a.json
    python bench/last_epoch.py --summary /tmp/le/*.json

The summary prints, per run, the test IoU of the best-validation epoch and of the last epoch.

``--study`` does the same for a finished ``segsearch launch`` (a trial folder keeps ``best.pt`` and
``last.pt``): each checkpoint's weights are put into a copy of the study's final model folder and scored on
validation and test by ``bench/score.py`` (with the folder's flip TTA)::

    python bench/last_epoch.py --study /tmp/q25b/mri_struct-8m-s1/real_mri_struct_s1 \
        --space /tmp/q25b/mri_struct-8m-s1.yaml --out /tmp/le/launch_mri_struct.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def train_and_score(space: str, epochs: int, seed: int) -> dict:
    import torch

    from bench._common import baseline_run
    from segsearch.training import Reporter
    from segsearch.training._loop import _train_epoch, evaluate
    from segsearch.training._metrics import MetricAccumulator

    # what a launch without a search trains on: the final augmentation without mosaic
    r = baseline_run(space, epochs, seed, Path("/tmp") / "last_epoch_cache",
                     data_update={"mosaic": 0.0})
    model, tcfg, rt, acc_args = r.model, r.tcfg, r.rt, r.acc_args
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    val, test = [], []
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        _train_epoch(model, r.train_dl, r.loss_fn, r.opt, r.sched, scaler, rt, Reporter(), epoch, tcfg.grad_clip)
        r.sched.step_epoch(0.0)
        val.append(round(evaluate(model, r.val_dl, rt, MetricAccumulator(*acc_args)).miou, 4))
        test.append(round(evaluate(model, r.test_dl, rt, MetricAccumulator(*acc_args)).miou, 4))
        print(epoch, val[-1], test[-1], flush=True)
    return {"space": space, "epochs": epochs, "seed": seed, "seconds": round(time.perf_counter() - t0, 1),
            "val": val, "test": test}


def score_launch(study: str, space: str, trial: int = 0) -> dict:
    import shutil
    import tempfile

    import torch

    from bench.score import score_model

    folder = Path(study)
    out: dict = {"space": space, "study": study, "seed": None}
    with tempfile.TemporaryDirectory() as tmp:
        for which in ("best", "last"):
            copy = Path(tmp) / which
            shutil.copytree(folder / "final", copy)
            state = torch.load(folder / "trials" / f"{trial:05d}" / f"{which}.pt", map_location="cpu",
                               weights_only=False)
            torch.save(state["model"], copy / "model.pt")
            out[which] = {"epoch": state["epoch"], **{s: round(score_model(space, copy, s)["miou"], 4)
                                                      for s in ("val", "test")}}
            print(which, out[which], flush=True)
    return out


def summary(files: list[str]) -> None:
    rows = []
    print("| run | epochs | best-validation epoch: val / test | last epoch: val / test | last - best on test |")
    print("|---|---|---|---|---|")
    for f in files:
        r = json.loads(Path(f).read_text())
        if "study" in r:  # a launch: its two checkpoints
            b, last = r["best"], r["last"]
            d = last["test"] - b["test"]
            rows.append(d)
            print(f"| launch {Path(r['study']).name} | {last['epoch']} | {b['epoch']}: {b['val']:.3f} / {b['test']:.3f} "
                  f"| {last['val']:.3f} / {last['test']:.3f} | {d:+.3f} |")
            continue
        val, test = r["val"], r["test"]
        b = max(range(len(val)), key=lambda i: val[i])  # the first epoch with the highest validation score
        d = test[-1] - test[b]
        rows.append(d)
        name = f"{Path(r['space']).parent.name} seed {r['seed']}"
        print(f"| {name} | {r['epochs']} | {b + 1}: {val[b]:.3f} / {test[b]:.3f} | {val[-1]:.3f} / {test[-1]:.3f} | {d:+.3f} |")
    if rows:
        print(f"\nmean last - best {sum(rows) / len(rows):+.4f} over {len(rows)} runs; last higher in "
              f"{sum(d > 0 for d in rows)}, equal in {sum(d == 0 for d in rows)}, lower in {sum(d < 0 for d in rows)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--space")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out")
    ap.add_argument("--summary", nargs="+", help="result files to tabulate")
    ap.add_argument("--study", help="a finished launch's study folder: score its trial 0's best.pt and last.pt")
    args = ap.parse_args()
    if args.summary:
        summary(args.summary)
        return
    if args.study and args.space and args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(score_launch(args.study, args.space), indent=1))
        return
    if not (args.space and args.epochs and args.out):
        ap.error("--space, --epochs and --out (or --summary FILES)")
    result = train_and_score(args.space, args.epochs, args.seed)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
