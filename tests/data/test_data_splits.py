"""Grouped, multi-label-stratified, deterministic splits; prepare writes them as CSVs."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from segsearch.data import DataError, Sample, load_splits, prepare_splits, split_samples

from helpers_data import data_cfg, make_dated_dataset, make_presence_dataset


def _samples(presence: dict[str, list[int]], per_group: int = 1) -> list[Sample]:
    return [Sample(Path(f"{g}_{k}.png"), Path(f"{g}.png"), g) for g in presence for k in range(per_group)]


def _class_counts(part: list[Sample], presence: dict[str, list[int]], n: int) -> np.ndarray:
    counts = np.zeros(n, int)
    for g in {s.group for s in part}:
        counts[presence[g]] += 1
    return counts


def test_stratification_balances_class_presence() -> None:
    # 100 groups: class 1 in 60, class 2 in 20, class 3 (rare) in 10
    rng = np.random.default_rng(0)
    presence = {}
    for i in range(100):
        classes = [0] + [c for c, k in ((1, 60), (2, 20), (3, 10)) if (i * 7 + c * 13) % 100 < k]
        presence[f"g{i:03d}"] = classes
    totals = _class_counts(_samples(presence), presence, 4)
    parts = split_samples(_samples(presence, per_group=3), 0.2, 0.1, seed=int(rng.integers(100)), presence=presence)
    for name, frac in (("val", 0.2), ("test", 0.1)):
        got = _class_counts(parts[name], presence, 4)
        assert np.all(np.abs(got - totals * frac) <= 1), (name, got, totals * frac)
    assert len({s.group for s in parts["val"]}) == 20 and len({s.group for s in parts["test"]}) == 10


def test_groups_never_cross_splits_and_seed_is_deterministic() -> None:
    presence = {f"g{i}": [0, 1 + i % 3] for i in range(30)}
    samples = _samples(presence, per_group=3)
    a = split_samples(samples, 0.2, 0.2, seed=5, presence=presence)
    b = split_samples(samples, 0.2, 0.2, seed=5, presence=presence)
    c = split_samples(samples, 0.2, 0.2, seed=6, presence=presence)
    assert a == b and a != c
    owner: dict[str, str] = {}
    for name, part in a.items():
        for s in part:
            assert owner.setdefault(s.group, name) == name
    assert sum(len(p) for p in a.values()) == 90


def test_load_splits_is_stratified_on_mask_contents(tmp_path: Path, studies: Path) -> None:
    presence = [[1, 2] if i % 5 == 0 else [1] for i in range(40)]  # class 2 in 8 of 40 masks
    make_presence_dataset(tmp_path, presence)
    splits = load_splits(data_cfg(tmp_path, val_fraction=0.25, test_fraction=0.25), studies)
    has_b = {name: sum("s_" in s.image.stem and int(s.image.stem[2:]) % 5 == 0 for s in part)
             for name, part in (("train", splits.train), ("val", splits.val), ("test", splits.test))}
    assert has_b == {"train": 4, "val": 2, "test": 2}


def test_prepare_writes_grouped_csvs_and_presence_table(tmp_path: Path, studies: Path) -> None:
    make_dated_dataset(tmp_path / "ds", n_masks=20, dates=3)
    cfg = data_cfg(tmp_path / "ds", group_pattern=r"(.*)_t\d")
    first = prepare_splits(cfg, tmp_path / "out", studies)
    again = prepare_splits(cfg, tmp_path / "out2", studies)
    assert first.images == again.images and sum(first.images.values()) == 60
    assert first.paths["val"].read_text() == again.paths["val"].read_text()
    owner = {}
    for name, path in first.paths.items():
        with open(path, newline="") as fh:
            for row in csv.DictReader(fh):
                assert owner.setdefault(row["mask"], name) == name
                assert row["image"].startswith("images/tile_") and row["mask"] == f"masks/{row['group']}.png"
    table = first.table()
    assert "| split | images | groups | background | a | b |" in table
    assert f"| val | {first.images['val']} | {first.groups['val']} |" in table
    assert (tmp_path / "out" / "summary.json").is_file()


def test_prepare_refuses_presplit(tmp_path: Path, studies: Path) -> None:
    with pytest.raises(DataError, match="already split"):
        prepare_splits(data_cfg(tmp_path, layout="presplit"), studies_dir=studies)
