"""CBAM (Woo et al. 2018): channel attention, then spatial attention over channel-wise avg/max maps.

Each attention map is the output of its own named layer, so explainers can read it:
`<prefix>_channel` gives B x 1 x 1 x C weights and `<prefix>_spatial` gives a B x H x W x 1 map.
Only keras.ops inside layers, so the same model runs on TensorFlow, JAX and torch.
"""
from __future__ import annotations

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="fer_core")
class ChannelAttention(layers.Layer):
    """Sigmoid(MLP(avgpool(x)) + MLP(maxpool(x))) with one shared two-layer MLP; returns B x 1 x 1 x C."""

    def __init__(self, reduction: int = 8, **kwargs):
        super().__init__(**kwargs)
        self.reduction = reduction

    def build(self, input_shape):
        channels = int(input_shape[-1])
        hidden = max(channels // self.reduction, 1)
        self.squeeze = layers.Dense(hidden, activation="relu", name="mlp_hidden")
        self.excite = layers.Dense(channels, name="mlp_out")
        self.squeeze.build((None, channels))
        self.excite.build((None, hidden))

    def call(self, x):
        avg = ops.mean(x, axis=(1, 2))
        mx = ops.max(x, axis=(1, 2))
        weights = ops.sigmoid(self.excite(self.squeeze(avg)) + self.excite(self.squeeze(mx)))
        return ops.expand_dims(ops.expand_dims(weights, 1), 1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1, 1, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "reduction": self.reduction}


@keras.saving.register_keras_serializable(package="fer_core")
class SpatialAttention(layers.Layer):
    """Sigmoid(conv7x7([mean_c(x), max_c(x)])): an H x W map (B x H x W x 1), not a pooled scalar."""

    def __init__(self, kernel_size: int = 7, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = kernel_size

    def build(self, input_shape):
        self.conv = layers.Conv2D(1, self.kernel_size, padding="same", activation="sigmoid", name="conv")
        self.conv.build((None, input_shape[1], input_shape[2], 2))

    def call(self, x):
        avg = ops.mean(x, axis=-1, keepdims=True)
        mx = ops.max(x, axis=-1, keepdims=True)
        return self.conv(ops.concatenate([avg, mx], axis=-1))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], input_shape[2], 1)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size}


def cbam_block(x, prefix: str, reduction: int = 8):
    """x * channel weights, then * spatial map; the two maps are layers '<prefix>_channel' / '<prefix>_spatial'."""
    x = layers.Multiply(name=f"{prefix}_apply_channel")([x, ChannelAttention(reduction, name=f"{prefix}_channel")(x)])
    return layers.Multiply(name=f"{prefix}_apply_spatial")([x, SpatialAttention(name=f"{prefix}_spatial")(x)])
