import numpy as np
import pytest

from fer_core.training.augment import augment_batch

pytestmark = pytest.mark.unit  # layer (the folder says the subject)

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


def test_random_erasing_fills_one_rectangle_per_chosen_image():
    from fer_core.training.augment import random_erasing
    x = np.full((64, 48, 48), 128.0, np.float32)
    out = random_erasing(x.copy(), np.random.default_rng(0), probability=0.5)
    changed = out != 128.0
    hit = changed.any(axis=(1, 2))
    assert 16 < hit.sum() < 48  # about half the images
    for img in changed[hit]:
        ys, xs = np.nonzero(img)
        box = img[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        assert box.mean() > 0.95  # a filled rectangle (noise may equal 128 at a few pixels)
        assert 0.015 * 48 * 48 <= box.size <= 0.26 * 48 * 48


def test_mixup_and_cutmix_mix_targets_as_much_as_pixels():
    from fer_core.training.augment import mix_batch
    n = 32
    x = np.zeros((n, 48, 48), np.float32)
    x[n // 2:] = 255.0  # first half black (class 0), second half white (class 1)
    y = np.zeros((n, 2), np.float32)
    y[: n // 2, 0] = 1
    y[n // 2:, 1] = 1
    w = np.ones(n, np.float32)
    for kind in ("mixup", "cutmix"):
        cfg = {kind: 1.0, "mix_prob": 1.0}
        mx, my, mw = mix_batch(x, y, w, np.random.default_rng(3), cfg)
        assert np.allclose(my.sum(1), 1) and np.allclose(mw, 1)
        assert np.allclose(mx.mean(axis=(1, 2)) / 255.0, my[:, 1], atol=1e-5)  # white share == class-1 share
        assert not np.array_equal(my, y)
    same = mix_batch(x, y, w, np.random.default_rng(3), {"mixup": 1.0, "mix_prob": 0.0})
    assert same[0] is x and same[1] is y


def test_training_batches_are_identical_for_any_number_of_workers():
    from fer_core.training.batches import training_batches as _batches
    from fer_core.training.config import TrainConfig
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (300, 48, 48)).astype(np.uint8)
    targets = np.eye(7, dtype=np.float32)[rng.integers(0, 7, 300)]
    aug = {"rotation": 10, "shift": 0.1, "hflip": True, "erasing": 0.5, "mixup": 0.2, "cutmix": 1.0, "mix_prob": 1.0}
    cfg = TrainConfig(augment=aug, batch_size=64, seed=1)
    one = _batches(imgs, targets, np.ones(300, np.float32), cfg)
    many = _batches(imgs, targets, np.ones(300, np.float32), TrainConfig(**{**cfg.__dict__, "data_workers": 4}))
    later = _batches(imgs, targets, np.ones(300, np.float32), cfg, first_epoch=1)
    for i in (0, 3):
        assert all(np.array_equal(a, b) for a, b in zip(one[i], many[i]))
    one.on_epoch_end()
    assert all(np.array_equal(a, b) for a, b in zip(one[2], later[2]))  # a resumed run sees the same batches
    assert not np.array_equal(one[2][0], many[2][0])  # and a new epoch differs from the first
