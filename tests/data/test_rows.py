"""`Rows`: a split as a selection of the mapped cache's rows, read only when indexed, giving the same arrays as the
copied split it replaces."""
import numpy as np
import pytest

from fer_core.data.rows import Rows

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


@pytest.fixture
def mapped(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (40, 48, 48), np.uint8)
    path = tmp_path / "images.u8"
    images.tofile(path)
    return images, np.memmap(path, np.uint8, "r", shape=images.shape)


def test_indexing_rows_gives_plain_arrays_equal_to_indexing_the_copy(mapped):
    images, base = mapped
    picked = np.array([31, 2, 17, 5, 39, 0])
    rows, copy = Rows(base, picked), images[picked]
    assert len(rows) == 6 and rows.shape == copy.shape and rows.dtype == np.uint8
    for key in (0, -1, slice(1, 4), np.array([5, 0, 3]), copy[:, 0, 0] > 100, (slice(None), 3), (2, 4, 5), ...):
        got = rows[key]
        assert type(got) is np.ndarray or np.isscalar(got), key
        assert np.array_equal(got, copy[key]), key
    assert np.array_equal(rows[..., None], copy[..., None]) and np.array_equal(np.asarray(rows), copy)
    assert np.asarray(rows, dtype=np.float32).dtype == np.float32
    assert np.array_equal(np.asarray(rows.subset([4, 1])), copy[[4, 1]]) and rows.subset([4, 1]).base is base


def test_a_selection_reads_nothing_until_indexed(mapped):
    """Nothing is copied when the selection is made: the base stays the map itself."""
    _, base = mapped
    rows = Rows(base, np.arange(0, 40, 2))
    assert rows.base is base and isinstance(rows.base, np.memmap)
    assert Rows(base).rows.tolist() == list(range(40))
