"""AppTest for Home and Dataset: on the built-in demo, and on the real FER2013 when it is there."""
import os

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO

pytestmark = pytest.mark.app  # layer (the folder says the subject)

HOME = str(REPO / "app_pages" / "0_Overview.py")
DATASET = str(REPO / "app_pages" / "1_Dataset.py")


def run(script, **env):
    old = {k: os.environ.get(k) for k in env}
    os.environ.update({k: str(v) for k, v in env.items()})
    try:
        at = AppTest.from_file(script, default_timeout=120)
        at.run()
        return at
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def texts(at):
    return " ".join(str(e.value) for coll in (at.markdown, at.caption, at.info, at.warning, at.error) for e in coll)


def test_home_without_data_shows_the_demo_and_how_to_configure():
    at = run(HOME)
    assert not at.exception
    assert any(m.label == "Dataset" and "Demo" in str(m.value) for m in at.metric)
    assert "FER_DATA" in texts(at)
    assert not at.error  # the sidebar lists the pages; Home does not repeat them


def test_dataset_page_on_demo_has_all_sections():
    at = run(DATASET)
    assert not at.exception
    assert "Demo dataset" in texts(at)
    assert [t.label for t in at.tabs] == ["Class balance", "Samples", "Data quality", "FER2013 vs FERPlus",
                                          "Map and neighbours"]
    charts = [e for e in at.get("plotly_chart")]
    assert charts, "class balance chart missing"
    findings = {r["finding"]: r["count"] for r in at.dataframe[1].value.to_dict("records")}
    assert findings["PublicTest images also in Training (leaks)"] == 2
    assert len(at.get("image")) >= 1


def test_dataset_map_tab_builds_the_map_then_finds_similar_images_and_near_duplicates(shipped_run, tmp_path, monkeypatch):
    import time
    monkeypatch.setenv("FER_CACHE_DIR", str(tmp_path))  # a map other tests built would already be on disk
    at = AppTest.from_file(DATASET, default_timeout=120)
    at.session_state["dataset_tab"] = "Map and neighbours"  # the tab is lazy: its content runs only while open
    at.run()
    assert not at.exception
    at.selectbox(key="map_run").select(shipped_run.name).run()
    at.button(key="map_build").click().run()
    deadline = time.time() + 90
    def has_map():  # the class balance tab draws a chart too: the map's own widgets say it is there
        return any(t.key == "map_similar" for t in at.text_input)

    while not has_map() and time.time() < deadline:  # built in a background thread
        assert not at.exception and any("Building the map" in c.value for c in at.caption)
        time.sleep(1)
        at.run()
    assert has_map(), "no map after 90 s"
    assert any(r.key == "map_colour" for r in at.radio)
    assert any("found in" in c.value for c in at.caption)
    at.text_input(key="map_similar").input("no-such-id").run()
    assert any("No image with id" in w.value for w in at.warning)
    at.toggle(key="map_near").set_value(True).run()
    assert not at.exception and any("groups: perceptual hashes" in c.value for c in at.caption)


def test_dataset_page_switches_scheme_and_split():
    at = run(DATASET)
    at.sidebar.selectbox[1].select_index(1).run()  # FER2013 labels -> next reachable scheme
    assert not at.exception
    at.sidebar.selectbox[2].select("PublicTest").run()
    assert not at.exception
    at.radio[0].set_value("percent").run()
    assert not at.exception


def test_dataset_page_bad_path_shows_a_message_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("emotion,pixels,Usage\n3,1 2 3,Training\n")
    at = run(DATASET)
    at.sidebar.selectbox[0].select("Other path…").run()
    at.sidebar.text_input[0].input(str(bad)).run()
    assert not at.exception
    assert any("3 pixel values, expected 2304" in e.value for e in at.error)


def test_dataset_page_on_real_fer2013(shared_data):
    at = run(DATASET, FER_DATA_DIR=shared_data)
    assert not at.exception
    first = at.dataframe[0].value  # class weights
    assert round(float(first.loc["disgust", "Training"]), 3) == 9.407
    findings = {r["finding"]: r["count"] for r in at.dataframe[1].value.to_dict("records")}
    assert findings["rows sharing an image with another row"] == 3369
    assert findings["PrivateTest images also in Training (leaks)"] == 288
    assert any(m.label == "Agreement with FERPlus" for m in at.metric)


