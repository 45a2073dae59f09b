"""The GPU-only paths, run for real on a CUDA machine (the CPU test suite cannot reach them).

Each check is a real segsearch command or API call on tiny generated data; each prints one line and
the whole result goes to ``OUT/gpu_paths.json``:

* ``runtime``: ``device: auto`` picks the GPU, ``amp: auto`` resolves to bf16 where the GPU has it (fp16
  with a grad scaler otherwise), ``channels_last`` is on;
* ``gpus_all``: ``launch --gpus all`` starts one worker per GPU (``CUDA_VISIBLE_DEVICES``); its trials
  train under that precision, their checkpoints come from the background writer and load again;
* ``budget``: ``launch --budget 1m --device cuda`` ends within its minute, final model included, and
  ``evaluate`` / ``predict`` / ``export`` run on that model;
* ``oom_retry`` / ``oom_infeasible``: a CUDA out-of-memory error (the process's share of the card capped
  with ``torch.cuda.set_per_process_memory_fraction``) halves the batch with accumulation, and a cap too
  small for batch 2 marks the trial infeasible instead of stopping the search.

Run from the repository root on a machine with a CUDA GPU (about two minutes on an H200)::

    python bench/gpu_paths.py OUT_DIR
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
CLI = [sys.executable, "-m", "segsearch"]

OOM = """
import sys, torch
sys.path.insert(0, {tests!r})
from pathlib import Path
from helpers import tiny_config
from segsearch import api
torch.cuda.set_per_process_memory_fraction({fraction})
d = Path({tmp!r})
cfg = tiny_config(d, study={{"n_trials": 1}}, data={{"image_size": 256, "demo": {{"n_images": 64, "size": 256}}}},
                  train={{"epochs": 1, "batch_size": {batch}, "device": "cuda", "num_workers": 2}},
                  search={{"architecture": ["unet"], "encoder": ["resnet34"], "lr": [0.001]}},
                  deploy={{"image_size": 64, "repeats": 2}})
