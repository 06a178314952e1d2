"""Rendering patterns with a kit: sample-accurate mixing in numpy (fast enough for live use).

Example
-------
>>> from latentstudio.beatbox.pattern import DrumPattern
>>> from latentstudio.beatbox.kit import Kit
>>> import numpy as np
>>> p = DrumPattern.empty(); p.hits[0, 0] = 1; p.velocity[0, 0] = 1
>>> kit = Kit(sr=8000, sounds=[[np.ones(10, np.float32)]] * 9)
>>> y = render_patterns([p], kit, bpm=120)
>>> len(y) / 8000                                 # two bars at 120 bpm and a one-second tail
5.0
"""

from __future__ import annotations

import numpy as np

from latentstudio.beatbox.kit import Kit
from latentstudio.beatbox.pattern import N_VOICES, STEPS, DrumPattern
from latentstudio.errors import ParameterError

_CLOSED, _OPEN = 2, 3


def hit_times(patterns: list[DrumPattern], *, bpm: float, swing: float = 0.0) -> list[tuple[float, int, float]]:
    """``(time in s, voice, velocity)`` of every hit, sorted by time."""
    if not np.isfinite(bpm) or not 20 <= bpm <= 400:
        raise ParameterError(f"bpm={bpm} must be between 20 and 400")
    if not 0.0 <= swing <= 0.5:
        raise ParameterError(f"swing={swing} must be in [0, 0.5] of a step")
    step = 60.0 / bpm / 4
    out = []
    for i, p in enumerate(patterns):
        for s, v in zip(*np.nonzero(p.hits)):
            t = (i * STEPS + s + p.offset[s, v] + (swing if s % 2 else 0.0)) * step
            out.append((max(0.0, float(t)), int(v), float(p.velocity[s, v])))
    return sorted(out)


def render_patterns(patterns: list[DrumPattern], kit: Kit, *, bpm: float, swing: float = 0.0,
                    tail: float = 1.0, choke: bool = True) -> np.ndarray:
    """Mono float32 audio of ``patterns`` played one after another on ``kit`` at ``bpm``.

    Velocity scales each hit (``velocity ** 1.5``); samples of a voice take turns; an open hat is
    cut by the next closed hat when ``choke``. The mix is peak-limited to 0.95.
    """
    if not patterns:
        raise ParameterError("patterns is empty: nothing to render")
    sr = kit.sr
    step = 60.0 / bpm / 4
    n = int(round((len(patterns) * STEPS * step + tail) * sr))
    out = np.zeros(n, dtype=np.float32)
    hits = hit_times(patterns, bpm=bpm, swing=swing)
    closed = np.array([t for t, v, _ in hits if v == _CLOSED])
    turn = [0] * N_VOICES
    for t, v, vel in hits:
        sounds = kit.sounds[v]
        y = sounds[turn[v] % len(sounds)]
        turn[v] += 1
        a = int(round(t * sr))
        if a >= n:
            continue
        length = min(len(y), n - a)
        if choke and v == _OPEN and closed.size:
            later = closed[closed > t + 1e-4]
            if later.size:
                length = min(length, int((later[0] - t) * sr))
        if length <= 0:
            continue
        seg = y[:length] * (vel ** 1.5)
        if length < len(y):  # a short fade where a sound is cut
            f = min(length, int(0.01 * sr))
            seg = seg.copy()
            seg[-f:] *= np.linspace(1, 0, f, dtype=np.float32)
        out[a:a + length] += seg
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > 0.95:
        out *= 0.95 / peak
    return out
