"""AppTest for the Train page: the form starts a real background job that the page then follows."""

import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO
from fer_core.jobs.store import JobStore

pytestmark = pytest.mark.app  # layer (the folder says the subject)

TRAIN = str(REPO / "app_pages" / "3_Train.py")


def test_train_page_starts_follows_and_finishes_a_job(monkeypatch, tmp_path):
    monkeypatch.setenv("FER_MODELS_DIR", str(tmp_path))  # an empty models folder: no jobs yet
    at = AppTest.from_file(TRAIN, default_timeout=120)
    at.run()
    assert not at.exception
    assert any("No training jobs yet" in i.value for i in at.info)
    at.number_input[0].set_value(1)  # epochs
    at.number_input[1].set_value(16)  # batch size
    [n for n in at.number_input if n.label.startswith("Max training images")][0].set_value(48)
    [n for n in at.number_input if n.label.startswith("Random erasing")][0].set_value(0.5)
    [n for n in at.number_input if n.label.startswith("CutMix")][0].set_value(1.0)
    [n for n in at.number_input if n.label == "Weight decay"][0].set_value(0.0005)
    xla = next(s for s in at.selectbox if s.label == "XLA compile")
    assert xla.value is None  # auto: a job this small is not worth compiling
    xla.select(False)
    at.button[0].click().run()
    assert not at.exception
    assert any("Queued job-" in t.value for t in at.toast)  # a toast: no stale "Queued" box once the job ends
    store = JobStore()
    job_id = store.list()[0]["id"]
    job = store.wait(job_id, timeout=300)
    assert job["status"] == "completed", store.log_tail(job_id)
    at.run()
    assert not at.exception
    assert any(job["run_id"] in s.value for s in at.success)
    table = at.dataframe[0].value
    assert table.iloc[0]["status"] == "completed"
    import json
    saved = json.loads((tmp_path / job["run_id"] / "config.json").read_text())["train_config"]
    assert saved["augment"]["erasing"] == 0.5 and saved["augment"]["cutmix"] == 1.0
    assert saved["weight_decay"] == 0.0005 and saved["distill_weight"] == 0.0 and saved["teacher_runs"] == []
    assert saved["jit_compile"] is False


def test_train_page_rejects_a_missing_dataset_path_clearly(monkeypatch, tmp_path):
    monkeypatch.setenv("FER_MODELS_DIR", str(tmp_path))
    at = AppTest.from_file(TRAIN, default_timeout=120)
    at.run()
    bad = tmp_path / "bad.csv"
    bad.write_text("emotion,pixels,Usage\n3,1 2 3,Training\n")
    for path, message in (("", "no dataset path given"), ("/etc/passwd", "outside the folders the app may use"),
                          (str(tmp_path / "none.csv"), "file not found"), (str(bad), "3 pixel values")):
        at.selectbox(key="train_dataset").select("Other path…").run()
        at.text_input(key="train_other_path").input(path)
        at.button[0].click().run()
        assert not at.exception
        assert any(message in e.value for e in at.error), (path, [e.value for e in at.error])
    from fer_core.jobs.store import JobStore
    assert JobStore().list() == []  # checked before queueing: no job for any of them


def test_the_forms_defaults_follow_the_chosen_dataset(monkeypatch, tmp_path):
    """Picking the demo gives the demo's defaults (which learn it in about a minute), not FER2013's."""
    from fer_core.training.config import TrainConfig
    monkeypatch.setenv("FER_MODELS_DIR", str(tmp_path))
    monkeypatch.setenv("FER_DATA", str(tmp_path / "fer2013.csv.gz"))  # a configured FER2013 is offered first
    at = AppTest.from_file(TRAIN, default_timeout=120)
    at.run()
    epochs = lambda: next(n for n in at.number_input if n.label == "Epochs").value  # noqa: E731
    assert epochs() == TrainConfig.for_data("x").epochs
    at.selectbox(key="train_dataset").select("Demo faces (synthetic, built in)").run()
    assert not at.exception
    demo = TrainConfig.for_data("demo")
    assert epochs() == demo.epochs != TrainConfig.for_data("x").epochs
    assert next(c for c in at.checkbox if c.label == "Augment").value == demo.augment_enabled


