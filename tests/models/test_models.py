"""Every architecture builds, trains a couple of steps, saves, reloads in safe mode and predicts the same."""
import json

import keras
import numpy as np
import pytest

from conftest import python_ok
from fer_core.models import ARCHITECTURES, build_model
from fer_core.training.config import TrainConfig
from fer_core.training.lifecycle import train

pytestmark = pytest.mark.training  # layer (the folder says the subject)

FAST = [a for a in ARCHITECTURES if a != "efficientnetb3"]


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_save_and_safe_reload_give_identical_outputs(arch, tmp_path):
    model = build_model(arch, 7, input_size=48 if arch in ("efficientnetb3", "vgg16") else None)
    x = np.random.default_rng(0).uniform(0, 255, (3, 48, 48, 1)).astype("float32")
    before = np.asarray(model(x, training=False))
    assert before.shape == (3, 7) and np.allclose(before.sum(axis=1), 1, atol=1e-4)
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert np.allclose(np.asarray(again(x, training=False)), before, atol=1e-5)


def test_cbam_attention_maps_are_height_by_width_and_reachable_by_name():
    model = build_model("cbam5cnn", 7)
    spatial = model.get_layer("cbam1_spatial").output
    channel = model.get_layer("cbam2_channel").output
    assert tuple(spatial.shape[1:]) == (48, 48, 1)
    assert tuple(channel.shape[1:]) == (1, 1, 128)
    probe = keras.Model(model.input, [model.get_layer(f"cbam{b}_spatial").output for b in (1, 2, 3)])
    maps = probe(np.random.default_rng(1).uniform(0, 255, (2, 48, 48, 1)).astype("float32"))
    assert [tuple(m.shape) for m in maps] == [(2, 48, 48, 1), (2, 24, 24, 1), (2, 12, 12, 1)]
    m = np.asarray(maps[0])
    assert m.min() >= 0 and m.max() <= 1 and m.std() > 0  # a real spatial map, not a constant


@pytest.mark.parametrize("arch", FAST)
def test_two_training_steps_then_reload(arch, tmp_path):
    cfg = TrainConfig(architecture=arch, data="demo", epochs=1, batch_size=16, max_train_images=64,
                      max_steps_per_epoch=2, input_size=48 if arch == "vgg16" else None, seed=1)
    run = train(cfg, out_root=tmp_path)
    for name in ("model.keras", "config.json", "history.csv", "metrics.json", "run.json"):
        assert (run / name).exists(), name
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "completed" and record["data_version"] and "--config" in record["command"]
    assert record["environment"]["backend"] == "tensorflow"
    metrics = json.loads((run / "metrics.json").read_text())
    assert {"accuracy", "macro_f1", "per_class", "confusion_matrix"} <= set(metrics["test"])
    model = keras.saving.load_model(run / "model.keras", safe_mode=True)
    from fer_core.models.predict import predict_probs
    from fer_core.training.data import prepare
    data = prepare(TrainConfig.load(run / "config.json").resolved())
    acc = float((predict_probs(model, data.test.images).argmax(1) == data.test.labels).mean())
    assert acc == pytest.approx(metrics["test"]["accuracy"])
    assert np.array(metrics["test"]["confusion_matrix"]).sum() == metrics["test"]["n"]


def test_efficientnetb3_trains_two_steps_from_scratch_and_says_so(trains_for_minutes, tmp_path):
    cfg = TrainConfig(architecture="efficientnetb3", data="demo", epochs=1, batch_size=8, max_train_images=16,
                      max_steps_per_epoch=2, input_size=48)
    run = train(cfg, out_root=tmp_path)
    record = json.loads((run / "run.json").read_text())
    assert record["pretrained"] is False and record["status"] == "completed"
    keras.saving.load_model(run / "model.keras", safe_mode=True)


