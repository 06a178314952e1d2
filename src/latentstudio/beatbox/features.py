"""The classifier's input: a fixed-size log-mel patch of the first half second of a drum sound.

16 kHz, FFT 1024, hop 160 (10 ms), 48 mel bands, 48 frames (0.48 s); each patch is normalised to
its own peak (0 dB) and mapped from [-80, 0] dB to [0, 1], so loudness does not matter, only shape.
"""

from __future__ import annotations

import numpy as np
import torch

from latentstudio.errors import ParameterError

SR = 16000
N_FFT = 1024
HOP_LENGTH = 160
N_MELS = 48
N_FRAMES = 48
#: Samples of audio that make one patch.
CLIP_SAMPLES = (N_FRAMES - 1) * HOP_LENGTH
TOP_DB = 80.0


def fit_length(y: np.ndarray, n: int = CLIP_SAMPLES) -> np.ndarray:
    """Cut or zero-pad a mono sound to ``n`` samples."""
    y = np.asarray(y, dtype=np.float32)
    return y[:n] if y.shape[-1] >= n else np.pad(y, (0, n - y.shape[-1]))


def patches(clips: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Batched log-mel patches ``(batch, 1, N_MELS, N_FRAMES)`` in [0, 1] from ``(batch, CLIP_SAMPLES)`` audio at 16 kHz.

    Example
    -------
    >>> tuple(patches(np.zeros((2, CLIP_SAMPLES), dtype=np.float32)).shape)
    (2, 1, 48, 48)
    """
    from latentstudio.core.spectral import mel, power_to_db

    x = torch.as_tensor(clips, dtype=torch.float32)
    if x.ndim != 2 or x.shape[-1] != CLIP_SAMPLES:
        raise ParameterError(f"clips must be (batch, {CLIP_SAMPLES}) audio at {SR} Hz, got {tuple(x.shape)}")
    M = mel(x, sr=SR, n_fft=N_FFT, hop_length=HOP_LENGTH, n_mels=N_MELS)[..., :N_FRAMES]
    db = power_to_db(M + 1e-10, top_db=None)
    db = db - db.amax(dim=(-2, -1), keepdim=True)
    return (torch.clamp(db, min=-TOP_DB) / TOP_DB + 1.0)[:, None]


def sound_patches(sounds: list[np.ndarray], *, sr: int) -> torch.Tensor:
    """Patches of a list of mono sounds at ``sr`` (resampled to 16 kHz, cut or padded)."""
    from latentstudio.core.audio import resample

    if not sounds:
        raise ParameterError("sounds is empty: nothing to classify")
    clips = np.stack([fit_length(resample(np.asarray(s, dtype=np.float32), orig_sr=sr, target_sr=SR))
                      for s in sounds])
    return patches(clips)


def mfcc_stats(clips: np.ndarray) -> np.ndarray:
    """Mean and standard deviation of 20 MFCCs over the first 0.5 s of 16 kHz sounds ``(n, samples)``:
    ``(n, 40)``. The space a visitor's own sounds are told apart in (see ``DrumClassifier.calibrate``)."""
    import librosa

    x = np.asarray(clips, dtype=np.float32)[..., : SR // 2]
    m = librosa.feature.mfcc(y=x, sr=SR, n_mfcc=20, n_fft=1024, hop_length=HOP_LENGTH)
    return np.concatenate([m.mean(-1), m.std(-1)], axis=-1)


#: band edges (Hz) of :func:`shape_stats`' energy shares
SHAPE_BANDS = (0, 100, 200, 400, 800, 1600, 3200, 6400, SR // 2 + 1)
#: :func:`timbre_features` per sound: 8 band shares, centroid, spread, flatness, 2 decay times, zero
#: crossings, then 40 MFCC statistics
N_TIMBRE = len(SHAPE_BANDS) - 1 + 6 + 40


def shape_stats(clips: np.ndarray) -> np.ndarray:
    """Hand-made descriptors of 16 kHz drum sounds ``(n, samples)`` (onset at the start, peak 1):
    ``(n, 14)`` — the log share of energy in 8 octave bands and the log spectral centroid, spread and
    flatness over the first 0.25 s; the log time the envelope stays above 10 % and 30 % of its peak;
    the zero-crossing rate of the first 0.1 s. What a drummer's ear goes by (how low, how noisy, how long),
    and what a spectral-centroid rule uses, in a form that does not depend on a particular kit."""
    import librosa
    from scipy.ndimage import uniform_filter1d

    x = np.asarray(clips, dtype=np.float32)
    S = np.abs(librosa.stft(x[:, : SR // 4], n_fft=1024, hop_length=256)) ** 2  # (n, f, t)
    freqs = librosa.fft_frequencies(sr=SR, n_fft=1024)
    total = S.sum(axis=(1, 2)) + 1e-12
    bands = np.stack([S[:, (freqs >= lo) & (freqs < hi)].sum(axis=(1, 2)) / total
                      for lo, hi in zip(SHAPE_BANDS[:-1], SHAPE_BANDS[1:])], axis=1)
    spec = S.sum(axis=2)
    spec = spec / (spec.sum(axis=1, keepdims=True) + 1e-12)
    centroid = (spec * freqs).sum(axis=1)
    spread = np.sqrt((spec * (freqs - centroid[:, None]) ** 2).sum(axis=1))
    flatness = np.exp(np.log(spec + 1e-12).mean(axis=1)) / (spec.mean(axis=1) + 1e-12)
    env = uniform_filter1d(np.abs(x[:, :SR]), 160, axis=1)
    env = env / (env.max(axis=1, keepdims=True) + 1e-12)
    long10, long30 = (env > 0.1).sum(axis=1) / SR, (env > 0.3).sum(axis=1) / SR
    zc = (np.diff(np.sign(x[:, : SR // 10]), axis=1) != 0).mean(axis=1)
    return np.column_stack([np.log(bands + 1e-6), np.log(centroid + 1), np.log(spread + 1),
                            np.log(flatness + 1e-9), np.log(long10 + 1e-3), np.log(long30 + 1e-3), zc]
                           ).astype(np.float32)


def timbre_features(clips: np.ndarray) -> np.ndarray:
    """:func:`shape_stats` and :func:`mfcc_stats` side by side: ``(n, N_TIMBRE)``, the input of the
    classifier's timbre head (see ``classifier.TimbreHead``)."""
    return np.concatenate([shape_stats(clips), mfcc_stats(clips)], axis=1).astype(np.float32)


def prepared_clips(sounds: list[np.ndarray], *, sr: int) -> np.ndarray:
    """Mono sounds at ``sr`` as the training one-shots are: 16 kHz, leading silence trimmed, peak 1, one
    second ``(n, SR)``."""
    from latentstudio.beatbox.oneshots import prepare
    from latentstudio.core.audio import resample

    if not sounds:
        raise ParameterError("sounds is empty: nothing to classify")
    return np.stack([prepare(resample(np.asarray(s, dtype=np.float32), orig_sr=sr, target_sr=SR)) for s in sounds])


def sound_mfcc_stats(sounds: list[np.ndarray], *, sr: int) -> np.ndarray:
    """:func:`mfcc_stats` of mono sounds at ``sr``: resampled to 16 kHz, leading silence trimmed, peak 1."""
    return mfcc_stats(prepared_clips(sounds, sr=sr))
