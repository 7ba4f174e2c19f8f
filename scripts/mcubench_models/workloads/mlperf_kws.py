"""mlperf-kws: MLPerf Tiny's keyword-spotting reference DS-CNN (mlcommons/tiny keyword_spotting), trained here
on the synthetic espeak-ng speech commands of kws.py with MLPerf Tiny's 12 classes."""

from .kws import PER_KEYWORD, PER_SILENCE, PER_UNKNOWN, TEST_PER_CLASS, Kws, ds_cnn

KEYWORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]


class MlperfKws(Kws):
    name = "mlperf-kws"
    description = ("MLPerf Tiny keyword-spotting reference DS-CNN (mlcommons/tiny: 64 filters, 4 depthwise-separable "
                   "blocks, 2.66 M MACs) trained here on speech synthesised with espeak-ng: 10 keywords (yes, no, up, "
                   "down, left, right, on, off, stop, go) plus unknown and silence, from 49x10 MFCCs.")
    preprocessing = (
        "espeak-ng 22.05 kHz speech resampled to 16 kHz, trimmed and placed at a random offset in 1 s, noise "
        "added, random gain -> MFCC: 40 ms Hann windows every 20 ms (49 frames), 1024-point FFT, 40 mel bands "
        "20 Hz..4 kHz, log10, DCT-II (ortho) first 10 coefficients -> (x - mean) / std per coefficient over the "
        "training set; labels: 0 yes, 1 no, 2 up, 3 down, 4 left, 5 right, 6 on, 7 off, 8 stop, 9 go, 10 unknown, "
        "11 silence; test = 25 per class"
    )
    keywords = KEYWORDS
    per_keyword, per_unknown, per_silence, test_per_class = PER_KEYWORD, PER_UNKNOWN, PER_SILENCE, TEST_PER_CLASS
    epochs = 30
    batch_size = 32
    lr = 2e-3
    qat_epochs = 4
    qat_lr = 2e-4

    def build(self):
        # as mlcommons/tiny keyword_spotting's ds_cnn (without its dropout, which the TFLite files do not have)
        return ds_cnn("mlperf_kws_dscnn", len(self.keywords) + 2, 64, 4)
