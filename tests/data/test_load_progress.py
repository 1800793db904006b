"""Long first loads report their progress: a FER2013 CSV by bytes read (plain or gzip), class folders and the
distributed layouts by images read; nothing is reported without a listener, or from a cached load."""
import itertools

import numpy as np
import pytest

from conftest import write_fer_csv
from fer_core.data import load_progress
from fer_core.data.loading import load_dataset

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


@pytest.fixture
def unthrottled(monkeypatch, tmp_path):
    import fer_core.data.csv_format as csv_format
    monkeypatch.setenv("FER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(csv_format, "CHUNK_ROWS", 40)
    clock = itertools.count(step=1.0)
    monkeypatch.setattr(load_progress.time, "monotonic", lambda: next(clock))


def reports(path):
    seen = []
    with load_progress.reporting(lambda fraction, what: seen.append((fraction, what))):
        load_dataset(path)
    return seen


@pytest.mark.parametrize("gz", [False, True])
def test_a_csv_reports_the_share_of_its_bytes_read_then_its_cache_reports_nothing(tmp_path, unthrottled, gz):
    images = np.random.default_rng(0).integers(0, 256, (300, 48, 48), np.uint8)
    name = "fer.csv.gz" if gz else "fer.csv"
    path = write_fer_csv(tmp_path / name, images, np.arange(300) % 7, ["Training"] * 300, gz=gz)
    seen = reports(path)
    fractions = [f for f, _ in seen]
    assert len(seen) >= 3 and fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(what == f"Reading {path.name}" for _, what in seen)
    assert reports(path) == []  # the second load maps the cache: nothing to wait for


def test_class_folders_report_images_read(tmp_path, unthrottled):
    import cv2
    for k, name in enumerate(["angry", "happy", "sad"]):
        (tmp_path / "faces" / name).mkdir(parents=True)
        for i in range(4):
            cv2.imwrite(str(tmp_path / "faces" / name / f"{i}.png"), np.full((48, 48), 40 * k + i, np.uint8))
    seen = reports(tmp_path / "faces")
    assert [round(f * 12) for f, _ in seen] == list(range(1, 13))


def test_without_a_listener_nothing_is_called():
    load_progress.report(1, 2, "x")  # no listener: a no-op, not an error
    seen = []
    with load_progress.reporting(lambda *a: seen.append(a), every_s=3600):
        load_progress.report(1, 10, "x")  # the first report passes; the next ones wait for the interval...
        load_progress.report(2, 10, "x")
        load_progress.report(10, 10, "x")  # ...but the last one always gets through
    assert [f for f, _ in seen] == [0.1, 1.0]


def test_a_distributed_layout_reports_faces_read(tmp_path, unthrottled):
    import layout_fixtures as lf
    faces = np.random.default_rng(1).integers(0, 256, (40, 48, 48), np.uint8)
    seen = reports(lf.rafdb(tmp_path / "rafdb", faces, np.arange(40) % 7))
    assert len(seen) == 40 and [f for f, _ in seen] == sorted(f for f, _ in seen) and seen[-1] == (1.0, "Reading faces")


def test_the_terminal_shows_a_first_load_on_one_rewritten_line(tmp_path, unthrottled):
    import io

    from fer_core.data.commands import terminal_progress
    images = np.random.default_rng(2).integers(0, 256, (200, 48, 48), np.uint8)
    path = write_fer_csv(tmp_path / "fer.csv", images, np.arange(200) % 7, ["Training"] * 200)
    out = io.StringIO()
    with terminal_progress(out):
        load_dataset(path)
    text = out.getvalue()
    assert text.startswith("\rReading fer.csv: ") and text.endswith("Reading fer.csv: 100%\n") and text.count("\n") == 1
