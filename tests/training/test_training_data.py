"""What a training job gets from its dataset: a held-out validation share when the dataset has no validation split,
and a refusal before queueing when the training split has no label in the chosen scheme."""
import numpy as np
import pytest

from conftest import write_fer_csv
from fer_core.data.loading import load_dataset
from fer_core.errors import DataError
from fer_core.training.config import TrainConfig
from fer_core.training.data import _hold_out, check_trainable, prepare

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


@pytest.fixture
def training_only_csv(shared_data, tmp_path):
    """300 real FER2013 Training faces and nothing else, as a Relabel export of Training rows or a CSV without a
    Usage column gives them."""
    fer = load_dataset(shared_data / "fer2013.csv.gz")
    rows = np.flatnonzero(fer.splits == "Training")[:300]
    return write_fer_csv(tmp_path / "training_only.csv", fer.images[rows], fer.labels[rows], ["Training"] * 300)


def test_a_dataset_without_validation_rows_holds_out_a_seeded_stratified_share(training_only_csv):
    cfg = TrainConfig(data=str(training_only_csv), seed=3)
    data = prepare(cfg)
    assert len(data.val.ids) == 30 and len(data.train.ids) == 270
    assert not set(data.val.ids) & set(data.train.ids)  # never trained on
    everything = np.concatenate([data.train.labels, data.val.labels])
    share = np.bincount(data.val.labels, minlength=7) / np.maximum(np.bincount(everything, minlength=7), 1)
    assert np.all(np.abs(share[np.bincount(everything, minlength=7) >= 10] - 0.1) < 0.06)  # stratified by class
    assert any("held out for validation" in note for note in data.notes)
    assert np.array_equal(prepare(cfg).val.ids, data.val.ids)  # the seed fixes it: resume and adjust see the same
    assert not np.array_equal(prepare(TrainConfig(data=str(training_only_csv), seed=4)).val.ids, data.val.ids)


def test_without_holdout_the_missing_validation_split_is_a_clear_error(training_only_csv):
    with pytest.raises(DataError, match="no labelled images in validation split 'PublicTest'") as info:
        prepare(TrainConfig(data=str(training_only_csv), val_holdout=0.0))
    assert "val_holdout" in info.value.message


def test_a_dataset_with_a_validation_split_keeps_it(tiny_csv):
    data = prepare(TrainConfig(data=str(tiny_csv[0])))
    assert len(data.val.ids) == 5 and len(data.train.ids) == 20
    assert not any("held out" in note for note in data.notes)


def test_no_training_rows_is_refused_before_queueing(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (12, 48, 48), np.uint8)
    path = write_fer_csv(tmp_path / "tests_only.csv", images, np.arange(12) % 7, ["PublicTest"] * 12)
    cfg = TrainConfig(data=str(path))
    with pytest.raises(DataError, match="no labelled images in the 'fer2013' scheme in split 'Training'") as info:
        check_trainable(cfg, load_dataset(path))
    assert "splits: PublicTest" in info.value.message
    check_trainable(TrainConfig(data=str(path), train_split="PublicTest"), load_dataset(path))  # fine there


def test_the_hold_out_split_keeps_class_shares_is_seeded_and_partitions_the_rows():
    labels = np.random.default_rng(0).permutation(np.repeat(np.arange(7), [80, 12, 100, 200, 120, 60, 28]))
    rows = np.arange(0, 600, 2)  # a subset of the dataset's rows, as the training split is
    train, val = _hold_out(labels, rows, 0.1, seed=3)
    assert len(val) == 30 and np.array_equal(np.sort(np.concatenate([train, val])), rows)  # disjoint, complete
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)  # sorted
    expected = np.bincount(labels[rows], minlength=7) * 30 / 300
    assert np.all(np.abs(np.bincount(labels[val], minlength=7) - expected) < 1)  # stratified: each class its share
    again, other = _hold_out(labels, rows, 0.1, seed=3), _hold_out(labels, rows, 0.1, seed=4)
    assert np.array_equal(again[1], val) and not np.array_equal(other[1], val)
    for few, fraction in ((np.array([0, 0, 0, 1]), 0.5), (labels[:20], 0.1)):  # a lone class; fewer rows than classes
        train, val = _hold_out(few, np.arange(len(few)), fraction, seed=0)  # plain random
        assert len(val) == max(1, round(fraction * len(few))) and not set(train) & set(val)
        assert len(train) + len(val) == len(few)


def test_the_hold_out_split_holds_out_the_rows_scikit_learn_did():
    """Runs resumed or adjusted across the change must keep their validation rows: same seed, same rows."""
    from sklearn.model_selection import train_test_split
    rng = np.random.default_rng(1)
    for case in range(200):
        labels = (rng.random(800) ** 3 * 7).astype(int)  # skewed, as FER2013's classes are
        rows = np.sort(rng.choice(800, int(rng.integers(2, 400)), replace=False))
        fraction, seed = float(rng.uniform(0.01, 0.5)), int(rng.integers(10_000))
        n_val = max(1, round(fraction * len(rows)))
        counts = np.bincount(labels[rows])
        stratify = labels[rows] if counts[counts > 0].min() >= 2 and n_val >= (counts > 0).sum() else None
        expected = train_test_split(rows, test_size=n_val, random_state=seed, stratify=stratify)
        got = _hold_out(labels, rows, fraction, seed)
        assert all(np.array_equal(np.sort(e), g) for e, g in zip(expected, got)), case


def test_splits_are_row_selections_of_the_mapped_cache_not_copies(tiny_csv):
    """Issue #35: training reads the memory-mapped cache batch by batch; a split is never copied whole."""
    from fer_core.data.rows import Rows
    path, images, labels, usage = tiny_csv
    load_dataset(path)  # the first load writes the cache; training opens it mapped
    data = prepare(TrainConfig(data=str(path)))
    for split in (data.train, data.val, data.test):
        assert isinstance(split.images, Rows) and isinstance(split.images.base, np.memmap)
        assert np.array_equal(np.asarray(split.images), images[split.images.rows])


def test_a_jobs_first_load_of_its_data_says_how_far_it_is(tmp_path, monkeypatch):
    """A training job on a dataset not yet cached (minutes at AffectNet's size) writes the load's progress to its log."""
    import itertools

    import fer_core.data.csv_format as csv_format
    import fer_core.data.load_progress as load_progress
    from fer_core.training.lifecycle import _prepare
    from fer_core.training.progress import Progress
    monkeypatch.setenv("FER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(csv_format, "CHUNK_ROWS", 20)
    clock = itertools.count(step=10.0)
    monkeypatch.setattr(load_progress.time, "monotonic", lambda: next(clock))
    images = np.random.default_rng(0).integers(0, 256, (100, 48, 48), np.uint8)
    path = write_fer_csv(tmp_path / "big.csv", images, np.arange(100) % 7, ["Training"] * 80 + ["PublicTest"] * 20)

    class Log(Progress):
        def __init__(self):
            self.lines = []

        def message(self, text):
            self.lines.append(text)

    log = Log()
    _prepare(TrainConfig(data=str(path)), log)
    assert len(log.lines) >= 3 and log.lines[-1].startswith("Reading big.csv: 100%")
    again = Log()
    _prepare(TrainConfig(data=str(path)), again)
    assert again.lines == []  # cached: nothing to wait for
