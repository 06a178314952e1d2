"""NeuralFunk's spectrograms: 16 kHz, FFT 1024, hop 256, 128 mel bands, as the original SpectrogramVAE.

A sound becomes ``log_mel_frames`` ``(128, frames)`` in [0, 1] (dB over an 80 dB range, 1 = 0 dB re peak 1);
:func:`mel_to_audio` goes back through the mel filters' non-negative least-squares inverse and
Griffin-Lim (the fallback vocoder; the WaveNet is the better one).

Example
-------
>>> import numpy as np
>>> y = np.sin(2 * np.pi * 220 * np.arange(SR) / SR).astype(np.float32)
>>> M = log_mel_frames(y)
>>> M.shape, float(M.max()) <= 1.0
((128, 63), True)
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import torch

from latentstudio.errors import ParameterError

SR = 16000
N_FFT = 1024
HOP = 256
N_MELS = 128
TOP_DB = 80.0
#: mel power in dB of a full-scale sine at these settings (~+34 dB): the top of the [0, 1] scale
REF_DB = 35.0


def log_mel_frames(y, *, sr: int = SR, n_fft: int = N_FFT, hop_length: int = HOP, n_mels: int = N_MELS):
    """Log-mel frames ``(..., n_mels, frames)`` scaled to [0, 1]: ``clip((dB - REF_DB) / 80 + 1, 0, 1)``, a fixed
    scale (a full-scale sine's band reads about 1, 80 dB below it 0), so loudness survives the round trip.
    Takes numpy or torch audio ``(..., n)``; returns the same kind."""
    from latentstudio.core.spectral import log_mel

    is_np = not isinstance(y, torch.Tensor)
    t = torch.as_tensor(np.asarray(y, dtype=np.float32)) if is_np else y.float()
    if t.ndim == 0 or t.shape[-1] < 2:
        raise ParameterError(f"audio of shape {tuple(t.shape)} is too short for a spectrogram")
    if not bool(torch.isfinite(t).all()):
        raise ParameterError("audio contains NaN or infinite values")
    db = log_mel(t, sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, top_db=None)
    out = torch.clamp((db - REF_DB) / TOP_DB + 1.0, 0.0, 1.0)
    return out.numpy() if is_np else out


def mel_to_audio(frames, *, sr: int = SR, n_fft: int = N_FFT, hop_length: int = HOP, n_iter: int = 48,
                 length: int | None = None, seed: int = 0,
                 progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Audio from :func:`log_mel_frames` ``(n_mels, frames)`` (or a batch): mel power -> STFT magnitude by the
    mel filters' pseudo-inverse (clipped at zero), then fast Griffin-Lim with ``n_iter`` iterations
    (``progress(done, n_iter)`` after each)."""
    from latentstudio.core.spectral import griffin_lim

    m = np.asarray(frames, dtype=np.float32)
    if m.ndim not in (2, 3) or not np.isfinite(m).all():
        raise ParameterError(f"frames must be finite (n_mels, frames) or (batch, n_mels, frames), got {m.shape}")
    power = 10.0 ** (((np.clip(m, 0, 1) - 1.0) * TOP_DB + REF_DB) / 10.0)
    power[m <= 0] = 0.0
    mag = np.sqrt(np.maximum(np.einsum("fm,...mt->...ft", _mel_pinv(sr, n_fft, m.shape[-2]), power), 0.0))
    y = griffin_lim(torch.from_numpy(mag.astype(np.float32)), n_fft=n_fft, hop_length=hop_length, n_iter=n_iter,
                    length=length, seed=seed, progress=progress)
    return y.numpy().astype(np.float32)


@functools.lru_cache(maxsize=4)
def _mel_pinv(sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    from latentstudio.core.spectral import mel_filters

    return np.linalg.pinv(mel_filters(sr=sr, n_fft=n_fft, n_mels=n_mels).numpy().astype(np.float64))
