"""The layouts' label files are read within the same bounds as any typed path: a file over FER_MAX_READ_BYTES, or a
pipe in its place, is refused with one line, never read without end."""
import os

import layout_fixtures as lf
import numpy as np
import pytest

from fer_core.data.loading import load_dataset
from fer_core.errors import DataError

pytestmark = pytest.mark.unit  # layer (the folder says the subject)

FACES = np.random.default_rng(0).integers(0, 256, (12, 48, 48), np.uint8)
LABELS = np.arange(12) % 7


@pytest.mark.parametrize("build,label_file", [
    (lf.rafdb, "basic/EmoLabel/list_patition_label.txt"),
    (lf.affectnet, "Manually_Annotated_file_lists/training.csv"),
    (lf.expw, "label/label.lst"),
])
def test_a_label_file_over_the_read_cap_is_refused_with_its_size(tmp_path, monkeypatch, build, label_file):
    root = build(tmp_path / "data", FACES, LABELS)
    monkeypatch.setenv("FER_CACHE_DIR", str(tmp_path / "cache"))
    size = (tmp_path / "data" / label_file).stat().st_size
    monkeypatch.setenv("FER_MAX_READ_BYTES", str(size - 1))
    with pytest.raises(DataError, match="the limit is") as info:
        load_dataset(root)
    assert label_file.split("/")[-1] in str(info.value)
    monkeypatch.setenv("FER_MAX_READ_BYTES", str(size))
    assert len(load_dataset(root)) > 0  # at the cap it opens


def test_a_pipe_in_place_of_the_label_file_is_refused_not_read(tmp_path, monkeypatch):
    root = lf.expw(tmp_path / "data", FACES, LABELS)
    monkeypatch.setenv("FER_CACHE_DIR", str(tmp_path / "cache"))
    label = tmp_path / "data" / "label" / "label.lst"
    label.unlink()
    os.mkfifo(label)
    with pytest.raises(DataError, match="label/label.lst is missing"):  # not taken for the layout's label file
        load_dataset(root)
    with pytest.raises(DataError, match="not a regular file"):  # nor read when named directly
        load_dataset(label)
