"""Every kind of image FER accepts becomes the same BGR array; everything else is one clear DataError."""
import io
import os

import cv2
import numpy as np
import pytest

from fer_core.errors import DataError
from fer_core.inference.images import MAX_IMAGE_PIXELS, to_bgr

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


@pytest.fixture
def bgr():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)


def test_paths_bytes_arrays_and_pil_images_give_the_same_pixels(bgr, tmp_path):
    from PIL import Image
    path = tmp_path / "x.png"
    cv2.imwrite(str(path), bgr)
    rgb = bgr[..., ::-1].copy()
    assert np.array_equal(to_bgr(path), bgr)
    assert np.array_equal(to_bgr(str(path)), bgr)
    assert np.array_equal(to_bgr(path.read_bytes()), bgr)
    assert np.array_equal(to_bgr(bgr), bgr)
    assert np.array_equal(to_bgr(rgb, color="rgb"), bgr)
    assert np.array_equal(to_bgr(Image.fromarray(rgb)), bgr)  # PIL knows it is RGB: no hint needed
    grey = bgr[..., 0]
    assert np.array_equal(to_bgr(grey)[..., 1], grey) and np.array_equal(to_bgr(grey[..., None])[..., 2], grey)
    assert np.array_equal(to_bgr(np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]), color="rgb"), bgr)
    assert np.array_equal(to_bgr(bgr.astype(np.float32) / 255), bgr)  # floats in 0-1 are scaled


@pytest.mark.parametrize("bad, words", [
    (b"", "not a readable image"),
    (b"GIF89a garbage", "not a readable image"),
    (np.zeros((0, 5), np.uint8), "shape"),
    (np.zeros((4, 4, 2), np.uint8), "shape"),
    (np.full((4, 4), np.nan, np.float32), "NaN"),
    (12, "cannot read an image from a int"),
])
def test_bad_inputs_are_one_line_errors(bad, words):
    with pytest.raises(DataError) as err:
        to_bgr(bad)
    assert words in err.value.message


def test_truncated_and_oversized_images_are_refused_before_decoding(bgr, tmp_path):
    ok, png = cv2.imencode(".png", bgr)
    with pytest.raises(DataError, match="not a readable image"):
        to_bgr(png.tobytes()[:60])
    from PIL import Image
    buf = io.BytesIO()
    Image.new("L", (9000, 5000)).save(buf, format="PNG")  # 45 MP, a few KB compressed
    with pytest.raises(DataError, match=f"limit is {MAX_IMAGE_PIXELS / 1e6:.0f} MP"):
        to_bgr(buf.getvalue())
    with pytest.raises(DataError, match="unknown color order"):
        to_bgr(bgr, color="bgra")


def test_special_files_and_missing_paths_never_hang(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="not a regular file"):
        to_bgr(fifo)
    with pytest.raises(DataError, match="file not found"):
        to_bgr(tmp_path / "nope.jpg")
    with pytest.raises(DataError, match="not a regular file"):
        to_bgr(tmp_path)


def test_blazeface_handles_extreme_aspect_ratios_without_a_huge_square():
    from fer_core.live.blazeface import BlazeFace
    for det in (BlazeFace("short"), BlazeFace("short", long_side=448)):  # the square, and an input shaped like it
        for shape in ((1, 100_000, 3), (100_000, 1, 3), (1, 1, 3)):  # padding first would allocate 30 GB
            boxes, scores, points = det.detect(np.zeros(shape, np.uint8))
            assert boxes.shape == (0, 4)
