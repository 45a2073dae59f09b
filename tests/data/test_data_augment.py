"""Augmentation presets keep image and mask aligned; mosaic, patch crops, cache, custom pipelines."""

from __future__ import annotations

import random
from pathlib import Path

import albumentations as A
import cv2
import numpy as np
import pytest
import torch

from segsearch.data import MosaicDataset, SegDataset, build_transform, load_splits, make_train_dataset

from helpers_data import SHADE, data_cfg, image_from_mask, make_folder_dataset, random_mask


def _geometric_only(t):
    """The same pipeline without image-only (photometric) steps, with nearest-neighbour sampling."""
    if isinstance(t, A.BaseCompose):
        kept = [_geometric_only(c) for c in t.transforms if not isinstance(c, A.ImageOnlyTransform)]
        t.transforms = [k for k in kept if k is not None]
        if isinstance(t, A.OneOf):
            t.transforms_ps = [1.0] * len(t.transforms)
            t.transforms_ps = [p / len(t.transforms) for p in t.transforms_ps]
        return t
    if hasattr(t, "interpolation"):
        t.interpolation = cv2.INTER_NEAREST
    return t


@pytest.mark.parametrize("preset", ["none", "light", "full"])
@pytest.mark.parametrize("crop", [False, True])
def test_presets_keep_image_and_mask_aligned(preset: str, crop: bool) -> None:
    rng = np.random.default_rng(0)
    mask = random_mask(rng, 48, [1, 2, 3])
    tf = _geometric_only(build_transform(preset, (32, 32), train=True, crop=crop))
    plain = cv2.resize(mask, (32, 32), interpolation=cv2.INTER_NEAREST)
    changed = 0
    for seed in range(25):
        tf.set_random_seed(seed)
        out = tf(image=image_from_mask(mask), mask=mask)
        assert out["image"].shape == (32, 32, 3) and out["mask"].shape == (32, 32)
        assert np.array_equal(out["image"][:, :, 0], out["mask"].astype(np.uint8) * SHADE), (preset, seed)
        changed += not np.array_equal(out["mask"], plain)
    if preset != "none" or crop:
        assert changed > 10  # the transforms really moved pixels


def test_full_preset_is_seed_001_pipeline() -> None:
    names = [type(t).__name__ for t in build_transform("full", (32, 32), train=True)]
    assert names == ["Resize", "Affine", "HorizontalFlip", "VerticalFlip", "OneOf"]
    inner = [type(t).__name__ for t in build_transform("full", (32, 32), train=True)[4].transforms]
    assert inner == ["OpticalDistortion", "GridDistortion", "GaussianBlur", "ImageCompression",
                     "RandomBrightnessContrast"]


def test_full_preset_runs_on_uint8_and_16_bit_images(tmp_path: Path) -> None:
    from helpers_data import write_tiff

    rng = np.random.default_rng(1)
    mask = random_mask(rng, 32, [1, 2])
    write_tiff(tmp_path / "images" / "t.tif", rng.integers(0, 65535, (32, 32, 3), dtype=np.uint16))
    write_tiff(tmp_path / "masks" / "t.tif", mask)
    cfg = data_cfg(tmp_path)
    from segsearch.data import Sample

    ds = SegDataset([Sample(tmp_path / "images" / "t.tif", tmp_path / "masks" / "t.tif", "t")], cfg,
                    build_transform("full", (32, 32), train=True), [0.5], [0.25])
    for _ in range(10):
        x, y = ds[0]
        assert x.shape == (3, 32, 32) and torch.isfinite(x).all() and set(y.unique().tolist()) <= {0, 1, 2}


def test_custom_albumentations_pipeline_from_yaml_form() -> None:
    spec = A.to_dict(A.Compose([A.Resize(32, 32), A.HorizontalFlip(p=1.0)]))
    cfg = data_cfg(Path("."), augmentation=spec)
    tf = build_transform(cfg.augmentation, (32, 32), train=True)
    mask = random_mask(np.random.default_rng(2), 32, [1])
    out = tf(image=image_from_mask(mask), mask=mask)
    assert np.array_equal(out["mask"], mask[:, ::-1])


def test_unknown_preset_is_refused() -> None:
    with pytest.raises(ValueError, match="valid: none, light, full"):
        data_cfg(Path("."), augmentation="heavy")
    with pytest.raises(ValueError, match="valid: none, light, full"):
        build_transform("heavy", (32, 32), train=True)


def _train_ds(tmp_path: Path, studies: Path, **kw):
    make_folder_dataset(tmp_path / "ds", n=8, size=kw.pop("size", 32), n_classes=4)
    cfg = data_cfg(tmp_path / "ds", classes=["bg", "a", "b", "c"], **kw)
    samples = load_splits(cfg, studies).train
    return cfg, make_train_dataset(samples, cfg, build_transform("none", cfg.size_hw, train=True), [0.0], [1.0])


def test_mosaic_shapes_and_labels_follow_their_images(tmp_path: Path, studies: Path) -> None:
    cfg, ds = _train_ds(tmp_path, studies, mosaic=1.0)
    assert isinstance(ds, MosaicDataset)
    random.seed(0)
    mixed = 0
    for i in range(len(ds)):
        img, label = ds.mosaic([i, *random.choices(range(len(ds)), k=3)])
        assert img.shape == (32, 32, 3) and label.shape == (32, 32)
        assert np.array_equal(img[:, :, 0], label * SHADE)
        x, y = ds[i]
        assert x.shape == (3, 32, 32) and y.shape == (32, 32) and y.dtype == torch.long
        assert torch.equal((x[0] * 255).round().long(), y * SHADE)
        mixed += not any(np.array_equal(label, ds.base.load(j)[1]) for j in range(len(ds)))
    assert mixed > 0  # quadrants really come from different samples


