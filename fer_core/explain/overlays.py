"""Explanations of faces: Grad-CAM and Grad-CAM++ (hand-written, compiled, every face of a frame in one pass;
tf-keras-vis for Grad-CAM++ on models whose head is not a softmax Dense layer), CBAM attention.

The app runs on the TensorFlow backend; gradients need a backend's autodiff, so this module (inference
only, never used in training) uses TensorFlow directly for the fast compiled Grad-CAM path.
"""
from __future__ import annotations

import numpy as np

from fer_core.errors import RunError

OVERLAYS = ("none", "Grad-CAM", "Grad-CAM++", "CBAM attention")


def target_conv_layer(model) -> str:
    """The last 4-D feature map before the classifier head with at least 3x3 spatial cells."""
    import keras
    skip = (keras.layers.MaxPooling2D, keras.layers.Dropout, keras.layers.AveragePooling2D)
    for layer in reversed(model.layers):
        shape = getattr(layer.output, "shape", None)
        if shape is not None and len(shape) == 4 and shape[1] and shape[1] >= 3 and not isinstance(layer, skip) \
                and "spatial" not in layer.name and "channel" not in layer.name:
            return layer.name
    raise RunError(f"model {getattr(model, 'name', '')!r} has no convolutional feature map for Grad-CAM",
                   fix="choose the overlay 'none', or a run of a convolutional architecture")


def cbam_layers(model) -> list[str]:
    return [layer.name for layer in model.layers if layer.name.endswith("_spatial") and layer.name.startswith("cbam")]


def pooled_softmax_head(model, layer: str) -> np.ndarray | None:
    """The classifier's kernel (channels x classes) when the explained map reaches the classes only through global
    average pooling, dropout and a softmax Dense layer (the FERNets, the default among them, and ResNet-18), else
    None.

    Then the gradients have a closed form: d p_c / d A_ijk = p_c (W_kc - sum_m p_m W_km) / HW, the same at every
    cell, so Grad-CAM's weights need no backward pass; and Grad-CAM++ (exp of the class logit, alphas normalised
    as tf-keras-vis does) reduces to weights relu(W_kc). One forward pass explains a frame's faces.
    """
    import keras
    names = [layer_.name for layer_ in model.layers]
    chain = model.layers[names.index(layer):]
    head = chain[-1]
    if (len(chain) < 3 or not isinstance(chain[1], keras.layers.GlobalAveragePooling2D)
            or chain[1].get_config().get("keepdims") or chain[1].get_config().get("data_format") != "channels_last"
            or not all(isinstance(x, keras.layers.Dropout) for x in chain[2:-1])
            or not isinstance(head, keras.layers.Dense) or head.get_config().get("activation") != "softmax"
            or model.outputs[0] is not head.output):
        return None
    if any(b.input is not a.output for a, b in zip(chain, chain[1:])):  # a straight chain, no branch joining it
        return None
    return np.asarray(head.kernel, np.float32)


def _normalise(cam: np.ndarray) -> np.ndarray:
    cam = np.maximum(cam, 0)
    peak = cam.max()
    return cam / peak if peak > 0 else cam


