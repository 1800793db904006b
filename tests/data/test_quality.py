import numpy as np
import pytest

from conftest import make_images, write_fer_csv
from fer_core.data.balance import balanced_class_weights
from fer_core.data.loading import load_dataset
from fer_core.data.quality import analyse
from fer_core.data.report import dataset_facts

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


def test_planted_duplicates_leaks_and_blanks_are_found(tmp_path):
    images = make_images(12, seed=5)
    labels = np.array([0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4])
    usage = ["Training"] * 8 + ["PublicTest"] * 2 + ["PrivateTest"] * 2
    images[8] = images[0]  # PublicTest leak of a Training image, same label
    images[10] = images[0]  # PrivateTest leak, and also the same image as PublicTest row 8
    images[7] = images[1]  # duplicate inside Training with a different label
    images[3] = 17  # blank
    images[4] = 100
    images[4, 0, 0] = 102  # near-constant
    ds = load_dataset(write_fer_csv(tmp_path / "q.csv", images, labels, usage))
    r = analyse(ds)
    assert r.duplicate_rows == 5 and len(r.duplicate_groups) == 2
    assert r.leaks["PublicTest<-Training"].tolist() == [8]
    assert r.leaks["PrivateTest<-Training"].tolist() == [10]
    assert r.leaks["PrivateTest<-PublicTest"].tolist() == [10]
    assert r.blank.tolist() == [3] and r.near_constant.tolist() == [4]
    assert len(r.conflicting_duplicates) == 2  # {0,8,10}: labels 0,1,3 ; {1,7}: labels 1,0


def test_class_weights_formula():
    w = balanced_class_weights(np.array([0, 0, 0, 1]), 3)
    # two classes have samples: the empty third neither counts in the denominator nor gets a weight
    assert w.tolist() == [4 / (2 * 3), 4 / (2 * 1), 0.0]


def test_real_fer2013_counts_and_quality(shared_data):
    """The done-criterion facts on the full real file (first load parses the CSV, a few seconds)."""
    ds = load_dataset(shared_data / "fer2013.csv.gz")
    facts = dataset_facts(ds)
    assert facts["splits"] == {"Training": 28709, "PublicTest": 3589, "PrivateTest": 3589}
    assert list(facts["class_counts"]["Training"].values()) == [3995, 436, 4097, 7215, 4830, 3171, 4965]
    assert list(facts["class_counts"]["PrivateTest"].values()) == [491, 55, 528, 879, 594, 416, 626]
    assert ds.votes is not None
    r = analyse(ds)
    assert r.duplicate_rows == 3369 and len(r.duplicate_groups) == 1516
    assert len(r.leaks["PublicTest<-Training"]) == 280
    assert len(r.leaks["PrivateTest<-Training"]) == 288
    assert len(r.leaks["PrivateTest<-PublicTest"]) == 44
    assert len(r.blank) == 12
    # second load reads the binary cache and gives the same data version
    again = load_dataset(shared_data / "fer2013.csv.gz")
    assert again.version == ds.version and any("binary cache" in n for n in again.notes)
