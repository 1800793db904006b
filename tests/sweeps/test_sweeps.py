"""Sweeps on Optuna: a pruned 6-trial study on the demo, two workers sharing one storage, a killed worker."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO
from fer_core.errors import ConfigError
from fer_core.sweeps import study as sweeps
from fer_core.sweeps.spec import SweepSpec

pytestmark = pytest.mark.processes  # layer (the folder says the subject)

TINY = {"data": "demo", "architecture": "cnn004", "epochs": 3, "batch_size": 16, "max_train_images": 64,
        "max_steps_per_epoch": 2, "checkpoint_every": 3}


def spec(name, trials=6, **extra):
    return SweepSpec.from_dict({"study": name, "trials": trials, "sampler": "random", "pruner": "median",
                                "base": TINY, "space": {"learning_rate": {"float": [1e-4, 1e-1], "log": True},
                                                        "label_smoothing": {"categorical": [0.0, 0.1]}},
                                **extra})


def test_bad_specs_fail_before_any_trial():
    with pytest.raises(ConfigError, match="did you mean 'epochs'"):
        SweepSpec.from_dict({"study": "x", "space": {"epohcs": {"int": [1, 3]}}})
    with pytest.raises(ConfigError, match="categorical values"):
        SweepSpec.from_dict({"study": "x", "sampler": "grid", "space": {"learning_rate": {"float": [0.1, 1]}}})
    with pytest.raises(ConfigError, match="not allowed"):
        SweepSpec.from_dict({"study": "../x", "space": {"seed": {"categorical": [0]}}})


def test_a_pruned_six_trial_sweep_records_every_trial_as_a_run(trains_for_minutes, tmp_path, monkeypatch):
    monkeypatch.setenv("FER_MODELS_DIR", str(tmp_path))
    s = spec("six", pruner="median")
    study = sweeps.create(s, sweeps.default_storage(s.study, tmp_path))
    assert sweeps.work(study, s, out_root=tmp_path) == 6
    result = sweeps.summary(study)
    assert len(result["trials"]) == 6 and set(result["counts"]) <= {"complete", "pruned"}
    assert result["best"]["value"] is not None
    for trial in result["trials"]:
        record = json.loads((tmp_path / trial["run_id"] / "run.json").read_text())
        assert record["sweep"]["study"] == "six" and record["sweep"]["trial"] == trial["trial"]
        assert record["status"] == ("pruned" if trial["state"] == "pruned" else "completed")
    assert sweeps.work(study, s, out_root=tmp_path) == 0  # the budget is spent: nothing more runs


def _worker(study, storage, models):
    env = {**os.environ, "FER_MODELS_DIR": str(models)}
    return subprocess.Popen([sys.executable, "-m", "fer_core", "sweep", "worker", study, "--storage", storage,
                             "--json"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def test_two_workers_share_a_study_and_a_killed_workers_trial_is_failed(trains_for_minutes, tmp_path):
    s = spec("pair", trials=6, pruner="none")
    storage = sweeps.default_storage(s.study, tmp_path)
    sweeps.create(s, storage)
    a, b = _worker("pair", storage, tmp_path), _worker("pair", storage, tmp_path)
    deadline = time.time() + 240  # kill worker a while it runs a trial
    while time.time() < deadline:
        study, _ = sweeps.load("pair", storage)
        if any(t.state.name == "RUNNING" for t in study.get_trials(deepcopy=False)):
            break
        time.sleep(0.5)
    time.sleep(2)
    os.kill(a.pid, signal.SIGKILL)
    a.wait()
    out, _ = b.communicate(timeout=600)
    assert b.returncode == 0, out[-2000:]
    study, _ = sweeps.load("pair", storage)
    trials = study.get_trials(deepcopy=False)
    numbers = [t.number for t in trials]
    assert sorted(numbers) == list(range(len(numbers)))  # no trial lost or numbered twice
    states = [t.state.name for t in trials]
    assert "RUNNING" not in states  # the killed worker's trial did not stay running
    assert states.count("COMPLETE") >= 4 and states.count("FAIL") <= 1, states
    runs = [t.user_attrs.get("run_id") for t in trials if t.state.name == "COMPLETE"]
    assert len(set(runs)) == len(runs)  # every completed trial is its own run: none ran twice


def test_a_sweep_runs_as_a_background_job_from_the_train_page(trains_for_minutes, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from fer_core.jobs.store import JobStore
    monkeypatch.setenv("FER_MODELS_DIR", str(tmp_path))
    at = AppTest.from_file(str(REPO / "app_pages" / "3_Train.py"), default_timeout=120)
    at.run()
    text = json.dumps(spec("from-page", trials=2, pruner="none").to_dict())
    at.text_area(key="sweep_spec_demo").input(text)
    at.button(key="start_sweep").click().run()
    assert not at.exception and any("Queued sweep from-page" in t.value for t in at.toast)
    store = JobStore()
    job = store.list()[0]
    assert job["kind"] == "sweep"
    done = store.wait(job["id"], timeout=600)
    assert done["status"] == "completed", store.log_tail(job["id"])
    assert done["sweep"] == {"complete": 2} and done["progress"] == 1.0
    at.text_area(key="sweep_spec_demo").input('{"study": "x", "space": {"epohcs": {"int": [1, 2]}}}')
    at.button(key="start_sweep").click().run()
    assert not at.exception and any("did you mean 'epochs'" in e.value for e in at.error)


def test_an_ablation_sweep_runs_each_variant_and_reports_paired_tests(trains_for_minutes, tmp_path, monkeypatch):
    """seed003_ablation's shape, shrunk: two arms x two seeds train as runs; the report pairs them by seed."""
    from fer_core.sweeps.analysis import ablation_report
    monkeypatch.setenv("FER_MODELS_DIR", str(tmp_path))
    s = SweepSpec.from_dict({"study": "abl", "trials": 4, "sampler": "grid", "pruner": "none",
                             "base": {**TINY, "architecture": "cbam5cnn", "epochs": 1, "checkpoint_every": 1,
                                      "model_options": {"width": 0.125}},
                             "variants": {"full": {}, "no_attention": {"model_options.attention": False}},
                             "space": {"variant": {"categorical": ["full", "no_attention"]},
                                       "seed": {"categorical": [0, 1]}}})
    study = sweeps.create(s, sweeps.default_storage(s.study, tmp_path))
    assert sweeps.work(study, s, out_root=tmp_path) == 4
    result = sweeps.summary(study)
    assert result["counts"] == {"complete": 4}
    for trial in result["trials"]:
        config = json.loads((tmp_path / trial["run_id"] / "config.json").read_text())["train_config"]
        assert config["model_options"] == ({"width": 0.125} if trial["params"]["variant"] == "full"
                                           else {"width": 0.125, "attention": False})
    report = ablation_report(result, tmp_path, metric="validation accuracy")
    assert report["reference"] == "full" and report["reference_n"] == 2
    (arm,) = report["arms"]
    assert arm["arm"] == "no_attention" and arm["n_pairs"] == 2
