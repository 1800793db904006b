"""Curation with a real saved run: its features, the map, model suggestions and a learning round, on the demo."""
import numpy as np
import pytest

from fer_core.data.loading import load_dataset
from fer_core.relabel import loop
from fer_core.relabel.embeddings import cached_layout, features, layout
from fer_core.relabel.project import RelabelProject
from fer_core.relabel.review import ReviewSession
from fer_core.relabel.suggest import Thresholds, suggestions
from fer_core.runs.run import Run

pytestmark = pytest.mark.training  # layer (the folder says the subject)


def test_features_map_suggestions_and_a_round_from_a_saved_run(two_runs, tmp_path, monkeypatch):
    monkeypatch.setenv("FER_RELABEL_DIR", str(tmp_path))
    ds = load_dataset("demo")
    monkeypatch.setenv("FER_CACHE_DIR", str(tmp_path / "cache"))  # the Dataset page's test may have built this map
    run = Run.load(two_runs[0])
    feats = features(run, ds)
    assert feats.shape[0] == len(ds) and np.allclose(np.linalg.norm(feats, axis=1), 1, atol=1e-4)
    assert cached_layout(run, ds) is None
    xy = layout(run, ds)  # 392 images: a PCA
    assert xy.shape == (len(ds), 2) and np.array_equal(cached_layout(run, ds), xy)
    s = suggestions(ds, "fer2024", run)
    assert s.sources == (run.id,) and (s.label >= 0).all() and s.label.max() < 7  # a 7-class model
    project = RelabelProject("curation", ds)
    review = ReviewSession(project, "ann", "tab", s, Thresholds(min_model_prob=0.0))
    page = review.grid_page(next(iter(review.grid_counts())), 24)
    assert review.accept(page).written == len(page) == 24
    mapped = np.where(ds.labels < 7, ds.labels, 0)  # the demo's own labels, as a careful annotator would give
    for r in [r for r in range(len(ds)) if r not in set(page.rows.tolist())][:36]:
        project.label(r, "ann", int(mapped[r]), "tab")
    path = loop.learn(project, run, "ann")
    assert loop.rounds(project)[0]["labels"] == 60 and path.exists()
    rates = loop.overrules(project, "ann", np.eye(10, dtype=np.float32)[s.label])
    assert rates[0]["labels"] == 36 and rates[1]["labels"] == 0  # grid accepts are not overrules to count
