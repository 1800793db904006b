"""AppTest for team curation on the Relabel page (SQLite and PostgreSQL): an admin asks for k = 2 and blind
labelling, two annotators get the same images, a reviewer settles the disagreement, the admin's export
records each label's source, and an annotator can neither change settings nor export."""
import json
import uuid

import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO
from fer_core.app.auth import add_user

pytestmark = pytest.mark.app  # layer (the folder says the subject)

RELABEL = str(REPO / "app_pages" / "2_Relabel.py")


@pytest.fixture(params=["sqlite", "postgresql"])
def team(request, tmp_path, monkeypatch):
    path = tmp_path / "auth.yaml"
    for user, role in (("ann", "annotator"), ("bea", "annotator"), ("rev", "reviewer"), ("adm", "admin")):
        add_user(path, user, user, f"{user}-secret-pw", role=role)
    monkeypatch.setenv("FER_AUTH_FILE", str(path))
    monkeypatch.setenv("FER_RELABEL_DIR", str(tmp_path / "relabel"))
    project = f"team-{uuid.uuid4().hex[:8]}"
    if request.param == "postgresql":
        monkeypatch.setenv("FER_DATABASE_URL", request.getfixturevalue("pg_url"))
    yield project
    from fer_core.relabel.project import delete_project
    from fer_core.relabel.roles import Actor
    delete_project(project, Actor.operator())


def signed_in(user: str, project: str) -> AppTest:
    at = AppTest.from_file(RELABEL, default_timeout=120)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = user
    at.run()
    at.sidebar.text_input(key="project_name").input(project).run()
    assert not at.exception, at.exception
    return at


def shown_image(at) -> str:
    return at.get("image")[0].proto.imgs[0].caption.split(" ")[0]


def test_k2_blind_review_and_export_on_the_page(team, tmp_path):
    adm = signed_in("adm", team)
    adm.radio(key="relabel_view").set_value("Team").run()
    adm.number_input(key="team_k").set_value(2)
    adm.checkbox(key="team_blind").check()
    adm.button[[b.label for b in adm.button].index("Save team settings")].click().run()
    assert not adm.exception and any("Saved" in s.value for s in adm.success)

    ann, bea = signed_in("ann", team), signed_in("bea", team)
    assert any("Team queue" in c.value for c in ann.sidebar.caption)
    assert any("Blind labelling" in c.value for c in ann.caption)
    first = shown_image(ann)
    assert shown_image(bea) == first  # the second label of the same image: k = 2 fills images first
    for j in (3, 4):
        ann.button(key=f"lab_{j}").click().run()
    for j in (3, 6):
        bea.button(key=f"lab_{j}").click().run()
    assert not ann.exception and not bea.exception
    # an annotator neither sees the reviewers' queue nor changes settings nor exports
    assert "Review" not in ann.radio(key="relabel_view").options
    ann.radio(key="relabel_view").set_value("Team").run()
    assert ann.button[[b.label for b in ann.button].index("Save team settings")].disabled
    ann.radio(key="relabel_view").set_value("Export / import").run()
    assert any("Only an admin" in i.value for i in ann.info)

    rev = signed_in("rev", team)
    rev.radio(key="relabel_view").set_value("Review").run()
    assert any("1 image waits" in c.value for c in rev.caption)
    labels = rev.dataframe[0].value
    assert set(labels["annotator"]) == {"ann", "bea"}  # the reviewer sees every label and who gave it
    rev.button(key="decide_6").click().run()
    assert not rev.exception and any("Decided" in s.value for s in rev.success)
    assert any("Nothing to review" in s.value for s in rev.success)

    adm.radio(key="relabel_view").set_value("Export / import").run()
    adm.text_input(key="export_dir").input(str(tmp_path / "out")).run()
    adm.checkbox(key="export_images").uncheck().run()
    adm.button(key="export_btn").click().run()
    assert not adm.exception and any("Exported" in s.value for s in adm.success)
    assert any("Where each label came from" in m.value and "1 reviewer" in m.value for m in adm.markdown)
    shown = adm.dataframe[-1].value
    assert shown.iloc[0]["source"] == "reviewer" and shown.iloc[0]["reviewer"] == "rev"
    meta = json.loads(next((tmp_path / "out").glob("*.meta.json")).read_text())
    assert meta["policy"] == "resolved" and meta["source_counts"] == {"consensus": 1, "reviewer": 1}


def test_an_unreachable_team_database_is_a_clear_message_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_RELABEL_DIR", str(tmp_path / "relabel"))
    monkeypatch.setenv("FER_DATABASE_URL", "postgresql://fer:s3cret@127.0.0.1:1/fer")
    at = AppTest.from_file(RELABEL, default_timeout=120)
    at.run()
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert "cannot connect to the label database" in shown and "s3cret" not in shown
