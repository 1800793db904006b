"""Grid review and the smart queue on a small dataset with FERPlus-style votes and a fake model."""
import numpy as np
import pytest

from fer_core.data.dataset import Dataset
from fer_core.relabel.project import RelabelProject
from fer_core.relabel.review import ReviewSession
from fer_core.relabel.suggest import NONE, Thresholds, combine, oracle_labels, votes_distribution

pytestmark = pytest.mark.unit  # layer (the folder says the subject)

HAPPY, SAD, NEUTRAL = 3, 4, 6  # fer2024 indices
# FERPlus vote columns: neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, NF
VOTES = np.array([
    [0, 10, 0, 0, 0, 0, 0, 0, 0, 0],  # 0 happy, unanimous
    [0, 7, 0, 3, 0, 0, 0, 0, 0, 0],   # 1 happy 70%
    [0, 9, 0, 1, 0, 0, 0, 0, 0, 0],   # 2 happy 90%
    [0, 5, 0, 5, 0, 0, 0, 0, 0, 0],   # 3 tie: below any grid threshold
    [0, 0, 0, 8, 0, 0, 0, 0, 2, 0],   # 4 sad 80%
    [6, 0, 0, 0, 0, 0, 0, 0, 4, 0],   # 5 neutral 60%
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],   # 6 no votes
])


@pytest.fixture
def session(label_backend):
    n = len(VOTES)
    ds = Dataset("t", "t.csv", "fer2013", np.zeros((n, 48, 48), np.uint8), np.full(n, 6), np.array(["Training"] * n),
                 np.array([str(i) for i in range(n)]), "v1", votes=VOTES)
    model = np.zeros((n, 10), np.float32)
    model[np.arange(n), [HAPPY, SAD, HAPPY, SAD, SAD, NEUTRAL, HAPPY]] = [0.9, 0.6, 0.8, 0.5, 0.7, 0.4, 0.95]
    s = combine(votes_distribution(ds, "fer2024"), model, ("votes", "model"))
    return ReviewSession(RelabelProject("p", ds), "ann", "tab", s, Thresholds(0.6, False, 0.9))


def test_suggestions_name_their_class_source_and_strength(session):
    s = session.suggestions
    assert s.label.tolist() == [HAPPY, HAPPY, HAPPY, HAPPY, SAD, NEUTRAL, HAPPY]  # row 6: the model alone
    assert s.votes_label[6] == NONE and s.strength[6] == pytest.approx(0.95)
    assert s.disagree.tolist() == [False, True, False, True, False, False, False]
    assert oracle_labels(session.project.ds, "fer2024")[[0, 3, 4]].tolist() == [HAPPY, 8, SAD]  # a tie: unknown


def test_grid_pages_share_a_label_most_certain_first(session):
    assert session.grid_counts() == {HAPPY: 4, SAD: 1, NEUTRAL: 1}  # 0, 2, 1 by votes; 6 by the model alone
    assert session.grid_page(HAPPY, 24).rows.tolist() == [0, 6, 2, 1]
    session.thresholds = Thresholds(0.6, True, 0.9)  # row 1's votes and model disagree: no longer offered
    assert session.grid_page(HAPPY, 24).rows.tolist() == [0, 6, 2]
    assert session.grid_page(HAPPY, 2).rows.tolist() == [0, 6]


def test_accepting_a_page_labels_all_but_the_exceptions_which_come_first_one_at_a_time(session):
    store = session.project.store
    store.set_label("2", "ann", SAD, "tab")  # an earlier decision is never overwritten
    page = session.grid_page(HAPPY, 24)
    done = session.accept(page, exception_rows=[1])
    assert (done.written, done.kept, done.exceptions) == (2, 0, 1)
    assert store.labels_of("ann") == {"0": HAPPY, "6": HAPPY, "2": SAD}
    assert session.smart_order()[0] == 1
    assert session.grid_counts() == {SAD: 1, NEUTRAL: 1}
    routes = session.routes()
    assert (routes["grid"], routes["single"], routes["open"], routes["exceptions_waiting"]) == (2, 1, 4, 1)
    store.set_label("1", "ann", SAD, "tab")  # the exception, labelled one at a time
    routes = session.routes()
    assert (routes["single"], routes["open"], routes["exceptions_waiting"]) == (2, 3, 0)
    assert session.undo() == [1] and session.undo() == [0, 6]  # the label, then the page in one step
    assert store.labels_of("ann") == {"2": SAD}


def test_a_stale_page_writes_nothing_it_did_not_show(session):
    page = session.grid_page(HAPPY, 24)
    session.project.store.set_label("0", "ann", NEUTRAL, "other-tab")
    done = session.accept(page)
    assert (done.written, done.kept) == (3, 1) and session.project.store.labels_of("ann")["0"] == NEUTRAL


def test_smart_order_puts_disagreement_and_doubt_first_and_skips_last(session):
    order = session.smart_order().tolist()
    assert order[:2] == [3, 1]  # sources disagree; row 1 a grid page can settle (votes 70%), so it comes second
    session.skip(1)
    order = session.smart_order().tolist()
    assert order[-1] == 1 and session.routes()["skipped"] == 1


def test_a_new_model_reorders_the_disagreements_it_did_not_settle(session):
    """The queue follows the model in force: among disagreements the sharpest conflict leads, not the dataset order."""
    session.thresholds = Thresholds(0.6, True, 0.9)  # no grid for disagreements: the conflict alone orders them
    assert session.smart_order().tolist()[:2] == [1, 3]  # votes 70% vs model 0.6 is sharper than 50% vs 0.5
    s = session.suggestions
    votes = votes_distribution(session.project.ds, "fer2024")
    model = np.zeros((len(VOTES), 10), np.float32)
    model[np.arange(len(VOTES)), [HAPPY, SAD, HAPPY, SAD, SAD, NEUTRAL, HAPPY]] = [0.9, 0.3, 0.8, 0.9, 0.7, 0.4, 0.95]
    session.suggestions = combine(votes, model, ("votes", "round-2"))
    assert s.disagree.tolist() == session.suggestions.disagree.tolist()
    assert session.smart_order().tolist()[:2] == [3, 1]
