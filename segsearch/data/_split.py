"""Deterministic, grouped train/val/test splits, stratified by the classes present in each mask."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ._layouts import Sample


def split_samples(samples: list[Sample], val_fraction: float, test_fraction: float, seed: int,
                  presence: Mapping[str, Sequence[int]] | None = None) -> dict[str, list[Sample]]:
    """Split by group so that no group crosses splits; the same seed gives the same split.

    ``presence`` maps a group to the class indices its mask holds; with it the split is a
    multi-label stratification of groups (iterative stratification), otherwise a shuffle.
    """
    groups = sorted({s.group for s in samples})
    assign = _assign(groups, val_fraction, test_fraction, seed, presence)
    out: dict[str, list[Sample]] = {"train": [], "val": [], "test": []}
    for s in samples:
        out[assign[s.group]].append(s)
    return out


def _assign(groups: list[str], val_fraction: float, test_fraction: float, seed: int,
            presence: Mapping[str, Sequence[int]] | None) -> dict[str, str]:
    n = len(groups)
    n_test = int(round(n * test_fraction))
    n_val = max(1, int(round(n * val_fraction))) if n > 1 else 0
    y = _presence_matrix(groups, presence) if presence else None
    idx = np.arange(n)
    test_idx, rest = _take(idx, n_test, y, seed)
    val_idx, train_idx = _take(rest, n_val, y, seed + 1)
    out = {groups[i]: "train" for i in train_idx}
    out.update({groups[i]: "val" for i in val_idx})
    out.update({groups[i]: "test" for i in test_idx})
    return out


def _presence_matrix(groups: list[str], presence: Mapping[str, Sequence[int]]) -> np.ndarray:
    width = 1 + max((max(v) for v in presence.values() if v), default=0)
    y = np.zeros((len(groups), width + 1), np.int64)
    for i, g in enumerate(groups):
        y[i, list(presence.get(g, ()))] = 1
    y[:, -1] = 1  # a constant column keeps the splitter happy when every class is absent
    return y


def _take(idx: np.ndarray, k: int, y: np.ndarray | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Pick ``k`` of ``idx`` (stratified on rows of ``y`` when given); returns (picked, rest)."""
    if k <= 0:
        return idx[:0], idx
    if k >= len(idx):
        return idx, idx[:0]
    if y is not None:
        from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit

        mss = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=k, random_state=seed)
        rest, picked = next(mss.split(np.zeros(len(idx)), y[idx]))
        return idx[np.sort(picked)], idx[np.sort(rest)]
    perm = np.random.default_rng(seed).permutation(len(idx))
    return idx[np.sort(perm[:k])], idx[np.sort(perm[k:])]
