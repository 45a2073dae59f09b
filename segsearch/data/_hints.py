"""What to change in the YAML when the data does not load: the fix comes with the problem.

* images without masks beside masks without images whose names differ by a common suffix, prefix or
  pattern: ``data.mask_suffix`` / ``data.mask_pattern``;
* masks whose values outside the classes are 255 (0/255 masks): ``mode: binary`` or ``class_map``;
* ``skip_bad: true`` only when the bad files are a minority (skipping most of a dataset is no fix).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path


def naming_fix(orphans: Sequence[Path], lonely: Sequence[Path]) -> tuple[str, str, int] | None:
    """The ``mask_suffix`` or ``mask_pattern`` that pairs most images without a mask with a mask without an
    image: (key, value, images it pairs), or None when none pairs at least half of them."""
    if not orphans or not lonely:
        return None
    masks = [m.stem for m in lonely]
    patterns: Counter[str] = Counter()
    for img in orphans:
        stem = img.stem
        hits = [m for m in masks if stem in m and m != stem]
        if hits:
            best = min(hits, key=len)  # the closest name: 'a' pairs with 'a_mask', not 'a_mask_old'
            patterns[best.replace(stem, "{stem}", 1)] += 1
    if not patterns:
        return None
    pattern, n = patterns.most_common(1)[0]
    if n < max(1, len(orphans) // 2):
        return None
    if pattern.startswith("{stem}"):
        return "mask_suffix", pattern[len("{stem}"):], n
    return "mask_pattern", pattern, n


def naming_hint(orphans: Sequence[Path], lonely: Sequence[Path]) -> str | None:
    """``naming_fix`` as the advice a failed load prints."""
    fix = naming_fix(orphans, lonely)
    if fix is None:
        return None
    key, value, n = fix
    pattern = "{stem}" + value if key == "mask_suffix" else value
    return f'set data.{key}: "{value}" (it pairs {n} of {len(orphans)} images without a mask, e.g. {_example(pattern)})'


def _example(pattern: str) -> str:
    return f"image 'x.png' with mask '{pattern.format(stem='x')}.png'"


_VALUES = re.compile(r"mask values \[([0-9, ]+)\] are outside the classes 0\.\.(\d+)")


def values_hint(problems: Sequence[str]) -> str | None:
    """0/255 masks read against class indices: suggest ``mode: binary`` or a ``class_map``."""
    seen: set[int] = set()
    top = None
    for p in problems:
        m = _VALUES.search(p)
        if m:
            seen.update(int(v) for v in m.group(1).split(","))
            top = int(m.group(2))
    if seen == {255}:
        return ("the masks look like 0/255 (foreground = 255): for one foreground class set data.mode: binary "
                f"(any non-zero pixel is foreground), or map it with data.class_map: {{255: {top}}}")
    if seen:
        return f"map the values {sorted(seen)} to class indices with data.class_map (or ignore them with data.ignore_index)"
    return None


def skip_hint(n_bad: int, n_total: int) -> str | None:
    """``skip_bad`` only when the bad files are a minority of the dataset."""
    if n_bad and n_bad * 2 < max(n_total, 1):
        return f"or set data.skip_bad: true to leave out these {n_bad} of {n_total} files"
    return None
