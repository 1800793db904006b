"""The active-learning loop on stand-in features: a round learns the labels given so far, suggests for every image,
never suggests back a label it was taught (out-of-fold), and the overrule rates follow the rounds."""
import numpy as np
import pytest

from fer_core.data.dataset import Dataset
from fer_core.errors import DataError
from fer_core.relabel import embeddings, loop
from fer_core.relabel.project import RelabelProject
from fer_core.relabel.suggest import oof_distribution

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


class FakeRun:
    id, model_mtime = "fake", 0


@pytest.fixture
def project(label_backend, monkeypatch):
    rng = np.random.default_rng(0)
    n = 300
    truth = np.arange(n) % 3 + 3  # happy, sad, surprise in fer2024
    feats = rng.normal(size=(n, 16)).astype(np.float32)
    feats[np.arange(n), truth] += 4.0  # separable: a round can learn them
    monkeypatch.setattr(embeddings, "features", lambda run, ds: feats)
    ds = Dataset("t", "t.csv", "fer2013", np.zeros((n, 48, 48), np.uint8), np.full(n, 6), np.array(["Training"] * n),
                 np.array([str(i) for i in range(n)]), "v1")
    p = RelabelProject("loop", ds)
    p.truth = truth
    return p


def test_a_round_learns_the_labels_so_far_and_suggests_for_every_image(project):
    with pytest.raises(DataError, match="at least 20 labels"):
        loop.learn(project, FakeRun(), "ann")
    for r in range(60):
        project.label(r, "ann", int(project.truth[r]), "tab")
    path = loop.learn(project, FakeRun(), "ann")
    dist = oof_distribution(path, project.ds, "fer2024")
    assert dist.shape == (300, 10) and np.allclose(dist.sum(axis=1), 1, atol=1e-5)
    assert (dist[60:].argmax(axis=1) == project.truth[60:]).mean() > 0.95  # images it never saw
    assert [r["round"] for r in loop.rounds(project)] == [1] and loop.rounds(project)[0]["labels"] == 60


def test_labelled_images_get_out_of_fold_probabilities(project, monkeypatch):
    # each image gets a feature of its own: a model fitted on an image's own label just echoes it back
    rng = np.random.default_rng(1)
    feats = np.concatenate([rng.normal(size=(300, 4)), 5 * np.eye(300)], axis=1).astype(np.float32)
    monkeypatch.setattr(embeddings, "features", lambda run, ds: feats)
    taught = rng.integers(3, 6, size=90)  # random labels: nothing to learn across images
    for r in range(90):
        project.label(r, "ann", int(taught[r]), "tab")
    dist = oof_distribution(loop.learn(project, FakeRun(), "ann"), project.ds, "fer2024")
    from sklearn.linear_model import LogisticRegression
    echo = LogisticRegression(max_iter=500, class_weight="balanced").fit(feats[:90], taught).predict(feats[:90])
    assert (echo == taught).mean() > 0.95  # what an in-sample suggestion would show the annotator
    assert (dist[:90].argmax(axis=1) == taught).mean() < 0.6  # out-of-fold: about chance (1/3)


def test_overrule_rates_are_counted_per_round(project):
    base = np.zeros((300, 10), np.float32)
    base[:, 3] = 1  # round 0 always suggests 'happy'
    for r in range(30):
        project.label(r, "ann", int(project.truth[r]), "tab")  # a third of them happy
    loop.learn(project, FakeRun(), "ann")
    for r in range(30, 60):
        project.label(r, "ann", int(project.truth[r]), "tab")
    rates = loop.overrules(project, "ann", base)
    assert [(t["round"], t["labels"], t["overruled"]) for t in rates] == [(0, 30, 20), (1, 30, rates[1]["overruled"])]
    assert rates[1]["overruled"] <= 3  # the round learned what round 0 got wrong
