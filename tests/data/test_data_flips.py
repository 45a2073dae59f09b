"""data.flips: which flips augmentation and flip TTA use, decided from the training masks (auto) or named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from segsearch.data import build_transform, flip_axes, flip_symmetry, load_splits

from helpers_data import data_cfg, image_from_mask, write_png


def _layered(root: Path, n: int = 24, size: int = 32, seed: int = 0) -> None:
    """Class 'a' always in the top quarter, class 'b' a square anywhere: a vertical flip puts 'a' where the
    data never has it; a horizontal one keeps every class where it can be."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        m = np.zeros((size, size), np.uint8)
        m[: size // 4, rng.integers(0, size // 2):] = 1
        y, x = rng.integers(0, size - 8, 2)
        m[y:y + 8, x:x + 8] = 2
        write_png(root / "images" / f"s{i:02d}.png", image_from_mask(m))
        write_png(root / "masks" / f"s{i:02d}.png", m)


def test_auto_turns_off_the_flip_that_moves_a_class_to_where_it_never_is(tmp_path: Path, studies: Path) -> None:
    _layered(tmp_path / "d")
    cfg = data_cfg(tmp_path / "d")
    splits = load_splits(cfg, studies)
    assert flip_axes(cfg, splits.train) == ("horizontal",)
    from segsearch.data import read_label

    sym = flip_symmetry([read_label(s, cfg) for s in splits.train], cfg)
    assert sym["vertical"][1] == "a" and sym["vertical"][0] < 0.1  # 'a' has no pixel in the bottom half
    assert sym["horizontal"][0] > 0.5


def test_auto_keeps_both_flips_where_classes_sit_anywhere(tmp_path: Path, studies: Path) -> None:
    rng = np.random.default_rng(1)
    for i in range(24):  # squares of both classes at uniformly random places
        m = np.zeros((32, 32), np.uint8)
        for c in (1, 2):
            y, x = rng.integers(0, 24, 2)
            m[y:y + 8, x:x + 8] = c
        write_png(tmp_path / "d" / "images" / f"s{i:02d}.png", image_from_mask(m))
        write_png(tmp_path / "d" / "masks" / f"s{i:02d}.png", m)
    cfg = data_cfg(tmp_path / "d")
    assert flip_axes(cfg, load_splits(cfg, studies).train) == ("horizontal", "vertical")


@pytest.mark.parametrize(("setting", "axes"), [("both", ("horizontal", "vertical")), ("none", ()),
                                               ("vertical", ("vertical",)), ("horizontal", ("horizontal",))])
def test_named_flips_are_used_as_written(tmp_path: Path, studies: Path, setting: str, axes: tuple) -> None:
    _layered(tmp_path / "d")
    cfg = data_cfg(tmp_path / "d", flips=setting)
    assert flip_axes(cfg, load_splits(cfg, studies).train) == axes


def test_an_unknown_flips_value_names_the_choices(tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="flips") as err:
        data_cfg(tmp_path, flips="sideways")
    assert "'auto'" in str(err.value) and "'none'" in str(err.value)


@pytest.mark.parametrize("preset", ["light", "full"])
def test_presets_flip_only_along_the_allowed_axes(preset: str) -> None:
    def names(flips: tuple[str, ...]) -> list[str]:
        return [type(t).__name__ for t in build_transform(preset, (32, 32), train=True, flips=flips)]

    assert {"HorizontalFlip", "VerticalFlip"} <= set(names(("horizontal", "vertical")))
    assert "HorizontalFlip" in names(("horizontal",)) and "VerticalFlip" not in names(("horizontal",))
    assert not {"HorizontalFlip", "VerticalFlip"} & set(names(()))
    mask = np.zeros((32, 32), np.uint8)
    mask[:8] = 1  # a band at the top stays at the top under horizontal flips alone
    tf = build_transform(preset, (32, 32), train=True, flips=("horizontal",))
    for seed in range(20):
        tf.set_random_seed(seed)
        out = tf(image=image_from_mask(mask), mask=mask)["mask"]
        assert out[:16].sum() >= out[16:].sum(), seed


def test_flip_tta_averages_over_the_allowed_axes_only() -> None:
    from segsearch.final import with_flips

    x = torch.arange(16.0).view(1, 1, 4, 4)
    fn = lambda t: t * torch.linspace(1, 2, 4).view(1, 1, 4, 1)  # noqa: E731  position-dependent on purpose
    h = with_flips(fn, ("horizontal",))(x)
    assert torch.allclose(h, (fn(x) + fn(x.flip(3)).flip(3)) / 2)
    both = with_flips(fn)(x)
    assert torch.allclose(both, (fn(x) + fn(x.flip(3)).flip(3) + fn(x.flip(2)).flip(2)) / 3)
    assert not torch.allclose(h, both)  # the vertical flip really was left out
    assert torch.equal(with_flips(fn, ())(x), fn(x))


def test_inspect_reports_the_flip_decision_and_the_class_behind_it(tmp_path: Path, studies: Path) -> None:
    from segsearch.data import inspect_dataset

    _layered(tmp_path / "d")
    report = inspect_dataset(data_cfg(tmp_path / "d"), tmp_path / "out", studies)
    flips = report["flips"]
    assert flips["setting"] == "auto" and flips["axes"] == ["horizontal"]
    assert flips["least_symmetric"]["vertical"]["class"] == "a" and flips["least_symmetric"]["vertical"]["mirror_overlap"] < 0.1
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "## Flips (`data.flips: auto`)" in summary and "| vertical | a |" in summary
