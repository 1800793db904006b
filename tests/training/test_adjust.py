"""Logit adjustment: shifting by tau * log(prior) moves decisions to rare classes; tau is chosen on val only."""
import numpy as np
import pytest

from fer_core.errors import RunError
from fer_core.training.adjust import adjusted_probs, select_tau

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


def test_adjustment_favours_rare_classes_and_tau_zero_changes_nothing():
    probs = np.array([[0.6, 0.4], [0.55, 0.45]])
    log_prior = np.log([0.9, 0.1])
    assert np.allclose(adjusted_probs(probs, log_prior, 0.0), probs)
    shifted = adjusted_probs(probs, log_prior, 1.0)
    assert (shifted.argmax(1) == 1).all() and np.allclose(shifted.sum(1), 1)


def test_tau_is_selected_by_the_validation_labels():
    rng = np.random.default_rng(0)
    labels = rng.choice(2, 400, p=[0.7, 0.3])
    # an under-confident model for class 1: its true class gets +0.15, but class 0 always gets +0.2
    probs = np.where(labels[:, None] == np.arange(2), 0.35, 0.15) + np.array([0.2, 0.0])
    probs /= probs.sum(1, keepdims=True)
    log_prior = np.log([0.9, 0.1])
    tau, table = select_tau(probs, labels, log_prior)
    assert table[0]["tau"] == 0.0 and table[0]["accuracy"] < 0.75  # unadjusted: class 1 never predicted
    assert tau > 0 and max(r["accuracy"] for r in table) == 1.0


def test_min_recall_offsets_lift_the_weakest_class_and_no_further():
    from fer_core.training.adjust import raise_min_recall
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 100)
    logits = rng.normal(0, 1, (300, 3))
    logits[np.arange(300), labels] += 1.5
    logits[:, 2] -= 2.5  # class 2 is rarely predicted
    recall = lambda lg: [float(((lg.argmax(1) == labels) & (labels == c)).sum() / 100) for c in range(3)]  # noqa: E731
    assert recall(logits)[2] < 0.4
    offsets = raise_min_recall(logits, labels, 0.6)
    lifted = recall(logits + offsets)
    assert min(lifted) >= 0.6 and offsets[2] > 0 and offsets.min() == 0
    shy = offsets.copy()
    shy[int(np.argmax(offsets))] -= 0.02  # one step less is not enough: the offsets are the smallest found
    assert min(recall(logits + shy)) < 0.6
    with pytest.raises(RunError):
        raise_min_recall(logits, labels, 0.999, limit=0.5)
