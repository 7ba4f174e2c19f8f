"""Checks on the committed workloads: hashes, files, shapes, and that each .tflite has the types its
variant claims (read from the flatbuffer with the `tflite` package; no TensorFlow needed).

Run: scripts/.venv/bin/python -m pytest scripts/tests   (needs only numpy, tflite and pytest)

Variants with `file_root = "models"` (the mlcommons-* workloads: the official MLPerf Tiny files, not shipped)
are read from the directory in MCUBENCH_MODELS_DIR; their model checks skip when it is unset.
"""

import hashlib
import os
import pathlib
import tomllib

import numpy as np
import pytest
import tflite

REPO = pathlib.Path(__file__).resolve().parents[2]
WORKLOADS = REPO / "workloads"
DIRS = sorted(p for p in WORKLOADS.iterdir() if (p / "workload.toml").exists()) if WORKLOADS.exists() else []
T = tflite.TensorType
TOP_KEYS = {"name", "task", "description", "metric", "dataset", "input", "test", "variant", "exclude", "extra"}
VARIANT_KEYS = {"name", "file", "file_root", "sha256", "golden", "host_metric", "source"}


def load(d):
    return tomllib.loads((d / "workload.toml").read_text())


def variant_path(d, v):
    root = v.get("file_root", "workload")
    if root == "repo":
        return (REPO / v["file"]).resolve()
    if root == "models":
        models = os.environ.get("MCUBENCH_MODELS_DIR")
        if not models:
            pytest.skip(f"{v['file']} is read from the models directory: set MCUBENCH_MODELS_DIR")
        return pathlib.Path(models) / v["file"]
    assert root == "workload", root
    return d / v["file"]


def cases():
    for d in DIRS:
        for v in load(d).get("variant", []):
            yield pytest.param(d, v, id=f"{d.name}-{v['name']}")


class Model:
    def __init__(self, path):
        self.buf = pathlib.Path(path).read_bytes()
        self.m = tflite.Model.GetRootAsModel(self.buf, 0)
        self.sg = self.m.Subgraphs(0)

    def is_const(self, t):
        b = self.m.Buffers(self.sg.Tensors(t).Buffer())
        return b is not None and b.DataLength() > 0

    def type(self, t):
        return self.sg.Tensors(t).Type()

    def tensors(self):
        return range(self.sg.TensorsLength())

    def io(self):
        return [int(t) for t in self.sg.InputsAsNumpy()], [int(t) for t in self.sg.OutputsAsNumpy()]

    def used(self):
        """Tensors that some operator reads or writes (unused leftovers are not checked)."""
        s = set(int(t) for t in self.sg.InputsAsNumpy()) | set(int(t) for t in self.sg.OutputsAsNumpy())
        for k in range(self.sg.OperatorsLength()):
            op = self.sg.Operators(k)
            s |= {int(t) for t in op.InputsAsNumpy() if t >= 0} | {int(t) for t in op.OutputsAsNumpy()}
        return s

    def activations(self):
        return [t for t in self.used() if not self.is_const(t)]

    def constants(self):
        return [t for t in self.used() if self.is_const(t)]


@pytest.mark.parametrize("d", DIRS, ids=[d.name for d in DIRS])
def test_workload_toml(d):
    w = load(d)
    assert set(w) <= TOP_KEYS, set(w) - TOP_KEYS
    assert w["name"] == d.name
    assert w["metric"] in ("top1", "auc")
    assert {"name", "license", "source"} <= set(w["dataset"])
    assert {"shape", "preprocessing"} <= set(w["input"])
    x = np.load(d / w["test"]["inputs"])
    assert x.dtype == np.float32
    assert list(x.shape[1:]) == w["input"]["shape"][1:]
    assert 1 <= len(x) <= 400
    if "labels" in w["test"]:
        y = np.load(d / w["test"]["labels"])
        assert y.shape == (len(x),)
    names = [v["name"] for v in w["variant"]]
    assert len(set(names)) == len(names) and set(names) <= {"fp32", "drq", "fiq", "qat"}
    for v in w["variant"]:
        assert set(v) <= VARIANT_KEYS, set(v) - VARIANT_KEYS
        g = np.load(d / v["golden"])
        assert len(g) == len(x)
        if "labels" in w["test"]:
            assert isinstance(v.get("host_metric"), float)
    for e in w.get("exclude", []):
        assert {"board", "variant", "reason"} == set(e) and e["variant"] in names
    if "labels" in w["test"]:  # trained by scripts/: all four variants
        assert names == ["fp32", "drq", "fiq", "qat"]
    readme = (WORKLOADS / "README.md").read_text()
    assert f"| {d.name} |" in readme


@pytest.mark.parametrize("d,v", list(cases()))
def test_sha256(d, v):
    p = variant_path(d, v)
    assert hashlib.sha256(p.read_bytes()).hexdigest() == v["sha256"]


