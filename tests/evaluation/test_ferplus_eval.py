"""FERPlus as ground truth: 8-emotion scheme, majority labels from the votes, unknown / not-a-face reported."""
import numpy as np
import pytest

from fer_core.data.loading import load_dataset
from fer_core.errors import DataError
from fer_core.evaluation.evaluate import default_ground_truth, evaluation_rows, with_ground_truth
from fer_core.training.config import TrainConfig
from fer_core.training.data import prepare

pytestmark = pytest.mark.training  # layer (the folder says the subject)


def test_majority_ground_truth_on_the_ferplus_test_split(shared_data):
    ds = with_ground_truth(load_dataset(shared_data / "fer2013.csv.gz"), "majority")
    assert ds.scheme == "ferplus"
    idx, y, unmapped, _ = evaluation_rows(ds, "PrivateTest", "ferplus8", exclude_leaks=False)
    assert set(unmapped) <= {"unknown", "NF"} and sum(unmapped.values()) > 0
    assert len(idx) + sum(unmapped.values()) == 3589 and y.max() <= 7
    fer = load_dataset(shared_data / "fer2013.csv.gz")
    happy = fer.labels[idx] == 3  # FER2013 'happy' vs FERPlus 'happiness' on the same images mostly agree
    assert (y[happy] == 1).mean() > 0.85


def test_defaults_and_clear_error_without_votes():
    assert default_ground_truth("probability") == "majority" and default_ground_truth("labels") == "labels"
    with pytest.raises(DataError, match="no FERPlus votes"):
        with_ground_truth(load_dataset("demo"), "majority")


def test_training_targets_in_the_8_emotion_scheme(shared_data):
    cfg = TrainConfig(data=str(shared_data / "fer2013.csv.gz"), scheme="ferplus8", label_source="majority",
                      max_train_images=500).resolved()
    data = prepare(cfg)
    assert len(data.class_names) == 8 and data.class_names[-1] == "contempt"
    assert data.train.targets.shape == (500, 8) and np.allclose(data.train.targets.sum(1), 1)
    assert any("no label in 'ferplus8'" in n for n in data.notes)  # unknown / NF rows left out
    soft = prepare(TrainConfig(**{**cfg.__dict__, "label_source": "probability"}))
    assert soft.train.targets.max() < 1.0 + 1e-6 and (soft.train.targets.max(1) < 1).any()
