"""``segsearch plan``: real folders in every layout and mask encoding the seeds use, fingerprinted and turned
into a YAML that loads; bad folders refused with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from segsearch import api
from segsearch.cli import app
from segsearch.config import load_config
from segsearch.data import fingerprint

from helpers_data import (
    image_from_mask,
    make_dated_dataset,
    make_folder_dataset,
    random_mask,
    write_palette_png,
    write_png,
)


def test_index_masks_give_a_multiclass_plan_that_launch_reads(tmp_path):
    make_folder_dataset(tmp_path / "cells", n=10, size=64, n_classes=3)
    path, plan = api.plan(tmp_path / "cells", out=tmp_path / "cells.yaml")
    cfg = load_config(path)
    assert cfg.data.mode == "multiclass" and len(cfg.data.classes) == 3 and cfg.data.class_map is None
    assert cfg.data.image_size == 64 and cfg.study.name == "cells" and cfg.data.root == (tmp_path / "cells")
    assert "pan" in cfg.search["architecture"].choices or cfg.data.image_size < 128
    fp = json.loads((tmp_path / "cells.fingerprint.json").read_text())
    assert fp["n_pairs"] == 10 and fp["image_sizes"] == {"64x64": 10} and fp["encoding"] == "index"
    shares = {c["name"]: c["pixel_share"] for c in fp["classes"]}
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-3) and shares["background"] > 0.3
    # a plan runs the sampler and pruner the flagship space ships (chosen from replays of real curves)
    flagship = load_config(Path(__file__).parents[2] / "search_spaces" / "arch_loss.yaml").study
    assert (cfg.study.sampler, cfg.study.pruner) == (flagship.sampler, flagship.pruner)


def test_0_255_masks_with_a_suffix_are_binary_and_paired(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(6):
        mask = random_mask(rng, 32, [1]) * 255
        write_png(tmp_path / "d" / "images" / f"p{i}.png", image_from_mask(mask // 255))
        write_png(tmp_path / "d" / "masks" / f"p{i}_mask.png", mask)
    fp = fingerprint(tmp_path / "d")
    assert (fp.mask_suffix, fp.n_pairs, fp.encoding, fp.mode) == ("_mask", 6, "binary_0_255", "binary")
    path, _ = api.plan(tmp_path / "d", out=tmp_path / "d.yaml")
    cfg = load_config(path)
    assert cfg.data.mode == "binary" and cfg.data.mask_suffix == "_mask" and cfg.data.classes == ["foreground"]


def test_one_mask_file_per_class_gives_a_multilabel_plan_whose_data_loads(tmp_path):
    from segsearch.data import load_splits

    rng = np.random.default_rng(0)
    for i in range(8):
        index = random_mask(rng, 32, [1, 2])
        write_png(tmp_path / "parts" / "images" / f"p{i}.png", image_from_mask(index))
        for k, name in ((1, "torso"), (2, "head")):  # a body part may overlap others in multilabel data
            write_png(tmp_path / "parts" / "masks" / name / f"p{i}.png", ((index == k) * 255).astype(np.uint8))
    fp = fingerprint(tmp_path / "parts")
    assert (fp.mask_per_class, fp.mode, fp.encoding, fp.n_pairs) == (True, "multilabel", "per_class_files", 8)
    assert [c.name for c in fp.classes] == ["head", "torso"]
    assert all(0 < c.pixel_share < 1 and c.image_share == 1.0 for c in fp.classes)
    path, _ = api.plan(tmp_path / "parts", out=tmp_path / "parts.yaml")
    cfg = load_config(path)
    assert cfg.data.mode == "multilabel" and cfg.data.mask_per_class and cfg.data.classes == ["head", "torso"]
    splits = load_splits(cfg.data, tmp_path / "studies")  # the planned YAML reads the folder as it is
    assert len(splits.train) + len(splits.val) + len(splits.test) == 8


def test_non_contiguous_values_get_a_class_map_and_thin_255_borders_the_ignore_index(tmp_path):
    rng = np.random.default_rng(1)
    for i in range(5):
        mask = random_mask(rng, 32, [1, 2]).astype(np.uint8) * 50  # values 0, 50, 100
        mask[0, :] = 255  # a one-pixel border, as Pascal VOC draws them
        write_png(tmp_path / "v" / "images" / f"a{i}.png", image_from_mask(mask // 50))
        write_png(tmp_path / "v" / "masks" / f"a{i}.png", mask)
    fp = fingerprint(tmp_path / "v")
    assert fp.class_map == {0: 0, 50: 1, 100: 2} and fp.ignore_index == 255
    cfg = load_config(api.plan(tmp_path / "v", out=tmp_path / "v.yaml")[0])
    assert cfg.data.class_map == {0: 0, 50: 1, 100: 2} and cfg.data.ignore_index == 255


def test_palette_and_rgb_colour_masks(tmp_path):
    rng = np.random.default_rng(2)
    colours = np.array([[0, 0, 0], [200, 10, 10], [10, 200, 10]], np.uint8)
    for i in range(4):
        mask = random_mask(rng, 32, [1, 2])
        write_png(tmp_path / "p" / "images" / f"x{i}.png", image_from_mask(mask))
        write_palette_png(tmp_path / "p" / "masks" / f"x{i}.png", mask)
        write_png(tmp_path / "c" / "images" / f"x{i}.png", image_from_mask(mask))
        write_png(tmp_path / "c" / "masks" / f"x{i}.png", colours[mask])
    assert fingerprint(tmp_path / "p").encoding == "palette"
    fp = fingerprint(tmp_path / "c")
    assert fp.encoding == "rgb" and list(fp.colors.values())[0] == [0, 0, 0] and len(fp.colors) == 3
    cfg = load_config(api.plan(tmp_path / "c", out=tmp_path / "c.yaml")[0])
    assert cfg.data.colors is not None and len(cfg.data.classes) == 3


def test_several_dates_per_mask_are_grouped(tmp_path):
    make_dated_dataset(tmp_path / "sat", n_masks=4, dates=3)
    fp = fingerprint(tmp_path / "sat")
    assert fp.group_pattern is not None and fp.n_pairs == 12 and fp.images_per_mask == 3.0
    cfg = load_config(api.plan(tmp_path / "sat", out=tmp_path / "sat.yaml")[0])
    assert cfg.data.group_pattern == fp.group_pattern


def test_presplit_folders_and_other_folder_names(tmp_path):
    for split in ("train", "val"):
        make_folder_dataset(tmp_path / "ps" / split, n=4, images="JPEGImages", masks="SegmentationClass")
    fp = fingerprint(tmp_path / "ps")
    assert (fp.layout, fp.images_dir, fp.masks_dir) == ("presplit", "JPEGImages", "SegmentationClass")
    cfg = load_config(api.plan(tmp_path / "ps", out=tmp_path / "ps.yaml")[0])
    assert cfg.data.layout == "presplit" and cfg.data.images_dir == "JPEGImages"


@pytest.mark.parametrize(("build", "needle"), [
    ("empty", "empty folder"),
    ("no_masks", "no masks folder"),
    ("floats", "floating-point"),
    ("many_values", "more than 255 classes"),
])
def test_bad_folders_are_refused_with_nothing_written(tmp_path, build, needle):
    import tifffile

    root = tmp_path / "bad"
    (root / "images").mkdir(parents=True)
    if build != "empty":
        write_png(root / "images" / "a.png", np.zeros((16, 16, 3), np.uint8))
    if build == "floats":
        (root / "masks").mkdir()
        tifffile.imwrite(str(root / "masks" / "a.tif"), np.random.default_rng(0).random((16, 16)).astype(np.float32))
    if build == "many_values":
        (root / "masks").mkdir()
        tifffile.imwrite(str(root / "masks" / "a.tif"), np.arange(256 * 4, dtype=np.uint16).reshape(32, 32))
    out = tmp_path / "plans" / "bad.yaml"
    res = CliRunner().invoke(app, ["plan", str(root), "--out", str(out)])
    assert res.exit_code == 2 and needle in res.output and str(root) in res.output, res.output
    assert not out.parent.exists()


def test_the_cli_prints_the_fingerprint_and_never_overwrites(tmp_path, monkeypatch):
    make_folder_dataset(tmp_path / "my_data", n=6, size=32)
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, ["plan", "my_data"])
    assert res.exit_code == 0, res.output
    assert "index -> mode multiclass" in res.output and "wrote my_data.yaml" in res.output
    assert (tmp_path / "my_data.yaml").is_file() and (tmp_path / "my_data.fingerprint.json").is_file()
    before = (tmp_path / "my_data.yaml").read_text()
    again = CliRunner().invoke(app, ["plan", "my_data", "--budget", "soon"])
    assert again.exit_code == 2 and "'soon'" in again.output
    again = CliRunner().invoke(app, ["plan", "my_data"])
    assert again.exit_code == 2 and "--force" in again.output
    assert (tmp_path / "my_data.yaml").read_text() == before


def test_a_budget_is_calibrated_on_this_machine_and_written(tmp_path):
    make_folder_dataset(tmp_path / "b", n=8, size=64)
    path, plan = api.plan(tmp_path / "b", budget="20m", out=tmp_path / "b.yaml")
    assert plan.epoch_seconds is not None and plan.epoch_seconds > 0
    cfg = load_config(path)
    assert cfg.study.budget == "20m" and 8 <= cfg.study.n_trials <= 60


def test_a_folder_is_planned_then_used_by_inspect(tmp_path):
    make_folder_dataset(tmp_path / "f", n=8, size=32)
    report = api.inspect(tmp_path / "f", studies_dir=tmp_path / "studies")
    assert (tmp_path / "studies" / "_plans" / "f.yaml").is_file()
    assert report["out"].endswith("_inspect/f") and not report.get("problems")


def _pairs(root, masks, image_of=lambda m: m):
    for i, mask in enumerate(masks):
        write_png(root / "images" / f"s{i}.png", image_from_mask(image_of(mask)))
        yield root / "masks" / f"s{i}.png", mask


def test_class_names_come_from_the_files_datasets_ship_with_their_masks(tmp_path):
    from segsearch.data._names import voc_colormap

    rng = np.random.default_rng(3)
    index = [random_mask(rng, 32, [1, 2]) for _ in range(4)]
    # CVAT "Segmentation mask 1.1": RGB masks and labelmap.txt (name:r,g,b:parts:actions)
    colours = np.array([[0, 0, 0], [250, 50, 83], [51, 221, 255]], np.uint8)
    for path, m in _pairs(tmp_path / "cvat", index):
        write_png(path, colours[m])
    (tmp_path / "cvat" / "labelmap.txt").write_text("# label:color_rgb:parts:actions\nbackground:0,0,0::\n"
                                                    "car:250,50,83::\nroad:51,221,255::\n")
    fp = fingerprint(tmp_path / "cvat")
    assert [c.name for c in fp.classes] == ["background", "car", "road"]
    assert fp.colors == {"background": [0, 0, 0], "car": [250, 50, 83], "road": [51, 221, 255]}
    assert fp.class_names_from == str(tmp_path / "cvat" / "labelmap.txt")
    cfg = load_config(api.plan(tmp_path / "cvat", out=tmp_path / "cvat.yaml")[0])
    assert cfg.data.classes == ["background", "car", "road"] and tuple(cfg.data.colors["road"]) == (51, 221, 255)
    assert f"# class names from {tmp_path / 'cvat' / 'labelmap.txt'}" in (tmp_path / "cvat.yaml").read_text()

    # Roboflow: index masks and _classes.csv in the masks folder
    for path, m in _pairs(tmp_path / "rf", index):
        write_png(path, m)
    (tmp_path / "rf" / "masks" / "_classes.csv").write_text("Pixel Value, Class\n0, background\n1, crack\n2, rust\n")
    assert [c.name for c in fingerprint(tmp_path / "rf").classes] == ["background", "crack", "rust"]

    # 0/255 binary masks (seed 002's sewer pipes) named by a two-line classes.txt; the background stays
    for path, m in _pairs(tmp_path / "pipes", [(m > 0).astype(np.uint8) for m in index]):
        write_png(path, m * 255)
    (tmp_path / "pipes" / "classes.txt").write_text("background\npipe\n")
    cfg = load_config(api.plan(tmp_path / "pipes", out=tmp_path / "pipes.yaml")[0])
    assert cfg.data.mode == "binary" and cfg.data.classes == ["pipe"]

    # Pascal VOC palette PNGs name themselves; another palette does not
    from PIL import Image

    for path, m in _pairs(tmp_path / "voc", [m * 7 for m in index], lambda m: m // 7):  # values 0, 7 (car), 14 (motorbike)
        im = Image.fromarray(m.astype(np.uint8), mode="P")
        im.putpalette([v for rgb in voc_colormap() for v in rgb])
        path.parent.mkdir(parents=True, exist_ok=True)
        im.save(path)
    fp = fingerprint(tmp_path / "voc")
    assert [c.name for c in fp.classes] == ["background", "car", "motorbike"] and fp.class_map == {0: 0, 7: 1, 14: 2}
    assert fp.class_names_from == "the Pascal VOC palette"
    for path, m in _pairs(tmp_path / "pal", index):
        write_palette_png(path, m)
    fp = fingerprint(tmp_path / "pal")
    assert [c.name for c in fp.classes] == ["background", "class_1", "class_2"] and fp.class_names_from is None


def test_a_file_that_is_not_a_list_of_names_is_not_read_as_one(tmp_path):
    rng = np.random.default_rng(4)
    for path, m in _pairs(tmp_path / "d", [random_mask(rng, 32, [1, 2]) for _ in range(3)]):
        write_png(path, m)
    (tmp_path / "d" / "labels.txt").write_text("These masks were drawn by hand in 2021.\nAsk Ivan about class 2.\n")
    fp = fingerprint(tmp_path / "d")
    assert [c.name for c in fp.classes] == ["background", "class_1", "class_2"] and fp.class_names_from is None


def test_binary_masks_with_a_rare_foreground_leave_plain_ce_out(tmp_path):
    # from scratch, plain CE on ~2% foreground learned to predict background everywhere (bench/LATEST.md)
    def build(root, side):
        for i in range(6):
            mask = np.zeros((64, 64), np.uint8)
            mask[10:10 + side, 20:20 + side] = 255
            write_png(root / "images" / f"p{i}.png", image_from_mask(mask // 255))
            write_png(root / "masks" / f"p{i}.png", mask)

    build(tmp_path / "rare", 8)  # 64 of 4096 pixels: 1.6%
    build(tmp_path / "common", 32)  # 25%
    rare_path, rare = api.plan(tmp_path / "rare", out=tmp_path / "rare.yaml")
    common_path, common = api.plan(tmp_path / "common", out=tmp_path / "common.yaml")
    rare_losses = load_config(rare_path).search["loss"].choices
    assert "ce" not in rare_losses and {"ce+dice", "wce", "dice", "focal"} <= set(rare_losses)
    assert "ce" in load_config(common_path).search["loss"].choices and common.losses_left_out == []
    assert rare.losses_left_out == ["ce"] and any("1.6%" in n for n in rare.notes)
    assert "plain CE is left out" in rare_path.read_text()  # the YAML says why
