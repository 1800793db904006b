"""The README's "Use it from Python / from the command line / over HTTP" snippets, executed as written."""
import json
import os
import re
import subprocess
import sys

import cv2
import pytest

from conftest import REPO, frame_with

pytestmark = pytest.mark.processes  # layer (the folder says the subject)


def snippets(heading: str) -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split(f"### {heading}\n", 1)[1].split("\n#", 1)[0]
    return re.findall(r"```(?:python|bash)\n(.*?)```", section, re.S)


@pytest.fixture
def workdir(tmp_path, real_faces):
    cv2.imwrite(str(tmp_path / "photo.jpg"), frame_with(real_faces[0]))
    (tmp_path / "photos").mkdir()
    (tmp_path / "crops").mkdir()
    for i in range(3):
        cv2.imwrite(str(tmp_path / "photos" / f"{i}.jpg"), frame_with(real_faces[i + 1]))
        cv2.imwrite(str(tmp_path / "crops" / f"{i}.png"), real_faces[i])
    writer = cv2.VideoWriter(str(tmp_path / "clip.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 10, (640, 480))
    for i in range(10):
        writer.write(frame_with(real_faces[i % 2], at=(200 + 3 * i, 140)))
    writer.release()
    return tmp_path


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def shell(code: str) -> str:
    return re.sub(r"\bpython -", f"{sys.executable} -", code)


def test_python_snippet(workdir):
    [code] = snippets("Use it from Python")
    out = subprocess.run([sys.executable, "-c", code], cwd=workdir, env=env(), capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "(2, 7)" in out.stdout and "happy" in out.stdout and "time_s" in out.stdout


def test_command_line_snippet(workdir):
    [code] = snippets("Use it from the command line")
    out = subprocess.run(["bash", "-ec", shell(code)], cwd=workdir, env=env(), capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = (workdir / "faces.csv").read_text().splitlines()
    assert rows[0].startswith("path,frame,time_s,face") and len(rows) >= 1 + 4 + 10
    assert len((workdir / "crops.jsonl").read_text().splitlines()) == 3
    assert (workdir / "fer.onnx").exists() and (workdir / "boxed" / "clip.mp4").exists()


def test_http_snippet(workdir):
    [code] = snippets("Use it over HTTP")
    lines = code.strip().splitlines()
    assert lines[0].startswith("python -m fer_core serve &")
    from fer_core.server.local import local_server
    with local_server(command=shell(lines[0].split("&")[0]).split(), cwd=workdir, env=env(), wait_s=120) as (_, port):
        script = shell("\n".join(lines[1:])).replace(":8000", f":{port}")
        out = subprocess.run(["bash", "-ec", script], cwd=workdir, env=env(), capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        bodies = [json.loads(x) for x in out.stdout.replace("}{", "}\n{").splitlines() if x.strip()]
        assert len(bodies[0]["faces"]) == 1 and len(bodies[1]["results"]) == 2
        assert bodies[2]["status"] == "done" and {r["frame"] for r in bodies[2]["rows"]} == {0, 2, 4, 6, 8}
        assert bodies[3]["models"][0]["classes"][3] == "happy"
