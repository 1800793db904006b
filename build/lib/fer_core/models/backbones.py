"""ImageNet backbones (EfficientNetB3, VGG16), built unnested so Grad-CAM can reach their conv layers.

ImageNet weights cannot be downloaded here: pass `weights_path` to a local Keras weights file (the
"notop" .h5 from keras-applications); without one the backbone starts from random weights and the run
record says so (`pretrained: false`).
"""
from __future__ import annotations

from pathlib import Path

import keras
from keras import layers

VGG_MEANS = (103.939, 116.779, 123.68)  # caffe-style per-channel means (BGR) the VGG16 weights expect


def _gray_to_rgb(input_size: int):
    inputs = keras.Input((48, 48, 1), name="pixels")
    x = inputs
    if input_size != 48:
        x = layers.Resizing(input_size, input_size, name="resize")(x)
    x = layers.Concatenate(name="gray_to_rgb")([x, x, x])
    return inputs, x


def _weights(weights_path):
    if weights_path and Path(weights_path).exists():
        return str(weights_path)
    return None


def _head(x, n_classes, dense=256, dropout=0.4):
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dense(dense, activation="relu", name="head_dense")(x)
    x = layers.Dropout(dropout, name="head_drop")(x)
    return layers.Dense(n_classes, activation="softmax", name="probs")(x)


def build_efficientnetb3(n_classes: int, input_size: int = 96, weights_path: str | None = None, **_):
    inputs, x = _gray_to_rgb(input_size)
    # Keras EfficientNet rescales 0-255 inside, so pixels go in unscaled.
    base = keras.applications.EfficientNetB3(include_top=False, weights=_weights(weights_path), input_tensor=x)
    return keras.Model(inputs, _head(base.output, n_classes), name="efficientnetb3")


def build_vgg16(n_classes: int, input_size: int = 96, weights_path: str | None = None, **_):
    inputs, x = _gray_to_rgb(input_size)
    x = layers.Normalization(mean=VGG_MEANS, variance=(1.0, 1.0, 1.0), name="vgg_mean")(x)
    base = keras.applications.VGG16(include_top=False, weights=_weights(weights_path), input_tensor=x)
    return keras.Model(inputs, _head(base.output, n_classes), name="vgg16")


def backbone_layer_names(model) -> list[str]:
    """Layers that belong to the backbone (everything between the RGB conversion and the head)."""
    head = {"gap", "head_dense", "head_drop", "probs"}
    return [layer.name for layer in model.layers if layer.name not in head and not isinstance(layer, keras.layers.InputLayer)]
