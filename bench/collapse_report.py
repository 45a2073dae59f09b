"""Which architecture / encoder / loss / learning-rate combinations collapse when trained from scratch on
small real data, from the recorded curves (``record_curves.py --dataset NAME``).

A run counts as collapsed when it ends collapsed (``EpochResult.collapsed`` at its last epoch: one class
predicted for >= 99.5% of the pixels) or never beats a one-class predictor (its best validation
objective is at most the best one-class predictor's plus ``--margin``). Writes
``bench/results/collapse.md``; text after the line ``<!-- notes -->`` in that file is kept.

    python bench/collapse_report.py                  # every bench/data/curves_*.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import RESULTS, real_curve_files

MARK = "<!-- notes -->"


def verdict(c: dict, one_class: float, margin: float) -> dict:
    vals, col = c.get("objective") or [], c.get("collapsed") or []
    if c.get("error") or not vals:
        return {"state": "error", "best": None, "last": None, "trace": "", "error": c.get("error")}
    best, last = max(vals), vals[-1]
    ends = bool(col and col[-1])
    never = best <= one_class + margin
    state = "collapsed" if ends or never else "ok"
    return {"state": state, "best": best, "last": last, "ends_collapsed": ends, "never_beats_one_class": never,
            "trace": "".join("x" if x else "." for x in col),
            "sec_epoch": sum(c.get("seconds_per_epoch") or [0]) / max(1, len(c.get("seconds_per_epoch") or [1]))}


def cell(v: dict) -> str:
    if v["state"] == "error":
        return "error"
    flags = []
    if v["ends_collapsed"]:
        flags.append("ends collapsed")
    if v["never_beats_one_class"]:
        flags.append("never > 1-class")
    tag = f" **{', '.join(flags)}**" if flags else ""
    return f"{v['best']:.3f} / {v['last']:.3f} `{v['trace']}`{tag}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--curves", type=Path, nargs="+", default=None)
    ap.add_argument("--margin", type=float, default=0.01)
    ap.add_argument("--out", type=Path, default=RESULTS / "collapse.md")
    args = ap.parse_args()
    docs = [json.loads(Path(f).read_text()) for f in (args.curves or real_curve_files())]
    names = [d["dataset"] for d in docs]
    table: dict[str, dict[str, dict]] = defaultdict(dict)
    cfgs: dict[str, dict] = {}
    for d in docs:
        for c in d["curves"]:
            k = json.dumps(c["config"], sort_keys=True)
            cfgs[k] = c["config"]
            table[k][d["dataset"]] = verdict(c, d["one_class_best"], args.margin)
    order = sorted(cfgs, key=lambda k: (cfgs[k]["architecture"], cfgs[k]["lr"], cfgs[k]["loss"]))
    out = ["# Collapse from scratch on small real data", "",
           "Recorded by `bench/record_curves.py --dataset NAME` (segsearch's `train()`, from scratch, "
           f"{docs[0]['train']['epochs']} epochs, batch {docs[0]['train']['batch_size']}, AdamW + cosine, "
           f"weight decay {docs[0]['train']['weight_decay']}, augmentation light, one CPU thread), written by "
           "`bench/collapse_report.py`.", "",
           "Datasets (validation split; one-class = the best score of predicting a single class everywhere):", ""]
    for d in docs:
        out.append(f"- **{d['dataset']}**: {d['data']['mode']}, {len(d['data']['classes'])} class(es) "
                   f"{', '.join(d['data']['classes'][:4])}{' ...' if len(d['data']['classes']) > 4 else ''}, "
                   f"{d['data']['image_size']} px, {d['data']['train']} train / {d['data']['val']} val; "
                   f"one-class objective {d['one_class_best']:.3f}; {len(d['curves'])} runs, "
                   f"{d.get('seconds', 0) / 60:.0f} min of one core")
    out += ["", f"A run is **collapsed** when it ends collapsed (`EpochResult.collapsed` at the last epoch: one "
            f"class on >= 99.5% of the pixels) or never beats the one-class predictor by more than {args.margin}. "
            "Cells: best / last validation objective (class-mean IoU; binary: foreground IoU), the per-epoch "
            "collapse flags (`x` collapsed), flags.", "",
            "| architecture | encoder | loss | lr | s/epoch | " + " | ".join(names) + " |",
            "|---|---|---|---|---|" + "---|" * len(names)]
    for k in order:
        c = cfgs[k]
        secs = [v.get("sec_epoch", 0) for v in table[k].values() if v["state"] != "error"]
        lo = c["loss"] + (f" {c['loss_params']}" if c.get("loss_params") else "")
        out.append(f"| {c['architecture']} | {c['encoder']} | {lo} | {c['lr']:g} | "
                   f"{'/'.join(f'{s:.0f}' for s in secs)} | "
                   + " | ".join(cell(table[k][n]) if n in table[k] else "-" for n in names) + " |")
    # by factor
    def by_factor(title: str, keep) -> None:
        out.extend(["", f"## {title}", "",
                    "collapsed / trained runs, the datasets of the collapsed ones; runs that failed to start are "
                    "counted apart", ""])
        for factor in ("architecture", "encoder", "loss", "lr"):
            agg: dict = defaultdict(lambda: [0, 0, [], 0])
            for k in order:
                if not keep(cfgs[k]):
                    continue
                for n, v in table[k].items():
                    a = agg[cfgs[k][factor]]
                    if v["state"] == "error":
                        a[3] += 1
                        continue
                    a[1] += 1
                    if v["state"] == "collapsed":
                        a[0] += 1
                        a[2].append(n)
            out.append(f"- **{factor}**: " + "; ".join(
                f"{val if not isinstance(val, float) else f'{val:g}'} {a[0]}/{a[1]}"
                + (f" ({', '.join(a[2])})" if a[2] else "") + (f", {a[3]} failed" if a[3] else "")
                for val, a in sorted(agg.items(), key=lambda t: (isinstance(t[0], str), t[0]))))

    by_factor("Collapsed runs by factor (all runs)", lambda c: True)
    by_factor("The same, resnet18 / resnet34 encoders only", lambda c: c["encoder"] in ("resnet18", "resnet34"))
    errors = sorted({(cfgs[k]["architecture"], n, v["error"]) for k in order for n, v in table[k].items()
                     if v["state"] == "error"})
    if errors:
        out += ["", "Runs that failed to start: " + "; ".join(f"{a} on {n}: {e}" for a, n, e in errors)]
    notes = ""
    if args.out.is_file() and MARK in args.out.read_text():
        notes = args.out.read_text().split(MARK, 1)[1]
    out += ["", MARK + notes.rstrip("\n")]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(out) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
