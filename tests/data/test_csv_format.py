import gzip
import os

import numpy as np
import pytest

from conftest import make_images, write_fer_csv
from fer_core.data.csv_format import load_fer_csv
from fer_core.errors import DataError

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


def test_roundtrip_plain_and_gzip(tiny_csv, tmp_path):
    path, images, labels, usage = tiny_csv
    parsed = load_fer_csv(path)
    assert np.array_equal(parsed.images, images)
    assert np.array_equal(parsed.labels, labels)
    assert parsed.usage.tolist() == usage
    gz = write_fer_csv(tmp_path / "tiny.csv.gz", images, labels, usage, gz=True)
    assert np.array_equal(load_fer_csv(gz).images, images)


def test_second_load_comes_from_cache_and_a_changed_file_is_reparsed(tiny_csv):
    path, images, labels, usage = tiny_csv
    first = load_fer_csv(path)
    second = load_fer_csv(path)
    assert not first.from_cache and second.from_cache
    assert np.array_equal(second.images, images) and second.version == first.version
    labels2 = labels.copy()
    labels2[0] = (labels2[0] + 1) % 7
    write_fer_csv(path, images, labels2, usage)
    os.utime(path, ns=(1, 1))  # a different mtime, as after an edit
    third = load_fer_csv(path)
    assert not third.from_cache and third.labels[0] == labels2[0] and third.version != first.version


def test_irregular_whitespace_still_parses(tmp_path):
    images = make_images(3, seed=3)
    lines = ["emotion,pixels,Usage"]
    for img in images:
        lines.append("1,\"" + "  ".join(map(str, img.ravel().tolist())) + " \",Training\r")
    path = tmp_path / "spaces.csv"
    path.write_text("\n".join(lines) + "\n")
    assert np.array_equal(load_fer_csv(path, use_cache=False).images, images)


def _bad(tmp_path, pixel_text=None, label="3", header="emotion,pixels,Usage", extra=""):
    good = " ".join(["7"] * 2304)
    rows = [f"1,{good},Training", f"{label},{pixel_text or good},Training{extra}"]
    path = tmp_path / "bad.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError) as info:
        load_fer_csv(path, use_cache=False)
    return info.value


@pytest.mark.parametrize("kwargs, expected", [
    ({"pixel_text": " ".join(["1"] * 2303)}, "2303 pixel values, expected 2304"),
    ({"pixel_text": " ".join(["1"] * 2303 + ["256"])}, "pixel value 256 is outside 0-255"),
    ({"pixel_text": " ".join(["1"] * 2303 + ["-4"])}, "negative pixel value"),
    ({"pixel_text": " ".join(["1"] * 2303 + ["4.5"])}, "non-integer character"),
    ({"label": "happy"}, "emotion 'happy' is not an integer"),
    ({"label": "7"}, "emotion 7 is outside 0-6"),
    ({"extra": ",oops"}, "4 fields, expected 3"),
])
def test_bad_rows_are_named(tmp_path, kwargs, expected):
    err = _bad(tmp_path, **kwargs)
    assert expected in err.message
    assert "bad.csv" in err.message and "data row 1" in err.message


def test_wrong_header_empty_missing_and_corrupt_files(tmp_path):
    msg = _bad(tmp_path, header="label,image,split").message
    assert "not a FER2013 CSV" in msg and "label,image" not in msg  # never echoes what it read
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty"):
        load_fer_csv(empty, use_cache=False)
    with pytest.raises(DataError, match="file not found"):
        load_fer_csv(tmp_path / "nope.csv")
    corrupt = tmp_path / "corrupt.csv.gz"
    corrupt.write_bytes(gzip.compress(b"emotion,pixels,Usage\n" * 100)[:40])
    with pytest.raises(DataError, match="cannot read"):
        load_fer_csv(corrupt, use_cache=False)


def test_a_quoted_field_with_a_comma_is_read_as_one_field(tmp_path):
    images = make_images(2)
    pixels = [" ".join(map(str, im.ravel())) for im in images]
    path = tmp_path / "quoted.csv"
    path.write_text("emotion,pixels,Usage,note\n"
                    f'3,{pixels[0]},Training,"seen, then relabelled"\n4,{pixels[1]},PublicTest,plain\n')
    parsed = load_fer_csv(path, use_cache=False)
    assert parsed.labels.tolist() == [3, 4] and np.array_equal(parsed.images, images)


def test_a_csv_that_is_not_fer_says_what_is_in_the_pixels_field(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text('row,Usage,emotion,pixels,caveat\n17,Training,2,exact,"taken, as is"\n')
    with pytest.raises(DataError, match="non-integer character 'e' in the pixels field"):
        load_fer_csv(path, use_cache=False)