def test_mosaic_quadrants_come_from_four_samples(tmp_path: Path, studies: Path) -> None:
    cfg, ds = _train_ds(tmp_path, studies, mosaic=1.0)
    ds.base.samples = ds.base.samples[:4]
    ds.base.cache = {i: (image_from_mask(np.full((32, 32), i, np.uint8)), np.full((32, 32), i, np.uint8))
                     for i in range(4)}
    random.seed(3)
    img, label = ds.mosaic([0, 1, 2, 3])
    assert label[0, 0] == 0 and label[0, -1] == 1 and label[-1, 0] == 2 and label[-1, -1] == 3
    for k in range(4):  # each sample fills one axis-aligned rectangle of at least a quarter side
        ys, xs = np.nonzero(label == k)
        box = (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)
        assert box == ys.size and min(ys.max() - ys.min(), xs.max() - xs.min()) + 1 >= 8
    assert np.array_equal(img[:, :, 0], label * SHADE)


def test_patch_training_crops_large_images(tmp_path: Path, studies: Path) -> None:
    cfg, ds = _train_ds(tmp_path, studies, size=64, crop=True)
    x, y = ds[0]
    assert x.shape == (3, 32, 32) and y.shape == (32, 32)
    assert torch.equal((x[0] * 255).round().long(), y * SHADE)  # a crop, not a resize: values stay exact


def test_cache_holds_decoded_arrays_within_budget(tmp_path: Path, studies: Path) -> None:
    cfg, ds = _train_ds(tmp_path, studies)
    for i in range(len(ds)):
        ds[i]
    assert len(ds.cache) == len(ds) and all(img.dtype == np.uint8 for img, _ in ds.cache.values())
    tight = SegDataset(ds.samples, data_cfg(tmp_path / "ds", classes=["bg", "a", "b", "c"], cache_mb=0),
                       None, [0.0], [1.0])
    tight.load(0)
    assert tight.cache == {}
    fresh = SegDataset(ds.samples, cfg, None, [0.0], [1.0])
    assert fresh.preload() == len(ds.samples)


def _orientations(tf, seed_once, draws: int = 400) -> dict[str, int]:
    """How often a seeded pipeline shows a chiral (L-shaped) mask as itself, mirrored left-right, mirrored
    top-bottom or turned 180 degrees."""
    from types import SimpleNamespace

    mask = np.zeros((32, 32), np.uint8)
    mask[4:28, 6:10] = 1
    mask[22:28, 6:24] = 1
    seed_once(SimpleNamespace(transform=tf))
    seen = {"identity": 0, "horizontal": 0, "vertical": 0, "both": 0}
    views = {"identity": mask, "horizontal": mask[:, ::-1], "vertical": mask[::-1], "both": mask[::-1, ::-1]}
    for _ in range(draws):
        out = tf(image=image_from_mask(mask), mask=mask)["mask"]
        seen[max(views, key=lambda k: int((out * views[k]).sum()))] += 1
    return seen


def test_a_seeded_pipeline_flips_each_axis_on_its_own() -> None:
    """albumentations 2 hands every transform of a seeded Compose the same seed, so HorizontalFlip(p=0.5) and
    VerticalFlip(p=0.5) decide alike and a mirror image never appears; training seeds each transform apart."""
    from segsearch.training._loop import seed_transforms

    seen = _orientations(build_transform("light", (32, 32), train=True), lambda ds: seed_transforms(ds, 0))
    assert all(n >= 60 for n in seen.values()), seen  # each of the four about a quarter of 400 draws
    again = _orientations(build_transform("light", (32, 32), train=True), lambda ds: seed_transforms(ds, 0))
    assert again == seen  # reproducible from the seed
    bare = _orientations(build_transform("light", (32, 32), train=True), lambda ds: ds.transform.set_random_seed(0))
    assert bare["horizontal"] + bare["vertical"] == 0, bare  # what the library's own seeding does


def test_a_seeded_full_pipeline_draws_its_steps_independently() -> None:
    """The full preset's affine, flips and one-of each decide on their own stream: with one shared seed the
    affine (p=0.5) and the flips would be applied together."""
    from segsearch.data import seed_pipeline

    tf = build_transform("full", (32, 32), train=True)
    seed_pipeline(tf, 3)
    seeds = [t.seed for t in tf.transforms] + [t.seed for t in tf.transforms[4].transforms]
    assert len(set(seeds)) == len(seeds), seeds
    seen = _orientations(tf, lambda ds: seed_pipeline(ds.transform, 3))
    assert seen["horizontal"] >= 50 and seen["vertical"] >= 50, seen


def test_importing_segsearch_stops_albumentations_calling_pypi_on_import() -> None:
    # albumentations asks pypi.org for its latest version on every import (2 s timeout): on an offline GPU node
    # every segsearch process warned "Error fetching version info" (seen on an H200, bench/LATEST.md 'GPU').
    # A proxy that refuses connections makes that call fail at once; -W error turns its warning into a failure.
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "NO_ALBUMENTATIONS_UPDATE"}
    env.update(HTTPS_PROXY="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9")
    code = "import segsearch.data, albumentations, os; print(os.environ['NO_ALBUMENTATIONS_UPDATE'])"
    proc = subprocess.run([sys.executable, "-W", "error::UserWarning", "-c", code], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "1", proc.stderr[-2000:]
    # a user's own setting wins
    env["NO_ALBUMENTATIONS_UPDATE"] = "0"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.stdout.strip() == "0"
