import json
import subprocess
import sys

import pytest

from conftest import REPO, python_ok

pytestmark = pytest.mark.processes  # layer (the folder says the subject)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "fer_core", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300)


def test_data_info_and_check_on_demo():
    info = run_cli("data", "info", "demo", "--json")
    assert info.returncode == 0, info.stderr
    facts = json.loads(info.stdout)
    assert facts["rows"] == 392 and facts["demo"] is True
    assert facts["class_counts"]["Training"]["happy"] == 40
    check = run_cli("data", "check", "demo")
    assert check.returncode == 0
    assert "PublicTest images also in Training (leaks): 2" in check.stdout
    assert "blank images (one flat value): 2" in check.stdout


def test_bad_path_gives_a_clear_error_and_exit_code(tmp_path):
    bad = tmp_path / "broken.csv"
    bad.write_text("a,b,c\n1,2,3\n")
    out = run_cli("data", "info", str(bad))
    assert out.returncode == 2
    assert "not a FER2013 CSV" in out.stderr and "Traceback" not in out.stderr


def test_info_maps_into_another_scheme():
    out = run_cli("data", "info", "demo", "--scheme", "fer2024", "--json")
    facts = json.loads(out.stdout)
    assert facts["scheme"] == "fer2024" and "not-a-face" in facts["class_counts"]["Training"]


def test_bad_settings_and_broken_runs_end_in_one_line_and_exit_2(tmp_path):
    typo = run_cli("train", "--data", "demo", "--set", "epohcs=3")
    assert typo.returncode == 2 and "did you mean 'epochs'" in typo.stderr and "Traceback" not in typo.stderr
    wrong = run_cli("train", "--data", "demo", "--set", "epochs=abc")
    assert wrong.returncode == 2 and "epochs" in wrong.stderr and "Traceback" not in wrong.stderr
    broken = tmp_path / "broken-run"
    broken.mkdir()
    (broken / "model.keras").write_bytes(b"")
    (broken / "config.json").write_text("{}")
    for args in (("evaluate", str(broken)), ("train", "--resume", str(broken)), ("jobs", "--cancel", "job-nope"),
                 ("jobs", "--cancel", "job-20990101-000000-abcdef")):
        out = run_cli(*args)
        assert out.returncode == 2, (args, out.stderr)
        assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, (args, out.stderr)


def test_import_boundaries():
    """The model registry and config validation load without Keras; the Live path without scikit-learn/SciPy."""
    code = ("import sys; import fer_core.models.registry, fer_core.training.config as c; c.TrainConfig().validate(); "
            "assert 'keras' not in sys.modules, 'keras'; "
            "import streamlit_webrtc, fer_core.live.pipeline, fer_core.live.video; "
            "bad = [m for m in ('sklearn', 'scipy') if m in sys.modules]; assert not bad, bad")
    python_ok(code)


def test_relabel_suggest_and_learn_from_the_command_line(two_runs, tmp_path, monkeypatch):
    """The Relabel page's suggestions and a learning round, from `python -m fer_core relabel ...`."""
    monkeypatch.setenv("FER_RELABEL_DIR", str(tmp_path))
    from fer_core.data.loading import load_dataset
    from fer_core.relabel.project import RelabelProject
    run = str(two_runs[0])
    out = run_cli("relabel", "suggest", "demo", "--model", run, "--min-prob", "0.1", "--json")
    assert out.returncode == 0, out.stderr
    facts = json.loads(out.stdout)
    assert facts["open"] == 392 and sum(facts["grid_ready"].values()) > 0 and facts["sources"] == [two_runs[0].name]
    too_few = run_cli("relabel", "learn", "demo", "--model", run, "--annotator", "ann")
    assert too_few.returncode == 2 and "at least 20 labels" in too_few.stderr and "Traceback" not in too_few.stderr
    ds = load_dataset("demo")
    project = RelabelProject("fer2024", ds)
    for r in range(0, 392, 9)[:40]:  # the demo is sorted by class: every 9th image spans them all
        project.label(r, "ann", int(ds.labels[r]), "cli-test")
    learned = run_cli("relabel", "learn", "demo", "--model", run, "--annotator", "ann", "--json")
    assert learned.returncode == 0, learned.stderr
    facts = json.loads(learned.stdout)
    assert facts["rounds"] == 1 and facts["round_file"].endswith("round-001.npz")
    assert facts["overrules"][0]["labels"] == 40


def test_train_by_recipe_and_the_recipes_that_fit(tmp_path):
    """`recipes --data` ranks what fits with the time here; `train --recipe` trains it with overrides on top."""
    import json
    listed = run_cli("recipes", "--data", "demo", "--json")
    assert listed.returncode == 0, listed.stderr
    recipes = json.loads(listed.stdout)
    assert next(iter(recipes)) == "demo" and recipes["demo"]["fits"] and "here" in recipes["demo"]["time"]
    assert recipes["default"]["why_not"] == "made for real datasets"
    out = run_cli("train", "--recipe", "demo", "--epochs", "1", "--max-steps", "2", "--out", str(tmp_path), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout[out.stdout.index("{"):])
    assert result["recipe"] == "demo" and result["status"] == "completed" and result["epochs_run"] == 1
    bad = run_cli("train", "--recipe", "demo-1min")
    assert bad.returncode == 2 and "no recipe named 'demo-1min'" in bad.stderr and "did you mean 'demo'" in bad.stderr
