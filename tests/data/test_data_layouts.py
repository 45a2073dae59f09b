"""Every dataset layout and image/mask format on small generated files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from segsearch.data import DataError, Sample, SegDataset, load_splits, prepare_splits, read_image, read_label

from helpers_data import (
    data_cfg,
    image_from_mask,
    make_dated_dataset,
    make_folder_dataset,
    random_mask,
    write_palette_png,
    write_png,
    write_tiff,
)


def _all(splits) -> list[Sample]:
    return splits.train + splits.val + splits.test


def test_folders_match_by_stem(tmp_path: Path, studies: Path) -> None:
    make_folder_dataset(tmp_path, n=10)
    splits = load_splits(data_cfg(tmp_path), studies)
    samples = _all(splits)
    assert len(samples) == 10
    assert all(s.image.stem == s.mask.stem for s in samples)


@pytest.mark.parametrize(("mask_name", "extra"), [
    ("{stem}_mask", {"mask_suffix": "_mask"}),
    ("label_{stem}", {"mask_pattern": "label_{stem}"}),
])
def test_folders_mask_suffix_and_pattern(tmp_path: Path, studies: Path, mask_name: str, extra: dict) -> None:
    make_folder_dataset(tmp_path, n=8, masks="labels", mask_name=mask_name)
    splits = load_splits(data_cfg(tmp_path, masks_dir="labels", **extra), studies)
    samples = _all(splits)
    assert len(samples) == 8
    assert all(s.mask.name == mask_name.format(stem=s.image.stem) + ".png" for s in samples)


def test_csv_layout_reads_prepared_splits(tmp_path: Path, studies: Path) -> None:
    make_folder_dataset(tmp_path, n=20)
    prepared = prepare_splits(data_cfg(tmp_path), studies_dir=studies)
    assert set(prepared.paths) == {"train", "val", "test"}
    header = prepared.paths["train"].read_text().splitlines()[0]
    assert header == "image,mask,group"
    splits = load_splits(data_cfg(tmp_path, layout="csv"), studies)
    assert [len(splits.train), len(splits.val), len(splits.test)] == [prepared.images[s] for s in ("train", "val", "test")]


def test_csv_layout_needs_its_files(tmp_path: Path, studies: Path) -> None:
    make_folder_dataset(tmp_path, n=4)
    with pytest.raises(DataError, match="train.csv"):
        load_splits(data_cfg(tmp_path, layout="csv"), studies)


def test_presplit_layout_keeps_the_given_split(tmp_path: Path, studies: Path) -> None:
    for split, n in (("train", 6), ("val", 3), ("test", 2)):
        make_folder_dataset(tmp_path / split, n=n, seed=n)
    splits = load_splits(data_cfg(tmp_path, layout="presplit"), studies)
    assert [len(splits.train), len(splits.val), len(splits.test)] == [6, 3, 2]
    assert all(s.image.parent.parent.name == "val" for s in splits.val)


def test_several_images_per_mask_stay_in_one_split(tmp_path: Path, studies: Path) -> None:
    make_dated_dataset(tmp_path, n_masks=12, dates=3)
    splits = load_splits(data_cfg(tmp_path, group_pattern=r"(.*)_t\d", val_fraction=0.25, test_fraction=0.25),
                         studies)
    where = {}
    for name in ("train", "val", "test"):
        for s in getattr(splits, name):
            assert s.mask.stem == s.group
            where.setdefault(s.group, set()).add(name)
    assert len(where) == 12 and all(len(v) == 1 for v in where.values())
    assert len(_all(splits)) == 36


@pytest.mark.parametrize("kind", ["png_gray", "png_rgba", "jpeg", "tiff16", "tiff_bands_first"])
def test_image_formats(tmp_path: Path, kind: str) -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)
    if kind == "png_gray":
        img = read_image(write_png(tmp_path / "g.png", rgb[:, :, 0]), 3)
        assert np.array_equal(img, np.repeat(rgb[:, :, :1], 3, 2))
    elif kind == "png_rgba":
        rgba = np.dstack([rgb, np.full((20, 24), 255, np.uint8)])
        assert np.array_equal(read_image(write_png(tmp_path / "a.png", rgba), 3), rgb)
    elif kind == "jpeg":
        flat = np.zeros((20, 24, 3), np.uint8) + np.array([200, 50, 100], np.uint8)
        img = read_image(write_png(tmp_path / "j.jpg", flat), 3)
        assert img.shape == (20, 24, 3) and np.abs(img.astype(int) - flat).max() < 8  # RGB order kept
    elif kind == "tiff16":
        arr = rng.integers(0, 65535, (20, 24, 3), dtype=np.uint16)
        img = read_image(write_tiff(tmp_path / "t.tif", arr), 3)
        assert img.dtype == np.uint16 and np.array_equal(img, arr)
    else:
        arr = rng.integers(0, 4000, (6, 20, 24), dtype=np.uint16)  # bands first, as GeoTIFFs often are
        img = read_image(write_tiff(tmp_path / "b.tif", arr), 6)
        assert img.shape == (20, 24, 6) and np.array_equal(img[:, :, 5], arr[5])
        picked = read_image(tmp_path / "b.tif", 3, bands=[3, 2, 1])
        assert np.array_equal(picked[:, :, 0], arr[3])


def test_multiband_dataset_gives_in_channels_tensors(tmp_path: Path, studies: Path) -> None:
    rng = np.random.default_rng(1)
    for i in range(6):
        mask = random_mask(rng, 32, [1, 2])
        write_tiff(tmp_path / "images" / f"m{i}.tif", rng.integers(0, 9000, (32, 32, 5), dtype=np.uint16))
        write_tiff(tmp_path / "masks" / f"m{i}.tif", mask)
    cfg = data_cfg(tmp_path, in_channels=5)
    splits = load_splits(cfg, studies)
    from segsearch.data import build_transform

    x, y = SegDataset(splits.train, cfg, build_transform("light", (32, 32), True), [0.5], [0.25])[0]
    assert x.shape == (5, 32, 32) and x.dtype.is_floating_point and y.shape == (32, 32)


def _sample(tmp_path: Path, mask_file: Path, classes: tuple[Path, ...] = ()) -> Sample:
    return Sample(tmp_path / "unused.png", mask_file, "g", classes)


def test_index_masks_png_and_tiff(tmp_path: Path) -> None:
    mask = random_mask(np.random.default_rng(2), 32, [1, 2])
    cfg = data_cfg(tmp_path)
    for path in (write_png(tmp_path / "m.png", mask), write_tiff(tmp_path / "m.tif", mask.astype(np.uint16))):
        assert np.array_equal(read_label(_sample(tmp_path, path), cfg), mask)


def test_binary_0_255_masks(tmp_path: Path) -> None:
    mask = (random_mask(np.random.default_rng(3), 32, [1]) * 255).astype(np.uint8)
    path = write_png(tmp_path / "m.png", mask)
    binary = read_label(_sample(tmp_path, path), data_cfg(tmp_path, mode="binary", classes=["pipe"]))
    assert np.array_equal(binary, (mask > 0).astype(int))
    multi = read_label(_sample(tmp_path, path), data_cfg(tmp_path, classes=["background", "pipe"],
                                                         class_map={255: 1}))
    assert np.array_equal(multi, (mask > 0).astype(int))


def test_palette_png_uses_indices(tmp_path: Path) -> None:
    mask = random_mask(np.random.default_rng(4), 32, [1, 2])
    label = read_label(_sample(tmp_path, write_palette_png(tmp_path / "p.png", mask)), data_cfg(tmp_path))
    assert np.array_equal(label, mask)


def test_rgb_colour_table(tmp_path: Path) -> None:
    mask = random_mask(np.random.default_rng(5), 32, [1, 2])
    colours = {"background": (0, 0, 0), "a": (255, 0, 0), "b": (0, 128, 255)}
    rgb = np.zeros((32, 32, 3), np.uint8)
    for i, name in enumerate(("background", "a", "b")):
        rgb[mask == i] = colours[name]
    cfg = data_cfg(tmp_path, colors=colours)
    assert np.array_equal(read_label(_sample(tmp_path, write_png(tmp_path / "c.png", rgb)), cfg), mask)
    rgb[0, 0] = (9, 9, 9)
    with pytest.raises(DataError, match=r"c2\.png: colour \(9, 9, 9\)"):
        read_label(_sample(tmp_path, write_png(tmp_path / "c2.png", rgb)), cfg)


def test_class_map_merges_and_ignores_borders(tmp_path: Path) -> None:
    raw = np.array([[0, 1, 2, 3], [4, 255, 0, 1]], np.uint8)
    cfg = data_cfg(tmp_path, class_map={3: 1, 4: 2}, ignore_index=255)
    label = read_label(_sample(tmp_path, write_png(tmp_path / "m.png", raw)), cfg)
    assert label.tolist() == [[0, 1, 2, 1], [2, 255, 0, 1]]
    with pytest.raises(DataError, match=r"m2\.png: mask values \[7\]"):
        read_label(_sample(tmp_path, write_png(tmp_path / "m2.png", np.array([[0, 7]], np.uint8))), cfg)


def test_multilabel_channels_and_per_class_files(tmp_path: Path, studies: Path) -> None:
    rng = np.random.default_rng(6)
    planes = np.stack([random_mask(rng, 32, [1]) for _ in range(3)], -1)
    cfg = data_cfg(tmp_path, mode="multilabel", classes=["x", "y", "z"])
    path = write_tiff(tmp_path / "ml.tif", (planes * 255).astype(np.uint8))
    assert np.array_equal(read_label(_sample(tmp_path, path), cfg), planes)
    for i in range(4):
        write_png(tmp_path / "ds" / "images" / f"s{i}.png", image_from_mask(planes[:, :, 0]))
        for c, name in enumerate(("x", "y", "z")):
            write_png(tmp_path / "ds" / "masks" / name / f"s{i}.png", planes[:, :, c] * 255)
    files_cfg = data_cfg(tmp_path / "ds", mode="multilabel", classes=["x", "y", "z"], mask_per_class=True,
                         val_fraction=0.25, test_fraction=0.0)
    splits = load_splits(files_cfg, studies)
    sample = splits.train[0]
    assert len(sample.class_masks) == 3
    assert np.array_equal(read_label(sample, files_cfg), planes)
    x, y = SegDataset([sample], files_cfg, None, [0.0], [1.0])[0]
    assert y.shape == (3, 32, 32) and y.dtype.is_floating_point
