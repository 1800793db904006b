"""Team curation on a Relabel project, on SQLite and on PostgreSQL: k labels per image, blind mode, roles
checked in fer_core, consensus (Dawid–Skene and majority), annotator quality, review and the export's sources."""
import json
import uuid

import numpy as np
import pandas as pd
import pytest

from fer_core.data import consensus as cons
from fer_core.data.loading import load_dataset
from fer_core.errors import ConfigError, PermissionDenied
from fer_core.relabel.project import RelabelProject, delete_project
from fer_core.relabel.roles import Actor, role_of

pytestmark = pytest.mark.unit  # layer (the folder says the subject)

ANN_A, ANN_B, ANN_C = Actor("ann"), Actor("bea"), Actor("cal")
REVIEWER, ADMIN = Actor("rev", "reviewer"), Actor("adm", "admin")


@pytest.fixture(scope="module")
def demo():
    return load_dataset("demo")


@pytest.fixture(params=["sqlite", "postgresql"])
def project(request, demo, tmp_path, monkeypatch):
    monkeypatch.setenv("FER_RELABEL_DIR", str(tmp_path / "relabel"))
    if request.param == "postgresql":
        monkeypatch.setenv("FER_DATABASE_URL", request.getfixturevalue("pg_url"))
    name = f"team-{uuid.uuid4().hex[:8]}"
    yield RelabelProject(name, demo)
    delete_project(name, ADMIN)


def test_k_labels_per_image_spread_over_annotators(project):
    project.team.configure(ADMIN, k=2)
    a = project.team.next_rows(ANN_A, 5)
    b = project.team.next_rows(ANN_B, 5)
    c = project.team.next_rows(ANN_C, 5)
    assert list(a) == list(b) and not set(c) & set(a)  # bea takes the second slot of ann's images; cal new ones
    for who, rows in ((ANN_A, a), (ANN_B, b)):
        for r in rows:
            project.label(r, who.name, 3)
    p = project.team.progress()
    assert p["with_k_labels"] == 5 and p["labels"] == 10
    assert not set(project.team.next_rows(ANN_A, 5)) & set(a)  # never an image ann already labelled


def test_blind_mode_hides_others_labels_from_annotators_not_reviewers(project):
    row = 0
    image = str(project.ds.ids[row])
    project.label(row, "ann", 3)
    project.label(row, "bea", 4)
    assert len(project.team.labels_of_image(image, ANN_A)) == 2
    project.team.configure(ADMIN, blind=True)
    assert [e["annotator"] for e in project.team.labels_of_image(image, ANN_A)] == ["ann"]
    assert not project.team.shows_others(ANN_A)
    seen = {e["annotator"]: e["label"] for e in project.team.labels_of_image(image, REVIEWER)}
    assert seen == {"ann": project.target.classes[3], "bea": project.target.classes[4]}


def test_roles_are_checked_in_fer_core(project, tmp_path, monkeypatch):
    with pytest.raises(PermissionDenied, match="annotator and cannot change"):
        project.team.configure(ANN_A, k=3)
    with pytest.raises(PermissionDenied, match="reviewer role"):
        project.team.decide(str(project.ds.ids[0]), 1, ANN_A)
    with pytest.raises(PermissionDenied, match="admin role"):
        project.export(tmp_path / "out", actor=REVIEWER)
    with pytest.raises(PermissionDenied):
        project.import_export(tmp_path / "x.csv", actor=ANN_A)
    with pytest.raises(PermissionDenied):
        delete_project(project.name, REVIEWER)
    project.team.decide(str(project.ds.ids[0]), 1, REVIEWER)  # a reviewer decides
    monkeypatch.setenv("FER_AUTH_FILE", str(tmp_path / "users.yaml"))  # team mode: no anonymous admin
    with pytest.raises(PermissionDenied, match="sign in"):
        project.team.configure(None, k=2)
    with pytest.raises(ConfigError, match="1 to 10"):
        project.team.configure(ADMIN, k=11)
    assert role_of({"roles": ["reviewer", "nonsense"]}) == "reviewer" and role_of({}) == "annotator"


