"""Background jobs run in their own process, persist their state, queue, cancel and report crashes."""
import json
import os
import re
import time

import pytest

from fer_core.jobs.store import JobStore, _pid_alive
from fer_core.training.config import TrainConfig

pytestmark = pytest.mark.processes  # layer (the folder says the subject)

TINY = dict(architecture="cnn004", data="demo", batch_size=16, max_train_images=64, max_steps_per_epoch=2)


@pytest.fixture
def store(tmp_path):
    return JobStore(models_root=tmp_path / "models")


def test_job_runs_to_completion_and_records_its_run(store):
    job_id = store.submit(TrainConfig(**TINY, epochs=2))
    job = store.wait(job_id, timeout=300)
    assert job["status"] == "completed", store.log_tail(job_id)
    assert job["progress"] == pytest.approx(1.0) and len(job["history"]) == 2
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(job["history"][0])
    run = store.models_root / job["run_id"]
    assert json.loads((run / "run.json").read_text())["status"] == "completed"
    # the log reads as the run: a start line, one line per epoch, the saved run; no TensorFlow start-up chatter
    log = store.log_tail(job_id, 1000).splitlines()
    epochs = [line for line in log if re.match(r"epoch \d+/2: loss \d\.\d{4} · accuracy .* · [\d.]+ s$", line)]
    assert len(epochs) == 2, log
    assert not [line for line in log if re.search(r"tensorflow|cuda|oneDNN|absl|I0000|W0000|WARNING", line, re.I)], log
    deadline = time.time() + 60  # the process exits (and is reaped: no zombie) shortly after the record
    while time.time() < deadline and _pid_alive(job["pid"], job_id):
        time.sleep(0.2)
    assert not _pid_alive(job["pid"], job_id)
    deadline = time.time() + 10  # and the app's reaper thread collects it: no zombie stays behind
    while time.time() < deadline and os.path.exists(f"/proc/{job['pid']}"):
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{job['pid']}"), "finished job left a zombie process"


def test_second_job_queues_then_runs_and_a_running_job_can_be_cancelled(trains_for_minutes, store):
    long_job = store.submit(TrainConfig(**{**TINY, "max_steps_per_epoch": 4}, epochs=500,
                                        early_stopping_patience=None))
    queued = store.submit(TrainConfig(**TINY, epochs=1))
    assert store.read(queued)["status"] == "queued"
    deadline = time.time() + 180
    while time.time() < deadline and store.read(long_job).get("epoch", 0) < 1:
        time.sleep(0.5)
    assert store.read(long_job)["status"] == "running"
    store.cancel(long_job)
    job = store.wait(long_job, timeout=120)
    assert job["status"] == "cancelled" and job["epoch"] < 500
    assert (store.models_root / job["run_id"]).exists()  # partial work is kept, marked cancelled
    assert store.wait(queued, timeout=300)["status"] == "completed"  # the queue moved on by itself


def test_queued_job_cancels_without_running(store):
    blocker = store.submit(TrainConfig(**TINY, epochs=1))
    queued = store.submit(TrainConfig(**TINY, epochs=1))
    assert store.cancel(queued)["status"] == "cancelled"
    store.wait(blocker, timeout=300)
    assert store.read(queued)["status"] == "cancelled" and "run_id" not in store.read(queued)


def test_crash_is_reported_as_failed_with_log_tail(store, tmp_path):
    job_id = store.submit(TrainConfig(**{**TINY, "data": str(tmp_path / "missing.csv")}, epochs=1))
    job = store.wait(job_id, timeout=300)
    assert job["status"] == "failed"
    assert "file not found" in job["error"] and "missing.csv" in job["log_tail"]
    assert "Traceback" not in job["log_tail"] and "Traceback" not in store.log_tail(job_id, 1000)  # shown in the app
    assert "Traceback" in (store.job_dir(job_id) / "traceback.txt").read_text()  # kept on the server
    assert not list(store.models_root.glob("*.partial"))  # failed before training: no empty run folder


def test_killed_worker_is_reported_failed_and_the_queue_moves_on(trains_for_minutes, store):
    job_id = store.submit(TrainConfig(**TINY, epochs=500, early_stopping_patience=None))
    behind = store.submit(TrainConfig(**TINY, epochs=1))
    deadline = time.time() + 120
    while time.time() < deadline and store.read(job_id).get("status") != "running":
        time.sleep(0.3)
    os.kill(store.read(job_id)["pid"], 9)
    job = store.wait(job_id, timeout=60)
    assert job["status"] == "failed" and "ended unexpectedly" in job["error"]
    # a fresh JobStore is what an app restart (or `python -m fer_core jobs`) sees: listing starts the next job
    JobStore(models_root=store.models_root).list()
    assert store.wait(behind, timeout=300)["status"] == "completed"
    from fer_core.runs.store import checkpoint_state, clean_empty_partials
    clean_empty_partials(store.models_root)  # the killed run stays only if it has a checkpoint to resume from
    assert all(checkpoint_state(p).get("epochs_done") for p in store.models_root.glob("*.partial"))


def test_a_recipe_job_trains_then_applies_the_recipes_logit_adjustment(store):
    """A job queued from a recipe with an adjustment ends on the adjusted run (logit adjustment in run.json)."""
    from fer_core.training.recipes import get_recipe
    recipe = get_recipe("fernet-cosine")
    cfg = recipe.train_config("demo", epochs=1, batch_size=16, max_train_images=64, max_steps_per_epoch=2,
                              jit_compile=False)
    job = store.wait(store.submit(cfg, adjust=recipe.adjust), timeout=300)
    assert job["status"] == "completed", store.log_tail(job["id"])
    record = json.loads((store.models_root / job["run_id"] / "run.json").read_text())
    assert record["adjusted_from"] and record["logit_adjustment"]["criterion"] == "macro_f1"
    assert (store.models_root / record["adjusted_from"]).is_dir()  # the trained run stays beside it
