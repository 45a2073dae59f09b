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

    from segsearch.components import Scheduler, build_loss, build_model, build_optimizer, preprocessing
    from segsearch.config import TrainConfig, load_config
    from segsearch.data import SegDataset, build_transform, load_splits
    from segsearch.final._stage import final_data_config
    from segsearch.search._baseline import baseline_params
    from segsearch.search._space import params_to_settings
    from segsearch.training import Reporter, RunSpec
    from segsearch.training._device import make_runtime
    from segsearch.training._loop import (
        _class_weights,
        _train_epoch,
        build_loaders,
        evaluate,
        seed_everything,
    )
    from segsearch.training._metrics import MetricAccumulator

    cfg = load_config(space)
    work = Path("/tmp") / "last_epoch_cache"
    splits = load_splits(cfg.data, work)
    tcfg = TrainConfig.model_validate({**cfg.train.model_dump(), **params_to_settings(baseline_params(cfg) or {}),
                                       "seed": seed, "epochs": epochs})
    data = final_data_config(cfg).model_copy(update={"mosaic": 0.0})  # what a launch without a search trains on
    spec = RunSpec(train=tcfg, data=data, splits=splits, run_dir=work, objective=cfg.study.objective)
    rt = make_runtime(tcfg.device, tcfg.amp, tcfg.channels_last)
    seed_everything(tcfg.seed)
    model = build_model(tcfg.architecture, tcfg.encoder, tcfg.encoder_weights, tcfg.encoder_depth,
                        data.in_channels, data.num_classes, tcfg.architecture_params)
    if rt.channels_last:
        model = model.to(memory_format=torch.channels_last)
    loss_fn = build_loss(tcfg.loss, dict(tcfg.loss_params), data.mode, data.num_classes, data.ignore_index,
                         _class_weights(spec))
    opt = build_optimizer(tcfg.optimizer, model.parameters(), tcfg.lr, tcfg.weight_decay, dict(tcfg.optimizer_params))
    train_dl, val_dl = build_loaders(spec, rt, tcfg.batch_size)
    sched = Scheduler(tcfg.scheduler, opt, tcfg.epochs, len(train_dl), dict(tcfg.scheduler_params), True)
    pre = preprocessing(tcfg.encoder, tcfg.encoder_weights)
    test_ds = SegDataset(splits.test, data, build_transform("none", data.size_hw, train=False), pre["mean"], pre["std"])
    test_dl = torch.utils.data.DataLoader(test_ds, batch_size=tcfg.batch_size)
    acc_args = (data.mode, data.num_classes, data.ignore_index, tcfg.threshold, tcfg.metric_reduction,
                tcfg.include_background)
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    val, test = [], []
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        _train_epoch(model, train_dl, loss_fn, opt, sched, scaler, rt, Reporter(), epoch, tcfg.grad_clip)
        sched.step_epoch(0.0)
        val.append(round(evaluate(model, val_dl, rt, MetricAccumulator(*acc_args)).miou, 4))
        test.append(round(evaluate(model, test_dl, rt, MetricAccumulator(*acc_args)).miou, 4))
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
