"""ResNet-18 for 48x48 faces: a 3x3 stem without the ImageNet max-pool (the faces are small), four stages of
two basic residual blocks (strides 1, 2, 2, 2 -> 6x6), global average pooling. Different in kind from the VGG-style
CNNs, which is what an ensemble needs."""
from __future__ import annotations

import keras
from keras import layers

from fer_core.models.cnns import pixel_inputs


def _basic_block(x, filters: int, stride: int, name: str):
    shortcut = x
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    y = layers.BatchNormalization(name=f"{name}_bn1")(y)
    y = layers.Activation("relu", name=f"{name}_relu1")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_proj")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.Activation("relu", name=f"{name}_out")(y)


def build_resnet18(n_classes: int, input_size: int = 48, width: int = 64, dropout: float = 0.3, **_):
    inputs, x = pixel_inputs(input_size)
    x = layers.Conv2D(width, 3, padding="same", use_bias=False, name="stem_conv")(x)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation("relu", name="stem_relu")(x)
    for s, (mult, stride) in enumerate(((1, 1), (2, 2), (4, 2), (8, 2)), start=1):
        x = _basic_block(x, width * mult, stride, f"stage{s}_block1")
        x = _basic_block(x, width * mult, 1, f"stage{s}_block2")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(dropout, name="pool_drop")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="resnet18")
