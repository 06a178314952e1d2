"""Audio files in and out.

Time is the last axis: mono audio is ``(n,)``, multichannel ``(channels, n)``, float32 in [-1, 1].
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from latentstudio.core.fileio import atomic_path
from latentstudio.errors import ParameterError

#: Longest audio :func:`load` accepts unless ``max_seconds`` says otherwise (2 hours).
MAX_SECONDS = 2 * 3600.0
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff", ".au", ".opus")


def _check_path(path: str | os.PathLike, what: str = "audio file") -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise ParameterError(f"{what} path must be a str or path, got {type(path).__name__}")
    p = Path(path)
    if not p.exists():
        raise ParameterError(f"{what} {str(p)!r} does not exist")
    if p.is_dir():
        raise ParameterError(f"{what} {str(p)!r} is a directory")
    if p.stat().st_size == 0:
        raise ParameterError(f"{what} {str(p)!r} is empty (0 bytes)")
    return p


#: libsndfile logs a data chunk whose header size disagrees with the file: "data : 44100 (should be 22028)"
_CHUNK_SIZE = re.compile(r"^\s*(?:data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.M)


def _check_not_truncated(p: Path, log: str) -> None:
    """Refuse a file whose audio chunk is shorter than its header promises (libsndfile reads what is there)."""
    m = _CHUNK_SIZE.search(log or "")
    if m is None:
        return
    promised, present = int(m.group(1)), int(m.group(2))
    if present < promised < 0xFFFFFFF0:  # 0xFFFFFFFF = length unknown (streamed writers), not truncation
        raise ParameterError(f"audio file {str(p)!r} is truncated: its header promises {promised} bytes of audio, "
                             f"the file holds {present}")


def check_sample_rate(sr, *, lo: int = 8000, hi: int = 192000) -> int:
    """``sr`` as an int when it is a whole number of Hz in ``lo``..``hi``, else ParameterError naming it (a rate
    of 1 Hz renders nonsense, 1e9 asks for gigabytes)."""
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or not lo <= sr <= hi:
        raise ParameterError(f"sr={sr!r} must be a sample rate from {lo} to {hi} Hz")
    return int(sr)


def resample(y: np.ndarray, *, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample along the last axis with soxr (high quality)."""
    import soxr

    if orig_sr <= 0 or target_sr <= 0:
        raise ParameterError(f"sample rates must be positive, got orig_sr={orig_sr}, target_sr={target_sr}")
    if orig_sr == target_sr:
        return y
    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 1:
        return soxr.resample(y, orig_sr, target_sr, quality="HQ").astype(np.float32)
    return np.ascontiguousarray(soxr.resample(y.T, orig_sr, target_sr, quality="HQ").T.astype(np.float32))


def load(path: str | os.PathLike, *, sr: int | None = None, mono: bool = True,
         offset: float = 0.0, duration: float | None = None,
         max_seconds: float | None = MAX_SECONDS) -> tuple[np.ndarray, int]:
    """Load an audio file as float32, optionally resampled (soxr) and mixed to mono.

    Parameters
    ----------
    path : audio file (wav, flac, ogg, mp3 where libsndfile reads it, aiff ...)
    sr : target sample rate in Hz, or None to keep the file's rate
    mono : average channels to a 1-D signal
    offset, duration : seconds to skip and to read (None = to the end)
    max_seconds : refuse files longer than this (after ``offset``/``duration``); None = no limit

    Returns
    -------
    (y, sr) : y is ``(n,)`` if mono else ``(channels, n)``

    Raises
    ------
    ParameterError : missing, empty, corrupt, non-audio, zero-length, too long or non-finite audio

    Example
    -------
    >>> y, sr = load("drums.wav", sr=22050)   # doctest: +SKIP
    """
    import soundfile as sf

    p = _check_path(path)
    if sr is not None and (not isinstance(sr, (int, np.integer)) or sr <= 0):
        raise ParameterError(f"sr={sr!r} must be a positive integer or None")
    try:
        info = sf.info(str(p))
    except Exception as exc:  # libsndfile's error types vary by version
        raise ParameterError(f"audio file {str(p)!r} cannot be read as audio ({exc})") from None
    file_sr = int(info.samplerate)
    _check_not_truncated(p, info.extra_info)
    start = int(round(max(0.0, offset) * file_sr))
    frames = -1 if duration is None else int(round(duration * file_sr))
    n_avail = info.frames - start if info.frames > 0 else None
    n_read = n_avail if frames < 0 else (min(frames, n_avail) if n_avail is not None else frames)
    if max_seconds is not None and n_read is not None and n_read / file_sr > max_seconds:
        raise ParameterError(
            f"audio file {str(p)!r} is {n_read / file_sr:.0f} s long, over the limit of {max_seconds:.0f} s"
        )
    try:
        data, file_sr = sf.read(str(p), start=start, frames=frames, dtype="float32", always_2d=True)
    except Exception as exc:
        raise ParameterError(f"audio file {str(p)!r} is corrupt or truncated ({exc})") from None
    if data.shape[0] == 0:
        raise ParameterError(f"audio file {str(p)!r} contains no samples")
    y = data.T  # (channels, n)
    if not np.all(np.isfinite(y)):
        raise ParameterError(f"audio file {str(p)!r} contains NaN or infinite samples")
    if mono:
        y = y.mean(axis=0)
    if sr is not None and sr != file_sr:
        y = resample(y, orig_sr=file_sr, target_sr=int(sr))
        file_sr = int(sr)
    return np.ascontiguousarray(y, dtype=np.float32), int(file_sr)


