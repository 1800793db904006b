"""Processed frames go back to WebRTC as I420 converted by OpenCV: the colours PyAV's swscale gives, in the format
the encoders take."""
import av
import cv2
import numpy as np
import pytest
from sklearn.datasets import load_sample_images

from fer_core.live.frames import from_bgr

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


def photo(h=480, w=640):
    return np.ascontiguousarray(cv2.resize(cv2.cvtColor(load_sample_images().images[1], cv2.COLOR_RGB2BGR), (w, h)))


def test_a_processed_frame_goes_back_as_i420_with_the_colours_pyav_gives():
    img = photo()
    frame = from_bgr(img)
    assert frame.format.name == "yuv420p" and (frame.width, frame.height) == (640, 480)  # no reformat in the encoder
    theirs = av.VideoFrame.from_ndarray(img, format="bgr24").reformat(format="yuv420p")  # what the encoder did
    back, reference = frame.to_ndarray(format="bgr24").astype(int), theirs.to_ndarray(format="bgr24").astype(int)
    assert np.abs(back - img.astype(int)).mean() < 4  # chroma subsampling loses a little, colours stay
    # chroma is subsampled a little differently (edges differ by a few levels), the picture is the same
    assert np.abs(back - reference).mean() < 2 and np.percentile(np.abs(back - reference), 99) <= 12


def test_odd_sizes_stay_bgr():
    img = photo(241, 319)
    frame = from_bgr(img)
    assert frame.format.name == "bgr24" and np.array_equal(frame.to_ndarray(format="bgr24"), img)
