"""Reading images and masks from disk: PNG, JPEG, TIFF; 8/16-bit; 1..N channels."""

from __future__ import annotations

from pathlib import Path

import numpy as np

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


class DataError(ValueError):
    """A data file is missing, unreadable or inconsistent; the message names it."""


def read_image(path: str | Path, channels: int | None = None) -> np.ndarray:
    """HxWxC array in its stored dtype (uint8 or uint16), RGB order."""
    import cv2

    path = Path(path)
    if path.suffix.lower() in (".tif", ".tiff"):
        arr = _read_tiff(path)
    else:
        arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if arr is None:
            raise DataError(f"{path}: unreadable image (corrupt or not an image)")
        if arr.ndim == 3 and arr.shape[2] in (3, 4):
            arr = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB if arr.shape[2] == 3 else cv2.COLOR_BGRA2RGBA)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if channels is not None and arr.shape[2] != channels:
        if arr.shape[2] == 1 and channels == 3:
            arr = np.repeat(arr, 3, axis=2)
        elif arr.shape[2] == 4 and channels == 3:
            arr = arr[:, :, :3]
        else:
            raise DataError(f"{path}: image has {arr.shape[2]} channels, data.in_channels is {channels}")
    return np.ascontiguousarray(arr)


def _read_tiff(path: Path) -> np.ndarray:
    import tifffile

    try:
        arr = tifffile.imread(str(path))
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"{path}: unreadable TIFF ({exc})") from None
    if arr.ndim == 3 and arr.shape[0] < min(arr.shape[1:]) and arr.shape[0] <= 16:
        arr = np.moveaxis(arr, 0, -1)  # bands-first to HxWxC
    return arr


def read_mask(path: str | Path) -> np.ndarray:
    """Raw mask as stored: HxW index/palette values, or HxWxC for colour/multilabel masks."""
    import cv2
    from PIL import Image

    path = Path(path)
    if path.suffix.lower() in (".tif", ".tiff"):
        return _read_tiff(path)
    try:
        with Image.open(path) as im:
            if im.mode == "P":  # palette PNG: the indices are the classes
                return np.asarray(im)
    except Exception:  # noqa: BLE001
        raise DataError(f"{path}: unreadable mask (corrupt or not an image)") from None
    arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise DataError(f"{path}: unreadable mask (corrupt or not an image)")
    if arr.ndim == 3 and arr.shape[2] >= 3:
        arr = cv2.cvtColor(arr[:, :, :3], cv2.COLOR_BGR2RGB)
    return arr


def image_max(dtype: np.dtype) -> float:
    return float(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 1.0
