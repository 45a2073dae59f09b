"""Do early epochs rank configurations? For each dataset with both recordings, the Spearman rank correlation of
the 24-epoch runs' final (best-epoch) value with their value at epoch 6 and 12 of 24, and with the final value of
the same configuration's 12-epoch run; the 24-epoch winner's rank at epoch 6 and 12. Then, at the epochs of 4
unpruned 24-epoch trials, the loss of the best 24-epoch value found (mean of 2000 random draws) by two searches:
4 trials of 24 epochs, or 6 trials of 12 epochs whose best is then trained for 24.

    python bench/rank_agreement.py          # bench/data/curves_long_NAME.json against curves_now_NAME.json
"""

from __future__ import annotations

import json
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import DATA


def ranks(values: list[float]) -> list[int]:
    order = sorted(range(len(values)), key=lambda i: -values[i])
    out = [0] * len(values)
    for rank, i in enumerate(order, start=1):
        out[i] = rank
    return out


def spearman(a: list[float], b: list[float]) -> float:
    n = len(a)
    return 1 - 6 * sum((x - y) ** 2 for x, y in zip(ranks(a), ranks(b), strict=True)) / (n * (n * n - 1))


def finished(path: Path) -> dict[str, list[float]]:
    curves = json.loads(path.read_text())["curves"]
    return {json.dumps(c["config"], sort_keys=True): c["objective"] for c in curves
            if c["objective"] and c["objective"][0] == c["objective"][0]}


def main() -> None:
    print("| dataset | value at epoch 6 of 24 | value at epoch 12 of 24 | final of the 12-epoch run | "
          "24-epoch winner's rank at epoch 6 / 12 of 24 |\n|---|---|---|---|---|")
    equal = ["", "| dataset | 4 trials of 24 epochs | 6 of 12, the best retrained for 24 |", "|---|---|---|"]
    for long_file in sorted(DATA.glob("curves_long_*.json")):
        name = long_file.stem.removeprefix("curves_long_")
        short, long_ = finished(DATA / f"curves_now_{name}.json"), finished(long_file)
        keys = [k for k in long_ if k in short]
        final = [max(long_[k]) for k in keys]
        at6, at12 = [long_[k][5] for k in keys], [long_[k][11] for k in keys]
        w = max(range(len(keys)), key=lambda i: final[i])
        pool = [(max(short[k]), max(long_[k])) for k in keys]
        draws = [random.Random(seed).sample(pool, len(pool)) for seed in range(2000)]
        long_search = statistics.mean(max(p[1] for p in d[:4]) for d in draws)
        short_search = statistics.mean(max(d[:6], key=lambda p: p[0])[1] for d in draws)
        equal.append(f"| {name} | {max(final) - long_search:.3f} | {max(final) - short_search:.3f} |")
        print(f"| {name} ({len(keys)}) | {spearman(at6, final):.2f} | {spearman(at12, final):.2f} | "
              f"{spearman([max(short[k]) for k in keys], final):.2f} | {ranks(at6)[w]} / {ranks(at12)[w]} |")
    print("\n".join(equal))


if __name__ == "__main__":
    main()
