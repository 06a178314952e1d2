"""Synthetic voice percussion from espeak-ng: a labelled set of "voice drums" for judging and demos.

Each drum class has a few phoneme strings a beatboxer might use (``[[bu:m]]`` kick, ``[[ka]]``/``[[pSS]]`` snare,
``[[ts]]`` closed hat, ``[[tsssss]]`` open hat ...), spoken by several espeak-ng voices at several
pitches and speeds. Nothing here is used to train the classifier; it only judges and demonstrates it.

Example
-------
>>> y, sr = speak("[[bu:m]] [[ts]] [[ka]]", voice="en+m3")      # doctest: +SKIP
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np

from latentstudio.errors import ParameterError

#: phoneme strings (espeak-ng ``[[...]]`` mnemonics) per drum class
VOCABULARY: dict[str, tuple[str, ...]] = {
    "kick": ("bu:m", "bUm", "bOm", "bVm"),
    "snare": ("ka", "kV", "pSS", "kSS"),
    "closed_hat": ("ts", "tS", "t", "tsI"),
    "open_hat": ("tsssss", "tSSSS", "tssss", "tsSSS"),
}
#: espeak-ng voices on which calibration choices are made (variants of the English voice)
VALIDATION_VOICES = ("en+m1", "en+f2", "en+klatt2", "en+croak")
#: espeak-ng voices that only judge (never used to choose anything)
TEST_VOICES = ("en+m3", "en+m7", "en+f4", "en+whisper", "en+Andy", "en+linda", "en+grandpa", "en+Storm")
VOICE_NAMES = VALIDATION_VOICES + TEST_VOICES


def speak(text: str, *, voice: str = "en", speed: int = 140, pitch: int = 50) -> tuple[np.ndarray, int]:
    """Say ``text`` with espeak-ng; returns mono float32 audio and its sample rate.

    Raises AssetMissingError without espeak-ng, ParameterError when it fails.
    """
    import soundfile as sf

    from latentstudio.assets import espeak_binary

    exe = espeak_binary()
    if not text.strip():
        raise ParameterError("text to speak is empty")
    with tempfile.TemporaryDirectory(prefix="ls-espeak-") as td:
        wav = Path(td) / "out.wav"
        proc = subprocess.run([exe, "-v", voice, "-s", str(int(speed)), "-p", str(int(pitch)), "-w", str(wav), text],
                              capture_output=True, text=True, timeout=60)
        if proc.returncode != 0 or not wav.exists():
            raise ParameterError(f"espeak-ng failed on voice={voice!r} ({proc.stderr.strip()[:200]})")
        y, sr = sf.read(str(wav), dtype="float32", always_2d=True)
    return y.mean(axis=1), int(sr)


def voice_sounds(*, voices: tuple[str, ...] = VOICE_NAMES, pitches: tuple[int, ...] = (30, 70),
                 speeds: tuple[int, ...] = (120, 170), sr: int = 22050) -> list[tuple[str, str, np.ndarray]]:
    """Every vocabulary item said by every voice at every pitch and speed: ``(label, voice, audio at sr)``,
    each trimmed to its sound (leading and trailing silence removed)."""
    from latentstudio.core.audio import resample

    out = []
    for voice in voices:
        for label, words in VOCABULARY.items():
            for w in words:
                for p in pitches:
                    for s in speeds:
                        y, file_sr = speak(f"[[{w}]]", voice=voice, speed=s, pitch=p)
                        y = resample(y, orig_sr=file_sr, target_sr=sr)
                        nz = np.flatnonzero(np.abs(y) > 0.01 * np.max(np.abs(y)))
                        if nz.size:
                            out.append((label, voice, y[nz[0]: nz[-1] + 1].astype(np.float32)))
    return out


def beatbox_phrase(pattern: str = "bu:m ts ka ts bu:m bu:m ka ts", *, voice: str = "en+m3", speed: int = 150,
                   pitch: int = 40, gap: float = 0.12, sr: int = 22050) -> tuple[np.ndarray, list[float]]:
    """A "voice" recording: each phoneme string said separately and joined with ``gap`` seconds of
    silence; returns the audio and the true start time of each sound."""
    from latentstudio.core.audio import resample

    parts, starts, t = [], [], 0.2
    lead = np.zeros(int(0.2 * sr), np.float32)
    parts.append(lead)
    for w in pattern.split():
        y, file_sr = speak(f"[[{w}]]", voice=voice, speed=speed, pitch=pitch)
        y = resample(y, orig_sr=file_sr, target_sr=sr)
        nz = np.flatnonzero(np.abs(y) > 0.01 * np.max(np.abs(y)))
        y = y[nz[0]: nz[-1] + 1] if nz.size else y
        starts.append(t)
        parts += [y.astype(np.float32), np.zeros(int(gap * sr), np.float32)]
        t += (len(y) + int(gap * sr)) / sr
    return np.concatenate(parts), starts
