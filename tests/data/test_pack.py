"""Dataset packs (lossy WebP copies carried to GPU hosts) load as datasets and stay close to the original."""
import builtins
import json

import numpy as np
import pytest

from fer_core.cli import main
from fer_core.data.loading import load_dataset
from fer_core.data.pack import read_pack, write_pack
from fer_core.errors import DataError

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


def test_pack_round_trip_keeps_labels_splits_votes_and_is_close_to_the_pixels(tmp_path, shared_data):
    src = load_dataset(shared_data / "fer2013.csv.gz")
    rows = np.flatnonzero(np.isin(src.splits, ["Training", "PublicTest"]))[::60]  # ~540 real images
    small = src.select(rows)
    meta = write_pack(small, tmp_path / "slice.ferpack.npz")
    ds = load_dataset(tmp_path / "slice.ferpack.npz")
    assert len(ds) == len(small) and meta["rows"] == len(small)
    assert np.array_equal(ds.labels, small.labels) and np.array_equal(ds.splits, small.splits)
    assert np.array_equal(ds.ids, small.ids) and np.array_equal(ds.votes, small.votes)
    err = np.abs(ds.images.astype(int) - small.images.astype(int))
    assert err.mean() < 1.5 and err.max() < 20 and meta["mean_abs_error"] == pytest.approx(err.mean(), abs=1e-3)
    assert ds.version == meta["version"] != small.version  # lossy: a new data version, the source is noted
    assert meta["source_version"] == small.version and small.version in ds.notes[0]
    assert meta["bytes"] / len(small) < 1600  # ~1.1 KB per face at quality 95


def test_pack_decodes_with_pillow_when_opencv_is_missing(tmp_path, monkeypatch):
    demo = load_dataset("demo")
    write_pack(demo, tmp_path / "d.ferpack.npz", splits=["PublicTest"])
    with_cv2 = read_pack(tmp_path / "d.ferpack.npz")
    real_import = builtins.__import__

    def no_cv2(name, *args, **kwargs):
        if name == "cv2":
            raise ImportError("no cv2 here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cv2)
    with_pillow = read_pack(tmp_path / "d.ferpack.npz")
    assert np.abs(with_pillow.images.astype(int) - with_cv2.images.astype(int)).max() <= 1
    assert set(with_cv2.split_names) == {"PublicTest"}


def test_cli_pack_and_clear_errors(tmp_path, capsys):
    out = tmp_path / "demo.ferpack.npz"
    assert main(["data", "pack", "demo", str(out), "--splits", "Training", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["splits"] == ["Training"] and out.exists()
    assert main(["data", "pack", "demo", str(tmp_path / "x.npz")]) == 2
    assert "must end in .ferpack.npz" in capsys.readouterr().err
    assert main(["data", "pack", "demo", str(out), "--splits", "Nope"]) == 2
    (tmp_path / "bad.ferpack.npz").write_bytes(b"not a zip")
    (tmp_path / "cut.ferpack.npz").write_bytes(out.read_bytes()[: out.stat().st_size // 2])  # cut short
    for bad in ("bad.ferpack.npz", "cut.ferpack.npz"):
        with pytest.raises(DataError, match="damaged or not a FER Studio pack") as err:
            load_dataset(tmp_path / bad)
        assert "pickle" not in str(err.value)
