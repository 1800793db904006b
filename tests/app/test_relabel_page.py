"""AppTest for Relabel: label with the class buttons, undo, survive a fresh session, agreement, export."""
import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO
from fer_core.data.loading import load_dataset
from fer_core.relabel.store import LabelStore

pytestmark = pytest.mark.app  # layer (the folder says the subject)

RELABEL = str(REPO / "app_pages" / "2_Relabel.py")


def start(monkeypatch, tmp_path, name="alice"):
    monkeypatch.setenv("FER_RELABEL_DIR", str(tmp_path / "relabel"))
    at = AppTest.from_file(RELABEL, default_timeout=120)
    at.run()
    assert not at.exception
    assert any("Type your name" in i.value for i in at.info)
    at.sidebar.text_input(key="annotator").input(name).run()
    assert not at.exception
    # dataset order: the smart order follows model suggestions that arrive from a background thread
    at.sidebar.selectbox(key="q_order").select("dataset").run()
    return at


def button(at, key):
    return at.button(key=key)


def test_label_undo_and_reload(monkeypatch, tmp_path):
    at = start(monkeypatch, tmp_path)
    for j in (3, 3, 7, 9, 0):
        button(at, f"lab_{j}").click().run()
        assert not at.exception
    assert any("Saved #" in c.value for c in at.caption)
    button(at, "nav_undo").click().run()
    store = LabelStore(tmp_path / "relabel" / "fer2024.sqlite")
    labels = store.labels_of("alice")
    assert sorted(labels.values()) == [3, 3, 7, 9]
    # a new browser session (fresh AppTest) sees the same saved labels and skips them in its queue
    again = start(monkeypatch, tmp_path)
    ds = load_dataset("demo")
    assert again.get("image")[0].proto.imgs[0].caption.startswith(f"#{ds.ids[4]}")
    again.radio(key="relabel_view").set_value("Progress").run()
    progress = {m.label: m.value for m in again.metric}
    assert progress["Labelled by you"] == "4"


def test_two_annotators_agreement_and_export(monkeypatch, tmp_path):
    a = start(monkeypatch, tmp_path, "alice")
    for j in (3, 4, 5):
        button(a, f"lab_{j}").click().run()
    b = start(monkeypatch, tmp_path, "bob")
    for j in (3, 4, 6):
        button(b, f"lab_{j}").click().run()
    b.radio(key="relabel_view").set_value("Agreement").run()
    assert any("Fleiss" in m.value for m in b.markdown)
    assert not any(k.proto.id.endswith("lab_3") for k in b.button)  # no label keys outside the Label view
    assert len(b.dataframe[-1].value) == 1  # one disagreement to resolve
    b.radio(key="relabel_view").set_value("Export / import").run()
    b.text_input(key="export_dir").input(str(tmp_path / "out")).run()
    b.radio(key="export_policy").set_value("annotator").run()
    button(b, "export_btn").click().run()
    assert not b.exception and any("Exported" in s.value for s in b.success)
    assert load_dataset(tmp_path / "out" / "fer2024-fer2024.csv").scheme == "fer2024"


def test_model_prediction_and_ranking_queue(monkeypatch, tmp_path, two_runs):  # ranks by a run of this data
    at = start(monkeypatch, tmp_path)
    run_id = two_runs[0].name
    at.sidebar.selectbox(key="q_predict").select(run_id).run()
    assert not at.exception
    assert any(m.value.startswith(f"Model `{run_id[:40]}`") for m in at.markdown)
    at.sidebar.selectbox(key="q_rank").select(f"run: {run_id}").run()
    assert not at.exception
    assert any("flagged as likely label errors" in c.value for c in at.sidebar.caption)


def test_the_annotator_name_survives_a_reload_and_navigation_clears_the_saved_line(monkeypatch, tmp_path):
    at = start(monkeypatch, tmp_path, name="carol")
    assert at.query_params["annotator"] == "carol"  # kept in the page's address
    button(at, "lab_2").click().run()
    assert any("Saved #" in c.value for c in at.caption)
    button(at, "nav_skip").click().run()
    assert not any("Saved #" in c.value for c in at.caption)  # it described the image left behind
    reloaded = AppTest.from_file(RELABEL, default_timeout=120)  # a reload: a new session, the same address
    reloaded.query_params["annotator"] = "carol"
    reloaded.run()
    assert not reloaded.exception
    assert reloaded.sidebar.text_input(key="annotator").value == "carol"
    assert not any("Type your name" in i.value for i in reloaded.info)


def test_grid_view_offers_pages_by_suggested_class_and_progress_counts_routes(monkeypatch, tmp_path, shipped_run):
    at = start(monkeypatch, tmp_path, "dana")
    at.radio(key="relabel_view").set_value("Grid").run()
    assert any("No open image has a suggestion" in i.value for i in at.info)  # no votes, no default model here
    at.sidebar.selectbox(key="s_model").select(shipped_run.name).run()
    at.sidebar.slider(key="s_prob").set_value(0.15).run()  # the demo has no votes: the model alone suggests
    at.radio(key="relabel_view").set_value("Grid").run()
    assert not at.exception
    import time
    deadline = time.time() + 90  # the model's pass runs in a background thread, once per data version
    while not any(s.key == "grid_class" for s in at.selectbox) and time.time() < deadline:
        assert any("being computed in the background" in c.value for c in at.caption), "no grid and no reason"
        time.sleep(1)
        at.run()
    classes = at.selectbox(key="grid_class")
    assert classes.options and "open)" in classes.options[0]
    assert any("most certain first" in c.value for c in at.caption)
    at.radio(key="relabel_view").set_value("Progress").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Grid-accepted"] == "0" and metrics["Still open"] == "392"
