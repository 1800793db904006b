"""The REST server: endpoints, JSON errors for bad input, limits, video jobs, API keys, and a real uvicorn process."""
import os
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from conftest import REPO, frame_with
from fer_core.server.local import free_port

pytestmark = pytest.mark.processes  # layer (the folder says the subject)


@pytest.fixture(scope="module")
def client():
    from fer_core import FER
    from fer_core.server.app import create_app
    from fer_core.server.limits import Limits
    limits = Limits(image_bytes=2 * 1024**2, batch_images=4, batch_bytes=6 * 1024**2, video_bytes=3 * 1024**2,
                    video_seconds=1)
    with TestClient(create_app(FER(threads=1), limits=limits, workers=2)) as c:
        yield c


def jpeg(frame) -> bytes:
    return cv2.imencode(".jpg", frame)[1].tobytes()


def test_analyze_matches_the_python_api(client, real_faces):
    from fer_core import FER
    frame = frame_with(real_faces[0])
    r = client.post("/v1/analyze", files={"image": ("me.jpg", jpeg(frame), "image/jpeg")})
    assert r.status_code == 200, r.text
    body = r.json()
    expected = FER().detect_emotions(cv2.imdecode(np.frombuffer(jpeg(frame), np.uint8), cv2.IMREAD_COLOR))
    assert body["width"] == 640 and len(body["faces"]) == 1
    assert body["faces"][0]["top"] == expected[0].top and tuple(body["faces"][0]["box"]) == expected[0].box
    assert client.get("/healthz").json()["status"] == "ok"
    models = client.get("/v1/models").json()
    assert models["models"][0]["backend"] == "onnx" and len(models["models"][0]["classes"]) == 7
    assert client.get("/openapi.json").json()["paths"].keys() >= {"/v1/analyze", "/v1/analyze/batch", "/v1/videos"}


def test_batch_reports_each_file(client, real_faces):
    files = [("images", (f"{i}.jpg", jpeg(frame_with(real_faces[i])), "image/jpeg")) for i in range(2)]
    files.append(("images", ("bad.png", b"\x89PNG broken", "image/png")))
    r = client.post("/v1/analyze/batch", files=files)
    assert r.status_code == 200
    results = r.json()["results"]
    assert [len(x.get("faces", [])) for x in results] == [1, 1, 0]
    assert results[2]["error"]["kind"] == "data" and "bad.png" in results[2]["error"]["message"]
    too_many = client.post("/v1/analyze/batch", files=files + files)
    assert too_many.status_code == 413 and "limit is 4" in too_many.json()["error"]["message"]


@pytest.mark.parametrize("kwargs, status, words", [
    ({"files": {"image": ("e.jpg", b"", "image/jpeg")}}, 400, "empty"),
    ({"files": {"image": ("t.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg")}}, 400, "not a readable image"),
    ({"data": {"image": "text, not a file"}}, 400, "image"),
    ({"json": {"image": "x"}}, 400, "multipart"),
    ({"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data; boundary=x"}}, 400, ""),
    ({"content": b"a" * (3 * 1024**2), "headers": {"content-type": "application/octet-stream"}}, 413, "limit"),
])
def test_bad_requests_are_json_4xx(client, kwargs, status, words):
    r = client.post("/v1/analyze", **kwargs)
    assert r.status_code == status, r.text
    assert words in r.json()["error"]["message"] and "Traceback" not in r.text


def test_bomb_and_degenerate_images(client):
    import io

    from PIL import Image
    for size in ((12000, 12000), (100000, 1), (1, 100000)):
        buf = io.BytesIO()
        Image.new("L", size).save(buf, format="PNG")
        r = client.post("/v1/analyze", files={"image": ("x.png", buf.getvalue(), "image/png")})
        assert r.status_code == 400, r.text
        message = r.json()["error"]["message"]
        assert ("limit is 40 MP" if size == (12000, 12000) else "both sides need 8 or more") in message


def test_video_job_runs_in_the_background(client, real_faces, tmp_path):
    path = tmp_path / "v.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    for i in range(15):  # 1.5 s; the server's limit is 1 s: the job says it was cut
        writer.write(frame_with(real_faces[i % 3]))
    writer.release()
    r = client.post("/v1/videos", files={"video": ("v.avi", path.read_bytes(), "video/x-msvideo")},
                    data={"every_nth": "2"})
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    for _ in range(100):
        job = client.get(f"/v1/videos/{job_id}").json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert job["status"] == "done", job
    assert job["cut"] is True and {row["frame"] for row in job["rows"]} == {0, 2, 4, 6, 8}
    still = client.post("/v1/videos", files={"video": ("x.mp4", jpeg(frame_with(real_faces[0])), "video/mp4")})
    assert still.status_code == 400 and "still image" in still.json()["error"]["message"]
    junk = client.post("/v1/videos", files={"video": ("x.mp4", os.urandom(5000), "video/mp4")})
    assert junk.status_code == 400 and "not a video" in junk.json()["error"]["message"]
    assert client.get("/v1/videos/nope").status_code == 404


def test_api_keys_are_required_when_set(real_faces):
    from fer_core import FER
    from fer_core.server.app import create_app
    key = "k" * 20
    with TestClient(create_app(FER(detector=None), api_keys=[key], workers=1)) as c:
        files = {"image": ("x.png", cv2.imencode(".png", real_faces[0])[1].tobytes(), "image/png")}
        assert c.post("/v1/analyze", files=files).status_code == 401
        assert c.post("/v1/analyze", files=files, headers={"x-api-key": "wrong" * 4}).status_code == 401
        assert c.post("/v1/analyze", files=files, headers={"x-api-key": key}).status_code == 200
        assert c.post("/v1/analyze", files=files, headers={"authorization": f"Bearer {key}"}).status_code == 200
        assert c.get("/healthz").status_code == 200


def test_serve_listens_on_localhost_and_refuses_team_mode_without_keys(tmp_path, real_faces):
    import httpx
    port = free_port()
    env = {**os.environ, "FER_SERVER_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "fer_core", "serve"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(120):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("server did not start: " + proc.stderr.read()[-2000:] if proc.poll() is not None else "timeout")
        r = httpx.post(f"http://127.0.0.1:{port}/v1/analyze",
                       files={"image": ("a.jpg", jpeg(frame_with(real_faces[0])), "image/jpeg")}, timeout=30)
        assert r.status_code == 200 and len(r.json()["faces"]) == 1
        listening = subprocess.run(["ss", "-ltn"], capture_output=True, text=True).stdout
        assert f"127.0.0.1:{port}" in listening and f"0.0.0.0:{port}" not in listening
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    team = subprocess.run([sys.executable, "-m", "fer_core", "serve"], cwd=REPO, capture_output=True, text=True,
                          env={**env, "FER_AUTH_FILE": str(tmp_path / "users.yaml")}, timeout=120)
    assert team.returncode == 2 and "no API keys" in team.stderr and "Traceback" not in team.stderr
