"""The markdown summary of ``inspect`` (the tables of seed 003's EDA)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

_INTEGRITY = (("images", "images"), ("masks", "masks"), ("images_without_mask", "without mask"),
              ("masks_without_image", "without image"), ("complete_pairs", "complete pairs"),
              ("unreadable", "unreadable"), ("size_mismatch", "size mismatch"), ("out_of_range", "values outside classes"),
              ("empty_masks", "empty masks"), ("background_only", "background only"))


def _n(value: Any) -> int:
    return len(value) if isinstance(value, list) else int(value)


def _integrity(splits: dict[str, Any]) -> list[str]:
    lines = ["## Integrity", "", "| split | " + " | ".join(t for _, t in _INTEGRITY) + " |",
             "|" + "---|" * (len(_INTEGRITY) + 1)]
    lines += [f"| {name} | " + " | ".join(str(_n(rep[k])) for k, _ in _INTEGRITY) + " |" for name, rep in splits.items()]
    return lines


def _pixels(report: dict[str, Any]) -> list[str]:
    lines = ["## Pixels per class", "", "| split | class | pixels | share |", "|---|---|---|---|"]
    for name, rep in report["splits"].items():
        for cls, n, share in zip(report["classes"], rep["pixels"]["counts"], rep["pixels"]["shares"], strict=True):
            lines.append(f"| {name} | {cls} | {n:,} | {share:.2%} |")
    return lines


def _distributions(splits: dict[str, Any]) -> list[str]:
    lines = ["## Image sizes (W x H) and objects per mask", ""]
    for name, rep in splits.items():
        sizes = ", ".join(f"{k}: {v}" for k, v in list(rep["image_sizes"].items())[:10])
        objects = ", ".join(f"{k} objects: {v}" for k, v in rep["objects_per_mask"].items())
        lines += [f"- **{name}** sizes: {sizes or '-'}", f"- **{name}** objects per mask: {objects or '-'}"]
    return lines


def write_markdown(report: dict[str, Any], path: Path) -> None:
    lines = [f"# Dataset summary: {report['root']}", "", f"Layout `{report['layout']}`, classes: "
             + ", ".join(report["classes"]), "", *_integrity(report["splits"]), ""]
    if report["problems"]:
        lines += ["## Problems", "", *[f"- {p}" for p in report["problems"]], ""]
    lines += [*_pixels(report), "", *_distributions(report["splits"]), ""]
    if report["class_weights"] is not None:
        names = report["classes"][-len(report["class_weights"]):]  # binary: one positive-class weight
        weights = ", ".join(f"{c}: {w:.4g}" for c, w in zip(names, report["class_weights"], strict=True))
        lines += ["## Proposed class weights (`class_weights: auto`)", "",
                  f"From the {report['class_weights_from']} split: {weights}", ""]
    flips = report.get("flips") or {}
    if flips.get("least_symmetric"):
        lines += [f"## Flips (`data.flips: {flips['setting']}`)", "",
                  f"Augmentation and flip TTA use: {', '.join(flips['axes']) or 'no flip'}.", "",
                  "| flip | least symmetric class | mirror overlap (flipped when >= "
                  f"{flips['needed']}) |", "|---|---|---|",
                  *[f"| {a} | {v['class']} | {v['mirror_overlap']:.2f} |" for a, v in flips["least_symmetric"].items()],
                  ""]
    lines += ["## Plots", "", *[f"- `{Path(p).name}`" for p in report["plots"].values()], ""]
    path.write_text("\n".join(lines))
