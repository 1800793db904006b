# streamlit_webrtc (pylibsrtp) must be imported before TensorFlow/Keras, or the process segfaults.
import streamlit_webrtc  # noqa: F401,I001

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("FER_SHARED_DATA", REPO.parent / "shared" / "data"))


def pytest_configure(config):
    """The test session's environment, set before any test module is imported (subprocesses inherit it)."""
    # Tests never touch the user's cache: one fresh cache folder per test session (subprocesses inherit it).
    os.environ["FER_CACHE_DIR"] = tempfile.mkdtemp(prefix="fer-cache-")
    # ...and never write jobs or runs into the repository's models/ (tests that need shipped runs say so).
    os.environ["FER_MODELS_DIR"] = tempfile.mkdtemp(prefix="fer-models-")
    os.environ["FER_RELABEL_DIR"] = tempfile.mkdtemp(prefix="fer-relabel-")
    for var in ("FER_DATA", "FER_DATA_DIR", "FER_FERPLUS", "FER_DATABASE_URL", "FER_DATABASE_PREFIX"):  # labels in SQLite unless a test says
        os.environ.pop(var, None)
    # Paths typed in the UI must lie inside the configured roots: tests type paths under the temp folder.
    os.environ["FER_DATA_ROOTS"] = os.pathsep.join([tempfile.gettempdir(), str(SHARED_DATA)])


def python_ok(code: str, timeout: int = 300):
    """Run `code` in a fresh Python from the repository (imports measured from nothing); it must exit 0."""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr[-2000:]
    return out


@pytest.fixture(scope="session")
def pg_url() -> str:
    """A real PostgreSQL server (started here when it is the local cluster); under CI=true its absence fails."""
    from postgres import server_url
    url, why = server_url()
    if url is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(why + " (CI must run the PostgreSQL tests: .ci/run starts the server)")
        pytest.skip(why)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def make_db(request, tmp_path):
    """make_db(name) -> a fresh, empty project database on SQLite and, in the second run, on PostgreSQL."""
    import uuid

    from fer_core.relabel.database import PostgresDatabase, SqliteDatabase
    made = []

    def make(name: str = "p"):
        if request.param == "sqlite":
            return SqliteDatabase(tmp_path / f"{name}.sqlite")
        db = PostgresDatabase(request.getfixturevalue("pg_url"), f"t{uuid.uuid4().hex[:10]}_{name}")
        made.append(db)
        return db
    yield make
    for db in made:
        db.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def label_backend(request, tmp_path, monkeypatch):
    """Relabel projects opened by name go to SQLite files under tmp_path and, in the second run, to PostgreSQL
    under a schema prefix of this test's own (dropped afterwards), as FER_DATABASE_URL makes the app do."""
    import uuid
    monkeypatch.setenv("FER_RELABEL_DIR", str(tmp_path / "relabel"))
    if request.param == "sqlite":
        yield "sqlite"
        return
    url = request.getfixturevalue("pg_url")
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    monkeypatch.setenv("FER_DATABASE_URL", url)
    monkeypatch.setenv("FER_DATABASE_PREFIX", prefix)
    yield "postgresql"
    from fer_core.relabel.database import PostgresDatabase, postgres_projects
    for name in postgres_projects(url):
        PostgresDatabase(url, name).drop()


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "fer2013.csv.gz").exists():
        pytest.skip(f"real data not found at {SHARED_DATA} (set FER_SHARED_DATA to the folder with fer2013.csv.gz)")
    return SHARED_DATA


def make_images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 48, 48), dtype=np.uint8)


def write_fer_csv(path: Path, images, labels, usage, header="emotion,pixels,Usage", gz=False) -> Path:
    """fer_core's writer, with a header of the test's choosing (for broken files)."""
    from fer_core.data.csv_format import fer_csv_text
    text = fer_csv_text(images, labels, usage, header)
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


@pytest.fixture
def tiny_csv(tmp_path):
    """A 30-row FER2013 CSV: 20 Training, 5 PublicTest, 5 PrivateTest."""
    images = make_images(30)
    labels = np.arange(30) % 7
    usage = ["Training"] * 20 + ["PublicTest"] * 5 + ["PrivateTest"] * 5
    path = write_fer_csv(tmp_path / "tiny.csv", images, labels, usage)
    return path, images, labels, usage


@pytest.fixture(scope="session")
def two_runs():
    """Two tiny runs trained through the background-job path the Train page uses, in the tests' models dir."""
    from fer_core.jobs.store import JobStore
    from fer_core.training.config import TrainConfig
    store = JobStore()
    runs = []
    for seed, name in ((1, "tiny-a"), (2, "tiny-b")):
        job_id = store.submit(TrainConfig(architecture="cnn004", data="demo", epochs=3, batch_size=32, seed=seed,
                                          run_name=name, early_stopping_patience=None))
        job = store.wait(job_id, timeout=600)
        assert job["status"] == "completed", store.log_tail(job_id)
        runs.append(Path(os.environ["FER_MODELS_DIR"]) / job["run_id"])
    return runs


