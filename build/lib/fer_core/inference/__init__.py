"""Inference outside the app: image inputs, model backends (Keras, ONNX Runtime, LiteRT), export, file prediction.

`fer_core.FER` (fer_core/api.py) is the one path every caller uses: the pages, the CLI, the server and the benches.
"""
