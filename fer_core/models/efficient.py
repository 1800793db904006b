"""CPU-efficient FER networks: accuracy per CPU-second at 48x48 (the default-model family).

`fernet`: a residual CNN of plain 3x3 convolutions (oneDNN runs them far faster per FLOP on CPU than depthwise
ones), squeeze-excitation in the later stages, global average pooling. Width and depth are options so that
sweeps can vary them; the registered defaults were chosen by measured images/s and PublicTest accuracy.
`fernet_sep` is the depthwise-separable variant in the spirit of mini-Xception / MobileNet, kept for the
throughput comparison in bench/train_throughput.py.
"""
from __future__ import annotations

import keras
from keras import layers

from fer_core.models.cnns import pixel_inputs


def _bn_relu(x, name: str):
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def _conv(x, filters: int, name: str, separable: bool, stride: int = 1):
    if separable:
        return layers.SeparableConv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    return layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)


def _squeeze_excite(x, name: str, ratio: int = 8):
    """Channel gates from global context (Hu et al. 2018): cheap, and it helps small nets most."""
    channels = x.shape[-1]
    s = layers.GlobalAveragePooling2D(name=f"{name}_se_pool")(x)
    s = layers.Dense(max(channels // ratio, 8), activation="relu", name=f"{name}_se_reduce")(s)
    s = layers.Dense(channels, activation="sigmoid", name=f"{name}_se_expand")(s)
    s = layers.Reshape((1, 1, channels), name=f"{name}_se_reshape")(s)
    return layers.Multiply(name=f"{name}_se_scale")([x, s])


def _residual_block(x, filters: int, name: str, separable: bool, se: bool):
    shortcut = x
    y = _bn_relu(_conv(x, filters, f"{name}_a", separable), f"{name}_a")
    y = layers.BatchNormalization(name=f"{name}_b_bn")(_conv(y, filters, f"{name}_b", separable))
    if se:
        y = _squeeze_excite(y, name)
    if shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_proj")(shortcut)
        shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.Activation("relu", name=f"{name}_out")(y)


def build_fernet(n_classes: int, input_size: int = 48, widths=(16, 32, 64, 128), blocks=(0, 1, 1, 1),
                 se_from: int = 3, dropout: float = 0.3, separable: bool = False, name: str = "fernet", **_):
    """Per stage: 2x2 max-pool (from stage 2 on), one 3x3 conv to the stage's width, then `blocks[s]` residual
    blocks of two 3x3 convs. Stages from `se_from` on carry squeeze-excitation. Widths double as the
    resolution halves, so every full conv costs the same; the cheap 6x6 and 12x12 stages get the depth."""
    inputs, x = pixel_inputs(input_size)
    for s, (filters, n_blocks) in enumerate(zip(widths, blocks), start=1):
        if s > 1:
            x = layers.MaxPooling2D(2, name=f"stage{s}_pool")(x)
        x = _bn_relu(_conv(x, filters, f"stage{s}", separable and s > 1), f"stage{s}")
        for b in range(n_blocks):
            x = _residual_block(x, filters, f"stage{s}_block{b + 1}", separable, se=s >= se_from)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(dropout, name="pool_drop")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name=name)


def build_fernet_sep(n_classes: int, input_size: int = 48, **options):
    options.setdefault("widths", (32, 64, 128, 256))
    options.setdefault("blocks", (0, 2, 2, 2))
    return build_fernet(n_classes, input_size, separable=True, name="fernet_sep", **options)
