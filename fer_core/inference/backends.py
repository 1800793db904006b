"""The model behind `FER`: a run's Keras model, its ONNX Runtime twin, or an exported .onnx / .tflite file.

Every backend takes face crops (n x S x S uint8 grey, S = the model's input side) and returns n x K class
probabilities. ONNX Runtime is the CPU default: bench/results/export.json measures it 7x faster than the compiled
TensorFlow call at batch 1 and 2x at batch 256 for the default model, with the same outputs (|Δp| < 1e-6).
Keras stays loaded on demand for Grad-CAM, which needs gradients.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np

from fer_core.errors import ConfigError, RunError
from fer_core.inference.bundle import BUNDLED, file_sha256, read_sidecar, sidecar_path  # noqa: F401
from fer_core.runs.run import Run

BACKENDS = ("auto", "onnx", "keras", "tflite")
CHUNK = 1024  # images per call: bounds the float copy of a large array (35,887 FER2013 faces = 330 MB as float32)
METADATA_KEY = "fer_studio"  # ONNX metadata_props key; TFLite/SavedModel exports carry it in a .json beside them


def onnxruntime_available() -> bool:
    import importlib.util
    return importlib.util.find_spec("onnxruntime") is not None


class Backend:
    name = "?"

    def __init__(self, class_names: list[str], input_size: int, source: str):
        self.class_names = list(class_names)
        self.input_size = int(input_size)
        self.source = source

    def _call(self, x: np.ndarray) -> np.ndarray:  # x: n x S x S x 1 float32, 0-255
        raise NotImplementedError

    def predict_proba(self, faces: np.ndarray) -> np.ndarray:
        """n x S x S uint8 (or float 0-255) -> n x K float32 probabilities."""
        n = len(faces)
        if n == 0:
            return np.zeros((0, len(self.class_names)), np.float32)
        out = np.empty((n, len(self.class_names)), np.float32)
        for start in range(0, n, CHUNK):
            x = np.asarray(faces[start:start + CHUNK], np.float32)[..., None]
            out[start:start + len(x)] = self._call(x)
        return out


def padded_size(n: int, pad_to: int = 8) -> int:
    """1, 2, 4, 8, then multiples of 8: few distinct shapes, so the compiled Keras call is rarely retraced."""
    if n <= pad_to:
        return 1 << (n - 1).bit_length()
    return -(-n // pad_to) * pad_to


class KerasBackend(Backend):
    """The run's model (BatchNorm folded) through the compiled tf.function the Live page has always used."""
    name = "keras"

    def __init__(self, run: Run):
        from fer_core.models.predict import compiled_call
        from fer_core.runs.loader import load_model
        self.model = load_model(run)
        super().__init__(run.class_names, self.model.input_shape[1], str(run.path))
        self._compiled = compiled_call(self.model)

    def _call(self, x):
        n = len(x)
        if n > 256:
            return np.concatenate([self._call(x[i:i + 256]) for i in range(0, n, 256)])
        padded = padded_size(n)  # few distinct shapes: the tf.function is rarely retraced
        if padded != n:
            x = np.concatenate([x, np.zeros((padded - n, *x.shape[1:]), np.float32)])
        return np.asarray(self._compiled(x))[:n]


