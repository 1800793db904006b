"""Paths typed in the UI stay inside the configured roots, are regular files or folders, and are size-capped."""
import os

import pytest

from fer_core.errors import DataError
from fer_core.user_paths import readable_path, user_roots, writable_folder

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


@pytest.fixture
def root(tmp_path, monkeypatch):
    r = tmp_path / "root"
    r.mkdir()
    monkeypatch.setenv("FER_DATA_ROOTS", str(r))
    return r


@pytest.mark.parametrize("text", ["/etc/passwd", "/proc/self/environ", "/dev/zero", "/etc/does-not-exist",
                                  "../outside.csv", "sub/../../outside.csv", "~/x.csv"])
def test_outside_the_roots_is_refused_the_same_way_whether_it_exists_or_not(root, text):
    (root.parent / "outside.csv").write_text("secret,line\n")
    with pytest.raises(DataError) as err:
        readable_path(text)
    assert "outside the folders the app may use" in err.value.message
    assert "secret" not in str(err.value)


def test_a_symlink_out_of_a_root_is_refused(root):
    (root / "link.csv").symlink_to("/etc/passwd")
    with pytest.raises(DataError, match="outside the folders"):
        readable_path(str(root / "link.csv"))


def test_inside_the_roots_files_folders_and_relative_paths_resolve(root):
    (root / "data.csv").write_text("emotion,pixels,Usage\n")
    assert readable_path(str(root / "data.csv")) == (root / "data.csv").resolve()
    assert readable_path("data.csv") == (root / "data.csv").resolve()  # relative to the first root
    assert readable_path(str(root)) == root.resolve()
    assert writable_folder(str(root / "exports" / "new")) == (root / "exports" / "new").resolve()
    with pytest.raises(DataError, match="file not found"):
        readable_path(str(root / "missing.csv"))
    with pytest.raises(DataError, match="not a folder"):
        writable_folder(str(root / "data.csv"))


def test_special_files_and_oversized_files_are_refused(root, monkeypatch):
    os.mkfifo(root / "pipe.csv")
    with pytest.raises(DataError, match="not a regular file"):
        readable_path(str(root / "pipe.csv"))
    (root / "big.csv").write_bytes(b"x" * 2048)
    monkeypatch.setenv("FER_MAX_READ_BYTES", "1024")
    with pytest.raises(DataError, match="the limit is"):
        readable_path(str(root / "big.csv"))


def test_default_roots_are_the_data_models_and_projects_folders(monkeypatch, tmp_path):
    monkeypatch.delenv("FER_DATA_ROOTS")
    monkeypatch.setenv("FER_DATA_DIR", str(tmp_path))
    roots = user_roots()
    assert tmp_path.resolve() in roots and len(roots) == 3


def test_regular_path_checks_files_anywhere_and_load_dataset_uses_it(tmp_path, monkeypatch):
    """The CLI's check and load_dataset's: no roots (the local operator may read anywhere), the same refusals."""
    from fer_core.data.loading import load_dataset
    from fer_core.user_paths import regular_path
    monkeypatch.setenv("FER_DATA_ROOTS", str(tmp_path / "elsewhere"))
    os.mkfifo(tmp_path / "pipe.csv")
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "folder" / "fer2013.csv")  # found by name inside a dataset folder
    (tmp_path / "big.csv").write_bytes(b"x" * 2048)
    assert regular_path(tmp_path / "big.csv") == tmp_path / "big.csv" and regular_path(tmp_path) == tmp_path
    with pytest.raises(FileNotFoundError):
        regular_path(tmp_path / "missing.csv")  # each caller words its own message
    for bad in (tmp_path / "pipe.csv", "/dev/zero", tmp_path / "folder"):
        with pytest.raises(DataError, match="not a regular file or folder"):
            load_dataset(bad)
    monkeypatch.setenv("FER_MAX_READ_BYTES", "1024")
    with pytest.raises(DataError, match=r"the file is 2\.0 KB; the limit is 1\.0 KB"):
        load_dataset(tmp_path / "big.csv")
    with pytest.raises(DataError, match="file not found"):
        load_dataset(tmp_path / "missing.csv")