class Explainer:
    """Builds the explanation functions for one model once, then explains faces quickly."""

    def __init__(self, model):
        import keras
        import tensorflow as tf
        self.model = model
        self.layer = target_conv_layer(model)
        self.features = keras.Model(model.inputs, [model.get_layer(self.layer).output, model.output])
        self.cbam = cbam_layers(model)
        self.attention = (keras.Model(model.inputs, model.get_layer(self.cbam[0]).output) if self.cbam else None)
        self.head = pooled_softmax_head(model, self.layer)  # Grad-CAM(++) from one forward pass when not None
        self._onnx = None  # use_onnx: the forward pass on ONNX Runtime (3x faster than TensorFlow here)

        # one graph for every batch size: each traced shape costs seconds (a face joining the room was one)
        signature = [tf.TensorSpec([None, *model.input_shape[1:]], tf.float32), tf.TensorSpec([None], tf.int32)]

        @tf.function(input_signature=signature[:1])
        def forward(x):
            return self.features(x, training=False)

        self._forward_tf = forward

        @tf.function(input_signature=signature)
        def gradcam_batch(x, cls):
            # the faces of a batch do not interact (inference mode, BatchNorm folded): the gradient of the sum of
            # each face's own class score is each face's own gradient, in one backward pass
            with tf.GradientTape() as tape:
                fmap, probs = self.features(x, training=False)
                score = tf.reduce_sum(tf.gather(probs, cls, axis=1, batch_dims=1))
            grads = tape.gradient(score, fmap)
            weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
            return tf.nn.relu(tf.reduce_sum(weights * fmap, axis=-1))

        self._gradcam_batch = gradcam_batch
        self._tkv = None
        self._gradcam_pp = None
        head = model.layers[-1]
        if isinstance(head, keras.layers.Dense) and head.get_config().get("activation") == "softmax":
            # Grad-CAM++ wants the class logits (tf-keras-vis swaps the softmax for a linear activation in a
            # clone of the model); here they are the head's input times its weights, in the same graph
            pre = keras.Model(model.inputs, [model.get_layer(self.layer).output, head.input])

            @tf.function(input_signature=signature)
            def gradcam_pp(x, cls):
                with tf.GradientTape() as tape:
                    fmap, feats = pre(x, training=False)
                    logits = tf.matmul(feats, head.kernel) + head.bias
                    score = tf.reduce_sum(tf.gather(logits, cls, axis=1, batch_dims=1))
                grads = tape.gradient(score, fmap)
                # Chattopadhyay et al. 2018 with the exponential of the score, as tf-keras-vis computes it
                value = tf.exp(tf.gather(logits, cls, axis=1, batch_dims=1))[:, None, None, None]
                first, second, third = value * grads, value * grads ** 2, value * grads ** 3
                total = tf.reduce_sum(fmap, axis=(1, 2), keepdims=True)
                denom = 2.0 * second + third * total
                alphas = second / tf.where(denom != 0.0, denom, tf.ones_like(denom))
                norm = tf.reduce_sum(alphas, axis=(1, 2), keepdims=True)
                alphas = alphas / tf.where(norm != 0.0, norm, tf.ones_like(norm))
                weights = tf.reduce_sum(tf.nn.relu(first) * alphas, axis=(1, 2), keepdims=True)
                return tf.nn.relu(tf.reduce_sum(weights * fmap, axis=-1))

            self._gradcam_pp = gradcam_pp

    def use_onnx(self, path, threads: int = 1) -> None:
        """Run the forward pass (feature map and probabilities) from an ONNX file of `features` (export_features)."""
        from fer_core.inference.backends import onnx_session
        session = onnx_session(path, threads)
        outputs = sorted(session.get_outputs(), key=lambda o: -len(o.shape))  # the 4-D map, then the probabilities
        self._onnx = (session, session.get_inputs()[0].name, [o.name for o in outputs])

    def export_features(self, target) -> None:
        """Write `features` (input -> explained map, probabilities) as ONNX, atomically, for use_onnx."""
        from fer_core.atomic import atomic_path
        from fer_core.inference.export import _signature
        with atomic_path(target, suffix=".onnx") as tmp:
            self.features.export(str(tmp), format="onnx", verbose=False, input_signature=_signature(self.model))

    def forward(self, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Face crops (n x S x S, 0-255) -> (explained feature maps, class probabilities): the model's own
        probabilities, so this pass can stand in for the classifier's (FER.analyze_frame's `classify`)."""
        x = np.asarray(faces, np.float32)[..., None]
        if self._onnx is not None:
            session, name, outputs = self._onnx
            fmap, probs = session.run(outputs, {name: x})
            return fmap, probs
        fmap, probs = self._forward_tf(x)
        return np.asarray(fmap), np.asarray(probs)

    def maps(self, fmap: np.ndarray, probs: np.ndarray, classes, plus_plus: bool = False) -> list[np.ndarray]:
        """Grad-CAM (or ++) maps from a forward pass, for pooled softmax heads (pooled_softmax_head). Positive
        factors common to a face's cells (p_c, 1/HW, exp(logit)) are left out: each map is normalised to its peak."""
        kernel = self.head[:, np.asarray(classes, int)].T  # faces x channels
        weights = np.maximum(kernel, 0) if plus_plus else kernel - probs @ self.head.T
        return [_normalise(c) for c in np.einsum("nhwk,nk->nhw", fmap, weights)]

    def _closed_form(self, faces: np.ndarray, classes, plus_plus: bool) -> list[np.ndarray]:
        return self.maps(*self.forward(faces), classes, plus_plus)

    def gradcam(self, face: np.ndarray, cls: int) -> np.ndarray:
        return self.gradcam_many(face[None], [cls])[0]

    def gradcam_many(self, faces: np.ndarray, classes) -> list[np.ndarray]:
        """Grad-CAM for every face of a frame in one pass (a forward one for pooled softmax heads)."""
        if self.head is not None:
            return self._closed_form(faces, classes, plus_plus=False)
        return self._batched(self._gradcam_batch, faces, classes)

    def _batched(self, fn, faces: np.ndarray, classes) -> list[np.ndarray]:
        from fer_core.inference.backends import padded_size
        n = len(faces)
        x = np.zeros((padded_size(n), *faces.shape[1:], 1), np.float32)  # few shapes: few retraces
        x[:n, ..., 0] = faces
        cls = np.zeros(len(x), np.int32)
        cls[:n] = classes
        return [_normalise(c) for c in np.asarray(fn(x, cls))[:n]]

    @property
    def fast_gradcam_pp(self) -> bool:
        """Grad-CAM++ for every face in one pass: the closed form (pooled softmax heads) or the compiled one
        (models ending in a softmax Dense layer, all here)."""
        return self.head is not None or self._gradcam_pp is not None

    def gradcam_pp_many(self, faces: np.ndarray, classes) -> list[np.ndarray]:
        if self.head is not None:
            return self._closed_form(faces, classes, plus_plus=True)
        if self._gradcam_pp is None:
            return [self.gradcam_plus_plus(f, int(c)) for f, c in zip(faces, classes)]
        return self._batched(self._gradcam_pp, faces, classes)

    def gradcam_plus_plus(self, face: np.ndarray, cls: int) -> np.ndarray:
        """Grad-CAM++: the closed form or the compiled pass above when the model allows, else tf-keras-vis
        GradcamPlusPlus with ReplaceToLinear (slower: it clones the model once)."""
        if self.head is not None:
            return self._closed_form(face[None], [cls], plus_plus=True)[0]
        if self._gradcam_pp is not None:
            return self._batched(self._gradcam_pp, face[None], [cls])[0]
        from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus
        from tf_keras_vis.utils.model_modifiers import ReplaceToLinear
        from tf_keras_vis.utils.scores import CategoricalScore
        if self._tkv is None:
            self._tkv = GradcamPlusPlus(self.model, model_modifier=ReplaceToLinear(), clone=True)
        cam = self._tkv(CategoricalScore([cls]), face[None, ..., None].astype(np.float32),
                        penultimate_layer=self.layer, seek_penultimate_conv_layer=False)
        return _normalise(np.asarray(cam)[0])

    def cbam_attention(self, face: np.ndarray) -> np.ndarray | None:
        if self.attention is None:
            return None
        m = np.asarray(self.attention.predict_on_batch(face[None, ..., None].astype(np.float32)))[0, ..., 0]
        lo, hi = m.min(), m.max()
        return (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)

    def explain(self, overlay: str, face: np.ndarray, cls: int) -> np.ndarray | None:
        if overlay == "Grad-CAM":
            return self.gradcam(face, cls)
        if overlay == "Grad-CAM++":
            return self.gradcam_plus_plus(face, cls)
        if overlay == "CBAM attention":
            return self.cbam_attention(face)
        return None
