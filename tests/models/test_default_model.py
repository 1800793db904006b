"""The model shipped in models/ (named by models/default_run.txt) is complete, small, and really classifies."""
import json

import pytest

from conftest import REPO
from fer_core.runs.store import default_run

pytestmark = pytest.mark.training  # layer (the folder says the subject)

MODELS = REPO / "models"


def test_default_run_is_complete_and_small():
    run = default_run(MODELS)
    assert run is not None and (MODELS / "default_run.txt").read_text().strip() == run.id
    for name in ("model.keras", "config.json", "history.csv", "metrics.json", "run.json"):
        assert (MODELS / run.id / name).exists(), name
    assert (MODELS / run.id / "model.keras").stat().st_size <= 5 * 2**20
    record = json.loads((MODELS / run.id / "run.json").read_text())
    assert record["status"] == "completed" and record["label"] and "--config" in record["command"]


def test_default_model_accuracy_on_a_real_privatetest_slice(shared_data):
    from fer_core.data.loading import load_dataset
    from fer_core.models.predict import predict_probs
    from fer_core.runs.loader import load_model
    run = default_run(MODELS)
    ds = load_dataset(shared_data / "fer2013.csv.gz").split("PrivateTest")
    probs = predict_probs(load_model(run), ds.images[:600])
    accuracy = float((probs.argmax(1) == ds.labels[:600]).mean())
    assert accuracy >= 0.55, accuracy  # 62% on this slice; far above the 25% majority-class rate
