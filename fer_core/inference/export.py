"""A run's model as a file that leaves the app: ONNX, TFLite (LiteRT) or a TensorFlow SavedModel.

The exported graph takes what the app feeds its model: n x S x S x 1 float32 grey pixels 0-255 of a square face
crop (the rescaling is inside), BatchNorm folded. Class names, input and the run's provenance travel with it:
in the ONNX file's metadata (key "fer_studio"), and in a .json beside every export.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from fer_core.atomic import atomic_path, write_text
from fer_core.errors import ConfigError, RunError
from fer_core.inference.bundle import BUNDLED, file_sha256, sidecar_path
from fer_core.runs.run import Run

FORMATS = {"onnx": ".onnx", "tflite": ".tflite", "savedmodel": ""}


def metadata(run: Run, fmt: str, fp16: bool) -> dict:
    size = int(run.train_config.get("input_size") or 48)
    test = (run.metrics.get("test") or {})
    return {"format": fmt, "fp16": fp16, "class_names": run.class_names, "run_id": run.id,
            "architecture": run.architecture, "scheme": run.scheme, "data_version": run.data_version,
            "test_accuracy": test.get("accuracy"), "test_split": test.get("split"),
            "input": {"shape": [None, size, size, 1], "dtype": "float32",
                      "pixels": "grey 0-255 (rescaling is inside the graph)",
                      "crop": "a square face crop, forehead to chin (as FER2013), 10% margin, eyes level"},
            "output": "class probabilities (softmax), in the order of class_names",
            "made_by": "python -m fer_core export"}


def default_out(run: Run, fmt: str, fp16: bool) -> Path:
    return run.path / "exports" / f"model{'-fp16' if fp16 else ''}{FORMATS[fmt]}"


def _signature(model):
    import tensorflow as tf
    return [tf.TensorSpec([None, *model.input_shape[1:]], tf.float32, name="pixels")]


def _onnx(model, target: Path, meta: dict, fp16: bool) -> None:
    import onnx
    with atomic_path(target, suffix=".onnx") as tmp:
        model.export(str(tmp), format="onnx", verbose=False, input_signature=_signature(model))
        proto = onnx.load(str(tmp))
        if fp16:  # weights and arithmetic in float16; inputs and outputs stay float32 for callers
            from onnxruntime.transformers.float16 import convert_float_to_float16
            proto = convert_float_to_float16(proto, keep_io_types=True)
        del proto.metadata_props[:]
        entry = proto.metadata_props.add()
        entry.key, entry.value = "fer_studio", json.dumps(meta)
        onnx.save(proto, str(tmp))


def _tflite(model, target: Path, fp16: bool) -> None:
    with atomic_path(target, suffix=".tflite") as tmp:
        model.export(str(tmp), format="litert", verbose=False, input_signature=_signature(model))
        if fp16:
            import tensorflow as tf
            half = tmp.with_name(tmp.name + ".fp16.tflite")
            try:
                model.export(str(half), format="litert", verbose=False, input_signature=_signature(model),
                             optimizations=[tf.lite.Optimize.DEFAULT], target_spec={"supported_types": [tf.float16]})
                tmp.write_bytes(float32_where_small(half.read_bytes(), tmp.read_bytes()))
            finally:
                half.unlink(missing_ok=True)


SMALL_TENSOR = 1024  # elements: what TFLite's dynamic-range quantization also leaves in float32


def float32_where_small(fp16: bytes, fp32: bytes, min_elements: int = SMALL_TENSOR) -> bytes:
    """The float16 TFLite model with its small constants back in float32 (from the float32 conversion of the same
    model): they are < 1% of the file but the first convolution, with the 0-255 input scaling folded in, carries
    most of the rounding error (max |Δp| on 1,000 PrivateTest faces 5.3e-3 -> 3.4e-4, bench/results/export.json)."""
    from tensorflow.lite.python import schema_py_generated as fb
    from tensorflow.lite.tools import flatbuffer_utils

    half = flatbuffer_utils.read_model_from_bytearray(bytearray(fp16))
    full = flatbuffer_utils.read_model_from_bytearray(bytearray(fp32))
    originals = {}  # the float32 constants by shape and float16 rounding: tensor names differ between conversions
    for t in full.subgraphs[0].tensors:
        data = full.buffers[t.buffer].data if t.buffer else None
        if t.type == fb.TensorType.FLOAT32 and data is not None and len(data):
            values = np.frombuffer(bytes(data), np.float32)
            originals[(tuple(t.shape), values.astype(np.float16).tobytes())] = values
    dequantize = {i for i, code in enumerate(half.operatorCodes)
                  if fb.BuiltinOperator.DEQUANTIZE in (code.builtinCode, code.deprecatedBuiltinCode)}
    graph, kept = half.subgraphs[0], []
    for op in graph.operators:
        if op.opcodeIndex in dequantize:  # float16 constant -> DEQUANTIZE -> float32 tensor that the layer reads
            src, dst = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
            values = originals.get((tuple(src.shape), bytes(half.buffers[src.buffer].data))) \
                if src.type == fb.TensorType.FLOAT16 and src.buffer else None
            if values is not None and values.size < min_elements:
                half.buffers[src.buffer].data = np.frombuffer(values.tobytes(), np.uint8)
                dst.buffer, src.buffer = src.buffer, 0  # the layer reads the float32 constant; the op goes
                continue
        kept.append(op)
    graph.operators = kept
    return flatbuffer_utils.convert_object_to_bytearray(half)


def _savedmodel(model, target: Path, meta: dict) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        model.export(str(tmp), format="tf_saved_model", verbose=False, input_signature=_signature(model))
        write_text(tmp / "assets" / "fer_studio.json", json.dumps(meta, indent=2))
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def export_run(run: Run | str | Path, fmt: str, out: str | Path | None = None, fp16: bool = False,
               sidecar: bool = True) -> Path:
    """Write the run's model in `fmt` (onnx, tflite, savedmodel) to `out` (default: <run>/exports/model.<ext>);
    returns the path. Everything is written to a temporary name first, then renamed."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}", fix=f"use one of {', '.join(FORMATS)}")
    if fp16 and fmt == "savedmodel":
        raise ConfigError("--fp16 is for onnx and tflite", fix="export a SavedModel in float32")
    run = run if isinstance(run, Run) else Run.load(run)
    run.require_usable()
    from fer_core.runs.loader import load_model
    model = load_model(run)
    target = Path(out) if out else default_out(run, fmt, fp16)
    if out and FORMATS[fmt] and target.suffix.lower() != FORMATS[fmt]:
        raise ConfigError(f"an {fmt} file should end in {FORMATS[fmt]}", path=str(target))
    meta = metadata(run, fmt, fp16)
    try:
        if fmt == "onnx":
            _onnx(model, target, meta, fp16)
        elif fmt == "tflite":
            _tflite(model, target, fp16)
        else:
            _savedmodel(model, target, meta)
    except (ConfigError, RunError):
        raise
    except Exception as exc:  # noqa: BLE001 - converters raise anything; the user needs one line
        raise RunError(f"the model could not be exported to {fmt} ({type(exc).__name__}: {str(exc)[:200]})",
                       path=str(run.path), fix="try another format; Keras and ONNX cover every built-in layer") from exc
    if sidecar and fmt != "savedmodel":
        write_text(sidecar_path(target), json.dumps(meta, indent=2))
    return target


BUNDLE_FILES = ("model.keras", "config.json", "metrics.json", "run.json", "card.json")


def bundle_default(run: Run | str | Path, dest: Path | None = None) -> Path:
    """Copy the default run into the package (fer_core/bundled/default: what `pip install .` ships) with its
    ONNX twin, so an installed FER Studio predicts without TensorFlow and without a checkout."""
    run = run if isinstance(run, Run) else Run.load(run)
    run.require_usable()
    dest = Path(dest or BUNDLED)
    dest.mkdir(parents=True, exist_ok=True)
    for name in BUNDLE_FILES:
        if (run.path / name).exists():
            with atomic_path(dest / name) as tmp:
                shutil.copyfile(run.path / name, tmp)
    export_run(run, "onnx", out=dest / "model.onnx", sidecar=False)
    meta = {**metadata(run, "onnx", False), "keras_sha256": file_sha256(run.model_path)}
    write_text(sidecar_path(dest / "model.onnx"), json.dumps(meta, indent=2))
    return dest
