"""Every CLI command refuses a FIFO, a device and an over-limit file at once, in one line and with exit status 2, as
the pages do (without their roots: the local operator may read anywhere). Opening a FIFO blocks and /dev/zero never
ends, so a regression hangs: the subprocess timeout turns that into a failure."""
import csv
import io
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from conftest import REPO

pytestmark = pytest.mark.processes  # layer (the folder says the subject)

REFUSED = {"fifo": "not a regular file or folder", "device": "not a regular file or folder",
           "over-limit": "the file is 4.0 KB; the limit is 1.0 KB"}
COMMANDS = {
    "data info": lambda p, tmp: ("data", "info", p),
    "data check": lambda p, tmp: ("data", "check", p),
    "predict": lambda p, tmp: ("predict", p, "--no-progress"),
    "train --data": lambda p, tmp: ("train", "--data", p, "--epochs", "1", "--out", str(tmp / "runs")),
    "evaluate --data": lambda p, tmp: ("evaluate", str(tmp), "--data", p),
    "relabel export": lambda p, tmp: ("relabel", "export", p, "--out", str(tmp / "export")),
}


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "fer_core", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})})


def bad_path(kind: str, tmp_path) -> str:
    if kind == "fifo":
        os.mkfifo(tmp_path / "pipe.csv")
        return str(tmp_path / "pipe.csv")
    if kind == "device":
        return "/dev/zero"
    (tmp_path / "big.csv").write_bytes(b"x" * 4096)
    return str(tmp_path / "big.csv")


@pytest.mark.parametrize("kind", list(REFUSED))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_refuses_special_and_oversized_files_in_one_line(command, kind, tmp_path):
    path = bad_path(kind, tmp_path)
    out = run_cli(*COMMANDS[command](path, tmp_path), env={"FER_MAX_READ_BYTES": "1024"} if kind == "over-limit" else None)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert errors[0].startswith(f"error: {path}: {REFUSED[kind]} — "), errors
    if command == "predict":  # the file's line, then the usual end of a run with nothing readable
        assert len(errors) == 2 and "nothing could be read (1 file(s) failed)" in errors[1]
    else:
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr


@pytest.mark.parametrize("args", [
    ("train", "--config", "{p}"), ("train", "--resume", "{p}"), ("evaluate", "{p}"), ("train-batch", "{p}"),
    ("runs", "bundle", "{p}", "--out", "{tmp}"), ("runs", "unbundle", "{p}"), ("runs", "adjust", "{p}"),
    ("sweep", "run", "{p}"), ("export", "{p}", "--format", "onnx"), ("serve", "--model", "{p}"),
    ("predict", "{tmp}", "--model", "{p}"), ("relabel", "suggest", "demo", "--model", "{p}"),
    ("relabel", "migrate", "--from", "{p}", "--to", "postgresql://nowhere/db"),
    ("auth", "add-user", "--file", "{p}", "--user", "u", "--password-stdin")], ids=" ".join)
def test_every_other_option_naming_an_input_refuses_a_fifo(args, tmp_path):
    os.mkfifo(tmp_path / "pipe")
    out = run_cli(*(a.format(p=tmp_path / "pipe", tmp=tmp_path) for a in args))
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip() == f"error: {tmp_path / 'pipe'}: not a regular file or folder — name a file or folder; " \
                                 "pipes, devices and sockets are never read", out.stderr


def test_predict_reports_each_bad_path_and_goes_on_with_the_rest(tmp_path):
    crops = tmp_path / "crops"
    crops.mkdir()
    cv2.imwrite(str(crops / "face.png"), np.random.default_rng(0).integers(0, 256, (48, 48), dtype=np.uint8))
    os.mkfifo(crops / "pipe.png")  # inside a folder, with an image's name
    os.mkfifo(tmp_path / "direct.jpg")
    out = run_cli("predict", str(tmp_path / "direct.jpg"), "/dev/zero", str(crops), "--detector", "none",
                  "--no-progress")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["path"] for r in rows] == [str(crops / "face.png")]
    errors = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 3 and all("not a regular file or folder" in e for e in errors), errors
    assert {e.split(": ")[1] for e in errors} == {str(tmp_path / "direct.jpg"), "/dev/zero", str(crops / "pipe.png")}
    assert "images 1" in out.stderr and "errors 3" in out.stderr