FACES = REPO / "tests" / "fixtures" / "faces"  # public-domain crops shipped in the repo (see its README)


@pytest.fixture(scope="session")
def real_faces() -> np.ndarray:
    """Ten 48x48 grey real faces of two people (as is, mirrored, zoomed in, lower contrast, brighter), neighbours alternating;
    each one found once by the default detector when pasted at 200 px. (The cameraman photo, looking down, gave the
    detector a second box now and then: left out.)"""
    from fer_core.live.detect import FaceDetector
    people = [cv2.imread(str(FACES / f"{name}.png"), cv2.IMREAD_GRAYSCALE) for name in ("astronaut", "hopper")]
    mirrored = [p[:, ::-1] for p in people]
    zoom = [cv2.resize(p[6:90, 6:90], (96, 96), interpolation=cv2.INTER_AREA) for p in people]
    flatter = [(64 + 0.6 * p).astype(np.uint8) for p in people]  # lower contrast
    brighter = [np.clip(255 * (p / 255.0) ** 0.75, 0, 255).astype(np.uint8) for p in mirrored]
    variants = [v for kind in (people, mirrored, zoom, flatter, brighter) for v in kind]
    faces = np.stack([cv2.resize(v, (48, 48), interpolation=cv2.INTER_AREA) for v in variants])
    detector = FaceDetector()
    # keep the tests about the pipeline: one box per face wherever the tests paste it (videos move it sideways)
    assert all(len(detector.detect(frame_with(f, at=(x, 140))[..., 0])) == 1 for f in faces for x in (10, *range(196, 252, 4), 420))
    return faces


def frame_with(face: np.ndarray, at=(220, 140), size=200) -> np.ndarray:
    frame = np.full((480, 640, 3), 120, np.uint8)
    x, y = at
    frame[y:y + size, x:x + size] = cv2.resize(face, (size, size), interpolation=cv2.INTER_CUBIC)[..., None]
    return frame


@pytest.fixture(scope="session")
def shipped_models(tmp_path_factory) -> Path:
    """A models folder holding only the default run shipped in the package (no training: fast tests use it)."""
    from fer_core.api import BUNDLED
    models = tmp_path_factory.mktemp("shipped-models")
    run_id = json.loads((BUNDLED / "run.json").read_text())["run_id"]
    shutil.copytree(BUNDLED, models / run_id)
    return models


@pytest.fixture
def shipped_run(shipped_models, monkeypatch) -> Path:
    """The shipped default run, as the only run in FER_MODELS_DIR for this test."""
    monkeypatch.setenv("FER_MODELS_DIR", str(shipped_models))
    return next(shipped_models.iterdir())


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A one-epoch cnn004 run on the demo data, trained in this process (seconds, not a job): for fast tests that
    need a run of their own data, e.g. for a page that evaluates it."""
    from fer_core.training.config import TrainConfig
    from fer_core.training.lifecycle import train
    return train(TrainConfig(architecture="cnn004", data="demo", epochs=1, batch_size=16, max_train_images=64,
                             run_name="tiny", early_stopping_patience=None), out_root=tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def trains_for_minutes():
    """Asked for by tests that train for minutes themselves (job or sweep processes, a big model): makes them `slow`."""


# Tests go by subject (tests/<package>/); each module says its layer with `pytestmark`: fast NumPy -> browser.
LAYERS = ("unit", "training", "processes", "app", "browser")
# `slow` follows from the fixtures a test uses: these train for minutes on this CPU (two_runs: through job processes).
SLOW_FIXTURES = ("two_runs", "trains_for_minutes")
RUN_ORDER = ("app", "browser", "processes", "training", "unit")  # the order CI has always run them in


def pytest_collection_modifyitems(config, items):
    """Every test has exactly one layer marker; `slow` is added from its fixtures (a hand-written one is refused,
    so the two cannot drift); the run order stays by layer, then file name."""
    wrong = []
    for item in items:
        layers = [m.name for m in item.iter_markers() if m.name in LAYERS]
        if len(layers) != 1:
            wrong.append(f"{item.nodeid}: layer markers {layers or 'none'} (give the module one `pytestmark`)")
        if item.get_closest_marker("slow") is not None:
            wrong.append(f"{item.nodeid}: marked slow by hand (use a fixture from SLOW_FIXTURES instead)")
        if any(name in SLOW_FIXTURES for name in item.fixturenames):
            item.add_marker(pytest.mark.slow)
    if wrong:
        raise pytest.UsageError("tests/conftest.py rules:\n" + "\n".join(wrong))
    layer_of = lambda item: next(m.name for m in item.iter_markers() if m.name in LAYERS)  # noqa: E731
    items.sort(key=lambda item: (RUN_ORDER.index(layer_of(item)), Path(str(item.fspath)).name))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skip is a failure: CI has the data, Chromium and PostgreSQL, so a skip there hides a test
    that did not run (locally a skip says what is missing, as before)."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI", "").lower() == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome, report.longrepr = "failed", f"skipped under CI=true (nothing may skip there): {reason}"
