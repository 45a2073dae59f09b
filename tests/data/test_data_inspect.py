"""inspect (integrity + EDA), the preflight check of launch, and class weights from pixel counts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from segsearch.data import (
    DataError,
    SegDataset,
    class_pixel_counts,
    inspect_dataset,
    load_splits,
    loss_class_weights,
    preflight,
)

from helpers_data import corrupt, data_cfg, image_from_mask, make_folder_dataset, write_png


def _broken_dataset(root: Path) -> dict[str, Path]:
    make_folder_dataset(root, n=10)
    bad = {"corrupt": corrupt(root / "images" / "img_03.png")}
    (root / "masks" / "img_04.png").unlink()
    bad["no_mask"] = root / "images" / "img_04.png"
    bad["mismatch"] = root / "images" / "img_05.png"
    write_png(bad["mismatch"], image_from_mask(np.zeros((40, 32), np.uint8)))
    bad["out_of_range"] = write_png(root / "masks" / "img_06.png", np.full((32, 32), 9, np.uint8))
    bad["lonely"] = write_png(root / "masks" / "zzz.png", np.zeros((32, 32), np.uint8))
    write_png(root / "masks" / "img_07.png", np.zeros((32, 32), np.uint8))  # background only
    return bad


def test_inspect_names_every_problem(tmp_path: Path, studies: Path) -> None:
    bad = _broken_dataset(tmp_path / "ds")
    report = inspect_dataset(data_cfg(tmp_path / "ds"), tmp_path / "eda", studies)
    split = report["splits"]["all"]
    assert [d["file"] for d in split["unreadable"]] == [str(bad["corrupt"])]
    assert split["images_without_mask"] == [str(bad["no_mask"])]
    assert split["masks_without_image"] == [str(bad["lonely"])]
    assert [d["file"] for d in split["size_mismatch"]] == [str(bad["mismatch"])]
    assert "32x40" in split["size_mismatch"][0]["problem"]
    assert [d["file"] for d in split["out_of_range"]] == [str(bad["out_of_range"])]
    assert "[9]" in split["out_of_range"][0]["problem"]
    assert split["background_only"] == [str(tmp_path / "ds" / "masks" / "img_07.png")]
    assert (split["images"], split["masks"], split["complete_pairs"]) == (10, 10, 9)
    text = (tmp_path / "eda" / "summary.md").read_text()
    for path in bad.values():
        assert str(path) in text
    assert json.loads((tmp_path / "eda" / "summary.json").read_text())["problems"] == report["problems"]
    for plot in ("class_distribution.png", "image_sizes.png", "samples.png"):
        assert (tmp_path / "eda" / plot).stat().st_size > 1000


def test_inspect_statistics(tmp_path: Path, studies: Path) -> None:
    masks = make_folder_dataset(tmp_path / "ds", n=6)
    report = inspect_dataset(data_cfg(tmp_path / "ds"), tmp_path / "eda", studies)
    split = report["splits"]["all"]
    expected = np.bincount(np.concatenate([m.ravel() for m in masks]), minlength=3)
    assert split["pixels"]["counts"] == expected.tolist()
    assert split["pixels"]["shares"] == pytest.approx((expected / expected.sum()).tolist(), abs=1e-5)
    assert split["image_sizes"] == {"32x32": 6}
    assert sum(split["objects_per_mask"].values()) == 6
    assert report["problems"] == [] and report["class_weights"] is not None


def test_preflight_stops_naming_the_bad_files(tmp_path: Path, studies: Path) -> None:
    bad = _broken_dataset(tmp_path / "ds")
    with pytest.raises(DataError) as err:
        preflight(data_cfg(tmp_path / "ds"), studies)
    msg = str(err.value)
    for key in ("corrupt", "no_mask", "mismatch", "out_of_range"):
        assert str(bad[key]) in msg, key
    assert "unreadable" in msg and "no mask found" in msg and "skip_bad" in msg


def test_skip_bad_drops_and_logs_bad_files(tmp_path: Path, studies: Path, caplog) -> None:
    bad = _broken_dataset(tmp_path / "ds")
    splits = preflight(data_cfg(tmp_path / "ds", skip_bad=True), studies)
    kept = {s.image for s in splits.train + splits.val + splits.test}
    assert len(kept) == 6 and not kept & {bad["corrupt"], bad["mismatch"], bad["no_mask"]}
    assert len(splits.skipped) == 4
    assert str(bad["out_of_range"]) in caplog.text


def test_check_is_cached_and_sees_changed_files(tmp_path: Path, studies: Path) -> None:
    make_folder_dataset(tmp_path / "ds", n=8)
    cfg = data_cfg(tmp_path / "ds")
    load_splits(cfg, studies)
    assert list((studies / "_data").glob("scan-*.json"))
    write_png(tmp_path / "ds" / "masks" / "img_02.png", np.full((32, 32), 5, np.uint8))
    with pytest.raises(DataError, match="img_02.png: mask values \\[5\\]"):
        load_splits(cfg, studies)


def test_class_weights_from_known_pixel_counts(tmp_path: Path, studies: Path) -> None:
    # 4 masks of 10x10: background 300, a 80, b 20 pixels in total
    for i in range(4):
        mask = np.zeros((10, 10), np.uint8)
        mask[:2] = 1
        mask[2, :5] = 2
        write_png(tmp_path / "masks" / f"m{i}.png", mask)
        write_png(tmp_path / "images" / f"m{i}.png", image_from_mask(mask))
    cfg = data_cfg(tmp_path)
    ds = SegDataset(load_splits(cfg, studies).train + load_splits(cfg, studies).val, cfg, None, [0], [1])
    counts = class_pixel_counts(ds)
    assert counts.tolist() == [300, 80, 20]
    freq = np.array([300, 80, 20]) / 400
    assert loss_class_weights(counts, cfg) == pytest.approx((np.median(freq) / freq).tolist(), rel=1e-5)
    binary = data_cfg(tmp_path, mode="binary", classes=["fg"])
    assert loss_class_weights(np.array([300, 100]), binary) == [3.0]


def test_inspect_proposes_the_weights_training_uses(tmp_path: Path, studies: Path) -> None:
    make_folder_dataset(tmp_path / "ds", n=12)
    cfg = data_cfg(tmp_path / "ds")
    report = inspect_dataset(cfg, tmp_path / "eda", studies)
    train = SegDataset(load_splits(cfg, studies).train, cfg, None, [0.0], [1.0], cache=False)
    assert report["class_weights_from"] == "train"
    assert report["class_weights"] == loss_class_weights(class_pixel_counts(train), cfg)


def test_inspect_describes_the_splits_the_search_will_use(tmp_path: Path, studies: Path) -> None:
    make_folder_dataset(tmp_path / "ds", n=20)
    cfg = data_cfg(tmp_path / "ds")
    report = inspect_dataset(cfg, tmp_path / "eda", studies)
    splits = report["splits"]
    parts = load_splits(cfg, studies)
    assert splits["train"]["complete_pairs"] == len(parts.train)
    assert splits["val"]["complete_pairs"] == len(parts.val)
    assert sum(splits[s]["complete_pairs"] for s in ("train", "val", "test") if s in splits) == 20
    total = np.sum([splits[s]["pixels"]["counts"] for s in ("train", "val", "test") if s in splits], axis=0)
    assert total.tolist() == splits["all"]["pixels"]["counts"]
    assert "| train |" in (tmp_path / "eda" / "summary.md").read_text()


@pytest.mark.parametrize(("mask_name", "fix", "key"), [
    ("{stem}_mask", 'data.mask_suffix: "_mask"', {"mask_suffix": "_mask"}),
    ("mask_{stem}", 'data.mask_pattern: "mask_{stem}"', {"mask_pattern": "mask_{stem}"}),
])
def test_masks_named_differently_come_with_the_setting_that_pairs_them(tmp_path, studies, mask_name, fix, key):
    make_folder_dataset(tmp_path / "ds", n=8, mask_name=mask_name)
    with pytest.raises(DataError) as err:
        preflight(data_cfg(tmp_path / "ds"), studies)
    msg = str(err.value)
    assert fix in msg and "8 of 8 images" in msg
    assert "skip_bad" not in msg  # skipping every file is no fix
    splits = preflight(data_cfg(tmp_path / "ds", **key), studies)  # the suggested setting works
    assert len(splits.train) + len(splits.val) + len(splits.test) == 8


def test_0_255_masks_come_with_binary_mode_or_a_class_map(tmp_path, studies):
    for i in range(6):
        mask = np.zeros((32, 32), np.uint8)
        mask[4:12 + i, 4:20] = 255
        write_png(tmp_path / "ds" / "masks" / f"m{i}.png", mask)
        write_png(tmp_path / "ds" / "images" / f"m{i}.png", image_from_mask(mask // 255))
    with pytest.raises(DataError) as err:
        preflight(data_cfg(tmp_path / "ds", classes=["background", "road"]), studies)
    msg = str(err.value)
    assert "data.mode: binary" in msg and "class_map: {255: 1}" in msg and "skip_bad" not in msg
    splits = preflight(data_cfg(tmp_path / "ds", classes=["background", "road"], class_map={255: 1}), studies)
    assert len(splits.train) + len(splits.val) + len(splits.test) == 6
