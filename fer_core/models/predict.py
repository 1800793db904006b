"""Class probabilities from a model, optionally averaged over test-time augmentation views.

Kept free of scikit-learn/scipy so training (incl. distillation on GPU hosts), evaluation and Live share it.
"""
from __future__ import annotations

import time
from functools import lru_cache

import numpy as np

from fer_core.errors import DataError

TTA_MODES = {"none": "no test-time augmentation", "flip": "image + mirror (2 views)",
             "shift10": "image + mirror, each also shifted 2 px up/down/left/right (10 views)"}
SHIFT_PX = 2


def tta_mode(tta: bool | str | None) -> str:
    """True/False (older callers) or a mode name -> a mode name."""
    mode = {True: "flip", False: "none", None: "none"}.get(tta, tta)
    if mode not in TTA_MODES:
        raise DataError(f"unknown test-time augmentation '{tta}'", fix=f"use one of {', '.join(TTA_MODES)}")
    return mode


def tta_views(x: np.ndarray, mode: str):
    """The views of N x H x W x 1 images a mode averages over; shifts repeat edge pixels (no wrap-around)."""
    if mode == "none":
        yield x
        return
    if mode == "shift10":
        s, (h, w) = SHIFT_PX, x.shape[1:3]
        padded = np.pad(x, ((0, 0), (s, s), (s, s), (0, 0)), mode="edge")
        for dy, dx in ((0, 0), (-s, 0), (s, 0), (0, -s), (0, s)):
            view = padded[:, s + dy:s + dy + h, s + dx:s + dx + w]
            yield view
            yield view[:, :, ::-1]
        return
    yield x
    yield x[:, :, ::-1]


def predict_probs(model, images, tta: bool | str = False, batch_size: int = 256,
                  progress=None, chunk: int = 4096) -> np.ndarray:
    """Class probabilities, averaged over the test-time augmentation views of `tta` (see TTA_MODES).
    Works through `images` (an array or `Rows` of a mapped cache) `chunk` rows at a time, so only one chunk is ever
    held as float32 views. With `progress`, it is called with the fraction done after every view of every chunk (the
    Compare page's bar; an exception it raises, such as Streamlit stopping a script run, stops the work there)."""
    mode = tta_mode(tta)
    out, n = [], len(images)
    for start in range(0, n, chunk):
        x = np.asarray(images[start:start + chunk])[..., None].astype(np.float32)
        views = list(tta_views(x, mode))  # numpy views of one padded array: no copies
        probs = []
        for k, v in enumerate(views, start=1):
            probs.append(np.asarray(model.predict(np.ascontiguousarray(v), batch_size=batch_size, verbose=0)))
            if progress is not None:
                progress((start + len(x) * k / len(views)) / n)
        out.append(np.mean(probs, axis=0))
    return np.concatenate(out) if out else np.zeros((0, model.output_shape[-1]), np.float32)


def _faster(a, b, x, calls: int, margin: float = 0.95) -> bool:
    """Whether `a` is clearly faster than `b` on x: median of interleaved calls, so drift hits both alike."""
    times = ([], [])
    for _ in range(calls):
        for fn, out in ((a, times[0]), (b, times[1])):
            t = time.perf_counter()
            np.asarray(fn(x))
            out.append(time.perf_counter() - t)
    return float(np.median(times[0])) < margin * float(np.median(times[1]))


@lru_cache(maxsize=8)  # per model object: Live's uploads and Compare's evaluations reuse the compiled call
def compiled_call(model, calls: int = 20):
    """x -> probabilities through a tf.function around the model: at batch 1 about 10% faster than Keras'
    predict_on_batch (no data-adapter work per call), same outputs; other backends use predict_on_batch.

    For batch 1 (a single face, the common Live case) an XLA-compiled variant is also built and kept when it
    measures faster here: it is for plain-convolution nets such as FERNet, while depthwise ones (mini-Xception)
    run several times slower under XLA on CPU. Other batch sizes stay on the plain call, because XLA compiles
    every new shape for seconds. Models from `fer_core.runs.loader.load_model` are cached objects, so the XLA
    compile and the timing check run once per model, not per caller."""
    import keras
    if keras.backend.backend() != "tensorflow":
        return model.predict_on_batch
    import tensorflow as tf
    plain = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    xla = tf.function(lambda x: model(x, training=False), jit_compile=True)
    one = tf.zeros((1, *model.input_shape[1:]), tf.float32)
    try:
        for fn in (plain, xla, plain, xla):  # trace and compile, then once more warm
            fn(one)
        use_xla = _faster(xla, plain, one, calls)
    except Exception:  # noqa: BLE001 - a build without XLA, or an op XLA cannot compile: keep the plain call
        use_xla = False

    def call(x):
        x = tf.convert_to_tensor(x)
        return xla(x) if use_xla and x.shape[0] == 1 else plain(x)
    call.uses_xla = use_xla
    return call
