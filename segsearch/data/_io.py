"""Reading images and masks from disk: PNG, JPEG, TIFF; 8/16-bit; 1..N channels."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import DataError

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
_TIFF = (".tif", ".tiff")




def read_image(path: str | Path, channels: int | None = None, bands: Sequence[int] | None = None) -> np.ndarray:
    """HxWxC array in its stored dtype (uint8 or uint16), RGB order; ``bands`` picks channels first."""
    import cv2

    path = Path(path)
    arr: np.ndarray | None
    if path.suffix.lower() in _TIFF:
        arr = _read_tiff(path)
    else:
        arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if arr is None:
            raise DataError(f"{path}: unreadable image (corrupt or not an image)", "unreadable")
        if arr.ndim == 3 and arr.shape[2] in (3, 4):
            arr = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB if arr.shape[2] == 3 else cv2.COLOR_BGRA2RGBA)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if bands is not None:
        if max(bands) >= arr.shape[2]:
            raise DataError(f"{path}: image has {arr.shape[2]} channels, data.bands asks for {list(bands)}", "mismatch")
        arr = arr[:, :, list(bands)]
    if channels is not None and arr.shape[2] != channels:
        arr = _fit_channels(arr, channels, path)
    return np.ascontiguousarray(arr)


def _fit_channels(arr: np.ndarray, channels: int, path: Path) -> np.ndarray:
    if arr.shape[2] == 1 and channels == 3:
        return np.repeat(arr, 3, axis=2)
    if arr.shape[2] == 4 and channels == 3:
        return arr[:, :, :3]
    raise DataError(f"{path}: image has {arr.shape[2]} channels, data.in_channels is {channels}", "mismatch")


def _read_tiff(path: Path) -> np.ndarray:
    import tifffile

    try:
        arr = tifffile.imread(str(path))
    except Exception as exc:
        raise DataError(f"{path}: unreadable TIFF ({exc})", "unreadable") from None
    return _channels_last(arr)


def _bands_first(shape: tuple[int, ...]) -> bool:
    return len(shape) == 3 and shape[0] < min(shape[1:]) and shape[0] <= 16


def _channels_last(arr: np.ndarray) -> np.ndarray:
    return np.moveaxis(arr, 0, -1) if _bands_first(arr.shape) else arr  # bands-first to HxWxC


def read_mask(path: str | Path) -> np.ndarray:
    """Raw mask as stored: HxW index/palette values, or HxWxC for colour/multilabel masks."""
    import cv2
    from PIL import Image

    path = Path(path)
    if path.suffix.lower() in _TIFF:
        return _read_tiff(path)
    try:
        with Image.open(path) as im:
            if im.mode == "P":  # palette PNG: the indices are the classes
                return np.asarray(im)
    except Exception:
        raise DataError(f"{path}: unreadable mask (corrupt or not an image)", "unreadable") from None
    arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise DataError(f"{path}: unreadable mask (corrupt or not an image)", "unreadable")
    if arr.ndim == 3 and arr.shape[2] >= 3:
        arr = cv2.cvtColor(arr[:, :, :3], cv2.COLOR_BGR2RGB)
    return arr


def image_header(path: str | Path) -> tuple[int, int, int]:
    """(height, width, channels) read without decoding the pixels; PNGs are CRC-checked."""
    path = Path(path)
    if path.suffix.lower() in _TIFF:
        return _tiff_header(path)
    from PIL import Image

    try:
        with Image.open(path) as im:
            w, h = im.size
            c = len(im.getbands())
            if im.format == "PNG":
                im.verify()
    except Exception as exc:
        raise DataError(f"{path}: unreadable image ({type(exc).__name__}: {exc})", "unreadable") from None
    return h, w, c


def _tiff_header(path: Path) -> tuple[int, int, int]:
    import tifffile

    try:
        with tifffile.TiffFile(str(path)) as tif:
            shape = tif.series[0].shape
    except Exception as exc:
        raise DataError(f"{path}: unreadable TIFF ({exc})", "unreadable") from None
    if len(shape) == 2:
        return int(shape[0]), int(shape[1]), 1
    if _bands_first(shape):
        return int(shape[1]), int(shape[2]), int(shape[0])
    return int(shape[0]), int(shape[1]), int(shape[2])


def image_max(dtype: np.dtype) -> float:
    return float(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 1.0
