"""Relabel project: queues, progress, agreement, export -> a dataset the trainer uses, import, label issues."""
import numpy as np
import pytest

from fer_core.data.loading import load_dataset
from fer_core.data.quality import analyse
from fer_core.relabel.label_issues import rank_label_issues
from fer_core.relabel.project import QueueFilter, RelabelProject, fleiss_kappa, labels_per_hour
from fer_core.training.config import TrainConfig
from fer_core.training.lifecycle import train

pytestmark = pytest.mark.training  # layer (the folder says the subject)


@pytest.fixture
def project(label_backend):
    return RelabelProject("test", load_dataset("demo"))


def test_queue_filters(project):
    ds = project.ds
    q = project.queue(QueueFilter(classes=("happy",), split="Training"), "ann")
    assert len(q) == 40 and (ds.labels[q] == 3).all()
    project.label(q[0], "ann", 3)
    assert len(project.queue(QueueFilter(classes=("happy",), split="Training"), "ann")) == 39
    assert len(project.queue(QueueFilter(classes=("happy",), split="Training", unlabelled_only=False), "ann")) == 40
    leaks = project.queue(QueueFilter(duplicates_or_leaks=True), "ann", analyse(ds))
    assert len(leaks) == 6


def test_progress_transitions_and_agreement(project):
    rows = project.queue(QueueFilter(split="Training"), "a")[:6]
    for r in rows[:4]:
        project.label(r, "a", 3)
    for r, lab in zip(rows[:4], (3, 3, 7, 8)):
        project.label(r, "b", lab)
    p = project.progress("a", rows)
    assert p["mine"] == 4 and p["queue_labelled"] == 4 and p["queue_total"] == 6 and p["per_class"] == {"happy": 4}
    tm = project.transition_matrix()
    assert tm.to_numpy().sum() == 8 and tm.loc["angry", "happy"] == 6  # demo Training starts with angry faces: a 4 + b 2
    ag = project.agreement()
    assert ag["images_with_2plus"] == 4 and len(ag["disagreements"]) == 2
    assert "a vs b" in ag["pairwise_cohen"]


def test_export_is_a_dataset_the_trainer_uses_and_it_imports_back(project, tmp_path):
    rows = project.queue(QueueFilter(split="Training"), "a")[:40]
    for i, r in enumerate(rows):
        project.label(r, "a", i % 10)
    val = project.queue(QueueFilter(split="PublicTest"), "a")[:10]
    for i, r in enumerate(val):
        project.label(r, "a", i % 10)
    csv = project.export(tmp_path / "export", policy="annotator", annotator="a")
    ds = load_dataset(csv)
    assert ds.scheme == "fer2024" and len(ds) == 50 and ds.class_names[-1] == "not-a-face"
    assert ds.ids[0] == project.ds.ids[rows[0]] and np.array_equal(ds.images[0], project.ds.images[rows[0]])
    assert (tmp_path / "export" / "Training" / "angry").is_dir()
    run = train(TrainConfig(architecture="cnn004", data=str(csv), scheme="fer2024", epochs=1, batch_size=16,
                            test_split="PrivateTest"), out_root=tmp_path / "runs")
    assert (run / "model.keras").exists()
    assert project.import_export(csv) == 50
    assert project.import_export(csv) == 0  # importing the same export again adds nothing
    assert project.store.labels_of(f"import:{csv.name}")[str(ds.ids[3])] == 3


def test_rank_label_issues_puts_contradicted_labels_first():
    labels = np.array([0, 0, 0, 1, 1, 1])
    probs = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.1, .9], [.7, .3]])
    order, flagged = rank_label_issues(labels, probs)
    assert flagged.tolist() == [False, False, True, False, False, True]
    assert set(order[:2]) == {2, 5}


def test_fleiss_and_rate():
    assert fleiss_kappa([[0, 0], [1, 1], [2, 2]], 3) == pytest.approx(1.0)
    assert fleiss_kappa([[0, 1], [1, 0]], 2) < 0
    times = [0, 10, 20, 10_000, 10_010] + [10_010 + 10 * i for i in range(1, 16)]  # 20 labels, one long break
    assert labels_per_hour(times) == pytest.approx(3600 * 19 / (10 + 10 + 300 + 10 + 150))
    assert labels_per_hour(times[:9]) is None  # 9 labels: no rate yet (was "1688 per hour")
    assert labels_per_hour([i * 2.0 for i in range(25)]) is None  # 25 labels in 48 s: too short to be a rate


def test_out_of_fold_job_feeds_the_ranking(tmp_path):
    from fer_core.jobs.store import JobStore
    from fer_core.relabel.oof import list_oof, load_oof
    store = JobStore(models_root=tmp_path / "models")
    job_id = store.submit(TrainConfig(architecture="cnn004", data="demo", epochs=1, batch_size=32,
                                      max_steps_per_epoch=2), oof_folds=3)
    job = store.wait(job_id, timeout=300)
    assert job["status"] == "completed", store.log_tail(job_id)
    files = list_oof(tmp_path / "models")
    assert len(files) == 1 and str(files[0]) == job["oof_file"]
    oof = load_oof(files[0])
    assert oof["probs"].shape == (280, 7) and oof["folds"] == 3
    assert np.allclose(oof["probs"].sum(axis=1), 1, atol=1e-4)  # every training image got a held-out prediction
    order, flagged = rank_label_issues(oof["labels"], oof["probs"])
    assert sorted(order.tolist()) == list(range(280))
    from fer_core.relabel.label_issues import rank_by_oof
    project = RelabelProject("oof-rank", load_dataset("demo"))
    rows, n_flagged = rank_by_oof(files[0], project)  # what the Relabel page's ranking shows, as dataset rows
    assert len(rows) == 280 and len(set(rows.tolist())) == 280 and n_flagged == int(flagged.sum())
    assert project.ds.ids[rows[0]] == oof["ids"][order[0]]
