"""WebRTC frames <-> BGR through OpenCV: the same pixels PyAV's swscale gives, in the format the encoders take."""
import av
import cv2
import numpy as np
import pytest
from sklearn.datasets import load_sample_images

from fer_core.live.frames import from_bgr, to_bgr

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


def photo(h=480, w=640):
    return np.ascontiguousarray(cv2.resize(cv2.cvtColor(load_sample_images().images[1], cv2.COLOR_RGB2BGR), (w, h)))


def test_a_decoded_i420_frame_reads_as_pyav_reads_it():
    frame = av.VideoFrame.from_ndarray(photo(), format="bgr24").reformat(format="yuv420p")  # as a decoder gives it
    ours, pyav = to_bgr(frame).astype(int), frame.to_ndarray(format="bgr24").astype(int)
    assert ours.shape == pyav.shape == (480, 640, 3)
    assert np.abs(ours - pyav).mean() < 2 and np.percentile(np.abs(ours - pyav), 99) <= 6


def test_a_processed_frame_goes_back_as_i420_with_its_colours():
    img = photo()
    frame = from_bgr(img)
    assert frame.format.name == "yuv420p" and (frame.width, frame.height) == (640, 480)  # no reformat in the encoder
    back = frame.to_ndarray(format="bgr24").astype(int)  # as the browser decodes it
    assert np.abs(back - img.astype(int)).mean() < 4  # chroma subsampling loses a little, colours stay


def test_odd_sizes_and_other_formats_fall_back_to_pyav():
    img = photo(241, 319)
    frame = from_bgr(img)
    assert frame.format.name == "bgr24" and np.array_equal(to_bgr(frame), img)
    rgb = av.VideoFrame.from_ndarray(np.ascontiguousarray(photo()[..., ::-1]), format="rgb24")
    assert np.array_equal(to_bgr(rgb), photo())
