"""The streaming FER CSV reader: same arrays and data version as parsing the whole file, across chunk boundaries,
and a memory-mapped cache that is rebuilt when damaged and skipped when it cannot be written."""
import gzip
import hashlib
import io

import numpy as np
import pytest

from conftest import make_images
from fer_core.data import csv_cache, csv_format, dataset
from fer_core.data.csv_format import load_fer_csv
from fer_core.errors import DataError

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


def _old_hash(images, labels, usage) -> str:
    """content_hash as it was before hashing in chunks (the data version recorded in trained runs)."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(images).tobytes())
    h.update(np.asarray(labels, dtype=np.int64).tobytes())
    h.update("\n".join(np.asarray(usage).tolist()).encode())
    return h.hexdigest()[:16]


def _rows(n, seed=0):
    images = make_images(n, seed=seed)
    labels = np.arange(n) % 7
    usage = np.array(["Training", "PublicTest", "PrivateTest"])[np.arange(n) % 3]
    return images, labels, usage


def _write(path, images, labels, usage, *, eol="\n", final_eol=True, gz=False, rows=None):
    lines = ["emotion,pixels,Usage"] + (rows or [f"{lab},{' '.join(map(str, im.ravel().tolist()))},{u}"
                                                 for im, lab, u in zip(images, labels, usage)])
    data = (eol.join(lines) + (eol if final_eol else "")).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.fixture
def tiny_chunks(monkeypatch):
    monkeypatch.setattr(csv_format, "CHUNK_ROWS", 4)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("eol, final_eol", [("\n", True), ("\r\n", True), ("\n", False), ("\r\n", False)])
def test_same_arrays_and_version_across_chunk_boundaries(tmp_path, tiny_chunks, gz, eol, final_eol):
    images, labels, usage = _rows(23)  # 23 rows = 5 full chunks of 4 and a partial one
    path = _write(tmp_path / ("f.csv.gz" if gz else "f.csv"), images, labels, usage, eol=eol, final_eol=final_eol,
                  gz=gz)
    for use_cache in (False, True, True):
        parsed = load_fer_csv(path, use_cache=use_cache)
        assert np.array_equal(parsed.images, images) and parsed.images.shape == (23, 48, 48)
        assert parsed.labels.dtype == np.int64 and parsed.labels.tolist() == labels.tolist()
        assert parsed.usage.tolist() == usage.tolist()
        assert parsed.version == _old_hash(images, labels, usage) == dataset.content_hash(images, labels, usage)


def test_chunk_size_does_not_change_anything_on_real_fer2013_rows(tmp_path, shared_data, monkeypatch):
    with gzip.open(shared_data / "fer2013.csv.gz", "rb") as fh:
        head = b"".join(fh.readline() for _ in range(301))
    path = tmp_path / "slice.csv"
    path.write_bytes(head)
    rows = [line.split(b",") for line in head.splitlines()[1:]]
    expected = np.array([[int(v) for v in r[1].split()] for r in rows], dtype=np.uint8).reshape(-1, 48, 48)
    results = []
    for chunk in (1, 7, 64, 2048):
        monkeypatch.setattr(csv_format, "CHUNK_ROWS", chunk)
        results.append(load_fer_csv(path, use_cache=False))
    for parsed in results:
        assert np.array_equal(parsed.images, expected)
        assert parsed.labels.tolist() == [int(r[0]) for r in rows]
        assert parsed.usage.tolist() == [r[2].strip().decode() for r in rows]
        assert parsed.version == _old_hash(expected, parsed.labels, parsed.usage)


@pytest.mark.parametrize("bad, expected", [
    ("{lab},{few},Training", "2303 pixel values, expected 2304"),
    ("{lab},{few} 4.5,Training", "non-integer character"),
    ("happy,{pix},Training", "emotion 'happy' is not an integer"),
    ("{lab},{pix},Training,oops", "4 fields, expected 3"),
    ("", "1 fields, expected 3"),  # a blank line with rows after it
])
@pytest.mark.parametrize("at", [13, 14, 15])  # chunks of 4 lines, header first: inside, last, first of one
def test_a_bad_row_is_named_by_its_row_in_the_whole_file(tmp_path, tiny_chunks, bad, expected, at):
    images, labels, usage = _rows(20)
    rows = [f"{lab},{' '.join(map(str, im.ravel().tolist()))},{u}" for im, lab, u in zip(images, labels, usage)]
    rows[at] = bad.format(lab=1, pix=" ".join(["5"] * 2304), few=" ".join(["5"] * 2303))
    path = _write(tmp_path / "bad.csv", None, None, None, rows=rows)
    with pytest.raises(DataError) as info:
        load_fer_csv(path, use_cache=False)
    assert expected in info.value.message and f"data row {at}" in info.value.message


def test_trailing_blank_lines_are_ignored_and_header_only_or_blank_files_refused(tmp_path, tiny_chunks):
    images, labels, usage = _rows(8)
    path = _write(tmp_path / "blank_end.csv", images, labels, usage)
    path.write_bytes(path.read_bytes() + b"\n  \r\n\n" * 5)
    assert np.array_equal(load_fer_csv(path, use_cache=False).images, images)
    header_only = tmp_path / "header.csv"
    header_only.write_bytes(b"emotion,pixels,Usage\r\n\r\n" + b"\n" * 9)
    with pytest.raises(DataError, match="header but no rows"):
        load_fer_csv(header_only, use_cache=False)
    blank = tmp_path / "blank.csv"
    blank.write_bytes(b"\n \n" * 10)
    with pytest.raises(DataError, match="the file is empty"):
        load_fer_csv(blank, use_cache=False)


def test_quoted_field_with_a_comma_in_a_later_chunk(tmp_path, tiny_chunks):
    images = make_images(9, seed=4)
    pixels = [" ".join(map(str, im.ravel())) for im in images]
    rows = [f'{i % 7},{p},Training,"seen, then relabelled"' if i == 6 else f"{i % 7},{p},Training,plain"
            for i, p in enumerate(pixels)]
    path = tmp_path / "quoted.csv"
    path.write_text("emotion,pixels,Usage,note\n" + "\n".join(rows) + "\n")
    parsed = load_fer_csv(path, use_cache=False)
    assert np.array_equal(parsed.images, images) and parsed.labels.tolist() == [i % 7 for i in range(9)]


def test_cached_images_are_memory_mapped_read_only_and_in_memory_ones_are_not(tiny_csv):
    path, images, _, _ = tiny_csv
    first, second = load_fer_csv(path), load_fer_csv(path)
    assert second.from_cache and not first.from_cache
    for parsed in (first, second):  # the first load hands back the file it just wrote
        assert isinstance(parsed.images, np.memmap) and not parsed.images.flags.writeable
        assert np.array_equal(parsed.images, images)
    plain = load_fer_csv(path, use_cache=False)
    assert not isinstance(plain.images, np.memmap) and plain.images.flags.writeable
    assert np.array_equal(plain.images, images) and plain.version == second.version


def _cache_files(path):
    return csv_cache.cache_paths(path, "fer-csv-7")


@pytest.mark.parametrize("damage", ["truncate", "no meta", "garbage meta", "garbage images", "meta of another"])
def test_a_damaged_or_partial_cache_is_rebuilt(tiny_csv, tmp_path, damage):
    path, images, labels, usage = tiny_csv
    load_fer_csv(path)
    images_file, meta_file = _cache_files(path)
    if damage == "truncate":
        with open(images_file, "r+b") as fh:
            fh.truncate(images_file.stat().st_size - 100)
    elif damage == "no meta":
        meta_file.unlink()
    elif damage == "garbage meta":
        meta_file.write_bytes(b"PK\x03\x04 not really a zip")
    elif damage == "garbage images":
        images_file.write_bytes(b"\x93NUMPY garbage")
    else:  # a meta that says 3 rows beside 30 rows of images
        np.savez(meta_file, labels=labels[:3], usage=np.array(usage[:3]), version=np.str_("x"),
                 image_bytes=np.int64(images_file.stat().st_size))
    again = load_fer_csv(path)
    assert not again.from_cache and np.array_equal(again.images, images) and again.labels.tolist() == labels.tolist()
    assert load_fer_csv(path).from_cache


def test_no_cache_folder_or_a_failing_write_falls_back_to_memory(tiny_csv, tmp_path, monkeypatch):
    path, images, _, _ = tiny_csv
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv("FER_CACHE_DIR", str(blocker / "cache"))  # its parent is a file: no cache folder
    parsed = load_fer_csv(path)
    assert np.array_equal(parsed.images, images) and not parsed.from_cache

    cache = tmp_path / "cache"
    monkeypatch.setenv("FER_CACHE_DIR", str(cache))

    def disk_full(self, rows):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(csv_cache.FileSink, "write", disk_full)
    parsed = load_fer_csv(path)
    assert np.array_equal(parsed.images, images) and not parsed.from_cache
    assert list(cache.iterdir()) == []  # no partial file left behind


def test_a_read_only_cache_folder_falls_back_to_memory(tiny_csv, tmp_path, monkeypatch):
    path, images, _, _ = tiny_csv
    cache = tmp_path / "ro"
    cache.mkdir()
    monkeypatch.setenv("FER_CACHE_DIR", str(cache))

    def read_only(target, suffix=""):  # what mkstemp raises there (chmod alone does not stop root)
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(csv_cache, "atomic_path", read_only)
    cache.chmod(0o555)
    try:
        parsed = load_fer_csv(path)
    finally:
        cache.chmod(0o755)
    assert np.array_equal(parsed.images, images) and not parsed.from_cache and parsed.images.flags.writeable
    assert list(cache.iterdir()) == []


def test_content_hash_in_chunks_is_the_old_hash(monkeypatch):
    images, labels, usage = _rows(10, seed=2)
    monkeypatch.setattr(dataset, "HASH_CHUNK_ROWS", 3)
    assert dataset.content_hash(images, labels, usage) == _old_hash(images, labels, usage)
    fortran = np.asfortranarray(images)
    assert dataset.content_hash(fortran, labels, usage) == _old_hash(images, labels, usage)


@pytest.mark.parametrize("n", [0, 1, 35887, 10**12])
def test_the_fixed_size_npy_header_reads_back(n):
    header = csv_cache.npy_header(n)
    assert len(header) == csv_cache.HEADER_BYTES
    fh = io.BytesIO(header)
    assert np.lib.format.read_magic(fh) == (1, 0)
    shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
    assert shape == (n, 48, 48) and not fortran and dtype == np.uint8 and fh.tell() == csv_cache.HEADER_BYTES
