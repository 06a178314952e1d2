"""Loudness (ITU-R BS.1770 / EBU R128 LUFS) and an energy curve.

:func:`integrated_lufs` K-weights the signal (a high shelf and a high pass, designed for any sample
rate), measures 400 ms blocks with 75 % overlap and gates them (absolute -70 LUFS, relative -10 LU).
:func:`energy_curve` is the RMS level in dB over hops of ``hop_seconds``, lightly smoothed, for cue
points and the DJ's timeline.

Example
-------
>>> import numpy as np
>>> sr = 48000
>>> y = (0.1 * np.sin(2 * np.pi * 1000 * np.arange(5 * sr) / sr)).astype(np.float32)
>>> round(integrated_lufs(y, sr=sr), 1)   # a -20 dBFS 1 kHz sine reads about -23 LUFS
-23.0
"""

from __future__ import annotations

import numpy as np

from latentstudio.errors import ParameterError

SILENCE_LUFS = -70.0


def _biquads(sr: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two K-weighting stages for ``sr`` (bilinear designs as in pyloudnorm / BS.1770)."""
    out = []
    # stage 1: high shelf, +4 dB above ~1.5 kHz
    G, Q, fc = 4.0, 1 / np.sqrt(2), 1500.0
    A = 10 ** (G / 40.0)
    w0 = 2 * np.pi * fc / sr
    alpha = np.sin(w0) / (2 * Q)
    b = [A * ((A + 1) + (A - 1) * np.cos(w0) + 2 * np.sqrt(A) * alpha),
         -2 * A * ((A - 1) + (A + 1) * np.cos(w0)),
         A * ((A + 1) + (A - 1) * np.cos(w0) - 2 * np.sqrt(A) * alpha)]
    a = [(A + 1) - (A - 1) * np.cos(w0) + 2 * np.sqrt(A) * alpha,
         2 * ((A - 1) - (A + 1) * np.cos(w0)),
         (A + 1) - (A - 1) * np.cos(w0) - 2 * np.sqrt(A) * alpha]
    out.append((np.array(b) / a[0], np.array(a) / a[0]))
    # stage 2: high pass at ~38 Hz
    Q, fc = 0.5, 38.0
    w0 = 2 * np.pi * fc / sr
    alpha = np.sin(w0) / (2 * Q)
    b = [(1 + np.cos(w0)) / 2, -(1 + np.cos(w0)), (1 + np.cos(w0)) / 2]
    a = [1 + alpha, -2 * np.cos(w0), 1 - alpha]
    b = np.array(b) / a[0]
    out.append((b / b[0], np.array(a) / a[0]))  # unity passband numerator as in BS.1770 (1, -2, 1)
    return out


def k_weight(y: np.ndarray, *, sr: int) -> np.ndarray:
    """K-weighted copy of ``y`` (time on the last axis)."""
    from scipy.signal import lfilter

    for b, a in _biquads(int(sr)):
        y = lfilter(b, a, y, axis=-1)
    return y


def integrated_lufs(y: np.ndarray, *, sr: int) -> float:
    """Integrated loudness in LUFS of mono ``(n,)`` or ``(channels, n)`` audio; -70.0 for silence.

    Raises ParameterError for bad audio or sample rate.
    """
    from latentstudio.core.audio import valid_audio

    y = valid_audio(y)
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ParameterError(f"sr={sr!r} must be a positive integer")
    x = np.atleast_2d(y).astype(np.float64)
    block, step = int(0.4 * sr), int(0.1 * sr)
    if x.shape[-1] < block:
        x = np.pad(x, ((0, 0), (0, block - x.shape[-1])))
    z = k_weight(x, sr=int(sr)) ** 2
    c = np.concatenate([np.zeros((z.shape[0], 1)), np.cumsum(z, axis=1)], axis=1)
    starts = np.arange(0, z.shape[-1] - block + 1, step)
    ms = ((c[:, starts + block] - c[:, starts]) / block).sum(axis=0)     # channel weights 1 (L, R, C)
    lk = -0.691 + 10 * np.log10(np.maximum(ms, 1e-12))
    keep = lk > SILENCE_LUFS
    if not np.any(keep):
        return SILENCE_LUFS
    rel = -0.691 + 10 * np.log10(ms[keep].mean()) - 10.0
    keep &= lk > rel
    if not np.any(keep):
        return SILENCE_LUFS
    return float(-0.691 + 10 * np.log10(ms[keep].mean()))


def energy_curve(y: np.ndarray, *, sr: int, hop_seconds: float = 0.5, smooth: int = 3) -> np.ndarray:
    """RMS level in dBFS per ``hop_seconds`` (floor -90), moving-average smoothed over ``smooth`` hops."""
    from latentstudio.core.audio import valid_audio

    y = valid_audio(y)
    if y.ndim == 2:
        y = y.mean(axis=0)
    if not (isinstance(hop_seconds, (int, float)) and hop_seconds > 0):
        raise ParameterError(f"hop_seconds={hop_seconds!r} must be positive")
    hop = max(1, int(round(hop_seconds * sr)))
    n = int(np.ceil(len(y) / hop))
    x = np.pad(y.astype(np.float64), (0, n * hop - len(y))).reshape(n, hop)
    db = 10 * np.log10(np.maximum((x ** 2).mean(axis=1), 1e-9))
    if smooth > 1 and n >= smooth:
        db = np.convolve(np.pad(db, (smooth // 2, smooth - 1 - smooth // 2), mode="edge"),
                         np.ones(smooth) / smooth, mode="valid")
    return db.astype(np.float32)
