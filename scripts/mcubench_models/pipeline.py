"""The four steps: train, quantize, evaluate, export. Each one reads what the step before wrote."""

import json
import time
import tomllib

import numpy as np

from . import fit, runners, tomlout
from .common import SEED, VARIANTS, WORKLOADS, cache_dir, import_tf, keras, seed_everything, sha256, workload_dir
from .workloads.mlcommons import SOURCE as MLCOMMONS_SOURCE, models_dir

SOURCES = {
    "fp32": "scripts/quantize {w} (TFLiteConverter.from_keras_model, float)",
    "drq": "scripts/quantize {w} (TFLiteConverter, optimizations=[Optimize.DEFAULT], no representative dataset)",
    "fiq": "scripts/quantize {w} (TFLiteConverter, Optimize.DEFAULT, representative dataset of {n} training "
           "samples, TFLITE_BUILTINS_INT8, int8 input/output)",
    "qat": "scripts/quantize {w} ({how}, fine-tuned {e} epochs{sub} at lr {lr}, "
           "then TFLiteConverter full-integer with int8 input/output)",
}


def _log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _float_model_path(w):
    return cache_dir(w.name) / "float.h5"


# ------------------------------------------------------------------------------------------------ train
def train(w):
    if not w.trainable:
        _log(f"{w.name}: nothing to train (the official MLPerf Tiny files, read from the models directory)")
        return
    t0 = time.time()
    seed_everything()
    d = w.data()
    _log(f"{w.name}: data ready in {time.time() - t0:.1f}s: train {d['x_train'].shape}, val {d['x_val'].shape}, test {d['x_test'].shape}")
    model = w.build()
    model.summary(print_fn=lambda s: print(s))
    w.compile(model, w.lr)
    hist = model.fit(d["x_train"], w.targets(d["x_train"], d["y_train"]), batch_size=w.batch_size,
                     epochs=w.epochs, validation_data=(d["x_val"], w.targets(d["x_val"], d["y_val"])),
                     shuffle=True, verbose=2)
    model.save(_float_model_path(w))
    (cache_dir(w.name) / "train_history.json").write_text(json.dumps(
        {k: [float(v) for v in vs] for k, vs in hist.history.items()}, indent=1))
    _log(f"{w.name}: trained in {time.time() - t0:.1f}s -> {_float_model_path(w)}")


# --------------------------------------------------------------------------------------------- quantize
def _load_float(w):
    import tensorflow_model_optimization as tfmot  # noqa: F401 - registers nothing, but keeps import order

    return keras().models.load_model(_float_model_path(w), compile=False)


def _converter(model):
    tf = import_tf()
    return tf.lite.TFLiteConverter.from_keras_model(model)


def _rep_gen(x):
    def gen():
        for i in range(len(x)):
            yield [x[i : i + 1].astype(np.float32)]
    return gen


def _full_int(conv, rep):
    tf = import_tf()
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = _rep_gen(rep)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


