"""Reference interpreters for host metrics and golden outputs.

* float32 and int8 models (fp32, fiq, qat) run in TensorFlow Lite Micro's own Python interpreter
  (PyPI `tflite-micro`): the arithmetic the engine must match bit-exactly.
* dynamic-range (hybrid, drq) models, which TFLite Micro cannot run, run in desktop TFLite
  (`ai-edge-litert`) with the reference op resolver (BUILTIN_REF); XNNPACK is not bit-exact.

Inputs are always given in float32 (the FP32 model's layout); an int8 model gets them quantized with
its own input scale and zero point, and returns its raw int8 output.
"""

import pathlib

import numpy as np

from .common import quantize_input


def io_details(path):
    """(input, output) details of a model: dtype, shape, (scale, zero_point)."""
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(path))
    i = it.get_input_details()[0]
    o = it.get_output_details()[0]
    return i, o


def model_ops(path):
    """Operator names in execution order (builtin codes from the flatbuffer)."""
    import tflite

    buf = pathlib.Path(path).read_bytes()
    m = tflite.Model.GetRootAsModel(buf, 0)
    names = {v: k for k, v in tflite.BuiltinOperator.__dict__.items() if not k.startswith("_")}
    sg = m.Subgraphs(0)
    ops = []
    for k in range(sg.OperatorsLength()):
        oc = m.OperatorCodes(sg.Operators(k).OpcodeIndex())
        code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
        ops.append(names.get(code, str(code)))
    return ops


def prepare_inputs(path, x):
    """Float test inputs -> what the model takes (int8 quantized with its own params, or float32)."""
    i, _ = io_details(path)
    if i["dtype"] == np.int8:
        scale, zp = i["quantization"]
        return quantize_input(x, scale, zp)
    return np.asarray(x, dtype=np.float32)


def run_tflm(path, xs):
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_file(str(path))
    outs = []
    for x in xs:
        it.set_input(x[None, ...] if x.ndim == len(xs.shape) - 1 else x, 0)
        it.invoke()
        outs.append(np.array(it.get_output(0)))
    return np.concatenate(outs, axis=0)


def run_litert_ref(path, xs):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    ii = it.get_input_details()[0]["index"]
    oi = it.get_output_details()[0]["index"]
    outs = []
    for x in xs:
        it.set_tensor(ii, x[None, ...])
        it.invoke()
        outs.append(np.array(it.get_tensor(oi)))
    return np.concatenate(outs, axis=0)


def reference_outputs(path, variant, x_float):
    """Golden outputs of one variant for float test inputs (one row per sample)."""
    xs = prepare_inputs(path, x_float)
    if variant == "drq":
        return run_litert_ref(path, xs)
    return run_tflm(path, xs)


def output_to_float(path, y):
    """Dequantize an int8 output with the model's output params (float outputs unchanged)."""
    _, o = io_details(path)
    if o["dtype"] == np.int8:
        scale, zp = o["quantization"]
        return ((y.astype(np.float32) - zp) * scale).astype(np.float32)
    return y.astype(np.float32)


def tflm_arena_bytes(path):
    """Smallest arena (bytes, rounded up to 1 KiB) in which TFLite Micro's allocator fits the model."""
    from tflite_micro.python.tflite_micro import runtime

    lo, hi = 1024, 1024 * 1024
    def fits(n):
        try:
            runtime.Interpreter.from_file(str(path), arena_size=n)
            return True
        except Exception:  # noqa: BLE001 - allocation failure raises
            return False
    if not fits(hi):
        return None
    while hi - lo > 1024:
        mid = (lo + hi) // 2 // 1024 * 1024
        if fits(mid):
            hi = mid
        else:
            lo = mid
    return hi
