"""A trainable workload: its data, its Keras model, its metric. Subclasses fill in the details."""

import numpy as np

from .common import cache_dir, keras


class Workload:
    name = ""
    task = ""
    description = ""
    metric = "top1"
    dataset = {}
    preprocessing = ""
    trainable = True
    epochs = 30
    batch_size = 32
    lr = 1e-3
    qat_epochs = 4
    qat_lr = 2e-4
    qat_samples = None  # QAT fine-tunes on the first qat_samples training samples (None: all of them)
    n_representative = 200
    extra = {}

    # --- data -------------------------------------------------------------------------------------
    def make_data(self):
        """-> dict of float32 x_train, x_val, x_test and int y_train, y_val, y_test."""
        raise NotImplementedError

    def data(self):
        """The data set, synthesised once and cached in scripts/.cache/<name>/data.npz."""
        path = cache_dir(self.name) / "data.npz"
        if path.exists():
            with np.load(path) as z:
                return {k: z[k] for k in z.files}
        d = self.make_data()
        np.savez(path, **d)
        return d

    def representative(self, d):
        return d["x_train"][: self.n_representative]

    # --- model ------------------------------------------------------------------------------------
    def build(self):
        raise NotImplementedError

    decay_steps = None  # training (lr == self.lr) decays the learning rate to 0 on a cosine over this many steps

    def learning_rate(self, lr):
        if self.decay_steps and lr == self.lr:
            return keras().optimizers.schedules.CosineDecay(lr, self.decay_steps)
        return lr

    def compile(self, model, lr):
        k = keras()
        model.compile(
            optimizer=k.optimizers.Adam(learning_rate=self.learning_rate(lr)),
            loss=k.losses.SparseCategoricalCrossentropy(),
            metrics=["accuracy"],
        )

    qat_how = "tfmot.quantization.keras.quantize_model"

    def qat_model(self, model):
        """The float model with tfmot's fake-quant wrappers (default 8-bit scheme)."""
        import tensorflow_model_optimization as tfmot

        return tfmot.quantization.keras.quantize_model(model)

    def targets(self, x, y):
        return y

    # --- metric -----------------------------------------------------------------------------------
    def score(self, outputs, x, y):
        """Host metric from float (dequantized) outputs of the test inputs."""
        return float(np.mean(np.argmax(outputs, axis=-1) == y))
