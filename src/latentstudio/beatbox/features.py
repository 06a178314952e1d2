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


def sound_mfcc_stats(sounds: list[np.ndarray], *, sr: int) -> np.ndarray:
    """:func:`mfcc_stats` of mono sounds at ``sr``: resampled to 16 kHz, leading silence trimmed, peak 1."""
    from latentstudio.beatbox.oneshots import prepare
    from latentstudio.core.audio import resample

    if not sounds:
        raise ParameterError("sounds is empty: nothing to classify")
    return mfcc_stats(np.stack([prepare(resample(np.asarray(s, dtype=np.float32), orig_sr=sr, target_sr=SR))
                                for s in sounds]))
