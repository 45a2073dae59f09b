"""Do smaller images rank configurations? Item 4's untried fidelity: every configuration trains its whole schedule
on images resized smaller (cheaper per epoch), the best few then train at full size. For each dataset with both
recordings (the same grid, schedule and seeds; ``record_curves.py --image-size``), matched by configuration:

- the Spearman rank correlation of the runs' final values (best epoch, what a trial records) at the two sizes,
  and the full-size winner's rank among the small runs;
- successive halving with the small runs as the first rung: studies of ``--study`` configurations drawn from the
  recording (10 draws, seeded), all trained small, the best ``k`` of them then at full size. Per ``k``: the cost
  against training every configuration at full size (recorded seconds, without the weight averages' scoring),
  how often the study's full-size winner is among the ``k`` kept, and the mean loss of the best value found.

    python bench/small_images.py        # bench/data/curves_small_NAME.json against curves_ema_NAME.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import DATA
from bench.rank_agreement import ranks, spearman


def finals(path: Path) -> dict[str, tuple[float, float]]:
    """Configuration -> (final value: best epoch, seconds of training without the averages' scoring)."""
    out = {}
    for c in json.loads(path.read_text())["curves"]:
        values = c.get("objective") or []
        if c.get("error") or not values or values[0] != values[0]:
            continue
        out[json.dumps(c["config"], sort_keys=True)] = (max(values), c["seconds"] - c.get("ema_seconds", 0.0))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--study", type=int, default=8, help="configurations in a replayed study")
    ap.add_argument("--draws", type=int, default=10)
    args = ap.parse_args()
    print("| dataset | configurations | Spearman, small vs full | full winner's rank among small | small / full "
          "seconds | keep k: cost vs all full, winner kept (of draws), mean loss of the best value |")
    print("|---|---|---|---|---|---|")
    for small_file in sorted(DATA.glob("curves_small_*.json")):
        name = small_file.stem.removeprefix("curves_small_")
        full_file = DATA / f"curves_ema_{name}.json"
        if not full_file.is_file():
            continue
        small, full = finals(small_file), finals(full_file)
        keys = sorted(set(small) & set(full))
        s_vals, f_vals = [small[k][0] for k in keys], [full[k][0] for k in keys]
        winner = max(range(len(keys)), key=lambda i: f_vals[i])
        cost_small = sum(small[k][1] for k in keys) / sum(full[k][1] for k in keys)
        cells = []
        for k in (1, 2, 3):
            kept_winner, losses, costs = 0, [], []
            for draw in range(args.draws):
                pick = random.Random(draw).sample(range(len(keys)), min(args.study, len(keys)))
                best_full = max(pick, key=lambda i: f_vals[i])
                kept = sorted(pick, key=lambda i: -s_vals[i])[:k]
                kept_winner += best_full in kept
                losses.append(f_vals[best_full] - max(f_vals[i] for i in kept))
                costs.append((sum(small[keys[i]][1] for i in pick) + sum(full[keys[i]][1] for i in kept))
                             / sum(full[keys[i]][1] for i in pick))
            cells.append(f"k={k}: {sum(costs) / len(costs):.2f}, {kept_winner}/{args.draws}, "
                         f"{sum(losses) / len(losses):.3f}")
        print(f"| {name} | {len(keys)} | {spearman(s_vals, f_vals):.2f} | {ranks(s_vals)[winner]} of {len(keys)} "
              f"| {cost_small:.2f} | {'; '.join(cells)} |")


if __name__ == "__main__":
    main()
