"""kws: keyword spotting, a small DS-CNN on 49x10 MFCCs of speech synthesised offline with espeak-ng."""

import os
import subprocess
import tempfile
import wave

import numpy as np

from ..base import Workload
from ..common import SEED, keras
from ..features import mfcc

SR = 16000
KEYWORDS = ["yes", "no", "up", "down", "left", "right"]
LABELS = KEYWORDS + ["_unknown_", "_silence_"]
UNKNOWN_WORDS = [
    "bed", "bird", "cat", "dog", "eight", "five", "four", "happy", "house", "marvin", "nine", "one",
    "seven", "sheila", "six", "three", "tree", "two", "wow", "zero", "learn", "follow", "forward",
    "visual", "backward", "on", "off", "stop", "go", "yellow", "note", "light", "write", "town", "yet",
]
VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
VARIANTS = ["", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2",
            "klatt3", "croak", "whisper"]
PER_KEYWORD = 170
PER_UNKNOWN = 220
PER_SILENCE = 170
TEST_PER_CLASS = 25


def _espeak(text, voice, speed, pitch, path):
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", path, text],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with wave.open(path) as w:
        sr = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64) / 32768.0
    from scipy.signal import resample_poly

    g = np.gcd(SR, sr)
    return resample_poly(x, SR // g, sr // g)


def _noise(rng, n):
    kind = rng.integers(0, 4)
    w = rng.normal(0, 1, n)
    if kind == 0:  # white
        return w
    spec = np.fft.rfft(w)
    f = np.fft.rfftfreq(n, 1 / SR)
    f[0] = f[1]
    if kind == 1:  # pink
        spec /= np.sqrt(f)
    elif kind == 2:  # brown
        spec /= f
    else:  # hum + band noise (machine/room)
        spec *= np.exp(-(((f - rng.uniform(200, 2000)) / 300.0) ** 2))
    x = np.fft.irfft(spec, n=n)
    if kind == 3:
        t = np.arange(n) / SR
        x = x / (x.std() + 1e-12) + 0.5 * np.sin(2 * np.pi * rng.choice([50.0, 60.0]) * t)
    return x / (x.std() + 1e-12)


def _clip(rng, speech):
    """1 s at 16 kHz: speech at a random offset (or nothing), plus noise at a random SNR, random gain."""
    out = np.zeros(SR)
    if speech is not None:
        nz = np.nonzero(np.abs(speech) > 0.01)[0]
        if len(nz):
            speech = speech[max(nz[0] - 800, 0): nz[-1] + 800]
        if len(speech) > SR:
            s0 = (len(speech) - SR) // 2
            speech = speech[s0: s0 + SR]
        off = rng.integers(0, SR - len(speech) + 1)
        out[off: off + len(speech)] = speech
        p_sig = np.mean(speech ** 2) + 1e-12
        snr_db = rng.uniform(5, 40)
        out += _noise(rng, SR) * np.sqrt(p_sig / 10 ** (snr_db / 10))
    else:
        out += _noise(rng, SR) * 10 ** rng.uniform(-4, -1.3)
    return out * 10 ** rng.uniform(-0.5, 0.3)


def synthesize_commands(keywords, per_keyword, per_unknown, per_silence, test_per_class, name="kws"):
    """A speech-commands data set: per_keyword clips of each keyword, per_unknown of other words (label
    len(keywords)), per_silence of noise only (label len(keywords) + 1); 49x10 MFCCs standardised per
    coefficient over the training split; test_per_class clips of each class held out."""
    import shutil

    if shutil.which("espeak-ng") is None:
        raise SystemExit(f"{name} needs espeak-ng to synthesise its speech: apt-get install -y espeak-ng sox")
    unknown_words = [w for w in UNKNOWN_WORDS if w not in keywords]
    unknown, silence = len(keywords), len(keywords) + 1
    rng = np.random.default_rng(SEED)
    items = [(k, w) for k, w in enumerate(keywords) for _ in range(per_keyword)]
    items += [(unknown, None) for _ in range(per_unknown)] + [(silence, None) for _ in range(per_silence)]
    xs, ys = [], []
    with tempfile.TemporaryDirectory() as td:
        path = os.path.join(td, "w.wav")
        for label, word in items:
            if label == silence:
                audio = _clip(rng, None)
            else:
                if label == unknown:
                    word = unknown_words[rng.integers(len(unknown_words))]
                voice = VOICES[rng.integers(len(VOICES))]
                var = VARIANTS[rng.integers(len(VARIANTS))]
                speech = _espeak(word, voice + (f"+{var}" if var else ""), int(rng.integers(110, 221)),
                                 int(rng.integers(20, 81)), path)
                audio = _clip(rng, speech)
            xs.append(mfcc(audio))
            ys.append(label)
    x = np.stack(xs).astype(np.float32)[..., None]
    y = np.array(ys, dtype=np.int64)
    perm = np.random.default_rng(SEED + 1).permutation(len(y))
    x, y = x[perm], y[perm]
    test = np.concatenate([np.nonzero(y == c)[0][:test_per_class] for c in range(silence + 1)])
    rest = np.setdiff1d(np.arange(len(y)), test)
    val = rest[: len(rest) // 8]
    train = rest[len(rest) // 8:]
    test = np.sort(test)
    mu = x[train].mean(axis=(0, 1, 3), keepdims=True)
    sd = x[train].std(axis=(0, 1, 3), keepdims=True) + 1e-6
    f = lambda a: ((a - mu) / sd).astype(np.float32)  # noqa: E731
    return dict(x_train=f(x[train]), y_train=y[train], x_val=f(x[val]), y_val=y[val], x_test=f(x[test]),
                y_test=y[test], mfcc_mean=mu.reshape(-1), mfcc_std=sd.reshape(-1))


def ds_cnn(name, n_classes, filters, blocks):
    """DS-CNN on 49x10x1 MFCCs: Conv2D (10,4) stride 2 same + BN + ReLU, `blocks` x [DepthwiseConv2D 3x3
    same + BN + ReLU, Conv2D 1x1 + BN + ReLU], AveragePooling2D (25,5), Flatten, Dense, Softmax."""
    k = keras()
    L = k.layers
    inp = L.Input(shape=(49, 10, 1), name="mfcc")
    h = L.Conv2D(filters, (10, 4), strides=(2, 2), padding="same", use_bias=False)(inp)
    h = L.BatchNormalization()(h)
    h = L.ReLU()(h)
    for _ in range(blocks):
        h = L.DepthwiseConv2D((3, 3), padding="same", use_bias=False)(h)
        h = L.BatchNormalization()(h)
        h = L.ReLU()(h)
        h = L.Conv2D(filters, 1, use_bias=False)(h)
        h = L.BatchNormalization()(h)
        h = L.ReLU()(h)
    h = L.AveragePooling2D(pool_size=(25, 5))(h)
    h = L.Flatten()(h)
    h = L.Dense(n_classes)(h)
    out = L.Softmax()(h)
    return k.Model(inp, out, name=name)


class Kws(Workload):
    name = "kws"
    task = "keyword spotting"
    description = ("Small DS-CNN spotting 6 keywords (yes, no, up, down, left, right) plus unknown and silence "
                   "in 1 s of speech synthesised with espeak-ng, from 49x10 MFCCs.")
    metric = "top1"
    dataset = {
        "name": "synthetic speech commands (mcubench): espeak-ng words, 8 English voices x 18 voice variants, "
                "speed 110-220 wpm, pitch 20-80, white/pink/brown/hum noise at 5-40 dB SNR",
        "license": "generated by scripts/mcubench_models/workloads/kws.py (same licence as mcubench); espeak-ng is GPL-3.0 (used as a tool only)",
        "source": "synthesised offline with Debian's espeak-ng (1.51 here) and numpy noise, fixed seeds; no download",
    }
    input_shape = [1, 49, 10, 1]
    preprocessing = (
        "espeak-ng 22.05 kHz speech resampled to 16 kHz, trimmed and placed at a random offset in 1 s, noise "
        "added, random gain -> MFCC: 40 ms Hann windows every 20 ms (49 frames), 1024-point FFT, 40 mel bands "
        "20 Hz..4 kHz, log10, DCT-II (ortho) first 10 coefficients -> (x - mean) / std per coefficient over the "
        "training set; labels: 0 yes, 1 no, 2 up, 3 down, 4 left, 5 right, 6 unknown, 7 silence; test = 25 per class"
    )
    epochs = 40
    batch_size = 32
    lr = 2e-3
    qat_epochs = 5
    qat_lr = 2e-4
    keywords = KEYWORDS
    per_keyword, per_unknown, per_silence, test_per_class = PER_KEYWORD, PER_UNKNOWN, PER_SILENCE, TEST_PER_CLASS

    def make_data(self):
        return synthesize_commands(self.keywords, self.per_keyword, self.per_unknown, self.per_silence,
                                   self.test_per_class, self.name)

    def build(self):
        return ds_cnn("kws_dscnn", len(LABELS), 32, 3)
