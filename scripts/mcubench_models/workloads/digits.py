"""digits: image classification, a small CNN on scikit-learn's 8x8 handwritten digits upscaled to 16x16."""

import numpy as np

from ..base import Workload
from ..common import SEED, keras


class Digits(Workload):
    name = "digits"
    task = "image classification"
    description = "Small CNN classifying scikit-learn's 8x8 handwritten digits, upscaled to 16x16 grey images."
    metric = "top1"
    dataset = {
        "name": "UCI Optical Recognition of Handwritten Digits (scikit-learn load_digits, 1797 images)",
        "license": "CC BY 4.0 (UCI ML Repository); shipped inside the scikit-learn package (BSD-3-Clause)",
        "source": "sklearn.datasets.load_digits() from the installed scikit-learn package; no download",
    }
    input_shape = [1, 16, 16, 1]
    preprocessing = (
        "8x8 images with values 0..16 divided by 16 to [0, 1], upscaled 2x to 16x16 by bilinear "
        "interpolation (scipy.ndimage.zoom order=1, grid-mode); stratified split 1197 train / 300 val / "
        "300 test (seed 20261124); the test split is test_inputs.npy"
    )
    epochs = 40
    batch_size = 32
    lr = 2e-3
    qat_epochs = 5

    def make_data(self):
        from scipy.ndimage import zoom
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        ds = load_digits()
        x = ds.images.astype(np.float32) / 16.0
        x = np.stack([zoom(im, 2, order=1, mode="nearest", grid_mode=True) for im in x])
        x = np.clip(x, 0.0, 1.0).astype(np.float32)[..., None]
        y = ds.target.astype(np.int32)
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=300, stratify=y, random_state=SEED)
        x_tr, x_va, y_tr, y_va = train_test_split(x_tr, y_tr, test_size=300, stratify=y_tr, random_state=SEED)
        return dict(x_train=x_tr, y_train=y_tr, x_val=x_va, y_val=y_va, x_test=x_te, y_test=y_te)

    def build(self):
        k = keras()
        L = k.layers
        inp = L.Input(shape=(16, 16, 1), name="image")
        h = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
        h = L.MaxPooling2D(2)(h)
        h = L.Conv2D(16, 3, padding="same", activation="relu")(h)
        h = L.MaxPooling2D(2)(h)
        h = L.Conv2D(32, 3, padding="same", activation="relu")(h)
        h = L.AveragePooling2D(2)(h)
        h = L.Flatten()(h)
        h = L.Dense(10)(h)
        out = L.Softmax()(h)
        return k.Model(inp, out, name="digits_cnn")
