"""Deterministic, grouped train/val/test splits."""

from __future__ import annotations

import numpy as np

from ._layouts import Sample


def split_samples(samples: list[Sample], val_fraction: float, test_fraction: float, seed: int
                  ) -> dict[str, list[Sample]]:
    """Split by group so that no group crosses splits; the same seed gives the same split."""
    groups = sorted({s.group for s in samples})
    rng = np.random.default_rng(seed)
    order = [groups[i] for i in rng.permutation(len(groups))]
    n = len(order)
    n_test = int(round(n * test_fraction))
    n_val = max(1, int(round(n * val_fraction))) if n > 1 else 0
    assign = {g: "test" for g in order[:n_test]}
    assign.update({g: "val" for g in order[n_test:n_test + n_val]})
    out: dict[str, list[Sample]] = {"train": [], "val": [], "test": []}
    for s in samples:
        out[assign.get(s.group, "train")].append(s)
    return out
