"""The MLPerf Tiny reference models in ../shared/models/mlperf-tiny, registered as workloads.

Nobody on this project trained them and their test sets are not shipped, so they get seeded random
inputs and reference outputs only (no labels, no host accuracy).
"""

import numpy as np

SHARED_REL = "../shared/models/mlperf-tiny"  # relative to the repository root

_DS_NOTE = "not shipped: random-input goldens only (seeded); the model files come from mlcommons/tiny"


class MlperfWorkload:
    trainable = False
    def __init__(self, name, task, metric, description, dataset, preprocessing, files, n_inputs):
        self.name = name
        self.metric = metric  # the task's metric; no host value (no labelled test set)
        self.task = task
        self.description = description
        self.dataset = dataset
        self.preprocessing = preprocessing
        self.files = files  # variant -> file name in shared/models/mlperf-tiny
        self.n_inputs = n_inputs
        self.extra = {}


MLPERF = [
    MlperfWorkload(
        "mlperf-kws", "keyword spotting", "top1",
        "MLPerf Tiny keyword-spotting reference DS-CNN (12 classes) on 49x10 MFCC features.",
        {"name": "Google Speech Commands v2 (MLPerf Tiny KWS)", "license": "CC BY 4.0 (data); model Apache-2.0",
         "source": _DS_NOTE},
        "random: int8 values uniform over [-128, 127] dequantized with the int8 model's input scale/zero point",
        {"fiq": "kws_int8.tflite", "drq": "kws_drq.tflite"}, 8),
    MlperfWorkload(
        "mlperf-vww", "visual wake words", "top1",
        "MLPerf Tiny visual wake words reference MobileNetV1 0.25 (person / no person) on 96x96 RGB.",
        {"name": "Visual Wake Words (COCO 2014 derived, MLPerf Tiny VWW)", "license": "CC BY 4.0 (COCO annotations); model Apache-2.0",
         "source": _DS_NOTE},
        "random: int8 values uniform over [-128, 127] dequantized with the int8 model's input scale/zero point",
        {"fiq": "vww_int8.tflite", "fp32": "vww_fp32.tflite"}, 4),
    MlperfWorkload(
        "mlperf-ic", "image classification", "top1",
        "MLPerf Tiny image-classification reference ResNet-8 (10 classes) on 32x32 RGB.",
        {"name": "CIFAR-10 (MLPerf Tiny IC)", "license": "MIT-style CIFAR-10 terms (data); model Apache-2.0",
         "source": _DS_NOTE},
        "random: int8 values uniform over [-128, 127] dequantized with the int8 model's input scale/zero point",
        {"fiq": "ic_int8.tflite", "fp32": "ic_fp32.tflite"}, 6),
    MlperfWorkload(
        "mlperf-ad", "anomaly detection", "auc",
        "MLPerf Tiny anomaly-detection reference FC autoencoder on 640-dim log-mel features (5 frames x 128).",
        {"name": "DCASE 2020 Task 2 ToyADMOS/ToyCar (MLPerf Tiny AD)", "license": "CC BY 4.0 (data); model Apache-2.0",
         "source": _DS_NOTE},
        "random: int8 values uniform over [-128, 127] dequantized with the int8 model's input scale/zero point",
        {"fiq": "ad_int8.tflite", "drq": "ad_drq.tflite", "fp32": "ad_fp32.tflite"}, 8),
]
