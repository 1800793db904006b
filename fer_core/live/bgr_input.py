"""MediaPipe's BlazeFace networks rewritten to take the BGR uint8 image itself, so no NumPy pass converts, swaps and
scales each input: a DEQUANTIZE op inside the network does (XNNPACK, in its threads), and the first convolution
reads B, G, R instead of R, G, B. A 320x240 call takes ~0.3 ms less (10%) than feeding the float RGB tensor.

MediaPipe scales pixels to x / 127.5 - 1; a uint8 tensor's zero point must be a whole number, so the input is
dequantized as (q - 128) / 127.5 (1/255 below) and the first convolution's bias adds that back. Outputs match the
float network's except within two pixels of the input's border, where the convolution's zero padding now stands for
1/255 instead of 0 (logits of faces move by < 0.01; tests/live/test_detect.py). Done in memory when a detector is
made (a few ms): the shipped .tflite files stay MediaPipe's own.
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
        """A weight tensor as float32, and the tensor holding its stored values (fp16 behind a DEQUANTIZE op)."""
        op = made_by.get(index)
        source = int(op.inputs[0]) if op is not None and code[op.opcodeIndex] == ops.DEQUANTIZE else index
        t = g.tensors[source]
        dtype = {fb.TensorType.FLOAT16: np.float16, fb.TensorType.FLOAT32: np.float32}[t.type]
        data = np.frombuffer(bytes(bytearray(model.buffers[t.buffer].data)), dtype).reshape(t.shape)
        return data.astype(np.float32), source

    def store(tensor: int, values: np.ndarray) -> None:
        buffer = fb.BufferT()
        buffer.data = np.frombuffer(values.tobytes(), np.uint8)
        model.buffers.append(buffer)
        g.tensors[tensor].buffer = len(model.buffers) - 1

    kernel, kernel_source = constant(int(first.inputs[1]))  # (out, kh, kw, in): RGB -> BGR, in the stored dtype
    stored = g.tensors[kernel_source]
    store(kernel_source, kernel[..., ::-1].astype(np.float16 if stored.type == fb.TensorType.FLOAT16 else np.float32))
    bias_index = int(first.inputs[2])
    bias, _ = constant(bias_index)
    # the input arrives 1/255 low (zero point 128, not 127.5): add what that takes from each output back, in float32
    bias = bias + (ZERO_POINT - 127.5) * SCALE * kernel.sum(axis=(1, 2, 3))
    if bias_index in made_by:  # the bias becomes a float32 constant: its DEQUANTIZE op goes
        g.operators.remove(made_by[bias_index])
    g.tensors[bias_index].type = fb.TensorType.FLOAT32
    store(bias_index, bias.astype(np.float32))

    pixels = copy.deepcopy(g.tensors[image])
    pixels.name, pixels.type, pixels.buffer = b"bgr_uint8", fb.TensorType.UINT8, 0
    pixels.quantization = fb.QuantizationParametersT()
    pixels.quantization.scale, pixels.quantization.zeroPoint = [SCALE], [ZERO_POINT]
    g.tensors.append(pixels)
    dequantize = fb.OperatorT()
    dequantize.opcodeIndex = next((i for i, c in code.items() if c == ops.DEQUANTIZE), None)
    if dequantize.opcodeIndex is None:
        model.operatorCodes.append(fb.OperatorCodeT())
        model.operatorCodes[-1].builtinCode = model.operatorCodes[-1].deprecatedBuiltinCode = ops.DEQUANTIZE
        dequantize.opcodeIndex = len(model.operatorCodes) - 1
    dequantize.inputs = np.array([len(g.tensors) - 1], np.int32)
    dequantize.outputs = np.array([image], np.int32)
    g.operators.insert(0, dequantize)
    g.inputs = np.array([len(g.tensors) - 1], np.int32)
    for signature in model.signatureDefs or []:
        for entry in signature.inputs or []:
            if entry.tensorIndex == image:
                entry.tensorIndex = len(g.tensors) - 1
    return bytes(fu.convert_object_to_bytearray(model))