@pytest.mark.parametrize("d,v", list(cases()))
def test_variant_types(d, v):
    m = Model(variant_path(d, v))
    ins, outs = m.io()
    kind = v["name"]
    acts = m.activations()
    consts = m.constants()
    if kind == "fp32":
        for t in m.used():
            ty = m.type(t)
            # only float32 data; int32 is allowed for shape/axis/padding operands (constants)
            assert ty == T.FLOAT32 or (ty == T.INT32 and m.is_const(t)), (t, ty)
    elif kind == "drq":
        assert all(m.type(t) == T.FLOAT32 for t in ins + outs)
        assert all(m.type(t) == T.FLOAT32 for t in acts), [m.type(t) for t in acts]
        assert any(m.type(t) == T.INT8 for t in consts), "no int8 weights"
    else:  # fiq, qat
        assert all(m.type(t) == T.INT8 for t in ins + outs)
        assert all(m.type(t) == T.INT8 for t in acts), [(t, m.type(t)) for t in acts if m.type(t) != T.INT8]
        assert not any(m.type(t) == T.FLOAT32 for t in m.used())
        for t in ins + outs:
            q = m.sg.Tensors(t).Quantization()
            assert q is not None and q.ScaleLength() == 1


@pytest.mark.parametrize("d,v", list(cases()))
def test_shapes_and_goldens(d, v):
    """The model's input is the workload's input shape; goldens have the output's shape and type."""
    w = load(d)
    m = Model(variant_path(d, v))
    ins, outs = m.io()
    assert len(ins) == 1 and len(outs) == 1
    assert list(m.sg.Tensors(ins[0]).ShapeAsNumpy()) == w["input"]["shape"]
    g = np.load(d / v["golden"])
    assert list(g.shape[1:]) == list(m.sg.Tensors(outs[0]).ShapeAsNumpy())[1:]
    assert g.dtype == (np.int8 if m.type(outs[0]) == T.INT8 else np.float32)


@pytest.mark.parametrize("d", DIRS, ids=[d.name for d in DIRS])
def test_qat_is_not_fiq(d):
    vs = {v["name"]: v for v in load(d)["variant"]}
    if "qat" not in vs:
        pytest.skip("no qat variant")
    assert vs["qat"]["sha256"] != vs["fiq"]["sha256"]
    assert "quantize_model" in vs["qat"]["source"]


@pytest.mark.parametrize("d", DIRS, ids=[d.name for d in DIRS])
def test_files_are_in_the_checkout_or_the_models_dir(d):
    """Every model file ships in the workload's directory, except the official MLPerf Tiny files of the
    mlcommons-* workloads, which are named bare and read from the user's models directory."""
    for v in load(d)["variant"]:
        root = v.get("file_root", "workload")
        if d.name.startswith("mlcommons-"):
            assert root == "models" and "/" not in v["file"] and v["file"].endswith(".tflite"), v
        else:
            assert root == "workload", v
            assert (d / v["file"]).is_file() and d in (d / v["file"]).resolve().parents


def test_the_mlperf_workloads_are_trained_here():
    """mlperf-kws/vww/ic/ad are the project's own trained MLPerf Tiny architectures, all four variants."""
    names = {d.name for d in DIRS}
    for n in ("kws", "vww", "ic", "ad"):
        assert f"mlperf-{n}" in names
        w = load(WORKLOADS / f"mlperf-{n}")
        assert [v["name"] for v in w["variant"]] == ["fp32", "drq", "fiq", "qat"]
        assert "labels" in w["test"]


# MLPerf Tiny's MAC counts (CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED, as `mcubench model` counts them):
# the trained mlperf-* networks have exactly those of the official files (mlcommons-*)
MLPERF_MACS = {f"{p}-{n}": macs for p in ("mlperf", "mlcommons")
               for n, macs in (("kws", 2_656_768), ("vww", 7_489_664), ("ic", 12_501_632), ("ad", 264_192))}


def macs(m):
    B = tflite.BuiltinOperator
    total = 0
    for k in range(m.sg.OperatorsLength()):
        op = m.sg.Operators(k)
        oc = m.m.OperatorCodes(op.OpcodeIndex())
        code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
        out = [int(s) for s in m.sg.Tensors(op.Outputs(0)).ShapeAsNumpy()]
        w = [int(s) for s in m.sg.Tensors(op.Inputs(1)).ShapeAsNumpy()] if op.InputsLength() > 1 else []
        if code == B.CONV_2D:  # filter [out_c, kh, kw, in_c]
            total += int(np.prod(out)) * w[1] * w[2] * w[3]
        elif code == B.DEPTHWISE_CONV_2D:  # filter [1, kh, kw, out_c]
            total += int(np.prod(out)) * w[1] * w[2]
        elif code == B.FULLY_CONNECTED:  # weights [out, in]
            total += int(np.prod(out)) * w[1]
    return total


@pytest.mark.parametrize("d,v", [c for c in cases() if c.values[0].name in MLPERF_MACS])
def test_mlperf_mac_counts(d, v):
    assert macs(Model(variant_path(d, v))) == MLPERF_MACS[d.name]
