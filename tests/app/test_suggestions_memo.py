"""The Relabel page combines votes and model probabilities once per pair of arrays, not on every keypress."""
import numpy as np
import pytest

from fer_core.app import suggestions

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


def test_combined_suggestions_are_reused_for_the_same_arrays_and_redone_for_new_ones():
    rng = np.random.default_rng(0)
    votes, model = rng.random((50, 10)).astype(np.float32), rng.random((50, 10)).astype(np.float32)
    key = ("v1", "fer2024", ("votes", "run-a"), 50)
    first = suggestions._combined(*key, votes, model)
    assert suggestions._combined(*key, votes, model) is first  # a keypress rerun: nothing recomputed
    retrained = model.copy()
    retrained[:, 0] += 10  # same run name, new probabilities: never the stale suggestions
    again = suggestions._combined(*key, votes, retrained)
    assert again is not first and np.array_equal(again.model_label, np.zeros(50))
    for i in range(6):  # bounded: a handful of (dataset, source) pairs at most
        suggestions._combined("v", str(i), (), 50, None, model)
    assert len(suggestions._COMBINED) <= 4
