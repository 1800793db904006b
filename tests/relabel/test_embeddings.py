"""Near-duplicates and similar images on the demo faces (features stand in as flattened pixels)."""
import cv2
import numpy as np
import pytest

from fer_core.data.loading import load_dataset
from fer_core.relabel.embeddings import groups_from_pairs, near_duplicate_pairs, phash, similar

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


def unit(x):
    x = x.reshape(len(x), -1).astype(np.float32)
    x -= x.mean(axis=1, keepdims=True)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_a_rescaled_brightened_copy_is_a_near_duplicate_and_other_faces_are_not():
    faces = load_dataset("demo").images[:60]
    copy = cv2.resize(cv2.resize(faces[7], (40, 40)), (48, 48))  # re-sampled
    copy = np.clip(copy.astype(int) + 12, 0, 255).astype(np.uint8)  # and brighter
    images = np.concatenate([faces, copy[None]])
    hashes = phash(images)
    bits = np.bitwise_count(hashes ^ hashes[-1])
    assert bits[7] <= 6 and np.sort(bits)[2] > bits[7]  # the copy is the closest hash but for itself
    pairs = near_duplicate_pairs(hashes, unit(images.astype(np.float32)), max_bits=10, max_dist=0.05)
    assert [7, 60] in pairs.tolist()
    groups = groups_from_pairs(pairs, len(images))
    assert any(set(g) >= {7, 60} for g in groups)
    assert groups_from_pairs(np.zeros((0, 2), int), 5) == []


def test_similar_images_are_nearest_first_and_exclude_the_image_itself():
    feats = unit(np.random.default_rng(0).normal(size=(500, 8)))
    near, dist = similar(feats, 3, 5)
    brute = np.argsort(1 - feats @ feats[3])
    assert near.tolist() == [r for r in brute if r != 3][:5]
    assert np.all(np.diff(dist) >= 0)
