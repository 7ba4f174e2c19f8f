"""mlperf-ad: MLPerf Tiny's anomaly-detection reference FC autoencoder (640 = 5 frames x 128 mels; mlcommons/tiny
anomaly_detection, the DCASE 2020 Task 2 baseline), trained here on anomaly.py's synthetic machine sounds with
DCASE's 1024-point frames, 512 hop and 128 mel bands."""

from ..common import keras
from .anomaly import N_FRAMES, Anomaly, machine_sounds

N_FFT, HOP, N_MELS = 1024, 512, 128
DIM = N_FRAMES * N_MELS  # 640


class MlperfAd(Anomaly):
    name = "mlperf-ad"
    task = "anomaly detection"
    description = ("MLPerf Tiny anomaly-detection reference FC autoencoder (mlcommons/tiny: Dense 128 x4, 8, 128 x4 "
                   "with BN + ReLU, Dense 640; 264 k MACs) trained here on normal synthetic machine sounds; the "
                   "reconstruction error of 5 log-mel frames x 128 mels flags anomalous ones.")
    dataset = dict(Anomaly.dataset, name="synthetic machine sounds (mcubench, 4 machine instances; faults: bearing "
                   "clicks, speed shift, rubbing, imbalance), as the anomaly workload with 128 mel bands")
    input_shape = [1, DIM]
    preprocessing = (
        "16 kHz clip of 3072 samples -> 5 frames of 1024-point Hann STFT (hop 512, as DCASE 2020's baseline) -> "
        "128 mel bands 20 Hz..8 kHz -> 10*log10 power, flattened frame-major (frame0 mel0..127, frame1 ...) -> "
        "standardised per dimension with the mean/std of the normal training clips (test_inputs.npy is already "
        "standardised); train/val normal only, test 100 normal + 100 anomalous (labels 1 = anomalous)"
    )
    epochs = 30
    batch_size = 64
    lr = 1e-3
    qat_epochs = 4
    qat_lr = 1e-4

    qat_how = ("tfmot.quantization.keras.quantize_model on the float model with each BatchNormalization folded into "
               "the Dense before it (Dense + ReLU layers, as the anomaly workload's; quantize_model does not fold "
               "Dense + BN, and unfolded the converter re-quantizes the input through a float DEQUANTIZE/QUANTIZE pair)")

    def qat_model(self, model):
        import tensorflow_model_optimization as tfmot

        return tfmot.quantization.keras.quantize_model(fold_batch_norm(model))

    def __init__(self):
        super().__init__()
        self.extra = {"anomaly_score": self.extra["anomaly_score"].replace("the 160 values", f"the {DIM} values")}

    def make_data(self):
        return machine_sounds(N_FFT, HOP, N_MELS)

    def build(self):
        # as mlcommons/tiny anomaly_detection's keras_model (Dense + BatchNormalization + ReLU)
        k = keras()
        L = k.layers
        inp = L.Input(shape=(DIM,), name="features")
        h = inp
        for n in (128, 128, 128, 128, 8, 128, 128, 128, 128):
            h = L.ReLU()(L.BatchNormalization()(L.Dense(n)(h)))
        out = L.Dense(DIM)(h)
        return k.Model(inp, out, name="mlperf_ad_autoencoder")


def fold_batch_norm(model):
    """The same function as `model` (Dense, BatchNormalization, ReLU, ... Dense) with each inference-mode
    BatchNormalization folded into the Dense before it: Dense(relu) layers, then the last Dense."""
    import numpy as np

    k = keras()
    L = k.layers
    layers = [layer for layer in model.layers if not isinstance(layer, L.InputLayer)]
    inp = L.Input(shape=model.input_shape[1:], name="features")
    h, i, folded = inp, 0, []
    while i < len(layers):
        dense = layers[i]
        assert isinstance(dense, L.Dense), dense
        w, b = dense.get_weights()
        if i + 1 < len(layers) and isinstance(layers[i + 1], L.BatchNormalization):
            bn = layers[i + 1]
            gamma, beta, mean, var = bn.get_weights()
            g = gamma / np.sqrt(var + bn.epsilon)
            w, b = w * g[None, :], (b - mean) * g + beta
            assert isinstance(layers[i + 2], L.ReLU), layers[i + 2]
            layer, i = L.Dense(dense.units, activation="relu"), i + 3
        else:
            layer, i = L.Dense(dense.units), i + 1
        h = layer(h)
        folded.append((layer, [w.astype(np.float32), b.astype(np.float32)]))
    out = k.Model(inp, h, name=model.name + "_bn_folded")
    for layer, weights in folded:
        layer.set_weights(weights)
    return out
