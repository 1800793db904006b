"""`python -m fer_core predict` and `export` as a user runs them: folders, bad files, videos, annotation."""
import csv
import io
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from conftest import REPO, frame_with

pytestmark = pytest.mark.processes  # layer (the folder says the subject)


def run_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "fer_core", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def test_folder_with_bad_files_and_a_video(real_faces, tmp_path):
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    cv2.imwrite(str(photos / "a.jpg"), frame_with(real_faces[0]))
    cv2.imwrite(str(photos / "sub" / "b.png"), frame_with(real_faces[1]))
    cv2.imwrite(str(photos / "empty-room.png"), np.full((240, 320, 3), 90, np.uint8))
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (photos / "notes.txt").write_text("skipped: not an image")
    writer = cv2.VideoWriter(str(photos / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    for i in range(5):
        writer.write(frame_with(real_faces[2], at=(200 + 4 * i, 140)))
    writer.release()
    out = run_cli("predict", str(photos), "--annotate", str(tmp_path / "boxed"), "--no-progress")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    by_path = {}
    for r in rows:
        by_path.setdefault(r["path"], []).append(r)
    assert set(by_path) == {str(photos / n) for n in ("a.jpg", "sub/b.png", "empty-room.png", "clip.avi")}
    assert by_path[str(photos / "empty-room.png")][0]["face"] == ""  # accounted for, without a face
    a = by_path[str(photos / "a.jpg")][0]
    assert a["label"] in ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert abs(sum(float(a[c]) for c in ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")) - 1) < 1e-3
    video = by_path[str(photos / "clip.avi")]
    assert [int(r["frame"]) for r in video] == list(range(5)) and {r["face"] for r in video} == {"0"}
    errors = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "broken.jpg" in errors[0] and "Traceback" not in out.stderr
    assert "summary:" in out.stderr and "images 3" in out.stderr
    assert (tmp_path / "boxed" / "a.jpg").exists() and (tmp_path / "boxed" / "sub" / "b.png").exists()
    annotated = cv2.VideoCapture(str(tmp_path / "boxed" / "clip.mp4"))
    assert int(annotated.get(cv2.CAP_PROP_FRAME_COUNT)) == 5


def test_crops_as_json_lines_and_nothing_readable_exits_2(tmp_path):
    crops = tmp_path / "crops"
    crops.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        cv2.imwrite(str(crops / f"{i}.png"), rng.integers(0, 256, (48, 48), dtype=np.uint8))
    out = run_cli("predict", str(crops), "--detector", "none", "--format", "jsonl", "--out", str(tmp_path / "o.jsonl"))
    assert out.returncode == 0, out.stderr
    lines = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert len(lines) == 3 and all(r["w"] == 48 and r["face"] == 0 for r in lines)
    (tmp_path / "bad.png").write_bytes(b"nope")
    nothing = run_cli("predict", str(tmp_path / "bad.png"), str(tmp_path / "missing.jpg"))
    assert nothing.returncode == 2
    assert nothing.stderr.count("error:") == 3 and "nothing could be read" in nothing.stderr
    assert "Traceback" not in nothing.stderr


def test_export_command_writes_a_loadable_onnx_file(two_runs, tmp_path):
    out = run_cli("export", str(two_runs[0]), "--format", "onnx", "--out", str(tmp_path / "m.onnx"), "--json")
    assert out.returncode == 0, out.stderr
    facts = json.loads(out.stdout)
    assert facts["exported"] == str(tmp_path / "m.onnx") and (tmp_path / "m.onnx.json").exists()
    crops = tmp_path / "c"
    crops.mkdir()
    cv2.imwrite(str(crops / "x.png"), np.full((48, 48), 128, np.uint8))
    pred = run_cli("predict", str(crops), "--model", str(tmp_path / "m.onnx"), "--detector", "none")
    assert pred.returncode == 0, pred.stderr
    bad = run_cli("export", str(tmp_path), "--format", "onnx")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