def test_review_decides_and_export_records_each_labels_source(project, tmp_path):
    project.team.configure(ADMIN, k=3, review_threshold=0.9, method="majority")
    # rows 0-2: unanimous; row 3: 2 vs 1 (confidence 0.67 < 0.9: review); row 4: a single label
    for r in range(3):
        for who in ("ann", "bea", "cal"):
            project.label(r, who, 2)
    for who, lab in (("ann", 5), ("bea", 5), ("cal", 6)):
        project.label(3, who, lab)
    project.label(4, "ann", 7)
    queue = project.team.review_queue(REVIEWER)
    disputed = str(project.ds.ids[3])
    assert list(queue.index) == [disputed]
    seen = {e["annotator"]: e["index"] for e in project.team.labels_of_image(disputed, REVIEWER)}
    assert seen == {"ann": 5, "bea": 5, "cal": 6}
    project.team.decide(disputed, 6, REVIEWER, note="cal is right")
    assert project.team.review_queue(REVIEWER).empty
    resolved = project.team.resolved()
    assert resolved.loc[disputed, ["label", "source", "reviewer"]].tolist() == [6, "reviewer", "rev"]
    assert resolved.loc[str(project.ds.ids[0]), "source"] == "consensus"
    assert resolved.loc[str(project.ds.ids[4]), ["label", "source"]].tolist() == [7, "single"]
    csv = project.export(tmp_path / "out", policy="resolved", images=False, actor=ADMIN)
    meta = json.loads(csv.with_name(csv.name + ".meta.json").read_text())
    by_id = dict(zip(meta["ids"], meta["label_sources"]))
    assert by_id[disputed] == "reviewer" and by_id[str(project.ds.ids[4])] == "single"
    assert meta["source_counts"] == {"consensus": 3, "reviewer": 1, "single": 1}
    rows = pd.read_csv(csv)
    assert len(rows) == 5 and 6 in rows["emotion"].tolist()


def test_dawid_skene_outweighs_a_careless_annotator():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, 200)
    rows = []
    for t, y in enumerate(truth):
        rows += [(t, "good1", y), (t, "good2", y if rng.random() < 0.9 else (y + 1) % 4)]
        rows += [(t, f"careless{j}", rng.integers(0, 4)) for j in range(2)]  # two annotators who guess
    table = pd.DataFrame(rows, columns=["task", "worker", "label"])
    ds = cons.estimate(table, 4, "dawid-skene")
    mv = cons.estimate(table, 4, "majority")
    ds_acc = (ds.loc[[str(t) for t in range(200)], "label"].to_numpy() == truth).mean()
    mv_acc = (mv.loc[[str(t) for t in range(200)], "label"].to_numpy() == truth).mean()
    assert ds_acc > 0.95 and ds_acc > mv_acc
    quality = cons.annotator_quality(table, ds, 4)
    assert quality["good1"]["kappa"] > 0.9 and quality["careless0"]["kappa"] < 0.2
    assert quality["good2"]["confusion"].sum() == 200 and np.trace(quality["good1"]["confusion"]) >= 190


def test_ferplus_votes_enter_as_one_crowd_annotator():
    votes = np.array([[8, 2, 0], [1, 1, 8], [0, 0, 0]])
    crowd = cons.ferplus_crowd(votes, ["a", "b", "c"])
    assert len(crowd) == 20 and set(crowd["worker"]) == {"ferplus"}
    assert crowd.groupby("task").size().to_dict() == {"a": 10, "b": 10}
    with pytest.raises(Exception, match="unknown consensus method"):
        cons.estimate(crowd, 3, "vibes")


def test_sweeps_store_their_studies_on_the_team_server(pg_url, monkeypatch):
    import optuna

    from fer_core.sweeps import study as sweeps
    monkeypatch.setenv("FER_DATABASE_URL", pg_url)
    url = sweeps.default_storage("s")
    assert url.startswith("postgresql+psycopg://")
    name = f"test-{uuid.uuid4().hex[:8]}"
    optuna.create_study(study_name=name, storage=sweeps._storage(url))
    try:
        assert name in sweeps.list_studies()
    finally:
        optuna.delete_study(study_name=name, storage=sweeps._storage(url))


def test_a_lone_label_is_exported_as_given_and_the_crowd_adds_no_image(project):
    """Dawid–Skene learns that 'ann' says 1 where others say 0; her lone label of another image is still hers."""
    project.team.configure(ADMIN, k=3)
    for r in range(10):
        project.label(r, "ann", 1)
        project.label(r, "bea", 0)
        project.label(r, "cal", 0)
    project.label(20, "ann", 1)
    resolved = project.team.resolved()
    lone = str(project.ds.ids[20])
    assert resolved.loc[lone, ["label", "source", "n_labels"]].tolist() == [1, "single", 1]
    assert len(resolved) == 11


def test_grid_review_is_refused_in_fer_core_for_k_above_one(project):
    from fer_core.relabel.review import GridPage, ReviewSession
    project.team.configure(ADMIN, k=2)
    review = ReviewSession(project, "ann", "tab", None)
    page = GridPage(rows=np.array([0, 1]), label=3, token="t")
    with pytest.raises(ConfigError, match="grid review is off"):
        review.accept(page)


def test_quality_is_hidden_from_annotators_in_blind_mode(project):
    project.team.configure(ADMIN, blind=True)
    with pytest.raises(PermissionDenied):
        project.team.quality(ANN_A)
    assert project.team.quality(REVIEWER) == {}


def test_passwords_never_reach_a_message():
    from fer_core.relabel.database import redact
    assert redact("postgresql://u:pa/ss?x#y@host:5432/db") == "postgresql://u:***@host:5432/db"
    assert redact("postgresql://u@host/db") == "postgresql://u@host/db"
    assert redact("u:secret@host") == "(not a URL)"
