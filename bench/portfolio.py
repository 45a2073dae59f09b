"""Choose segsearch's shipped portfolio: the configurations a new study tries right after its baseline.

From the recorded learning curves of the real development datasets (``bench/data/curves_<name>.json``, written
by ``bench/record_curves.py --dataset NAME``; every configuration trained from scratch with segsearch's own
``train()``), greedy portfolio selection as auto-sklearn 2.0 does it: each configuration recorded on every
dataset scores its best validation objective divided by the best of those configurations on that dataset
(one-class models score what their class mean gives them, near 0); the portfolio grows one configuration at a
time, always the one that most raises the mean over datasets of the best score in the portfolio so far (on a
tie, the one with the highest mean score of its own).

    python bench/portfolio.py             # prints the choice; --write updates segsearch/search/portfolio.json
    python bench/portfolio.py --size 4 --write

The shipped file records which datasets chose each configuration and its score on each.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATASETS = ("nuclei", "mri9", "mri_struct")
OUT = REPO / "segsearch" / "search" / "portfolio.json"
KEYS = ("architecture", "encoder", "loss", "loss_params", "lr")


def scores(datasets: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """config (as JSON) -> dataset -> best objective / best of any config on that dataset."""
    raw: dict[str, dict[str, float]] = {}
    for name in datasets:
        curves = json.loads((REPO / "bench" / "data" / f"curves_{name}.json").read_text())["curves"]
        for c in curves:
            key = json.dumps({k: c["config"][k] for k in KEYS}, sort_keys=True)
            raw.setdefault(key, {})[name] = max(c["objective"], default=0.0)
    common = {k: v for k, v in raw.items() if set(datasets) <= set(v)}
    best = {d: max(v[d] for v in common.values()) for d in datasets}
    return {k: {d: v[d] / best[d] for d in datasets} for k, v in common.items()}


def greedy(table: dict[str, dict[str, float]], size: int) -> list[tuple[str, float]]:
    """(config, the portfolio's mean best-of score once it is added) for ``size`` greedy steps."""
    chosen: list[tuple[str, float]] = []
    datasets = list(next(iter(table.values())))
    for _ in range(min(size, len(table))):
        def gain(c: str) -> float:
            return sum(max(table[p][d] for p in [*(k for k, _ in chosen), c]) for d in datasets) / len(datasets)

        def own(c: str) -> float:  # ties (the portfolio already holds each dataset's best): the strongest alone
            return sum(table[c].values()) / len(datasets)

        best = max((c for c in table if c not in {k for k, _ in chosen}), key=lambda c: (round(gain(c), 6), own(c)))
        chosen.append((best, gain(best)))
    return chosen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=3)
    ap.add_argument("--write", action="store_true", help=f"write {OUT.relative_to(REPO)}")
    args = ap.parse_args()
    table = scores(DATASETS)
    chosen = greedy(table, args.size)
    print(f"{len(table)} configurations recorded on all of {', '.join(DATASETS)}")
    print("| # | configuration | " + " | ".join(DATASETS) + " | portfolio mean best-of |")
    print("|---|---|" + "---|" * len(DATASETS) + "---|")
    entries: list[dict[str, Any]] = []
    for i, (key, mean) in enumerate(chosen, 1):
        cfg = json.loads(key)
        s = table[key]
        print(f"| {i} | {cfg['architecture']}/{cfg['encoder']}/{cfg['loss']} lr {cfg['lr']:g} | "
              + " | ".join(f"{s[d]:.2f}" for d in DATASETS) + f" | {mean:.3f} |")
        entries.append({**cfg, "relative_scores": {d: round(s[d], 3) for d in DATASETS}})
    if args.write:
        OUT.write_text(json.dumps({
            "what": "configurations a new study tries right after its baseline (study.portfolio: auto)",
            "chosen_by": "python bench/portfolio.py --write: greedy portfolio over the recorded from-scratch learning "
                         "curves (8 epochs) of " + ", ".join(DATASETS) + "; relative_scores: the configuration's "
                         "best validation objective / the best of any recorded configuration on that dataset",
            "configs": entries}, indent=2) + "\n")
        print(f"wrote {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
