"""Log-mel and MFCC features in plain numpy (no audio library needed)."""

import numpy as np
from scipy.fft import dct


def hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)


def mel_filterbank(n_mels, n_fft, sr, fmin=20.0, fmax=None):
    fmax = fmax or sr / 2
    mels = np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2)
    hz = mel_to_hz(mels)
    bins = np.fft.rfftfreq(n_fft, 1.0 / sr)
    fb = np.zeros((n_mels, len(bins)), dtype=np.float64)
    for i in range(n_mels):
        lo, c, hi = hz[i], hz[i + 1], hz[i + 2]
        up = (bins - lo) / (c - lo)
        down = (hi - bins) / (hi - c)
        fb[i] = np.maximum(0.0, np.minimum(up, down))
    return fb


def power_frames(x, frame_len, hop, n_fft):
    n = 1 + (len(x) - frame_len) // hop
    idx = np.arange(frame_len)[None, :] + hop * np.arange(n)[:, None]
    frames = x[idx] * np.hanning(frame_len)[None, :]
    return np.abs(np.fft.rfft(frames, n=n_fft, axis=1)) ** 2


def log_mel(x, sr, frame_len, hop, n_fft, n_mels, fmin=20.0, fmax=None):
    p = power_frames(x, frame_len, hop, n_fft)
    m = p @ mel_filterbank(n_mels, n_fft, sr, fmin, fmax).T
    return 10.0 * np.log10(m + 1e-10)


def mfcc(x, sr=16000, frame_len=640, hop=320, n_fft=1024, n_mels=40, n_mfcc=10):
    """MLPerf Tiny KWS-style MFCC: 40 ms windows every 20 ms, 40 mel bands, first 10 DCT-II coefficients.

    A 1 s clip at 16 kHz gives 49 frames x 10 coefficients.
    """
    lm = log_mel(x, sr, frame_len, hop, n_fft, n_mels, fmin=20.0, fmax=4000.0) / 10.0  # log10 of mel power
    return dct(lm, type=2, axis=1, norm="ortho")[:, :n_mfcc]
