"""The official MLPerf Tiny reference model files (mlcommons/tiny), registered as the mlcommons-* workloads.

The files are not in the repository: a user keeps them in a models directory (mcubench.toml `[models] dir`
or `--models-dir`), and workload.toml names them bare with `file_root = "models"`. The scripts find that
directory through the environment variable MCUBENCH_MODELS_DIR (export and evaluate of these workloads only).
Nobody on this project trained them and their test sets are not shipped, so they get seeded random inputs
and reference outputs only (no labels, no host accuracy). The project's own trained MLPerf Tiny
architectures are the mlperf-* workloads (mlperf_kws.py, mlperf_vww.py, mlperf_ic.py, mlperf_ad.py).
"""

import os
import pathlib

MODELS_ENV = "MCUBENCH_MODELS_DIR"

_DS_NOTE = "not shipped: random-input goldens only (seeded); the model files come from mlcommons/tiny"
SOURCE = ("MLPerf Tiny reference model (mlcommons/tiny, Apache-2.0): the official MLPerf Tiny file, read from the "
          "models directory (mcubench.toml [models] dir or --models-dir); not shipped")


def models_dir(files=()):
    """The user's models directory from MCUBENCH_MODELS_DIR, checked to hold `files`; SystemExit otherwise."""
    d = os.environ.get(MODELS_ENV)
    if not d:
        raise SystemExit(f"the mlcommons-* workloads read the official MLPerf Tiny files ({', '.join(files)}) from "
                         f"the models directory: set {MODELS_ENV} to the folder that holds them")
    p = pathlib.Path(d).expanduser().resolve()
    missing = [f for f in files if not (p / f).is_file()]
    if missing:
        raise SystemExit(f"{MODELS_ENV}={d}: missing {', '.join(missing)} (the official MLPerf Tiny files, "
                         "from mlcommons/tiny)")
    return p


class MlcommonsWorkload:
    trainable = False

    def __init__(self, name, task, metric, description, dataset, preprocessing, files, n_inputs):
        self.name = name
        self.metric = metric  # the task's metric; no host value (no labelled test set)
        self.task = task
        self.description = description
        self.dataset = dataset
        self.preprocessing = preprocessing
        self.files = files  # variant -> bare file name in the models directory
        self.n_inputs = n_inputs
        self.extra = {}


_RANDOM = "random: int8 values uniform over [-128, 127] dequantized with the int8 model's input scale/zero point"

MLCOMMONS = [
    MlcommonsWorkload(
        "mlcommons-kws", "keyword spotting", "top1",
        "The official MLPerf Tiny keyword-spotting reference DS-CNN (12 classes) on 49x10 MFCC features "
        "(model files from the models directory, not shipped).",
        {"name": "Google Speech Commands v2 (MLPerf Tiny KWS)", "license": "CC BY 4.0 (data); model Apache-2.0",
         "source": _DS_NOTE},
        _RANDOM, {"fiq": "kws_int8.tflite", "drq": "kws_drq.tflite"}, 8),
    MlcommonsWorkload(
        "mlcommons-vww", "visual wake words", "top1",
        "The official MLPerf Tiny visual wake words reference MobileNetV1 0.25 (person / no person) on 96x96 RGB "
        "(model files from the models directory, not shipped).",
        {"name": "Visual Wake Words (COCO 2014 derived, MLPerf Tiny VWW)",
         "license": "CC BY 4.0 (COCO annotations); model Apache-2.0", "source": _DS_NOTE},
        _RANDOM, {"fiq": "vww_int8.tflite", "fp32": "vww_fp32.tflite"}, 4),
    MlcommonsWorkload(
        "mlcommons-ic", "image classification", "top1",
        "The official MLPerf Tiny image-classification reference ResNet-8 (10 classes) on 32x32 RGB "
        "(model files from the models directory, not shipped).",
        {"name": "CIFAR-10 (MLPerf Tiny IC)", "license": "MIT-style CIFAR-10 terms (data); model Apache-2.0",
         "source": _DS_NOTE},
        _RANDOM, {"fiq": "ic_int8.tflite", "fp32": "ic_fp32.tflite"}, 6),
    MlcommonsWorkload(
        "mlcommons-ad", "anomaly detection", "auc",
        "The official MLPerf Tiny anomaly-detection reference FC autoencoder on 640-dim log-mel features "
        "(5 frames x 128) (model files from the models directory, not shipped).",
        {"name": "DCASE 2020 Task 2 ToyADMOS/ToyCar (MLPerf Tiny AD)", "license": "CC BY 4.0 (data); model Apache-2.0",
         "source": _DS_NOTE},
        _RANDOM, {"fiq": "ad_int8.tflite", "drq": "ad_drq.tflite", "fp32": "ad_fp32.tflite"}, 8),
]