api.launch(cfg, studies_dir=d / "studies", use_wandb=False, live=False)
"""


def trials(studies: Path, name: str = "tiny") -> list:
    import optuna

    return optuna.load_study(study_name=name, storage=f"sqlite:///{studies / name / 'study.db'}").get_trials()


def run(cmd: list[str], log: Path, timeout: float = 300) -> tuple[int, float]:
    t0 = time.monotonic()
    with log.open("w") as f:
        code = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, timeout=timeout, cwd=ROOT).returncode
    return code, time.monotonic() - t0


def check_runtime() -> dict:
    import torch

    from segsearch.training._device import make_runtime

    rt = make_runtime("auto", "auto", True)
    return {"torch": torch.__version__, "gpu": torch.cuda.get_device_name(0), "device": str(rt.device),
            "amp_dtype": str(rt.amp_dtype), "channels_last": rt.channels_last,
            "ok": rt.is_cuda and rt.amp_dtype is not None and rt.channels_last}


def check_gpus_all(out: Path) -> dict:
    import torch

    from segsearch.training import _checkpoint

    from helpers import tiny_config

    d = out / "gpus_all"
    d.mkdir(parents=True, exist_ok=True)
    cfg = tiny_config(d, study={"n_trials": 3}, data={"image_size": 64, "demo": {"n_images": 48, "size": 64}},
                      train={"epochs": 3, "device": "auto", "num_workers": 2})
    code, secs = run([*CLI, "launch", str(cfg), "--gpus", "all", "--studies-dir", str(d / "studies"), "--no-wandb"],
                     d / "launch.log")
    ts = trials(d / "studies")
    ckpts = sorted((d / "studies").rglob("*.pt"))
    loaded = [sorted(_checkpoint.load(p, "cpu"))[:4] for p in ckpts[:2]] if ckpts else []
    rows = [{"n": t.number, "state": t.state.name, "value": t.value, "precision": t.user_attrs.get("precision"),
             "train_memory_mb": t.user_attrs.get("train_memory_mb"), "s_per_epoch": t.user_attrs.get("seconds_per_epoch")}
            for t in ts]
    ok = code == 0 and sum(r["state"] == "COMPLETE" for r in rows) == 3 and bool(ckpts) and \
        all(r["precision"] == "bf16" for r in rows if r["state"] == "COMPLETE") and torch.cuda.device_count() >= 1
    return {"exit": code, "seconds": round(secs, 1), "trials": rows, "checkpoints": len(ckpts),
            "checkpoint_keys": loaded, "started_workers": "started 1 worker process(es) on GPUs 0" in
            (d / "launch.log").read_text(), "ok": ok}


def check_budget(out: Path) -> dict:
    from helpers import tiny_config

    d = out / "budget"
    d.mkdir(parents=True, exist_ok=True)
    cfg = tiny_config(d, study={"n_trials": 20}, data={"image_size": 64, "demo": {"n_images": 48, "size": 64}},
                      train={"epochs": 4, "device": "cuda", "num_workers": 2})
    code, secs = run([*CLI, "launch", str(cfg), "--budget", "1m", "--search", "always", "--studies-dir",
                      str(d / "studies"), "--no-wandb"], d / "launch.log")
    final = d / "studies" / "tiny" / "final"
    res = {"exit": code, "seconds": round(secs, 1), "final": (final / "model.json").exists(),
           "trials": [t.state.name for t in trials(d / "studies")]}
    for name, cmd in (("evaluate", ["evaluate", str(final), "--device", "cuda"]),
                      ("predict", ["predict", str(final), str(d / "studies" / "_data" / "demo_48x64_s0" / "images"), "--out",
                                   str(d / "pred"), "--device", "cuda"]),
                      ("export", ["export", str(final)])):
        res[name] = run([*CLI, *cmd], d / f"{name}.log")[0]
    res["ok"] = code == 0 and secs <= 63 and res["final"] and res["evaluate"] == 0
    return res


def check_oom(out: Path, name: str, fraction: float, batch: int) -> dict:
    d = out / name
    d.mkdir(parents=True, exist_ok=True)
    code = OOM.format(tests=str(ROOT / "tests"), tmp=str(d), fraction=fraction, batch=batch)
    rc, secs = run([sys.executable, "-c", code], d / "launch.log", timeout=240)
    (t,) = trials(d / "studies")
    ua = t.user_attrs
    return {"exit": rc, "seconds": round(secs, 1), "state": t.state.name, "fraction": fraction, "batch": batch,
            **{k: ua.get(k) for k in ("oom_retries", "batch_size", "accumulation", "fail_reason", "train_memory_mb")}}


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "gpu_paths_out").resolve()
    out.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    checks = {"runtime": check_runtime, "gpus_all": lambda: check_gpus_all(out), "budget": lambda: check_budget(out),
              # batch 64 at 256 px through unet/resnet34 peaked at 2.7 GB in bf16 on an H200: 1 % of its 141 GB
              # (1.4 GB) forced 2 retries there (batch 16 x 4); 2 % forced none
              "oom_retry": lambda: check_oom(out, "oom_retry", 0.01, 64),
              "oom_infeasible": lambda: check_oom(out, "oom_infeasible", 0.0005, 8)}
    for name, fn in checks.items():
        try:
            results[name] = fn()
        except Exception as exc:  # one broken path must not hide the others' results
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:2000]}
        print(name, json.dumps(results[name]), flush=True)
        (out / "gpu_paths.json").write_text(json.dumps(results, indent=1))
    results["oom_retry"]["ok"] = results["oom_retry"].get("state") == "COMPLETE" and \
        (results["oom_retry"].get("oom_retries") or 0) > 0
    results["oom_infeasible"]["ok"] = results["oom_infeasible"].get("fail_reason") == "oom"
    (out / "gpu_paths.json").write_text(json.dumps(results, indent=1))
    print("summary", {k: v.get("ok") for k, v in results.items()}, flush=True)
    return 0 if all(v.get("ok") for v in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