def quantize(w):
    if not w.trainable:
        _log(f"{w.name}: nothing to quantize (variants are the official MLPerf Tiny files)")
        return
    tf = import_tf()
    t0 = time.time()
    seed_everything()
    d = w.data()
    out = workload_dir(w.name)
    model = _load_float(w)
    rep = w.representative(d)

    (out / "fp32.tflite").write_bytes(_converter(model).convert())
    conv = _converter(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    (out / "drq.tflite").write_bytes(conv.convert())
    (out / "fiq.tflite").write_bytes(_full_int(_converter(model), rep))
    _log(f"{w.name}: fp32, drq, fiq written in {time.time() - t0:.1f}s")

    # QAT: fake-quant wrappers from tfmot on the trained float model, fine-tuned, then full-integer conversion.
    t1 = time.time()
    seed_everything()
    qmodel = w.qat_model(model)
    w.compile(qmodel, w.qat_lr)
    xq, yq = d["x_train"][: w.qat_samples], d["y_train"][: w.qat_samples]  # [:None] = all
    qmodel.fit(xq, w.targets(xq, yq), batch_size=w.batch_size,
               epochs=w.qat_epochs, validation_data=(d["x_val"], w.targets(d["x_val"], d["y_val"])),
               shuffle=True, verbose=2)
    (out / "qat.tflite").write_bytes(_full_int(_converter(qmodel), rep))
    _log(f"{w.name}: qat fine-tuned and written in {time.time() - t1:.1f}s (quantize total {time.time() - t0:.1f}s)")
    write_toml(w)


# ---------------------------------------------------------------------------------------------- helpers
def variant_files(w):
    """variant -> (absolute path, path as written in workload.toml, file_root or None)."""
    if w.trainable:
        return {v: (WORKLOADS / w.name / f"{v}.tflite", f"{v}.tflite", None) for v in VARIANTS
                if (WORKLOADS / w.name / f"{v}.tflite").exists()}
    d = models_dir([w.files[v] for v in VARIANTS if v in w.files])
    return {v: (d / w.files[v], w.files[v], "models") for v in VARIANTS if v in w.files}


def test_inputs(w):
    """Float test inputs (and labels or None) in the FP32 model's layout."""
    if w.trainable:
        d = w.data()
        return d["x_test"].astype(np.float32), d["y_test"].astype(np.int64)
    files = variant_files(w)
    i, _ = runners.io_details(files["fiq"][0])
    scale, zp = i["quantization"]
    rng = np.random.default_rng(SEED)
    q = rng.integers(-128, 128, size=(w.n_inputs, *i["shape"][1:]), dtype=np.int64)
    return ((q - zp) * np.float32(scale)).astype(np.float32), None


# ----------------------------------------------------------------------------------------------- export
def export(w):
    t0 = time.time()
    out = workload_dir(w.name)
    x, y = test_inputs(w)
    np.save(out / "test_inputs.npy", x)
    if y is not None:
        np.save(out / "test_labels.npy", y)
    (out / "goldens").mkdir(exist_ok=True)
    for v, (path, _, _) in variant_files(w).items():
        g = runners.reference_outputs(path, v, x)
        np.save(out / "goldens" / f"{v}.npy", g)
        _log(f"{w.name}: golden {v} {g.shape} {g.dtype}")
    write_toml(w)
    _log(f"{w.name}: exported in {time.time() - t0:.1f}s")


# --------------------------------------------------------------------------------------------- evaluate
def evaluate(w):
    t0 = time.time()
    metrics = {}
    if w.trainable:
        x, y = test_inputs(w)
        for v, (path, _, _) in variant_files(w).items():
            raw = runners.reference_outputs(path, v, x)
            metrics[v] = w.score(runners.output_to_float(path, raw), x, y)
            _log(f"{w.name}: {v} {w.metric} = {metrics[v]:.4f}")
    write_toml(w, metrics)
    from .report import write_readme, write_workload_readme

    write_workload_readme(WORKLOADS / w.name)
    write_readme()
    _log(f"{w.name}: evaluated in {time.time() - t0:.1f}s")


# ------------------------------------------------------------------------------------------ workload.toml
def _existing(w):
    p = WORKLOADS / w.name / "workload.toml"
    if p.exists():
        return tomllib.loads(p.read_text())
    return {}


def write_toml(w, metrics=None):
    old = _existing(w)
    old_metrics = {v["name"]: v.get("host_metric") for v in old.get("variant", [])}
    old_sha = {v["name"]: v.get("sha256") for v in old.get("variant", [])}
    metrics = metrics if metrics is not None else {}
    out = WORKLOADS / w.name
    files = variant_files(w)
    variants, excl, sizes, arenas, ops = [], [], {}, {}, {}
    x, y = test_inputs(w)
    fp32_shape = None
    for v, (path, rel, root) in files.items():
        h = sha256(path)
        m = metrics.get(v)
        if m is None and old_sha.get(v) == h:
            m = old_metrics.get(v)  # keep the metric of an unchanged file
        src = SOURCES[v].format(w=w.name, n=getattr(w, "n_representative", 0), e=getattr(w, "qat_epochs", 0),
                                lr=getattr(w, "qat_lr", 0), how=getattr(w, "qat_how", ""),
                                sub=f" on the first {w.qat_samples} training samples" if getattr(w, "qat_samples", None)
                                else "") if w.trainable else \
            MLCOMMONS_SOURCE
        entry = {"name": v, "file": rel}
        if root:
            entry["file_root"] = root
        entry.update({"sha256": h, "golden": f"goldens/{v}.npy"})
        if w.trainable and m is not None:
            entry["host_metric"] = float(m)
        entry["source"] = src
        variants.append(entry)
        size = path.stat().st_size
        arena = fit.planned_activation_bytes(path) if v == "drq" else fit.tflm_arena_bytes(path)
        sizes[v] = size
        arenas[v] = arena
        ops[v] = _ops_summary(runners.model_ops(path))
        io_bytes = int(x[0].size * 4 * 2)
        excl.extend(fit.excludes(v, size, arena, io_bytes))
    i, o = runners.io_details(next(iter(files.values()))[0])
    shape = [1, *[int(s) for s in x.shape[1:]]]
    doc = {
        "name": w.name, "task": w.task, "description": w.description, "metric": w.metric,
        "dataset": w.dataset,
        "input": {"shape": shape, "preprocessing": w.preprocessing},
        "test": {"inputs": "test_inputs.npy", "labels": "test_labels.npy" if y is not None else None},
        "variant": variants,
        "exclude": excl,
    }
    extra = dict(w.extra)
    extra["test_samples"] = int(len(x))
    extra["host_metric_on"] = ("the committed test set (test_inputs.npy), run in the golden reference interpreters: "
                               "TFLite Micro for fp32/fiq/qat, desktop TFLite BUILTIN_REF for drq") if w.trainable \
        else "not applicable: random inputs, no labels"
    extra["input_quantization"] = ("int8 variants take q = clamp(round_half_away_from_zero(x / scale) + zero_point, "
                                   "-128, 127) with the model's own input scale and zero point; their goldens are "
                                   "the raw int8 outputs")
    extra["model_bytes"] = sizes
    extra["arena_bytes"] = {k: v for k, v in arenas.items() if v is not None}
    extra["arena_note"] = ("fp32/fiq/qat: smallest arena in which TFLite Micro's Python interpreter allocates the "
                           "model (1 KiB steps, includes its bookkeeping); drq: greedy-by-size plan of the float "
                           "activations plus the hybrid int8 input copy (TFLite Micro cannot load hybrid models)")
    extra["ops"] = ops
    doc["extra"] = extra
    (out / "workload.toml").write_text(tomlout.dumps(doc))


def _ops_summary(ops):
    seen = {}
    for o in ops:
        seen[o] = seen.get(o, 0) + 1
    return ", ".join(f"{o} x{n}" if n > 1 else o for o, n in seen.items())