def test_dataset_page_on_jaffe_and_affectnet_folders_as_distributed(shared_data, tmp_path, monkeypatch):
    """FER_DATA_DIR's dataset folders in their authors' layouts are offered by name; a near-miss is one message."""
    import layout_fixtures

    from fer_core.data.loading import load_dataset
    ck = load_dataset(shared_data / "ckplus" / "ckplus.csv.gz")
    faces = ck.images[::25][:30]
    layout_fixtures.jaffe(tmp_path / "jaffe", faces)
    layout_fixtures.affectnet(tmp_path / "affectnet", faces, np.arange(30) % 11)
    (tmp_path / "rafdb" / "basic").mkdir(parents=True)  # unpacked only half way
    monkeypatch.setenv("FER_DATA_DIR", str(tmp_path))  # for every rerun, not only the first
    at = run(DATASET)
    offered = at.sidebar.selectbox[0].options
    assert any(o.startswith("JAFFE — ") for o in offered) and any(o.startswith("AffectNet — ") for o in offered)
    assert not any("RAF-DB" in o for o in offered)
    at.sidebar.selectbox[0].select(next(o for o in offered if o.startswith("AffectNet"))).run()
    assert not at.exception and not at.error
    assert any(m.label == "Images" and m.value == "30" for m in at.metric), [(m.label, m.value) for m in at.metric]
    assert any("**valence** mean" in c.value and "**arousal**" in c.value for c in at.caption)
    at.sidebar.selectbox[0].select(next(o for o in offered if o.startswith("JAFFE"))).run()
    assert not at.exception and not at.error
    at.sidebar.selectbox[0].select("Other path…").run()
    at.sidebar.text_input[0].input(str(tmp_path / "rafdb")).run()
    assert not at.exception
    assert any("looks like RAF-DB basic" in e.value for e in at.error)


def test_home_shows_the_shipped_default_models_card():
    import json
    at = run(HOME, FER_MODELS_DIR=REPO / "models")
    assert not at.exception and not at.error
    pointer = (REPO / "models" / "default_run.txt").read_text().strip()
    card = json.loads((REPO / "models" / pointer / "card.json").read_text())
    shown = {m.label: m.value for m in at.metric}
    assert shown["FER2013 PrivateTest"] == f"{100 * card['fer2013_privatetest']['accuracy']:.1f}%"
    assert shown["CK+48"] == f"{100 * card['ckplus']['accuracy']:.1f}%"
    metrics = json.loads((REPO / "models" / pointer / "metrics.json").read_text())
    assert abs(card["fer2013_privatetest"]["accuracy"] - metrics["test"]["accuracy"]) < 1e-3  # measured, not typed
    if card.get("versus"):  # the side-by-side table shows accuracies as the metrics do, in percent
        table = at.dataframe[0].value
        assert list(table["PrivateTest"]) == [f"{100 * row['PrivateTest']:.1f}%" for row in card["versus"]]


@pytest.mark.parametrize("path", ["/etc/passwd", "/proc/self/environ", "/dev/zero", "/etc/no-such-file",
                                  "../../../../etc/passwd", "/tmp/../etc/shadow"])
def test_dataset_page_refuses_paths_outside_the_roots_without_a_hint_of_their_contents(path):
    at = run(DATASET)
    at.sidebar.selectbox[0].select("Other path…").run()
    at.sidebar.text_input[0].input(path).run()
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert "outside the folders the app may use" in shown  # the same answer whether the file exists or not
    everything = " ".join(str(el.proto) for el in at.main) + " ".join(str(el.proto) for el in at.sidebar)
    assert "root:" not in everything and "PATH=" not in everything


@pytest.mark.parametrize("page", ["2_Relabel.py", "3_Train.py", "4_Compare.py", "5_Live.py"])
def test_every_page_that_lists_runs_names_the_broken_ones(page, tiny_run, monkeypatch, tmp_path):
    import shutil

    import streamlit_webrtc
    monkeypatch.setattr(streamlit_webrtc, "webrtc_streamer", lambda **kw: None)  # cannot run under AppTest
    monkeypatch.setenv("FER_MODELS_DIR", str(tmp_path))
    shutil.copytree(tiny_run, tmp_path / tiny_run.name)
    broken = tmp_path / "20991231-235959-newest-but-broken-0000"
    shutil.copytree(tiny_run, broken)
    (broken / "config.json").write_text("{oops")
    at = AppTest.from_file(str(REPO / "app_pages" / page), default_timeout=240)
    at.run()
    assert not at.exception
    shown = " ".join(c.value for c in at.sidebar.caption)
    assert f"{broken.name} — broken: config.json is not valid JSON" in shown