def test_saved_run_loads_in_a_fresh_process_and_holds_no_optimizer_state(tmp_path):
    """A new process (like the app after a restart) must find the custom CBAM layers; files stay lean."""
    run = train(TrainConfig(architecture="cbam5cnn", data="demo", epochs=1, batch_size=16, max_train_images=32,
                            max_steps_per_epoch=1), out_root=tmp_path)
    params = json.loads((run / "run.json").read_text())["parameters"]
    assert (run / "model.keras").stat().st_size < params * 4 * 1.2  # weights only, no Adam moments
    code = ("import numpy as np; from fer_core.runs.loader import load_model; "
            f"m = load_model({str(run)!r}); print(m.predict(np.zeros((1,48,48,1),'float32'), verbose=0).shape)")
    out = python_ok(code)
    assert "(1, 7)" in out.stdout


@pytest.mark.parametrize("arch", ["resnet18", "compact"])
def test_grad_cam_reaches_the_new_architectures(arch):
    from fer_core.explain.overlays import Explainer, target_conv_layer
    model = build_model(arch, 7)
    assert target_conv_layer(model) in ("stage4_block2_out", "stage4_2_relu")
    face = np.random.default_rng(0).uniform(0, 255, (48, 48)).astype("float32")
    cam = Explainer(model).gradcam(face, 3)
    assert cam.ndim == 2 and cam.shape[0] == cam.shape[1] == 6 and np.isfinite(cam).all()


def test_cnn004_shape_options_change_the_network_and_the_default_is_seed_004s():
    from fer_core.models.registry import build_model
    default, small = build_model("cnn004", 7), build_model("cnn004", 7, stages=2, dense_layers=0)
    assert [layer.name for layer in default.layers if "dense" in layer.name] == ["dense256", "dense256_drop",
                                                                                 "dense128"]
    assert not any("dense" in layer.name or "stage3" in layer.name for layer in small.layers)
    assert small.output.shape[-1] == 7 and small.count_params() != default.count_params()


def test_the_seed003_ablation_switches_leave_their_part_out_of_the_network():
    def kinds(model):
        return {type(layer).__name__ for layer in model.layers}

    full = build_model("cbam5cnn", 7, width=0.25)
    assert {"BatchNormalization", "Dropout", "ChannelAttention", "SpatialAttention"} <= kinds(full)
    assert "Dropout" not in kinds(build_model("cbam5cnn", 7, width=0.25, dropout=0.0))
    no_bn = build_model("cbam5cnn", 7, width=0.25, batch_norm=False)
    assert "BatchNormalization" not in kinds(no_bn)
    assert all(layer.use_bias for layer in no_bn.layers if type(layer).__name__ == "Conv2D")  # bias replaces BN's
    no_attention = build_model("cbam5cnn", 7, width=0.25, attention=False)
    assert not kinds(no_attention) & {"ChannelAttention", "SpatialAttention"}
    x = np.random.default_rng(0).uniform(0, 255, (2, 48, 48, 1)).astype("float32")
    for model in (full, no_bn, no_attention):
        assert model.predict(x, verbose=0).shape == (2, 7)


@pytest.mark.parametrize("arch, kept", [("fernet", 0), ("fernet_sep", 0), ("cnn002", 2), ("cbam5cnn", 0),
                                        ("resnet18", 0)])
def test_folding_batchnorm_keeps_the_outputs_and_drops_the_layers(arch, kept):
    """cnn002's two BatchNorms follow Dense layers with a ReLU inside, which cannot be folded."""
    from fer_core.models.fold import fold_batchnorm

    def bn_count(m):
        return sum(isinstance(layer, keras.layers.BatchNormalization) for layer in m.layers)
    model = build_model(arch, 7)
    rng = np.random.default_rng(0)
    for layer in model.layers:  # trained-looking statistics, so that a wrong fold shows
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights([rng.uniform(0.5, 1.5, np.shape(w)).astype("float32") for w in layer.get_weights()])
    x = rng.uniform(0, 255, (4, 48, 48, 1)).astype("float32")
    n_bn = bn_count(model)
    folded = fold_batchnorm(model)
    assert bn_count(folded) == kept and len(folded.layers) == len(model.layers) - (n_bn - kept)
    assert bn_count(model) == n_bn  # the original is left as it was
    assert np.allclose(np.asarray(folded(x)), np.asarray(model(x, training=False)), atol=1e-5)
