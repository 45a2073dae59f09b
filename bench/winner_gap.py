"""How far below the best does the eventual winner run, epoch by epoch? On each recorded curves file: the
configuration that ends best (its best epoch), and at every epoch the gap between the highest value any
configuration reports there and the winner's own. A pruner that stops trials some margin below the best at
their epoch keeps the winner only from the epoch where this gap stays under the margin, so the table says how
long any such rule must wait (item 4 of issue 10: 3x fewer epochs, winner pruned in at most 1 of 10 studies).

    python bench/winner_gap.py                                   # every real curves file
    python bench/winner_gap.py --curves bench/data/curves_now_skin.json --margin 0.05
    python bench/winner_gap.py --curves bench/data/curves_ema_*.json --signal ema1   # the gap a weight average
                                                   # shows (record_curves.py --ema); the winner stays the raw run's
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import DATA, curve_of, load_curves


def gaps(values: list[list[float]], seen: list[list[float]] | None = None) -> tuple[int, list[float]]:
    """The winner's index (by ``values``) and, per epoch, the best value reported at that epoch minus the
    winner's, on the curves a pruner sees (``seen``, default ``values``)."""
    winner = max(range(len(values)), key=lambda i: max(values[i]))
    seen = seen or values
    epochs = len(seen[winner])
    return winner, [max(v[e] for v in seen) - seen[winner][e] for e in range(epochs)]


def safe_from(gap: list[float], margin: float) -> int:
    """The first epoch (1-based) from which the winner stays within ``margin`` of the best to the end."""
    epoch = len(gap)
    while epoch > 0 and gap[epoch - 1] <= margin:
        epoch -= 1
    return epoch + 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--curves", type=Path, nargs="+", default=None,
                    help="default: every bench/data/curves_*.json of real data (the demo's curves.json left out)")
    ap.add_argument("--margin", type=float, nargs="+", default=[0.05, 0.1, 0.2])
    ap.add_argument("--signal", default="raw", help="the curves the gap is read on: raw, or a weight average (ema1, ...)")
    args = ap.parse_args()
    files = args.curves or sorted(p for p in DATA.glob("curves_*.json"))
    print("| curves | configurations | epochs | winner | largest gap (epoch) | gap by epoch | "
          + " | ".join(f"safe from, margin {m:g}" for m in args.margin) + " |")
    print("|---|---|---|---|---|---|" + "---|" * len(args.margin))
    for path in files:
        doc = load_curves(path)
        values = [r["values"] for r in doc["runs"]]
        winner, gap = gaps(values, [curve_of(r, args.signal, path) for r in doc["runs"]])
        top = max(range(len(gap)), key=gap.__getitem__)
        safe = [safe_from(gap, m) for m in args.margin]
        print(f"| {path.name} | {len(values)} | {doc['epochs']} | {max(values[winner]):.3f} | {gap[top]:.2f} "
              f"({top + 1}) | {' '.join(f'{g:.2f}' for g in gap)} | "
              + " | ".join(f"{e} of {len(gap)}" if e <= len(gap) else "never" for e in safe) + " |")


if __name__ == "__main__":
    main()
