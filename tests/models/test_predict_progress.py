"""Compare's progress bar: predictions in chunks give the same probabilities, and the bar's fractions rise to 1."""
import numpy as np
import pytest

pytestmark = pytest.mark.training  # layer (the folder says the subject)


def tiny_model():
    import keras
    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(x))


@pytest.mark.parametrize("tta,views", [("none", 1), ("shift10", 10)])
def test_chunked_predictions_match_and_report_progress(tta, views):
    from fer_core.models.predict import predict_probs
    model = tiny_model()
    images = np.random.default_rng(0).integers(0, 256, (50, 48, 48), np.uint8)
    seen = []
    chunked = predict_probs(model, images, tta, progress=seen.append, chunk=16)
    assert np.allclose(chunked, predict_probs(model, images, tta), atol=1e-6)
    assert len(seen) == 4 * views and seen == sorted(seen) and seen[-1] == pytest.approx(1.0)


def test_an_exception_from_progress_stops_the_work():
    """Streamlit stops a script run by raising from its next element update: the evaluation must stop there."""
    from fer_core.models.predict import predict_probs
    calls = []

    def stop(fraction):
        calls.append(fraction)
        raise KeyboardInterrupt  # stands in for Streamlit's StopException

    with pytest.raises(KeyboardInterrupt):
        predict_probs(tiny_model(), np.zeros((50, 48, 48), np.uint8), "shift10", progress=stop, chunk=16)
    assert len(calls) == 1


def test_rows_of_a_mapped_cache_predict_as_the_copied_array(tmp_path):
    """Evaluation and training pass splits as `Rows` of the mapped cache: same probabilities as the copy."""
    from fer_core.data.rows import Rows
    from fer_core.models.predict import predict_probs
    images = np.random.default_rng(1).integers(0, 256, (60, 48, 48), np.uint8)
    images.tofile(tmp_path / "x.u8")
    base = np.memmap(tmp_path / "x.u8", np.uint8, "r", shape=images.shape)
    picked = np.random.default_rng(2).permutation(60)[:37]
    model = tiny_model()
    assert np.array_equal(predict_probs(model, Rows(base, picked), "flip", chunk=16),
                          predict_probs(model, images[picked], "flip", chunk=16))
