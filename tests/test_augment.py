import numpy as np

from fer_core.training.augment import augment_batch

OFF = {"rotation": 0, "shift": 0, "brightness": None, "shear": 0, "zoom": 0, "hflip": False}


def images(n=8):
    return np.random.default_rng(0).integers(0, 256, (n, 48, 48)).astype(np.uint8)


def test_all_switches_off_is_identity():
    x = images()
    assert np.allclose(augment_batch(x, np.random.default_rng(0), OFF), x, atol=1e-3)


def test_flip_only_mirrors_some_images_exactly():
    x = images(32)
    out = augment_batch(x, np.random.default_rng(1), {**OFF, "hflip": True})
    flipped = [np.allclose(o, i[:, ::-1], atol=1e-3) for o, i in zip(out, x)]
    same = [np.allclose(o, i, atol=1e-3) for o, i in zip(out, x)]
    assert all(f or s for f, s in zip(flipped, same)) and 0 < sum(flipped) < 32


def test_full_augmentation_is_deterministic_in_range_and_changes_images():
    x = images()
    cfg = {"rotation": 30, "shift": 0.2, "brightness": [0.8, 1.2], "shear": 0.2, "zoom": 0.2, "hflip": True}
    a = augment_batch(x, np.random.default_rng(5), cfg)
    b = augment_batch(x, np.random.default_rng(5), cfg)
    assert a.dtype == np.float32 and a.shape == x.shape and np.array_equal(a, b)
    assert a.min() >= 0 and a.max() <= 255
    assert np.abs(a - x).mean() > 10


def test_pure_shift_moves_content():
    x = np.zeros((1, 48, 48), np.uint8)
    x[0, 20:28, 20:28] = 255
    out = augment_batch(x, np.random.default_rng(3), {**OFF, "shift": 0.2})
    ys, xs = np.nonzero(out[0] > 128)
    assert (ys.mean(), xs.mean()) != (23.5, 23.5)
    assert abs(out[0].sum() - x[0].sum()) / x[0].sum() < 0.05  # moved, not destroyed
