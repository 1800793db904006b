"""Anything a caller calls an image -> one BGR uint8 array, with the app's limits on bytes and pixels.

Paths and bytes are decoded by OpenCV after Pillow has read only the header (so a decompression bomb is refused
before any pixel is allocated). NumPy arrays are taken as OpenCV's BGR unless the caller says `color="rgb"`;
PIL images carry their own mode, so they need no hint.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import cv2
import numpy as np

from fer_core.errors import DataError

MAX_IMAGE_BYTES = 50 * 1024**2  # a 40 MP JPEG is ~15 MB; a PNG of that size is rarely above 50 MB
MAX_IMAGE_PIXELS = 40_000_000  # 40 MP: bigger stills are refused before decoding (a 20000x20000 PNG needs 5.9 GB)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm")
COLORS = ("bgr", "rgb")
MIN_SIDE = 8  # pixels: a face crop smaller than this cannot be classified (FER2013's are 48)


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the file's header alone (Pillow reads no pixels here), or None if unreadable."""
    import io

    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.size
    except Image.DecompressionBombError:  # Pillow refuses > ~179 MP outright: far above our limit anyway
        return (Image.MAX_IMAGE_PIXELS or MAX_IMAGE_PIXELS) * 2, 1
    except Exception:  # noqa: BLE001 - any parse failure means 'not an image we can read'
        return None


def decode_image(data: bytes, name: str = "upload") -> np.ndarray:
    """Encoded image bytes -> BGR uint8; DataError (one line: what is wrong, how to fix it) for anything else."""
    if len(data) > MAX_IMAGE_BYTES:
        raise DataError(f"the file is {len(data) / 1024**2:.0f} MB; the limit for an image is "
                        f"{MAX_IMAGE_BYTES / 1024**2:.0f} MB", path=name, fix="use a smaller image")
    size = image_size(data) if data else None
    if size is None:
        raise DataError("not a readable image", path=name, fix="use a JPEG, PNG, BMP, TIFF or WebP file")
    if size[0] * size[1] > MAX_IMAGE_PIXELS:
        what = f"{size[0]:,}x{size[1]:,} pixels" if size[1] > 1 else "over 170 MP"
        raise DataError(f"the image is {what}; the limit is {MAX_IMAGE_PIXELS / 1e6:.0f} MP", path=name,
                        fix="use a smaller image")
    if min(size) < MIN_SIDE:  # 0x0 headers, 100000x1 strips: nothing a face fits in
        raise DataError(f"the image is {size[0]}x{size[1]} pixels; both sides need {MIN_SIDE} or more", path=name,
                        fix="use a photo or a face crop")
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise DataError("not a readable image (truncated or corrupt)", path=name,
                        fix="use a JPEG, PNG, BMP, TIFF or WebP file")
    return img


def read_bounded(path: str | os.PathLike, limit: int = MAX_IMAGE_BYTES) -> bytes:
    """A regular file's bytes, refusing folders, FIFOs, devices and files over `limit` before reading them."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise DataError("file not found", path=str(path), fix="check the path") from None
    except OSError as exc:
        raise DataError(f"cannot open ({exc.strerror})", path=str(path)) from None
    if not stat.S_ISREG(st.st_mode):
        raise DataError("not a regular file", path=str(path), fix="name an image file")
    if st.st_size > limit:
        raise DataError(f"the file is {st.st_size / 1024**2:.0f} MB; the limit for an image is "
                        f"{limit / 1024**2:.0f} MB", path=str(path), fix="use a smaller image")
    try:
        with open(p, "rb") as fh:
            return fh.read(limit + 1)
    except OSError as exc:
        raise DataError(f"cannot read ({exc.strerror})", path=str(path)) from None


def _from_array(img: np.ndarray, color: str, name: str) -> np.ndarray:
    if img.dtype == bool or img.size == 0 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (1, 3, 4)):
        raise DataError(f"an image array must be H x W (grey) or H x W x 1/3/4 with pixels; got shape {img.shape}",
                        path=name)
    if img.shape[0] * img.shape[1] > MAX_IMAGE_PIXELS:
        raise DataError(f"the image is {img.shape[1]:,}x{img.shape[0]:,} pixels; the limit is "
                        f"{MAX_IMAGE_PIXELS / 1e6:.0f} MP", path=name)
    if img.dtype != np.uint8:
        x = np.asarray(img, np.float32)
        if not np.isfinite(x).all():
            raise DataError("the image array has NaN or infinite values", path=name)
        # floats in 0-1 (scikit-image, PIL->float) are scaled; anything else is taken as 0-255
        img = np.clip(x * 255 if x.max() <= 1.0 else x, 0, 255).round().astype(np.uint8)
    if img.ndim == 2 or img.shape[2] == 1:
        return cv2.cvtColor(img.reshape(img.shape[:2]), cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_RGBA2BGR if color == "rgb" else cv2.COLOR_BGRA2BGR)
    return cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if color == "rgb" else np.ascontiguousarray(img)


def to_bgr(image, color: str = "bgr", name: str | None = None) -> np.ndarray:
    """A path, bytes, a NumPy array (BGR by default, RGB with color='rgb', or grey) or a PIL image -> BGR uint8."""
    if color not in COLORS:
        raise DataError(f"unknown color order {color!r}", fix="use 'bgr' (OpenCV) or 'rgb' (PIL, scikit-image, matplotlib)")
    if isinstance(image, (str, os.PathLike)):
        return decode_image(read_bounded(image), name or str(image))
    if isinstance(image, (bytes, bytearray, memoryview)):
        return decode_image(bytes(image), name or "bytes")
    if isinstance(image, np.ndarray):
        return _from_array(image, color, name or "array")
    if type(image).__module__.startswith("PIL."):
        rgb = np.asarray(image.convert("RGB"))
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    raise DataError(f"cannot read an image from a {type(image).__name__}",
                    fix="pass a file path, encoded bytes, a NumPy array or a PIL image")


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS
