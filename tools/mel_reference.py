#!/usr/bin/python3
"""Independent reference for the project's log-mel spectrogram (numpy only).

Implements, straight from the formulas, the mel of NVIDIA tacotron2's TacotronSTFT:
  22050 Hz, n_fft 1024, hop 256, win 1024 periodic Hann (scipy get_window('hann', fftbins=True)),
  centre reflect padding of n_fft/2 on both sides, magnitude |STFT| (not power),
  Slaney mel filterbank (librosa.filters.mel defaults: htk=False, norm='slaney'), 80 bands 0-8000 Hz,
  natural log of clamp(x, 1e-5). Frames = 1 + len // hop.

It shares no code with the C# implementation: its own STFT (np.fft.rfft) and its own filterbank.
The test signal is defined by a formula that the C# test (MelReferenceTests) reproduces exactly:
  x[n] = 0.30 sin(2 pi 220 t) + 0.20 sin(2 pi 1330 t + 0.5) + 0.08 sin(2 pi 5000 t)
       + 0.15 sin(2 pi (100 t + 0.5 k t^2)),  k = (7000 - 100) / 0.5   (linear chirp 100 -> 7000 Hz)
       + 0.05 u[n],  u[n] = LCG noise in [-1, 1): s = (1664525 s + 1013904223) mod 2^32, s0 = 12345, u = s / 2^31 - 1
  t = n / 22050, n = 0 .. 11024 (0.5 s), then rounded to float32 (the C# input type).

Usage:  /usr/bin/python3 tools/mel_reference.py > tests/Unit/TacotronRecovery.Core.Tests/Audio/mel_reference.json
(Debian: apt-get install -y python3-numpy)
"""
import json
import math
import sys

import numpy as np

SR = 22050
N_FFT = 1024
HOP = 256
WIN = 1024
N_MELS = 80
FMIN = 0.0
FMAX = 8000.0
N_SAMPLES = 11025
FRAMES_OUT = [0, 1, 2, 10, 21, 42, 43]  # first, reflect-padded edges, middle and the last frame


def test_signal():
    n = np.arange(N_SAMPLES, dtype=np.float64)
    t = n / SR
    k = (7000.0 - 100.0) / 0.5
    x = (0.30 * np.sin(2 * math.pi * 220.0 * t)
         + 0.20 * np.sin(2 * math.pi * 1330.0 * t + 0.5)
         + 0.08 * np.sin(2 * math.pi * 5000.0 * t)
         + 0.15 * np.sin(2 * math.pi * (100.0 * t + 0.5 * k * t * t)))
    s = 12345
    noise = np.empty(N_SAMPLES)
    for i in range(N_SAMPLES):
        s = (1664525 * s + 1013904223) % (1 << 32)
        noise[i] = s / float(1 << 31) - 1.0
    x = x + 0.05 * noise
    return x.astype(np.float32).astype(np.float64)


def hz_to_mel(f):
    # Slaney: linear below 1 kHz (200/3 Hz per mel), logarithmic above (27 mels per factor 6.4).
    f_sp = 200.0 / 3.0
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    if f >= min_log_hz:
        return min_log_mel + math.log(f / min_log_hz) / logstep
    return f / f_sp


def mel_to_hz(m):
    f_sp = 200.0 / 3.0
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    if m >= min_log_mel:
        return min_log_hz * math.exp(logstep * (m - min_log_mel))
    return f_sp * m


def slaney_filterbank():
    n_bins = N_FFT // 2 + 1
    lo, hi = hz_to_mel(FMIN), hz_to_mel(FMAX)
    edges_hz = [mel_to_hz(lo + (hi - lo) * i / (N_MELS + 1)) for i in range(N_MELS + 2)]
    fb = np.zeros((N_MELS, n_bins))
    for m in range(N_MELS):
        left, centre, right = edges_hz[m], edges_hz[m + 1], edges_hz[m + 2]
        for b in range(n_bins):
            f = b * SR / N_FFT
            rise = (f - left) / (centre - left)
            fall = (right - f) / (right - centre)
            fb[m, b] = max(0.0, min(rise, fall))
        fb[m] *= 2.0 / (right - left)  # Slaney area normalisation
    # librosa stores the filterbank as float32 (its default dtype) and NVIDIA keeps it as torch.float32.
    return fb.astype(np.float32).astype(np.float64)


def periodic_hann(n):
    k = np.arange(n)
    return 0.5 - 0.5 * np.cos(2.0 * math.pi * k / n)


def log_mel(x, fb):
    pad = N_FFT // 2
    padded = np.pad(x, (pad, pad), mode="reflect")
    window = np.zeros(N_FFT)
    off = (N_FFT - WIN) // 2
    window[off:off + WIN] = periodic_hann(WIN)
    frames = 1 + len(x) // HOP
    mags = np.empty((N_FFT // 2 + 1, frames))
    for t in range(frames):
        seg = padded[t * HOP:t * HOP + N_FFT] * window
        mags[:, t] = np.abs(np.fft.rfft(seg))
    mel = fb @ mags
    return np.log(np.maximum(mel, 1e-5))


def main():
    x = test_signal()
    fb = slaney_filterbank()
    lm = log_mel(x, fb)
    out = {
        "description": "tools/mel_reference.py: independent numpy log-mel of the formula test signal",
        "sample_rate": SR, "n_fft": N_FFT, "hop": HOP, "win": WIN, "n_mels": N_MELS,
        "fmin": FMIN, "fmax": FMAX, "n_samples": N_SAMPLES,
        "total_frames": int(lm.shape[1]),
        "signal_rms": float(np.sqrt(np.mean(x * x))),
        "filterbank_row_sums": [float(v) for v in fb.sum(axis=1)],
        "filterbank_row_peaks": [float(v) for v in fb.max(axis=1)],
        "filterbank_row_argmax": [int(v) for v in fb.argmax(axis=1)],
        "frames": [{"index": t, "log_mel": [round(float(v), 7) for v in lm[:, t]]} for t in FRAMES_OUT],
        "mean_log_mel": float(lm.mean()),
    }
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
