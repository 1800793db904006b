# streamlit_webrtc (pylibsrtp) must be imported before TensorFlow/Keras, or the process segfaults.
import streamlit_webrtc  # noqa: F401,I001

import gzip
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("FER_SHARED_DATA", REPO.parent / "shared" / "data"))

# Tests never touch the user's cache: one fresh cache folder per test session (subprocesses inherit it).
os.environ["FER_CACHE_DIR"] = tempfile.mkdtemp(prefix="fer-cache-")
# ...and never write jobs or runs into the repository's models/ (tests that need shipped runs say so).
os.environ["FER_MODELS_DIR"] = tempfile.mkdtemp(prefix="fer-models-")
os.environ["FER_RELABEL_DIR"] = tempfile.mkdtemp(prefix="fer-relabel-")
for var in ("FER_DATA", "FER_DATA_DIR", "FER_FERPLUS", "FER_DATABASE_URL", "FER_DATABASE_PREFIX"):  # labels in SQLite unless a test says
    os.environ.pop(var, None)
# Paths typed in the UI must lie inside the configured roots: tests type paths under the temp folder.
os.environ["FER_DATA_ROOTS"] = os.pathsep.join([tempfile.gettempdir(), str(SHARED_DATA)])


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


@pytest.fixture(scope="session")
def ck_faces(request):
    from fer_core.data.loading import load_dataset
    from fer_core.live.detect import FaceDetector
    path = SHARED_DATA / "ckplus" / "ckplus.csv.gz"
    if not path.exists():
        pytest.skip(f"CK+ not found at {path}")
    ds = load_dataset(path)
    detector = FaceDetector()
    # real faces the default detector finds when pasted at 200 px (keep the tests about the pipeline)
    found = [img for img in ds.images[::40] if len(detector.detect(frame_with(img)[..., 0]))]
    assert len(found) >= 20
    return np.stack(found[:10])


def frame_with(face: np.ndarray, at=(220, 140), size=200) -> np.ndarray:
    frame = np.full((480, 640, 3), 120, np.uint8)
    x, y = at
    frame[y:y + size, x:x + size] = cv2.resize(face, (size, size), interpolation=cv2.INTER_CUBIC)[..., None]
    return frame


LAYERS = ("unit", "training", "processes", "app", "browser")  # tests/<layer>/: fast NumPy -> real browser


def pytest_collection_modifyitems(items):
    """Each test carries its folder's layer as a marker, so `-m "not browser"` etc. select layers."""
    for item in items:
        layer = Path(str(item.fspath)).parent.name
        if layer in LAYERS:
            item.add_marker(getattr(pytest.mark, layer))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skip is a failure: CI has the data, Chromium and PostgreSQL, so a skip there hides a test
    that did not run (locally a skip says what is missing, as before)."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI", "").lower() == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome, report.longrepr = "failed", f"skipped under CI=true (nothing may skip there): {reason}"
