#!/usr/bin/env python3
"""Write golden inputs/outputs (.npy) for the engine's golden tests.

For each MLPerf Tiny model in ../shared/models/mlperf-tiny this writes seeded random inputs and the
reference outputs to engine/tests/golden/<model>/in_<k>.npy and out_<k>.npy, and, for models ending in
SOFTMAX, the softmax's input as logits_<k>.npy (random inputs often saturate the int8 softmax, so the
logits are what shows a one-step difference):

* int8 and float32 models run in TensorFlow Lite Micro's own Python interpreter (PyPI `tflite-micro`),
  the arithmetic the engine must match bit-exactly (desktop TFLite's kernels differ on int8);
* dynamic-range (hybrid) models, which TFLite Micro cannot run, run in desktop TFLite (`ai-edge-litert`)
  with the reference op resolver (BUILTIN_REF): XNNPACK is not bit-exact.

Usage (from the repository root, in a venv with requirements.txt installed):
    python scripts/goldens/make_goldens.py [--models DIR] [--out engine/tests/golden]
"""

import argparse
import pathlib

import numpy as np

# model stem -> number of inputs (big fp32 inputs get fewer, to keep the committed data small)
MODELS = {
    "kws_int8": 4,
    "kws_drq": 4,
    "vww_int8": 3,
    "vww_fp32": 2,
    "ic_int8": 4,
    "ic_fp32": 3,
    "ad_int8": 4,
    "ad_drq": 4,
    "ad_fp32": 4,
}
SEED = 20261124


def random_input(rng, dtype, shape):
    if dtype == np.int8:
        return rng.integers(-128, 128, size=shape, dtype=np.int8)
    # Standard-normal floats: the MLPerf float models take normalised features/pixels.
    return rng.standard_normal(size=shape).astype(np.float32)


def softmax_input(path):
    """Tensor index of the input of the last operator if it is SOFTMAX, else None."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.Model.GetRootAsModel(path.read_bytes(), 0)
    graph = model.Subgraphs(0)
    last = graph.Operators(graph.OperatorsLength() - 1)
    code = model.OperatorCodes(last.OpcodeIndex())
    if max(code.BuiltinCode(), code.DeprecatedBuiltinCode()) != schema.BuiltinOperator.SOFTMAX:
        return None
    return int(last.Inputs(0))


def run_tflm(path, x, logits):
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_file(
        str(path), intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors
    )
    interp.set_input(x, 0)
    interp.invoke()
    return interp.get_output(0), None if logits is None else interp.GetTensor(logits, 0)["tensor_data"]


def run_litert_ref(path, x, logits):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(
        model_path=str(path),
        experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
        experimental_preserve_all_tensors=True,
    )
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    y = interp.get_tensor(interp.get_output_details()[0]["index"]).copy()
    return y, None if logits is None else interp.get_tensor(logits).copy()


def input_spec(path):
    from ai_edge_litert.interpreter import Interpreter

    d = Interpreter(model_path=str(path)).get_input_details()[0]
    return d["dtype"], tuple(d["shape"])


def main():
    root = pathlib.Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=root.parent / "shared/models/mlperf-tiny", type=pathlib.Path)
    ap.add_argument("--out", default=root / "engine/tests/golden", type=pathlib.Path)
    args = ap.parse_args()
    for stem, count in MODELS.items():
        path = args.models / f"{stem}.tflite"
        dtype, shape = input_spec(path)
        rng = np.random.default_rng([SEED, sum(stem.encode())])
        out_dir = args.out / stem
        out_dir.mkdir(parents=True, exist_ok=True)
        run = run_litert_ref if stem.endswith("_drq") else run_tflm
        logits = softmax_input(path)
        for k in range(count):
            x = random_input(rng, dtype, shape)
            y, z = run(path, x, logits)
            np.save(out_dir / f"in_{k}.npy", x)
            np.save(out_dir / f"out_{k}.npy", y)
            if z is not None:
                np.save(out_dir / f"logits_{k}.npy", z)
            print(f"{stem} #{k}: in {x.dtype}{list(x.shape)} -> out {y.dtype}{list(y.shape)} {y.ravel()[:6]}")


if __name__ == "__main__":
    main()
