import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from fer_core.evaluation.classification import classification_metrics

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


def test_numpy_metrics_match_scikit_learn_including_absent_classes():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 6, 500)  # class 6 never occurs and is never predicted
    probs = rng.random((500, 7))
    probs[:, 6] = 0
    probs[np.arange(500), y] += rng.random(500) > 0.4  # mostly right
    m = classification_metrics(y, probs, [f"c{i}" for i in range(7)])
    pred = probs.argmax(1)
    labels = list(range(7))
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    assert m["accuracy"] == accuracy_score(y, pred)
    assert np.isclose(m["macro_f1"], f1_score(y, pred, labels=labels, average="macro", zero_division=0))
    assert m["confusion_matrix"] == confusion_matrix(y, pred, labels=labels).tolist()
    for i in range(7):
        row = m["per_class"][f"c{i}"]
        assert np.allclose([row["precision"], row["recall"], row["f1"]], [p[i], r[i], f[i]]) and row["support"] == s[i]