def onnx_session(path: str | Path, threads: int | None = None):
    """An ONNX Runtime CPU session as every model here runs: no busy-waiting between calls (spinning threads took
    the cores from the face detector: Live's detect stage doubled beside them; a call is short either way)."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxBackend(Backend):
    name = "onnx"

    def __init__(self, path: str | Path, class_names: list[str] | None = None, threads: int | None = None):
        try:
            self.session = onnx_session(path, threads)
        except Exception as exc:  # noqa: BLE001 - ORT raises its own kinds for a bad file
            raise RunError(f"the ONNX file cannot be loaded ({type(exc).__name__})", path=str(path),
                           fix="export it again with `python -m fer_core export RUN --format onnx`") from exc
        meta = self.session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        meta = json.loads(meta) if meta else read_sidecar(path, required=class_names is None)
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        super().__init__(class_names or meta["class_names"], inp.shape[1] if isinstance(inp.shape[1], int) else 48,
                         str(path))
        self.metadata = meta

    def _call(self, x):
        return self.session.run(None, {self.input_name: x})[0]


class TFLiteBackend(Backend):
    """LiteRT's interpreter; one call at a time (the interpreter is not thread-safe)."""
    name = "tflite"

    def __init__(self, path: str | Path, threads: int | None = None):
        from ai_edge_litert.interpreter import Interpreter
        meta = read_sidecar(path, required=True)
        try:
            self.interpreter = Interpreter(str(path), num_threads=threads)
        except Exception as exc:  # noqa: BLE001
            raise RunError(f"the TFLite file cannot be loaded ({type(exc).__name__})", path=str(path),
                           fix="export it again with `python -m fer_core export RUN --format tflite`") from exc
        self._in = self.interpreter.get_input_details()[0]
        self._out = self.interpreter.get_output_details()[0]["index"]
        self._shape = None
        self._lock = threading.Lock()
        super().__init__(meta["class_names"], int(self._in["shape"][1]), str(path))
        self.metadata = meta

    def _call(self, x):
        with self._lock:
            if self._shape != x.shape:
                self.interpreter.resize_tensor_input(self._in["index"], list(x.shape))
                self.interpreter.allocate_tensors()
                self._shape = x.shape
            self.interpreter.set_tensor(self._in["index"], x)
            self.interpreter.invoke()
            return self.interpreter.get_tensor(self._out).copy()


def onnx_for_run(run: Run) -> Path:
    """The run's model as ONNX: model.onnx shipped in the folder (the bundled default; its .json names the
    model.keras it was made from), else a converted copy kept in the cache, made once per model file version
    (tf2onnx, about a second)."""
    digest = None
    for shipped in (run.path / "model.onnx", BUNDLED / "model.onnx"):  # the checkout's default run is the bundled one
        if shipped.is_file():
            digest = digest or file_sha256(run.model_path)
            if read_sidecar(shipped, required=False).get("keras_sha256") == digest:
                return shipped
    from fer_core.settings import cache_dir
    target = cache_dir() / "onnx" / f"{run.id}-{run.model_mtime}.onnx"
    if not target.exists():
        from fer_core.inference.export import export_run
        export_run(run, "onnx", out=target, sidecar=False)
    return target


def open_backend(source: Run | Path, backend: str = "auto", threads: int | None = None) -> Backend:
    """A backend for a run folder (any backend; auto = ONNX Runtime when installed and the model converts, else
    Keras) or an exported file (.onnx -> ONNX Runtime, .tflite -> LiteRT)."""
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}", fix=f"use one of {', '.join(BACKENDS)}")
    if isinstance(source, Run):
        if backend == "tflite":
            raise ConfigError("a run folder runs on Keras or ONNX", fix="export it to .tflite first, then name that file")
        if backend == "keras" or (backend == "auto" and not onnxruntime_available()):
            return KerasBackend(source)
        source.require_usable()
        try:
            return OnnxBackend(onnx_for_run(source), source.class_names, threads)
        except Exception:  # noqa: BLE001 - a layer tf2onnx cannot convert: the run still works on Keras
            if backend == "onnx":
                raise
            return KerasBackend(source)
    suffix = Path(source).suffix.lower()
    if suffix == ".onnx" and backend in ("auto", "onnx"):
        return OnnxBackend(source, threads=threads)
    if suffix == ".tflite" and backend in ("auto", "tflite"):
        return TFLiteBackend(source, threads)
    raise ConfigError(f"cannot run {Path(source).name} on backend {backend!r}",
                      fix="name a run folder, a .onnx or a .tflite file")
