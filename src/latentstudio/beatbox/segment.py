"""Cutting a voice recording into its sounds: onsets (backtracked), trimmed, normalised segments.

Example
-------
>>> import numpy as np
>>> sr = 22050
>>> y = np.zeros(sr, dtype=np.float32)
>>> y[5000:7000] = np.random.default_rng(0).standard_normal(2000) * np.exp(-np.arange(2000) / 300)
>>> [round(s.time, 2) for s in segment_sounds(y, sr=sr)]
[0.23]
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from latentstudio.core.onsets import frame_energy, onset_detect, onset_envelope
from latentstudio.errors import ParameterError

#: Recordings longer than this are cut here (with a note) unless the caller says otherwise.
MAX_VOICE_SECONDS = 60.0
#: Longest sound kept from one onset.
MAX_SOUND_SECONDS = 1.0
SR = 22050


@dataclass
class Segment:
    """One sound: its start and end (seconds), peak before normalising (dBFS), and the audio (peak 0.9)."""

    time: float
    end: float
    peak_db: float
    audio: np.ndarray = field(repr=False)


@dataclass
class Voice:
    """A loaded recording and what was noticed while loading it."""

    y: np.ndarray
    sr: int
    name: str
    notes: list[str] = field(default_factory=list)


def check_voice(y: np.ndarray, *, sr: int, name: str = "y", max_seconds: float | None = MAX_VOICE_SECONDS) -> Voice:
    """Validate an in-memory recording: mono float audio; cap at ``max_seconds``; note clipping."""
    from latentstudio.core.audio import valid_audio

    y = valid_audio(np.asarray(y), name=name)
    if y.ndim == 2:
        y = y.mean(axis=0)
    notes = []
    if max_seconds is not None and len(y) > max_seconds * sr:
        notes.append(f"{name} is {len(y) / sr:.0f} s long; only its first {max_seconds:.0f} s are used")
        y = y[: int(max_seconds * sr)]
    clipped = float(np.mean(np.abs(y) >= 0.999))
    if clipped > 0.001:
        notes.append(f"{name} is clipped ({100 * clipped:.1f}% of samples at full scale); sounds may be "
                     f"misclassified - record a little quieter")
    return Voice(np.ascontiguousarray(y, dtype=np.float32), int(sr), name, notes)


def load_voice(path: str | os.PathLike, *, sr: int = SR, max_seconds: float | None = MAX_VOICE_SECONDS) -> Voice:
    """Load a recording (mono, ``sr``); longer ones are cut to ``max_seconds`` with a note.

    Raises ParameterError for missing, empty, corrupt or non-audio files.
    """
    import soundfile as sf

    from latentstudio.core.audio import load

    name = os.fspath(path)
    duration = None
    try:
        info = sf.info(name)
        if max_seconds is not None and info.frames / info.samplerate > max_seconds:
            duration = max_seconds
    except Exception:  # let load() produce the proper error message
        pass
    y, sr = load(path, sr=sr, duration=duration, max_seconds=None)
    voice = check_voice(y, sr=sr, name=name, max_seconds=None)
    if duration is not None:
        voice.notes.insert(0, f"{name} is {info.frames / info.samplerate:.0f} s long; only its first "
                              f"{max_seconds:.0f} s are used")
    return voice


#: what a recording holds: a person's voice sounds, or drum hits
KINDS = ("voice", "drums")


def segment_sounds(y: np.ndarray, *, sr: int, min_db: float = -45.0, max_sound: float = MAX_SOUND_SECONDS,
                   hop_length: int = 256, delta: float = 0.15, wait: float = 0.1,
                   merge_jump_db: float = 10.0, kind: str = "voice") -> list[Segment]:
    """The sounds of a voice (or drum) recording, in time order.

    ``kind="voice"``: onsets of the spectral flux (:func:`latentstudio.core.onsets.onset_detect`;
    ``hop_length``, ``delta`` and ``wait`` apply; 0.15 and 0.1 s were chosen on espeak-ng phrases of the
    validation voices: onset F 0.90 at the earlier 0.05 / 0.07 s, 0.98 now), and an onset inside a sound that has not died away
    (the vowel after a consonant, the hiss of a long "tsss") is merged into it unless the level jumps
    by ``merge_jump_db`` there. ``kind="drums"``: onsets of the shipped onset detector (an
    :class:`~latentstudio.beatbox.onsetnet.OnsetEnsemble` of three networks), which holds under room tails and keeps a flam's
    grace note apart from its hit (the flux when the network's weights are missing); nothing is merged.
    Each starts at its onset and ends at the next onset, at ``max_sound`` seconds, or where
    its level falls 40 dB below its peak; quieter than ``min_db`` dBFS (breaths, room noise) is
    dropped; each is normalised to a peak of 0.9 with a 5 ms fade-out. Empty list for silence.
    """
    from latentstudio.core.audio import valid_audio

    y = valid_audio(np.asarray(y), name="y")
    if y.ndim == 2:
        y = y.mean(axis=0)
    if not np.isfinite(max_sound) or max_sound <= 0:
        raise ParameterError(f"max_sound={max_sound} must be a positive number of seconds")
    if float(np.max(np.abs(y))) < 10 ** (min_db / 20):
        return []
    if kind not in KINDS:
        raise ParameterError(f"kind={kind!r} must be one of {', '.join(KINDS)}")
    starts = _net_onsets(y, sr=sr) if kind == "drums" else None
    if starts is None:
        env = onset_envelope(y, sr=sr, hop_length=hop_length)
        starts = onset_detect(y, sr=sr, hop_length=hop_length, onset_envelope=env, backtrack=True,
                              units="samples", delta=delta, wait=wait, energy=frame_energy(y, hop_length=hop_length))
    if len(starts) == 0 and float(np.max(np.abs(y))) >= 10 ** (min_db / 20):
        starts = np.array([int(np.argmax(np.abs(y) >= 0.1 * np.max(np.abs(y))))])  # one sound from the start
    if kind == "voice":
        starts = _merge_continuing(y, np.asarray(starts, dtype=int), sr=sr, jump_db=merge_jump_db)
    out: list[Segment] = []
    fade = int(0.005 * sr)
    bounds = list(starts[1:]) + [len(y)]
    for a, b in zip(starts, bounds):
        b = min(int(b), int(a) + int(max_sound * sr))
        seg = y[int(a):b]
        if len(seg) < int(0.02 * sr):
            continue
        peak = float(np.max(np.abs(seg)))
        if peak < 10 ** (min_db / 20):
            continue
        # end where a 10 ms RMS falls 40 dB below the sound's peak, for good
        win = max(1, int(0.01 * sr))
        n = len(seg) // win
        rms = np.sqrt((seg[: n * win].astype(np.float64) ** 2).reshape(n, win).mean(axis=1)) if n else np.array([peak])
        loud = np.flatnonzero(rms >= peak * 10 ** (-40 / 20))
        end = min(len(seg), (int(loud[-1]) + 1) * win) if loud.size else len(seg)
        seg = seg[:end].copy()
        peak = float(np.max(np.abs(seg)))
        if len(seg) > 2 * fade:
            seg[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
        out.append(Segment(time=int(a) / sr, end=(int(a) + len(seg)) / sr, peak_db=20 * np.log10(peak),
                           audio=(seg * (0.9 / peak)).astype(np.float32)))
    return out


def _net_onsets(y: np.ndarray, *, sr: int) -> np.ndarray | None:
    """Onset samples from the shipped onset network, or None when its weights are not there."""
    from latentstudio.beatbox.onsetnet import SHIPPED, detect_onsets

    if not (SHIPPED / "model.safetensors").exists():
        return None
    return np.round(detect_onsets(y, sr=sr) * sr).astype(int)


def _merge_continuing(y: np.ndarray, starts: np.ndarray, *, sr: int, jump_db: float) -> np.ndarray:
    """Drop onsets where the sound before has not decayed 20 dB below its peak and the level does
    not jump by ``jump_db`` (a syllable's consonant-vowel transition, not a new hit)."""
    if len(starts) < 2:
        return starts
    win = max(1, int(0.01 * sr))
    keep = [int(starts[0])]
    for s in starts[1:]:
        s = int(s)
        prev = y[keep[-1]:s]
        after = y[s:s + int(0.08 * sr)]
        before = y[max(keep[-1], s - win):s]
        if len(prev) == 0 or len(before) == 0 or len(after) == 0:
            keep.append(s)
            continue
        peak_prev = float(np.max(np.abs(prev)))
        level = float(np.sqrt(np.mean(before.astype(np.float64) ** 2))) * np.sqrt(2)
        peak_after = float(np.max(np.abs(after)))
        decayed = level < peak_prev * 10 ** (-20 / 20)
        jump = peak_after > max(level, 1e-9) * 10 ** (jump_db / 20)
        if decayed or jump:
            keep.append(s)
    return np.array(keep, dtype=int)
