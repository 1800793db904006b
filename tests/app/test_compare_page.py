"""AppTest for Compare: two runs trained through the job path and their ensemble, numbers equal evaluate()."""
import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO
from fer_core.evaluation.evaluate import evaluate

pytestmark = pytest.mark.app  # layer (the folder says the subject)

COMPARE = str(REPO / "app_pages" / "4_Compare.py")


def test_compare_shows_runs_and_ensemble_with_the_cli_numbers(two_runs):
    at = AppTest.from_file(COMPARE, default_timeout=300)
    at.run()
    assert not at.exception
    ids = [r.name for r in two_runs]
    at.sidebar.multiselect[0].set_value(ids)
    at.sidebar.multiselect[1].set_value(ids).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 3 and table["model"].iloc[2].startswith("ensemble(")
    for row, members in ((0, two_runs[0]), (2, two_runs)):
        ev = evaluate(members, split="PrivateTest", latency=False)
        assert table["accuracy"].iloc[row] == pytest.approx(ev.metrics["accuracy"])
        assert table["macro F1"].iloc[row] == pytest.approx(ev.metrics["macro_f1"])
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert len(specs) >= 6  # per-class F1, 3 confusion matrices, curves x2, McNemar
    assert any("McNemar" in s for s in specs)
    assert at.get("download_button")
    at.sidebar.checkbox[0].check().run()  # exclude leaks
    assert not at.exception
    assert any("leaked test images excluded" in c.value for c in at.caption)
    tta_box = next(s for s in at.sidebar.selectbox if s.label == "Test-time augmentation")
    tta_box.set_value("shift10").run()
    assert not at.exception and any("TTA shift10" in c.value for c in at.caption)
    ev = evaluate(two_runs[0], split="PrivateTest", tta="shift10", exclude_leaks=True, latency=False)
    assert at.dataframe[0].value["accuracy"].iloc[0] == pytest.approx(ev.metrics["accuracy"])


def test_compare_without_runs_explains_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("FER_MODELS_DIR", str(tmp_path))
    at = AppTest.from_file(COMPARE, default_timeout=60)
    at.run()
    assert not at.exception and "No usable runs" in at.info[0].value


def test_compare_shows_a_sweep_with_optunas_plots(two_runs, monkeypatch, tmp_path):
    """A study in models/sweeps/ (trials recorded directly: the plots are what is tested here, not training)."""
    import shutil

    from fer_core.sweeps import study as sweeps
    from fer_core.sweeps.spec import SweepSpec
    monkeypatch.setenv("FER_MODELS_DIR", str(tmp_path))
    for run in two_runs:
        shutil.copytree(run, tmp_path / run.name)
    spec = SweepSpec.from_dict({"study": "plots", "trials": 4, "sampler": "random", "base": {"data": "demo"},
                                "space": {"learning_rate": {"float": [1e-4, 1e-2], "log": True},
                                          "label_smoothing": {"categorical": [0.0, 0.1]}}})
    study = sweeps.create(spec)
    for i in range(4):
        trial = study.ask()
        spec.suggest(trial)
        trial.report(0.2 + 0.05 * i, 0)
        trial.set_user_attr("run_id", two_runs[i % 2].name)
        study.tell(trial, 0.3 + 0.1 * i)
    at = AppTest.from_file(COMPARE, default_timeout=300)
    at.run()
    assert not at.exception
    assert any("4 complete" in c.value and "best: trial 3" in c.value for c in at.caption)
    titles = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    for name in ("Optimization History", "Slice", "Parallel Coordinate", "Hyperparameter Importances"):
        assert name in titles, name


def test_compare_shows_the_paired_tests_of_an_ablation_sweep(two_runs, monkeypatch, tmp_path):
    """Variants x seeds (trials recorded directly, each run a copy with its own test accuracy)."""
    import json
    import shutil

    from fer_core.sweeps import study as sweeps
    from fer_core.sweeps.spec import SweepSpec
    monkeypatch.setenv("FER_MODELS_DIR", str(tmp_path))
    spec = SweepSpec.from_dict({"study": "abl", "trials": 6, "sampler": "random", "pruner": "none",
                                "base": {"data": "demo"},
                                "variants": {"full": {}, "no_aug": {"augment_enabled": False}},
                                "space": {"variant": {"categorical": ["full", "no_aug"]},
                                          "seed": {"categorical": [0, 1, 2]}}})
    study = sweeps.create(spec)
    accuracy = {("full", 0): 0.70, ("full", 1): 0.66, ("full", 2): 0.72,
                ("no_aug", 0): 0.61, ("no_aug", 1): 0.60, ("no_aug", 2): 0.69}
    for i, (variant, seed) in enumerate(accuracy):
        study.enqueue_trial({"variant": variant, "seed": seed})  # the grid sampler stops a study outside optimize
        trial = study.ask()
        values = spec.suggest(trial)
        run = tmp_path / f"{two_runs[0].name}-t{i}"
        shutil.copytree(two_runs[0], run)
        metrics = json.loads((run / "metrics.json").read_text())
        metrics["test"]["accuracy"] = accuracy[values["variant"], values["seed"]]
        (run / "metrics.json").write_text(json.dumps(metrics))
        trial.set_user_attr("run_id", run.name)
        study.tell(trial, 0.5)
    at = AppTest.from_file(COMPARE, default_timeout=300)
    at.run()
    assert not at.exception
    assert any("Ablation against `full`" in m.value and "mean 69.3%" in m.value for m in at.markdown)
    table = at.dataframe[1].value  # the first is the trial list
    row = table[table["variant"] == "no_aug"].iloc[0]
    assert row["seeds paired"] == 3 and row["difference"] == "-6.0%" and row["Wilcoxon p"] == "0.25"
    assert any("ANOVA" in c.value and "cannot reach p < 0.05" in c.value for c in at.caption)


def test_compare_scores_a_run_on_affectnet_as_distributed(two_runs, shared_data, tmp_path):
    """'Other path…' takes a dataset in its authors' layout; the page names the classes scored and left out."""
    import layout_fixtures
    import numpy as np

    from fer_core.data.loading import load_dataset
    ck = load_dataset(shared_data / "ckplus" / "ckplus.csv.gz")
    root = layout_fixtures.affectnet(tmp_path / "affectnet", ck.images[::25][:33], np.arange(33) % 11)
    at = AppTest.from_file(COMPARE, default_timeout=300)
    at.run()
    at.sidebar.multiselect[0].set_value([two_runs[0].name])
    next(s for s in at.sidebar.selectbox if s.label == "Evaluate on").set_value("Other path…").run()
    at.sidebar.text_input(key="compare_data_path").input(str(root)).run()
    next(s for s in at.sidebar.selectbox if s.label == "Split").set_value("all").run()
    assert not at.exception, at.exception
    ev = evaluate(two_runs[0], data=str(root), split="all", latency=False)
    assert at.dataframe[0].value["accuracy"].iloc[0] == pytest.approx(ev.metrics["accuracy"])
    assert ev.metrics["n"] == 21 and ev.unmapped == {"contempt": 3, "none": 3, "uncertain": 3, "no-face": 3}
    notes = " ".join(i.value for i in at.info)
    assert "anger → angry" in notes and "no-face (3 images)" in notes
    at.sidebar.text_input(key="compare_data_path").input("/etc").run()  # outside the data roots: a message
    assert not at.exception and at.error