def test_a_typed_dataset_sets_the_scheme_and_is_checked_before_queueing(monkeypatch, tmp_path, shared_data):
    """The label scheme follows a typed dataset's own labels (CK+ here, a Relabel export's fer2024 likewise), and a
    dataset without labelled training rows is refused before a job is queued."""
    import numpy as np

    from conftest import write_fer_csv
    monkeypatch.setenv("FER_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("FER_DATA_ROOTS", f"{tmp_path}:{shared_data}")
    at = AppTest.from_file(TRAIN, default_timeout=120)
    at.run()
    at.selectbox(key="train_dataset").select("Other path…").run()
    at.text_input(key="train_other_path").input(str(shared_data / "ckplus" / "ckplus.csv.gz")).run()
    assert not at.exception and not at.error
    assert next(s for s in at.selectbox if s.label == "Label scheme").value == "ckplus"
    assert any("labels in ckplus" in c.value for c in at.caption)
    tests_only = write_fer_csv(tmp_path / "tests_only.csv", np.zeros((7, 48, 48), np.uint8), np.arange(7),
                               ["PublicTest"] * 7)
    at.text_input(key="train_other_path").input(str(tests_only)).run()
    assert next(s for s in at.selectbox if s.label == "Label scheme").value == "fer2013"
    at.button[0].click().run()
    assert not at.exception
    assert any("Cannot start training" in e.value and "split 'Training'" in e.value for e in at.error), \
        [e.value for e in at.error]
    assert JobStore().list() == []


def test_a_cut_off_run_is_offered_for_resume_and_finishes(trains_for_minutes, monkeypatch, tmp_path):
    import json

    import pytest

    from fer_core.training.config import TrainConfig
    from fer_core.training.lifecycle import train
    from fer_core.training.progress import Progress

    class PowerCut(Progress):
        def epoch(self, epoch, logs):
            if epoch == 1:
                raise RuntimeError("power cut")

    monkeypatch.setenv("FER_MODELS_DIR", str(tmp_path))
    cfg = TrainConfig(architecture="cnn004", data="demo", epochs=3, batch_size=16, max_steps_per_epoch=2,
                      early_stopping_patience=None, run_name="cut")
    with pytest.raises(RuntimeError):
        train(cfg, progress=PowerCut(), out_root=tmp_path)
    (partial,) = tmp_path.glob("*.partial")
    at = AppTest.from_file(TRAIN, default_timeout=120)
    at.run()
    assert not any(b.label == "Resume" for b in at.button)  # its trainer (this process) is still alive
    (partial / "owner.pid").unlink()  # the trainer died
    at.run()
    assert any(partial.name in m.value and "epoch 1/3" in m.value for m in at.markdown)
    next(b for b in at.button if b.label == "Resume").click().run()
    assert not at.exception and any("to resume" in t.value for t in at.toast)
    store = JobStore()
    job = store.wait(store.list()[0]["id"], timeout=300)
    assert job["status"] == "completed", store.log_tail(job["id"])
    record = json.loads((tmp_path / partial.name.removesuffix(".partial") / "run.json").read_text())
    assert record["epochs_run"] == 3 and any("Resumed" in n for n in record["notes"])


def test_the_page_opens_on_the_best_recipe_that_fits_and_queues_its_adjustment(monkeypatch, tmp_path):
    """The demo gets the demo recipe with its time here; a recipe's logit adjustment travels with the job."""
    from fer_core.training.recipes import get_recipe
    monkeypatch.setenv("FER_MODELS_DIR", str(tmp_path))
    at = AppTest.from_file(TRAIN, default_timeout=120)
    at.run()
    at.selectbox(key="train_dataset").select("Demo faces (synthetic, built in)").run()
    assert not at.exception
    recipe = next(s for s in at.selectbox if s.label == "Recipe")
    assert recipe.value == "demo" and recipe.options[-1].startswith("Custom")
    assert any("of training here" in c.value for c in at.caption), [c.value for c in at.caption]
    epochs = next(n for n in at.number_input if n.label == "Epochs")
    assert epochs.value == get_recipe("demo").train_config("demo").epochs
    recipe.select("custom").run()
    assert any("TrainConfig's default" in c.value for c in at.caption)
    from fer_core.jobs.store import JobStore
    store = JobStore()
    job = store.submit(get_recipe("fernet-cosine").train_config("demo", epochs=1), start=False,
                       adjust=get_recipe("fernet-cosine").adjust)
    assert store.read(job)["adjust"] == {"criterion": "macro_f1"}
