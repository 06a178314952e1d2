"""The student's ears: sounds -> fixed windows -> normalised log-mel spectrograms.

Everything here is deterministic (no random crops): the same file always gives the same windows and
so the same embedding. A sound shorter than a window is used whole (padded only up to
:data:`MIN_SECONDS`); a longer one is cut into windows ``hop_seconds`` apart, the last one aligned
to the end so no tail is lost.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import numpy as np
import torch

from latentstudio.core import audio as core_audio
from latentstudio.core.spectral import log_mel
from latentstudio.errors import ParameterError

#: Shortest signal the spectrogram CNN sees; shorter sounds are zero-padded up to it.
MIN_SECONDS = 0.5


@dataclass(frozen=True)
class MelSpec:
    """Front-end settings shared by training, indexing and querying (stored in the checkpoint).

    Parameters
    ----------
    sr : sample rate in Hz the sounds are resampled to
    n_fft, hop_length : STFT size and hop in samples
    n_mels, fmin, fmax : mel bands and their frequency range in Hz
    window_seconds, hop_seconds : analysis windows of long sounds and their spacing

    Example
    -------
    >>> MelSpec().frames(2.0)
    63
    """

    sr: int = 16000
    n_fft: int = 1024
    hop_length: int = 512
    n_mels: int = 64
    fmin: float = 40.0
    fmax: float = 8000.0
    window_seconds: float = 2.0
    hop_seconds: float = 1.0

    def __post_init__(self) -> None:
        for name in ("sr", "n_fft", "hop_length", "n_mels"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        if not 0 <= self.fmin < self.fmax <= self.sr / 2:
            raise ParameterError(f"fmin={self.fmin}, fmax={self.fmax} must satisfy 0 <= fmin < fmax <= sr/2")
        if not self.window_seconds >= MIN_SECONDS:
            raise ParameterError(f"window_seconds={self.window_seconds} must be >= {MIN_SECONDS}")
        if not 0 < self.hop_seconds <= self.window_seconds:
            raise ParameterError(f"hop_seconds={self.hop_seconds} must be in (0, window_seconds]")

    @property
    def window_samples(self) -> int:
        return int(round(self.window_seconds * self.sr))

    def frames(self, seconds: float) -> int:
        """Spectrogram frames of a signal ``seconds`` long (centred STFT)."""
        return 1 + int(round(seconds * self.sr)) // self.hop_length

    def to_dict(self) -> dict:
        return asdict(self)


def load_sound(path: str | os.PathLike, *, spec: MelSpec, max_seconds: float | None = 600.0,
               silence_db: float = -60.0) -> np.ndarray:
    """Load a sound as mono float32 at ``spec.sr``; refuse silent, corrupt or over-long files.

    Raises
    ------
    ParameterError : missing, corrupt, empty, too long (``max_seconds``) or silent (peak below
        ``silence_db`` dBFS) audio; the message names the file

    Example
    -------
    >>> from latentstudio import assets
    >>> duck = [s for s in assets.tuxpaint_stamps(with_sound=True) if s.name == "duck"][0]
    >>> y = load_sound(duck.sound, spec=MelSpec())
    >>> y.dtype, y.ndim
    (dtype('float32'), 1)
    """
    y, _ = core_audio.load(path, sr=spec.sr, mono=True, max_seconds=max_seconds)
    if core_audio.is_silent(y, threshold_db=silence_db):
        raise ParameterError(f"audio file {os.fspath(path)!r} is silent (peak below {silence_db:.0f} dBFS)")
    return y


def audio_hash(y: np.ndarray) -> str:
    """SHA-1 of a decoded signal quantised to 16 bits: equal for copies in any container or encoding.

    Example
    -------
    >>> audio_hash(np.zeros(4, np.float32)) == audio_hash(np.zeros(4, np.float64))
    True
    """
    return core_audio.pcm16_hash(y)


def sound_windows(y: np.ndarray, *, spec: MelSpec) -> np.ndarray:
    """Cut a mono signal into the deterministic analysis windows ``(n_windows, samples)``.

    Example
    -------
    >>> spec = MelSpec()
    >>> sound_windows(np.ones(int(3.5 * spec.sr), np.float32), spec=spec).shape
    (3, 32000)
    >>> sound_windows(np.ones(8000, np.float32), spec=spec).shape
    (1, 8000)
    """
    y = core_audio.valid_audio(y, mono=True)
    win = spec.window_samples
    min_n = int(round(MIN_SECONDS * spec.sr))
    if y.shape[0] <= win:
        if y.shape[0] < min_n:
            y = np.pad(y, (0, min_n - y.shape[0]))
        return y[None].copy()
    hop = int(round(spec.hop_seconds * spec.sr))
    starts = list(range(0, y.shape[0] - win + 1, hop))
    if starts[-1] != y.shape[0] - win:
        starts.append(y.shape[0] - win)
    return np.stack([y[s:s + win] for s in starts])


def normalized_log_mel(y, *, spec: MelSpec) -> torch.Tensor:
    """Log-mel of a batch of signals ``(..., n)`` scaled per item so its peak is 1 and -80 dB is -1.

    The peak normalisation makes the student blind to playback level (a quiet cow is still a cow).
    Returns ``(..., n_mels, frames)`` float32.

    Example
    -------
    >>> S = normalized_log_mel(np.random.default_rng(0).standard_normal(16000).astype(np.float32),
    ...                        spec=MelSpec())
    >>> tuple(S.shape), float(S.max())
    ((64, 32), 1.0)
    """
    db = log_mel(y, sr=spec.sr, n_fft=spec.n_fft, hop_length=spec.hop_length, n_mels=spec.n_mels,
                 fmin=spec.fmin, fmax=spec.fmax, top_db=80.0)
    peak = db.amax(dim=(-2, -1), keepdim=True)
    return ((db - peak) / 40.0 + 1.0).float()


__all__ = ["MelSpec", "load_sound", "audio_hash", "sound_windows", "normalized_log_mel", "MIN_SECONDS"]