def valid_audio(y: np.ndarray, *, name: str = "y", mono: bool = False) -> np.ndarray:
    """Check that ``y`` is a finite, non-empty float audio array and return it as float32.

    Raises ParameterError naming ``name`` otherwise.
    """
    if not isinstance(y, np.ndarray):
        raise ParameterError(f"{name} must be a numpy array, got {type(y).__name__}")
    if not np.issubdtype(y.dtype, np.floating):
        raise ParameterError(f"{name} must be floating point audio, got dtype {y.dtype}")
    if y.size == 0 or y.shape[-1] == 0:
        raise ParameterError(f"{name} is empty (shape {y.shape})")
    if mono and y.ndim != 1:
        raise ParameterError(f"{name} must be mono (1-D), got shape {y.shape}")
    if y.ndim > 2:
        raise ParameterError(f"{name} must be (n,) or (channels, n), got shape {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ParameterError(f"{name} contains NaN or infinite values")
    return y.astype(np.float32, copy=False)


def pcm16_hash(y: np.ndarray, *, trim_zeros: bool = False) -> str:
    """SHA-1 of decoded audio quantised to 16-bit PCM: equal for copies in any container or encoding that decode
    to the same samples (float32 or float64), for deduplication across splits and libraries.

    Samples are clipped to [-1, 1] first (a louder copy does not wrap around); ``trim_zeros`` drops the silent
    samples at both ends, so copies that differ only by padding match.

    Example
    -------
    >>> pcm16_hash(np.zeros(4, np.float32)) == pcm16_hash(np.zeros(4, np.float64))
    True
    """
    import hashlib

    q = np.round(np.clip(np.asarray(y, dtype=np.float64), -1.0, 1.0) * 32767).astype("<i2")
    return hashlib.sha1((np.trim_zeros(q) if trim_zeros else q).tobytes()).hexdigest()


def is_silent(y: np.ndarray, *, threshold_db: float = -60.0) -> bool:
    """True when the peak of ``y`` is below ``threshold_db`` dBFS."""
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    return peak <= 10 ** (threshold_db / 20)


def save(path: str | os.PathLike, y: np.ndarray, sr: int, *, subtype: str | None = None) -> Path:
    """Write audio atomically (format from the extension: .wav, .flac, .ogg).

    ``y`` is ``(n,)`` or ``(channels, n)``; values are clipped to [-1, 1].
    """
    import soundfile as sf

    y = valid_audio(np.asarray(y, dtype=np.float32) if isinstance(y, np.ndarray) else y)
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ParameterError(f"sr={sr!r} must be a positive integer")
    p = Path(path)
    data = np.clip(y, -1.0, 1.0)
    data = data.T if data.ndim == 2 else data
    channels = 1 if data.ndim == 1 else data.shape[1]
    fmt = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}.get(p.suffix.lower())
    if fmt is None:
        raise ParameterError(f"output {str(p)!r}: unsupported audio extension {p.suffix!r} (use .wav, .flac, .ogg)")
    if subtype is None:
        subtype = {"WAV": "PCM_16", "FLAC": "PCM_16", "OGG": "VORBIS"}[fmt]
    with atomic_path(p) as tmp, sf.SoundFile(str(tmp), "w", samplerate=int(sr), channels=channels,
                                             format=fmt, subtype=subtype) as f:
        # libsndfile's Vorbis encoder crashes on one very long buffer: write in blocks of ~1 s
        block = int(sr)
        for start in range(0, data.shape[0], block):
            f.write(np.ascontiguousarray(data[start:start + block]))
    return p
