"""MediaPipe's BlazeFace networks rewritten to take the BGR uint8 image itself, so no NumPy pass converts, swaps and
scales each input: ops inside the network do (XNNPACK, in its threads), and the first convolution reads B, G, R
instead of R, G, B. A 320x240 call takes ~0.3 ms less (10%) than feeding the float RGB tensor.

MediaPipe scales pixels to x / 127.5 - 1. A uint8 tensor's zero point must be a whole number, so a DEQUANTIZE op
gives (x - 128) / 127.5 and an ADD op the 1/255 that is missing. (Folding that into the first convolution's bias
instead is exact except where the convolution pads the border: a petal pattern at the edge of scikit-learn's flower
photo then scored 0.5000 instead of 0.4998.) Done in memory when a detector is made (a few ms): the shipped .tflite
files stay MediaPipe's own. tests/live/test_detect.py compares the outputs with the float network's.
"""
from __future__ import annotations

import copy
import functools
from pathlib import Path

import numpy as np

ZERO_POINT = 128
SCALE = 1 / 127.5


@functools.lru_cache(maxsize=4)
def bgr_uint8_network(path: str) -> bytes:
    from ai_edge_litert import schema_py_generated as fb
    from ai_edge_litert.tools import flatbuffer_utils as fu

    model = fu.read_model(Path(path))
    for oc in model.operatorCodes:  # old files keep the op in deprecatedBuiltinCode: written back, every op reads as ADD
        oc.builtinCode = fu.get_builtin_code_from_operator_code(oc)
    g = model.subgraphs[0]
    ops = fb.BuiltinOperator
    code = {i: oc.builtinCode for i, oc in enumerate(model.operatorCodes)}
    made_by = {int(o): op for op in g.operators for o in op.outputs}
    image = int(g.inputs[0])
    first = next(op for op in g.operators if image in op.inputs)
    if code[first.opcodeIndex] != ops.CONV_2D:
        raise ValueError(f"{path}: the network does not start with a convolution")

    def constant(index: int) -> tuple[np.ndarray, int]:
        """A weight tensor's stored values, in their stored dtype, and the tensor holding them (fp16 weights sit
        behind a DEQUANTIZE op)."""
        op = made_by.get(index)
        source = int(op.inputs[0]) if op is not None and code[op.opcodeIndex] == ops.DEQUANTIZE else index
        t = g.tensors[source]
        dtype = {fb.TensorType.FLOAT16: np.float16, fb.TensorType.FLOAT32: np.float32}[t.type]
        return np.frombuffer(bytes(bytearray(model.buffers[t.buffer].data)), dtype).reshape(t.shape), source

    def store(tensor: int, values: np.ndarray) -> None:
        buffer = fb.BufferT()
        buffer.data = np.frombuffer(values.tobytes(), np.uint8)
        model.buffers.append(buffer)
        g.tensors[tensor].buffer = len(model.buffers) - 1

    kernel, kernel_source = constant(int(first.inputs[1]))  # (out, kh, kw, in): RGB -> BGR
    store(kernel_source, np.ascontiguousarray(kernel[..., ::-1]))

    def tensor(like: int, name: bytes, dtype: int, shape=None) -> int:
        t = copy.deepcopy(g.tensors[like])
        t.name, t.type, t.buffer, t.quantization = name, dtype, 0, None
        if shape is not None:
            t.shape, t.shapeSignature = np.array(shape, np.int32), None
        g.tensors.append(t)
        return len(g.tensors) - 1

    def opcode(builtin: int) -> int:
        if builtin not in code.values():
            model.operatorCodes.append(fb.OperatorCodeT())
            model.operatorCodes[-1].builtinCode = builtin
            model.operatorCodes[-1].deprecatedBuiltinCode = min(builtin, 127)
            code[len(model.operatorCodes) - 1] = builtin
        return next(i for i, c in code.items() if c == builtin)

    def operator(builtin: int, inputs: list[int], output: int):
        op = fb.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = opcode(builtin), np.array(inputs, np.int32), np.array([output], np.int32)
        if builtin == ops.ADD:  # ADD reads its fused activation from its options (none here)
            op.builtinOptionsType, op.builtinOptions = fb.BuiltinOptions.AddOptions, fb.AddOptionsT()
        return op

    pixels = tensor(image, b"bgr_uint8", fb.TensorType.UINT8)
    g.tensors[pixels].quantization = fb.QuantizationParametersT()
    g.tensors[pixels].quantization.scale, g.tensors[pixels].quantization.zeroPoint = [SCALE], [ZERO_POINT]
    scaled = tensor(image, b"bgr_scaled", fb.TensorType.FLOAT32)
    missing = tensor(image, b"zero_point_remainder", fb.TensorType.FLOAT32, shape=[1])
    store(missing, np.array([(ZERO_POINT - 127.5) * SCALE], np.float32))
    g.operators[:0] = [operator(ops.DEQUANTIZE, [pixels], scaled),
                       operator(ops.ADD, [scaled, missing], image)]
    g.inputs = np.array([pixels], np.int32)
    for signature in model.signatureDefs or []:
        for entry in signature.inputs or []:
            if entry.tensorIndex == image:
                entry.tensorIndex = pixels
    return bytes(fu.convert_object_to_bytearray(model))
