"""How well a trial's measured latency predicts its training epoch time (the basis of the budget's
``too_slow`` rule): for every configuration recorded in ``bench/data/curves_<dataset>.json`` (trained from
scratch on real data with segsearch's ``train()``, its seconds per epoch recorded), measure its latency the
way a trial does (``segsearch.components.measure_cost``: batch 1, eval mode, one thread, at the dataset's
image size), predict its epoch time as the dataset's median seconds-per-epoch-per-ms times its latency, and
compare. Run it on a quiet machine:

    python bench/cost_predictor.py            # ~2 min
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import DATA, emit

DATASETS = ("mri9", "mri_struct", "nuclei")


def _spearman(a: list[float], b: list[float]) -> float:
    def ranks(v: list[float]) -> list[float]:
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        for k, i in enumerate(order):
            r[i] = float(k)
        return r

    ra, rb = ranks(a), ranks(b)
    ma, mb = statistics.mean(ra), statistics.mean(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    return cov / (sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb)) ** 0.5


def main() -> None:
    import segmentation_models_pytorch as smp
    import torch

    from segsearch.components import measure_cost
    from segsearch.config import load_config

    torch.set_num_threads(1)
    figures, lines = {}, []
    for name in DATASETS:
        doc = json.loads((DATA / f"curves_{name}.json").read_text())
        cfg = load_config(Path(doc["space"]))
        size, k = cfg.data.size_hw, cfg.data.num_classes
        rows = {}
        for c in doc["curves"]:
            conf = c["config"]
            key = (conf["architecture"], conf["encoder"])
            if c.get("error") or not c.get("seconds_per_epoch") or key in rows:
                continue
            net = smp.create_model(key[0], encoder_name=key[1], encoder_weights=None, classes=k)
            latency = measure_cost(net, 3, size, "cpu", repeats=7).latency_ms
            rows[key] = (latency, statistics.median(c["seconds_per_epoch"]))
        ratio = statistics.median(s / lat for lat, s in rows.values())
        errors = [ratio * lat / s for lat, s in rows.values()]  # predicted / measured epoch time
        rho = _spearman([lat for lat, _ in rows.values()], [s for _, s in rows.values()])
        figures[name] = {"configs": len(rows), "spearman": round(rho, 3),
                         "predicted_over_measured": {"median": round(statistics.median(errors), 3),
                                                     "min": round(min(errors), 3), "max": round(max(errors), 3)},
                         "rows": {f"{a}/{e}": {"latency_ms": lat, "seconds_per_epoch": s}
                                  for (a, e), (lat, s) in rows.items()}}
        within = sum(0.67 <= e <= 1.5 for e in errors)
        lines.append(f"{name}: {len(rows)} configurations, rank correlation latency vs epoch time {rho:.2f}; "
                     f"predicted/measured epoch time {min(errors):.2f}-{max(errors):.2f}, within 1.5x for "
                     f"{within} of {len(rows)}")
    emit("cost_predictor", figures, lines)


if __name__ == "__main__":
    main()
