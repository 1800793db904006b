"""The Run type: broken run folders are listed with their problem, never chosen as default, never crash."""
import json

import pytest

from fer_core.errors import RunError
from fer_core.runs.layout import CHECKPOINT, new_run_id, run_name_of
from fer_core.runs.run import Run
from fer_core.runs.store import default_run, default_selection, list_runs, usable_runs

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


def _run(root, name, model=b"PK\x05\x06" + b"\0" * 18, config=None):
    d = root / name
    d.mkdir(parents=True)
    if model is not None:
        (d / "model.keras").write_bytes(model)
    if config is not None:
        (d / "config.json").write_text(config)
    return d


def test_broken_runs_are_named_with_their_problem(tmp_path):
    good = json.dumps({"class_names": ["a", "b"], "train_config": {"data": "demo"}})
    _run(tmp_path, "1-good", config=good)
    _run(tmp_path, "2-empty-model", model=b"", config=good)
    _run(tmp_path, "3-corrupt-model", model=b"not a zip", config=good)
    _run(tmp_path, "4-no-config")
    _run(tmp_path, "5-bad-json", config="{oops")
    _run(tmp_path, "6-no-model", model=None, config=good)
    problems = {r.id: r.problem for r in list_runs(tmp_path)}
    assert problems == {"1-good": None, "2-empty-model": "model.keras is empty",
                        "3-corrupt-model": "model.keras is not a Keras file (corrupt or truncated)",
                        "4-no-config": "config.json is missing", "5-bad-json": "config.json is not valid JSON",
                        "6-no-model": "model.keras is missing"}
    assert [r.id for r in usable_runs(tmp_path)] == ["1-good"]
    assert default_run(tmp_path).id == "1-good"  # the newest is broken: never the default
    assert default_selection(list_runs(tmp_path), None) == ["1-good"]
    with pytest.raises(RunError, match="broken run: config.json is not valid JSON"):
        Run.load(tmp_path / "5-bad-json").require_usable()


def test_listing_reads_a_run_again_only_when_its_files_change(tmp_path):
    good = json.dumps({"class_names": ["a", "b"], "train_config": {"data": "demo"}})
    d = _run(tmp_path, "1-run", config=good)
    first = list_runs(tmp_path)[0]
    assert list_runs(tmp_path)[0] is first  # a rerun's listing: nothing read again
    (d / "config.json").write_text("{oops")  # rewritten in place
    assert list_runs(tmp_path)[0].problem == "config.json is not valid JSON"
    tmp = d / "config.json.tmp"
    tmp.write_text(good.replace('"a"', '"x"'))
    tmp.replace(d / "config.json")  # an atomic rewrite: a new file in the same place
    assert list_runs(tmp_path)[0].config["class_names"] == ["x", "b"]
    (d / "metrics.json").write_text('{"test_accuracy": 0.5}')  # a file that was not there
    assert list_runs(tmp_path)[0].metrics == {"test_accuracy": 0.5}


def test_default_selection_keeps_the_default_model(tmp_path):
    good = json.dumps({"class_names": ["a"]})
    for name in ("1-default", "2-x", "3-y"):
        _run(tmp_path, name, config=good)
    (tmp_path / "default_run.txt").write_text("1-default")
    runs = list_runs(tmp_path)
    assert default_selection(runs, default_run(tmp_path)) == ["1-default", "3-y"]


def test_run_ids_carry_their_name():
    assert run_name_of(new_run_id("fernet-cpu")) == "fernet-cpu"
    assert run_name_of(new_run_id("fernet-cpu") + ".partial") == "fernet-cpu"


def test_clean_removes_only_cut_off_runs_with_nothing_to_resume(tmp_path):
    import os

    from fer_core.runs.store import clean_empty_partials
    empty = tmp_path / "20260101-000000-a-0001.partial"
    empty.mkdir()
    (empty / "owner.pid").write_text("999999999")  # a process that is gone
    live = tmp_path / "20260101-000000-b-0002.partial"
    live.mkdir()
    (live / "owner.pid").write_text(str(os.getpid()))  # still training: never touched
    resumable = tmp_path / "20260101-000000-c-0003.partial"
    (resumable / "checkpoints").mkdir(parents=True)
    (resumable / "checkpoints" / "state.json").write_text(json.dumps({"epochs_done": 2}))
    (resumable / "checkpoints" / CHECKPOINT).write_bytes(b"weights")
    assert clean_empty_partials(tmp_path) == [empty.name]
    assert not empty.exists() and live.exists() and resumable.exists()


def test_eta_uses_the_epochs_after_the_first_which_carries_the_compile():
    from fer_core.jobs.store import eta_seconds
    start = 1000.0
    # epoch 1 took 40 s (compile + warm-up), later epochs 5 s; 12 epochs in all
    job = {"started_at": start, "epochs": 12, "progress": 1 / 12, "epoch_ends": [start + 40]}
    assert eta_seconds(job, now=start + 40) > 400  # one epoch: only the crude estimate exists
    job.update(progress=3 / 12, epoch_ends=[start + 40, start + 45, start + 50])
    assert eta_seconds(job, now=start + 50) == 45.0  # 9 epochs left x 5 s
    assert eta_seconds(job, now=start + 52) == 43.0


def test_a_runs_moved_training_data_is_found_under_the_configured_data(tmp_path, monkeypatch):
    """The shipped run records ../shared/data/fer2013.csv.gz; a user's copy elsewhere stands in, by file name."""
    from fer_core.evaluation.compare import recorded_table
    config = json.dumps({"class_names": ["a"], "train_config": {"data": "../nowhere/fer2013.csv.gz"}})
    run_dir = _run(tmp_path / "models", "1-shipped", config=config)
    (run_dir / "metrics.json").write_text(json.dumps({"test": {"split": "PrivateTest", "n": 10, "accuracy": 0.6,
                                                               "macro_f1": 0.5}}))
    monkeypatch.delenv("FER_DATA", raising=False)
    monkeypatch.delenv("FER_DATA_DIR", raising=False)
    run = Run.load(run_dir)
    assert not run.data_available() and run.data_path().endswith("nowhere/fer2013.csv.gz")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "other.csv.gz").write_bytes(b"x")
    monkeypatch.setenv("FER_DATA", str(mine / "other.csv.gz"))  # a different file name is not taken for it
    assert not run.data_available()
    (mine / "fer2013.csv.gz").write_bytes(b"x")
    monkeypatch.setenv("FER_DATA_DIR", str(mine))
    assert run.data_available() and run.data_path() == str(mine / "fer2013.csv.gz")
    row = recorded_table([run]).iloc[0]
    assert row["accuracy"] == 0.6 and row["split"] == "PrivateTest" and row["figures"] == "recorded at training"
