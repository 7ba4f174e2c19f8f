"""mlperf-ic: MLPerf Tiny's image-classification reference ResNet-8 (32x32x3; mlcommons/tiny
image_classification), trained here on Fashion-MNIST from Debian's dataset-fashion-mnist package
(installed offline; nothing is downloaded), padded to 32x32 and replicated to 3 channels."""

import gzip
import pathlib

import numpy as np

from ..base import Workload
from ..common import SEED, keras

FASHION_DIR = pathlib.Path("/usr/share/datasets/fashion-mnist")  # dpkg -L dataset-fashion-mnist
CLASSES = ["t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"]
N_TRAIN, N_VAL, TEST_PER_CLASS = 5000, 1000, 20


def _idx(path):
    """An IDX file (gzip) as a numpy array: magic (2 zero bytes, type 0x08 = uint8, number of dims), sizes, data."""
    raw = gzip.decompress(path.read_bytes())
    if raw[:3] != b"\x00\x00\x08":
        raise SystemExit(f"{path}: not an IDX file of unsigned bytes")
    nd = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(nd))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd).reshape(shape)


def load_fashion_mnist(root=FASHION_DIR):
    """(train images, train labels, test images, test labels) as uint8 from the Debian package's files."""
    names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
             "t10k-labels-idx1-ubyte.gz"]
    missing = [n for n in names if not (root / n).is_file()]
    if missing:
        raise SystemExit(f"mlperf-ic trains on Fashion-MNIST from Debian's dataset-fashion-mnist package "
                         f"({root}/{missing[0]} not found): apt-get install dataset-fashion-mnist")
    return tuple(_idx(root / n) for n in names)


def to_input(images):
    """uint8 28x28 -> float32 32x32x3 in [0, 1]: /255, zero padding of 2 pixels on each side, grey in R, G and B."""
    x = np.pad(images.astype(np.float32) / 255.0, ((0, 0), (2, 2), (2, 2)))
    return np.repeat(x[..., None], 3, axis=-1).astype(np.float32)


class MlperfIc(Workload):
    name = "mlperf-ic"
    task = "image classification"
    description = ("MLPerf Tiny image-classification reference ResNet-8 (mlcommons/tiny, 12.5 M MACs) on 32x32 RGB, "
                   "trained here on a subset of Fashion-MNIST (10 classes of clothing), padded and replicated to "
                   "3 channels, as a stand-in for CIFAR-10.")
    metric = "top1"
    dataset = {
        "name": "Fashion-MNIST (Zalando Research): 28x28 grey images of 10 clothing classes; a subset",
        "license": "MIT (Expat), (c) 2017 Zalando SE (Fashion-MNIST; Debian package copyright file)",
        "source": "Debian's dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist, installed offline with "
                  "apt-get; no download at run time)",
    }
    input_shape = [1, 32, 32, 3]
    preprocessing = (
        f"28x28 uint8 / 255, zero-padded by 2 pixels on each side to 32x32, replicated to 3 channels; "
        f"{N_TRAIN} train / {N_VAL} val drawn (seeded) from Fashion-MNIST's training set, test = the first "
        f"{TEST_PER_CLASS} of each class of its test set ({10 * TEST_PER_CLASS}); labels 0-9: "
        + ", ".join(f"{i} {c}" for i, c in enumerate(CLASSES))
    )
    epochs = 10
    batch_size = 32
    lr = 2e-3
    decay_steps = epochs * -(-N_TRAIN // batch_size)  # cosine decay to 0 over the training
    qat_epochs = 2
    qat_lr = 2e-4

    def make_data(self):
        x_tr, y_tr, x_te, y_te = load_fashion_mnist()
        perm = np.random.default_rng(SEED).permutation(len(y_tr))
        tr, va = perm[:N_TRAIN], perm[N_TRAIN: N_TRAIN + N_VAL]
        te = np.sort(np.concatenate([np.nonzero(y_te == c)[0][:TEST_PER_CLASS] for c in range(10)]))
        return dict(x_train=to_input(x_tr[tr]), y_train=y_tr[tr].astype(np.int64),
                    x_val=to_input(x_tr[va]), y_val=y_tr[va].astype(np.int64),
                    x_test=to_input(x_te[te]), y_test=y_te[te].astype(np.int64))

    def build(self):
        # as mlcommons/tiny image_classification's resnet_v1_eembc (without its L2 regulariser)
        k = keras()
        L = k.layers

        def conv(h, filters, kernel, stride=1):
            return L.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False,
                            kernel_initializer="he_normal")(h)

        inp = L.Input(shape=(32, 32, 3), name="image")
        x = L.ReLU()(L.BatchNormalization()(conv(inp, 16, 3)))
        # stack 1: identity shortcut
        y = L.ReLU()(L.BatchNormalization()(conv(x, 16, 3)))
        y = L.BatchNormalization()(conv(y, 16, 3))
        x = L.ReLU()(L.Add()([x, y]))
        # stacks 2 and 3: stride-2 3x3 conv, 3x3 conv, 1x1 stride-2 conv shortcut
        for filters in (32, 64):
            y = L.ReLU()(L.BatchNormalization()(conv(x, filters, 3, 2)))
            y = L.BatchNormalization()(conv(y, filters, 3))
            s = conv(x, filters, 1, 2)
            x = L.ReLU()(L.Add()([s, y]))
        x = L.AveragePooling2D(pool_size=x.shape[1:3])(x)
        x = L.Flatten()(x)
        x = L.Dense(10)(x)
        out = L.Softmax()(x)
        return k.Model(inp, out, name="mlperf_ic_resnet8")
