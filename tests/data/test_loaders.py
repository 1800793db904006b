import cv2
import numpy as np
import pytest

from conftest import make_images
from fer_core.data.ferplus import labels_from_votes, load_votes, probabilities_from_votes
from fer_core.data.loading import load_dataset
from fer_core.data.schemes import UNMAPPED
from fer_core.errors import DataError

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


def test_fer2013_dataset_has_ids_splits_and_a_version(tiny_csv):
    path, images, labels, usage = tiny_csv
    ds = load_dataset(path)
    assert len(ds) == 30 and ds.scheme == "fer2013"
    assert ds.ids[:3].tolist() == ["0", "1", "2"]
    assert ds.split_names == ["Training", "PublicTest", "PrivateTest"]
    assert len(ds.split("PublicTest")) == 5
    assert len(ds.version) == 16 and ds.version == load_dataset(path).version
    fer2024 = ds.in_scheme("fer2024")
    assert fer2024.class_names[-1] == "not-a-face" and np.array_equal(fer2024.labels, labels)


def test_ferplus_votes_attach_by_position_and_mismatch_is_reported(tiny_csv, tmp_path):
    path, *_ = tiny_csv
    header = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"
    usage = ["Training"] * 20 + ["PublicTest"] * 5 + ["PrivateTest"] * 5
    (path.parent / "fer2013new.csv").write_text(
        header + "\n" + "\n".join(f"{u},fer{i}.png,{i % 10},10,0,0,0,0,0,0,0,0" for i, u in enumerate(usage)) + "\n")
    ds = load_dataset(path)
    assert ds.votes is not None and ds.votes[3, 0] == 3
    (path.parent / "fer2013new.csv").write_text(header + "\nTraining,a.png,10,0,0,0,0,0,0,0,0,0\n")
    ds = load_dataset(path)
    assert ds.votes is None and any("not attached" in n for n in ds.notes)


def test_ferplus_label_modes():
    votes = np.array([
        [6, 3, 1, 0, 0, 0, 0, 0, 0, 0],  # clear neutral majority
        [4, 4, 2, 0, 0, 0, 0, 0, 0, 0],  # no majority -> unknown
        [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],  # all single votes -> nothing left -> unknown
        [0, 0, 0, 0, 0, 0, 0, 0, 2, 8],  # not a face
    ])
    assert labels_from_votes(votes, "majority").tolist() == [0, 8, 8, 9]
    assert labels_from_votes(votes, "plurality").tolist() == [0, 0, 0, 9]
    probs = probabilities_from_votes(votes)
    assert probs[0].tolist()[:2] == pytest.approx([6 / 9, 3 / 9])
    assert probs[3].sum() == 0 and labels_from_votes(votes, "probability")[3] == UNMAPPED


def test_folder_layout_with_usage_prefixes(tmp_path):
    imgs = make_images(6, seed=1)
    (tmp_path / "train" / "happy").mkdir(parents=True)
    (tmp_path / "train" / "angry").mkdir(parents=True)
    (tmp_path / "test" / "happy").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "train" / "happy" / "Training_1.png"), imgs[0])
    cv2.imwrite(str(tmp_path / "train" / "angry" / "Training_2.png"), imgs[1])
    cv2.imwrite(str(tmp_path / "test" / "happy" / "PublicTest_3.png"), imgs[2])
    cv2.imwrite(str(tmp_path / "test" / "happy" / "x.png"), cv2.resize(imgs[3], (96, 96)))
    ds = load_dataset(tmp_path)
    assert len(ds) == 4
    by_id = dict(zip(ds.ids.tolist(), range(len(ds))))
    assert ds.splits[by_id["test/happy/PublicTest_3.png"]] == "PublicTest"
    assert ds.splits[by_id["test/happy/x.png"]] == "PrivateTest"
    assert ds.labels[by_id["train/angry/Training_2.png"]] == 0
    assert np.array_equal(ds.images[by_id["train/happy/Training_1.png"]], imgs[0])


def test_folder_errors_name_the_problem(tmp_path):
    with pytest.raises(DataError, match="no images found"):
        load_dataset(tmp_path)
    (tmp_path / "train" / "happy").mkdir(parents=True)
    (tmp_path / "train" / "happy" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match="unreadable image") as info:
        load_dataset(tmp_path)
    assert "broken.jpg" in info.value.message
    (tmp_path / "train" / "happy" / "broken.jpg").unlink()
    (tmp_path / "train" / "bored").mkdir()
    cv2.imwrite(str(tmp_path / "train" / "bored" / "a.png"), make_images(1)[0])
    with pytest.raises(DataError, match="'bored' is not a class"):
        load_dataset(tmp_path)


def test_votes_file_given_as_dataset_is_explained(tmp_path):
    p = tmp_path / "fer2013new.csv"
    p.write_text("x")
    with pytest.raises(DataError, match="holds no pixels"):
        load_dataset(p)


def test_demo_dataset_is_labelled_and_has_planted_problems():
    ds = load_dataset("demo")
    assert ds.is_demo and "synthetic" in ds.name.lower()
    assert len(ds) == 392 and np.bincount(ds.labels).tolist() == [56] * 7


# ---- real data (small reads, plus the full FER2013 file for the headline facts) ----

def test_real_ferplus_votes(shared_data):
    votes, usage = load_votes(shared_data / "fer2013new.csv")
    assert votes.shape == (35887, 10)
    train = votes[usage == "Training"]
    top = train.max(axis=1, keepdims=True)
    untied = (train == top).sum(axis=1) == 1
    plural = labels_from_votes(train[untied], "plurality")
    # the data README's plurality table (Training): neutral 9,365, happiness 7,410, NF 150
    assert (plural == 0).sum() == 9365 and (plural == 1).sum() == 7410 and (plural == 9).sum() == 150
    assert (~untied).sum() == 1449


def test_real_ckplus_splits_by_subject(shared_data):
    ds = load_dataset(shared_data / "ckplus" / "ckplus.csv.gz")
    assert len(ds) == 981
    assert np.bincount(ds.labels, minlength=8).tolist() == [135, 177, 75, 207, 84, 249, 0, 54]
    for subject in np.unique(ds.groups):
        assert len(set(ds.splits[ds.groups == subject].tolist())) == 1
    assert set(ds.split_names) == {"Training", "PublicTest", "PrivateTest"}
    assert (ds.in_scheme("fer2013").labels == UNMAPPED).sum() == 54  # contempt has no FER2013 class
