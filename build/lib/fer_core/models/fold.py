"""Fold inference-mode BatchNormalization into the layer before it, for faster batch-1 prediction.

At batch 1 on CPU a small network's time goes mostly to per-operation overhead, and a BatchNormalization layer
is several element-wise operations. After training its statistics are constants, so
`BN(conv(x)) = conv'(x)` with kernel * gamma / sqrt(var + eps) and a bias: the same function (to float
rounding) with fewer operations. FERNet loses 10 of its 51 layers and about 15% of its batch-1 latency.

Applied when a run's model is loaded for inference (`fer_core.runs.loader.load_model`); the saved file keeps its
BatchNormalization layers, so runs stay resumable and usable as starting weights.
"""
from __future__ import annotations

import numpy as np

_FOLDABLE = ("Conv2D", "SeparableConv2D", "Dense")


def _inputs_of(layer) -> list:
    return [t for node in layer._inbound_nodes for t in node.input_tensors]


def foldable_pairs(model) -> dict[str, object]:
    """{producer layer name: the BatchNormalization after it} for pairs that can be folded: the BN normalises
    the last axis, its one input comes from a Conv2D/SeparableConv2D/Dense without activation that is called
    once and feeds nothing else."""
    import keras
    uses: dict[str, int] = {}
    for layer in model.layers:
        for tensor in _inputs_of(layer):
            producer = tensor._keras_history.operation
            uses[producer.name] = uses.get(producer.name, 0) + 1
    pairs = {}
    for layer in model.layers:
        if not isinstance(layer, keras.layers.BatchNormalization) or layer.axis not in (-1, len(layer.input.shape) - 1):
            continue
        inputs = _inputs_of(layer)
        if len(inputs) != 1:
            continue
        producer = inputs[0]._keras_history.operation
        if (type(producer).__name__ in _FOLDABLE and len(producer._inbound_nodes) == 1
                and uses.get(producer.name) == 1 and producer.get_config().get("activation") == "linear"):
            pairs[producer.name] = layer
    return pairs


def _folded_weights(producer, bn) -> list[np.ndarray]:
    weights = [np.asarray(w) for w in producer.get_weights()]
    n_kernels = 2 if type(producer).__name__ == "SeparableConv2D" else 1  # depthwise + pointwise
    kernels, bias = weights[:n_kernels], (weights[n_kernels] if len(weights) > n_kernels else 0.0)
    stats = {w.path.split("/")[-1]: np.asarray(w) for w in bn.weights}
    gamma = stats.get("gamma", 1.0)
    beta = stats.get("beta", 0.0)
    scale = gamma / np.sqrt(stats["moving_variance"] + bn.epsilon)
    kernels[-1] = kernels[-1] * scale  # the output channels are the last axis of the (pointwise) kernel
    return kernels + [(bias - stats["moving_mean"]) * scale + beta]


def fold_batchnorm(model):
    """A new model computing what `model` computes at inference, with foldable BatchNormalization layers
    merged into the layer before them; `model` itself is not changed. A model with nothing to fold is
    returned as it is."""
    import keras
    pairs = foldable_pairs(model)
    if not pairs:
        return model
    folded_bns = {bn.name for bn in pairs.values()}

    def clone(layer):
        config = layer.get_config()
        if layer.name in pairs:
            config["use_bias"] = True
        return layer.__class__.from_config(config)

    def call(layer, *args, **kwargs):
        if layer.name in folded_bns:
            return args[0]  # left out of the new graph
        return layer(*args, **kwargs)

    new = keras.models.clone_model(model, clone_function=clone, call_function=call)
    for layer in new.layers:
        old = model.get_layer(layer.name)
        layer.set_weights(_folded_weights(old, pairs[layer.name]) if layer.name in pairs else old.get_weights())
    return new
