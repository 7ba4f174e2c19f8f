"""Paths, seeds and environment shared by every step of the model pipeline."""

import os
import pathlib
import random

# Must be set before TensorFlow is imported anywhere: tfmot's quantize_model needs Keras 2 (tf_keras),
# and deterministic kernels make training reruns repeatable on CPU.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("PYTHONHASHSEED", "0")

import numpy as np  # noqa: E402

SCRIPTS = pathlib.Path(__file__).resolve().parent.parent
REPO = SCRIPTS.parent
WORKLOADS = REPO / "workloads"
CACHE = SCRIPTS / ".cache"  # trained Keras models and synthesised data sets (git-ignored)

SEED = 20261124
VARIANTS = ("fp32", "drq", "fiq", "qat")


def workload_dir(name):
    d = WORKLOADS / name
    d.mkdir(parents=True, exist_ok=True)
    return d


def cache_dir(name):
    d = CACHE / name
    d.mkdir(parents=True, exist_ok=True)
    return d


def seed_everything(seed=SEED):
    """Fix python, numpy and TensorFlow seeds; one thread each so float reductions keep their order."""
    random.seed(seed)
    np.random.seed(seed)
    tf = import_tf()
    tf.keras.utils.set_random_seed(seed)
    try:
        tf.config.experimental.enable_op_determinism()
    except Exception:  # noqa: BLE001 - older TF without the call
        pass


_TF = None


def import_tf():
    global _TF
    if _TF is None:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            pass
        _TF = tf
    return _TF


def keras():
    """Keras 2 (tf_keras), as tfmot needs."""
    import_tf()
    import tf_keras

    return tf_keras


def sha256(path):
    import hashlib

    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def quantize_input(x, scale, zero_point):
    """Float -> int8 as TFLite's QUANTIZE does (AffineQuantize): x / scale in float32, round half
    away from zero, add zero point, clamp. The harness quantizes test inputs the same way
    (harness/src/job.rs quantize_input); a float64 division rounds a few inputs differently."""
    v = np.asarray(x, dtype=np.float32) / np.float32(scale)
    q = np.sign(v) * np.floor(np.abs(v) + 0.5) + zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def dequantize(q, scale, zero_point):
    return ((np.asarray(q, dtype=np.float32) - zero_point) * scale).astype(np.float32)
