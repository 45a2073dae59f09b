"""Shared helpers for the benchmark scripts: the demo data, tiny run specs, results files, statistics."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
DATA = BENCH / "data"
WORK = Path(os.environ.get("SEGSEARCH_BENCH_DIR", "/tmp/segsearch_bench"))
PG_URL = os.environ.get("SEGSEARCH_BENCH_PG", "postgresql+psycopg2:///segsearch_bench")
CLASSES = ["background", "field", "forest", "water", "road"]
ARCH_LOSS = BENCH.parent / "search_spaces" / "arch_loss.yaml"  # the flagship space: what "shipped" means


def shipped(space: Path = ARCH_LOSS) -> dict[str, Any]:
    """A search-space file as written (``study``, ``train``, ``search`` ...), for the settings it ships."""
    import yaml

    return yaml.safe_load(space.read_text())


def data_config(n_images: int = 120, size: int = 64, augmentation: str = "none", **extra: Any):
    from segsearch.config import DataConfig

    return DataConfig(demo={"n_images": n_images, "size": size, "seed": 0}, classes=CLASSES, image_size=size,
                      augmentation=augmentation, **extra)


def train_config(**over: Any):
    from segsearch.config import TrainConfig

    base = dict(architecture="unet", encoder="resnet18", encoder_weights=None, epochs=1, batch_size=8,
                num_workers=0, device="cpu", amp="off", scheduler="none", seed=0)
    return TrainConfig(**{**base, **over})


def splits_for(dcfg):
    from segsearch.data import load_splits

    return load_splits(dcfg, WORK / "studies")


def median(xs: list[float]) -> float:
    return float(statistics.median(xs))


def pctl(xs: list[float], q: float) -> float:
    s = sorted(xs)
    k = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return float(s[k])


def machine() -> dict[str, Any]:
    import torch

    return {"cpus": len(os.sched_getaffinity(0)), "cuda": torch.cuda.is_available(), "torch": torch.__version__,
            "python": platform.python_version(), "platform": platform.platform()}


def emit(name: str, figures: dict[str, Any], summary: list[str]) -> dict[str, Any]:
    """Print one JSON line and a readable summary; write results/<name>.json."""
    row = {"bench": name, "date": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine(), **figures}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(row, indent=2) + "\n")
    print(json.dumps(row))
    print(f"== {name}")
    for line in summary:
        print("  " + line)
    sys.stdout.flush()
    return row


def fresh_database(name: str = "segsearch_bench") -> str:
    """Drop and recreate the local PostgreSQL bench database; returns its SQLAlchemy URL."""
    subprocess.run(["dropdb", "--if-exists", "--force", name], check=True, capture_output=True)
    subprocess.run(["createdb", name], check=True, capture_output=True)
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def quiet_logs() -> None:
    import logging

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("segsearch").setLevel(logging.WARNING)
    import warnings

    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def real_curve_files(now: bool = False) -> list[Path]:
    """The recorded learning curves of the real datasets: the first recordings (``record_curves.py
    --dataset NAME``: ``curves_NAME.json``, the old grid in fp32), or with ``now`` those of the shipped space
    as it is now (``--grid current``: ``curves_now_NAME.json``) where there are any. The 24-epoch recordings
    (``curves_long_NAME.json``) are read only when named."""
    old = sorted(p for p in DATA.glob("curves_*.json") if not p.name.startswith(("curves_now_", "curves_long_", "curves_table_")))
    return (sorted(DATA.glob("curves_now_*.json")) or old) if now else old


def load_curves(path: Path) -> dict[str, Any]:
    """One curves file as ``{"name", "doc", "runs": [{"config", "values", "collapsed", "seconds", "ema"}]}``
    (``ema``: the weight averages' curves by name, ``record_curves.py --ema``; empty when not recorded).

    Real-data files (``curves_NAME.json``) hold ``objective`` per epoch; the demo file ``miou``. Runs
    that failed or stopped short are left out: a search would have failed them, not pruned them."""
    doc = json.loads(Path(path).read_text())
    runs = []
    for c in doc["curves"]:
        values = c.get("objective", c.get("miou")) or []
        if c.get("error") or not values:
            continue
        runs.append({"config": c["config"], "values": [float(v) for v in values],
                     "collapsed": [bool(x) for x in c.get("collapsed", [False] * len(values))],
                     "seconds": float(c.get("seconds", 0.0)),
                     "ema": {k: [float(x) for x in v] for k, v in (c.get("ema") or {}).items()}})
    epochs = max(len(r["values"]) for r in runs)
    runs = [r for r in runs if len(r["values"]) == epochs]
    name = doc.get("dataset") or Path(path).stem.removeprefix("curves_").replace("curves", "demo")
    return {"name": name, "path": str(path), "doc": doc, "runs": runs, "epochs": epochs}


def curve_of(run: dict[str, Any], which: str, path: str | Path) -> list[float]:
    """One run's curve of ``load_curves``: ``raw`` (its own weights) or a weight average recorded beside it
    (``record_curves.py --ema``: ``ema1``, ...); a name the file lacks stops with the names it has."""
    if which == "raw":
        return run["values"]
    if which not in run["ema"]:
        raise SystemExit(f"{path}: no curve '{which}' (recorded: raw{''.join(', ' + k for k in run['ema'])}; "
                         "bench/record_curves.py --ema records averages)")
    return run["ema"][which]


class StandInTrial:
    """Enough of an optuna trial for the model folder writer (``final._folder._write_model_folder``)."""

    def __init__(self, params: dict[str, Any], value: float) -> None:
        self.params, self.number, self.value, self.values, self.user_attrs = params, 0, value, [value], {}


def baseline_of(space: str | Path, work: Path) -> tuple[Any, Any, dict[str, Any], Any]:
    """A real dataset's config, splits (cached under ``work``), baseline params and the final stage's data
    settings: what the controlled experiments (continuation, refit) train the recipe with."""
    from segsearch.config import load_config
    from segsearch.data import load_splits
    from segsearch.final._stage import final_data_config
    from segsearch.search._baseline import baseline_params

    cfg = load_config(space)
    return cfg, load_splits(cfg.data, work / "studies"), baseline_params(cfg) or {}, final_data_config(cfg)


def baseline_run(space: str | Path, epochs: int, seed: int | None, work: Path,
                 data_update: dict[str, Any] | None = None) -> Any:
    """Everything the epoch-by-epoch experiments (ema, last_epoch) need to train a real dataset's baseline by
    hand, built as the training loop builds it: model (channels_last when the runtime uses it), loss,
    optimizer, train/validation loaders, scheduler, a test loader without augmentation, and the metric's
    arguments. ``seed`` None: the final stage's; ``data_update`` changes fields of the final stage's data settings."""
    from types import SimpleNamespace

    import torch

    from segsearch.components import Scheduler, build_loss, build_model, build_optimizer, preprocessing
    from segsearch.config import TrainConfig
    from segsearch.data import SegDataset, build_transform
    from segsearch.search._space import params_to_settings
    from segsearch.training import RunSpec
    from segsearch.training._device import make_runtime
    from segsearch.training._loop import _class_weights, build_loaders, seed_everything

    cfg, splits, params, final_data = baseline_of(space, work)
    data = final_data.model_copy(update=data_update or {})
    tcfg = TrainConfig.model_validate({**cfg.train.model_dump(), **params_to_settings(params),
                                       "seed": cfg.final.seed if seed is None else seed, "epochs": epochs})
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
    return SimpleNamespace(
        cfg=cfg, tcfg=tcfg, data=data, splits=splits, spec=spec, rt=rt, model=model, loss_fn=loss_fn, opt=opt,
        sched=sched, train_dl=train_dl, val_dl=val_dl,
        test_dl=torch.utils.data.DataLoader(test_ds, batch_size=tcfg.batch_size),
        acc_args=(data.mode, data.num_classes, data.ignore_index, tcfg.threshold, tcfg.metric_reduction,
                  tcfg.include_background))
