# streamlit_webrtc (pylibsrtp) must be imported before TensorFlow/Keras, or the process segfaults.
import streamlit_webrtc  # noqa: F401,I001

import gzip
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("FER_SHARED_DATA", REPO.parent / "shared" / "data"))

# Tests never touch the user's cache: one fresh cache folder per test session (subprocesses inherit it).
os.environ["FER_CACHE_DIR"] = tempfile.mkdtemp(prefix="fer-cache-")
# ...and never write jobs or runs into the repository's models/ (tests that need shipped runs say so).
os.environ["FER_MODELS_DIR"] = tempfile.mkdtemp(prefix="fer-models-")
os.environ["FER_RELABEL_DIR"] = tempfile.mkdtemp(prefix="fer-relabel-")
for var in ("FER_DATA", "FER_DATA_DIR", "FER_FERPLUS"):
    os.environ.pop(var, None)


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "fer2013.csv.gz").exists():
        pytest.skip(f"real data not found at {SHARED_DATA} (set FER_SHARED_DATA to the folder with fer2013.csv.gz)")
    return SHARED_DATA


def make_images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 48, 48), dtype=np.uint8)


def write_fer_csv(path: Path, images, labels, usage, header="emotion,pixels,Usage", gz=False) -> Path:
    lines = [header] + [f"{lab},{' '.join(map(str, img.ravel().tolist()))},{u}"
                        for img, lab, u in zip(images, labels, usage)]
    text = "\n".join(lines) + "\n"
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
    from fer_core.jobs import JobStore
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
