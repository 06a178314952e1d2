"""Two-bar drum patterns (32 sixteenth-note steps x 9 General MIDI drum voices) and their conversions.

A :class:`DrumPattern` holds, per step and voice, a hit (0/1), its velocity in [0, 1] and its
micro-timing offset in fractions of a step ([-0.5, 0.5]). The nine voices are Magenta's and Qosmo's
reduction of the GM drum map. Readers: General MIDI drum files (any ``.mid`` with a drum track, e.g.
the Groove MIDI Dataset) and Hydrogen songs (``.h2song``); writer: a ``PrettyMIDI`` drum track.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latentstudio.errors import ParameterError

STEPS = 32
STEPS_PER_BAR = 16
VOICES = ("kick", "snare", "closed_hat", "open_hat", "low_tom", "mid_tom", "high_tom", "crash", "ride")
N_VOICES = len(VOICES)
#: The GM key each voice is written as.
VOICE_NOTES = (36, 38, 42, 46, 45, 48, 50, 49, 51)
#: GM keys read as each voice.
GM_TO_VOICE: dict[int, int] = {}
for _v, _keys in enumerate(((35, 36), (37, 38, 39, 40), (22, 42, 44), (26, 46), (41, 43, 45), (47, 48),
                            (50,), (49, 52, 55, 57), (51, 53, 59))):
    for _k in _keys:
        GM_TO_VOICE[_k] = _v


@dataclass
class DrumPattern:
    """``hits``, ``velocity`` and ``offset``, each ``(STEPS, N_VOICES)`` float32."""

    hits: np.ndarray
    velocity: np.ndarray
    offset: np.ndarray

    def __post_init__(self):
        for name in ("hits", "velocity", "offset"):
            a = np.asarray(getattr(self, name), dtype=np.float32)
            if a.shape != (STEPS, N_VOICES):
                raise ParameterError(f"DrumPattern.{name} must have shape ({STEPS}, {N_VOICES}), got {a.shape}")
            setattr(self, name, a)
        self.hits = (self.hits > 0.5).astype(np.float32)
        self.velocity = np.clip(self.velocity, 0, 1) * self.hits
        self.offset = np.clip(self.offset, -0.5, 0.5) * self.hits

    @classmethod
    def empty(cls) -> DrumPattern:
        z = np.zeros((STEPS, N_VOICES), np.float32)
        return cls(z, z.copy(), z.copy())

    def density(self) -> np.ndarray:
        """Fraction of steps with a hit, per voice ``(N_VOICES,)``."""
        return self.hits.mean(axis=0)

    def to_array(self) -> np.ndarray:
        """``(STEPS, N_VOICES, 3)``: hits, velocity, offset."""
        return np.stack([self.hits, self.velocity, self.offset], axis=-1)

    @classmethod
    def from_array(cls, a: np.ndarray) -> DrumPattern:
        a = np.asarray(a, dtype=np.float32)
        return cls(a[..., 0], a[..., 1], a[..., 2])

    def grid(self) -> str:
        """A text drawing, one line per voice (``x`` loud, ``o`` soft, ``.`` rest)."""
        lines = []
        for v, name in enumerate(VOICES):
            cells = "".join(("x" if self.velocity[s, v] >= 0.6 else "o") if self.hits[s, v] else "."
                            for s in range(STEPS))
            lines.append(f"{name:>10} {cells[:16]}|{cells[16:]}")
        return "\n".join(lines)


def voice_of(name: str) -> int | None:
    """The voice index of a kit instrument name (via ``assets.drum_class``), or None."""
    from latentstudio.assets import drum_class

    cls = drum_class(name)
    low = name.lower()
    if cls is None:
        return None
    if cls == "tom":
        if re.search(r"floor|low|lo\b|16|\b3\b", low):
            return VOICES.index("low_tom")
        if re.search(r"hi|high|\b1\b|12", low):
            return VOICES.index("high_tom")
        return VOICES.index("mid_tom")
    if cls == "cymbal":
        return VOICES.index("ride" if re.search(r"ride|bell", low) else "crash")
    if cls in ("clap", "rim"):
        return VOICES.index("snare")
    return VOICES.index(cls)


# ------------------------------------------------------------------------------------------- writing
def patterns_to_midi(patterns: list[DrumPattern], *, bpm: float = 120.0, swing: float = 0.0):
    """A ``PrettyMIDI`` with one GM drum track playing ``patterns`` one after another.

    Example
    -------
    >>> pm = patterns_to_midi([DrumPattern.empty()], bpm=100)
    >>> pm.instruments[0].is_drum
    True
    """
    import pretty_midi

    if not np.isfinite(bpm) or not 20 <= bpm <= 400:
        raise ParameterError(f"bpm={bpm} must be between 20 and 400")
    step = 60.0 / bpm / 4
    pm = pretty_midi.PrettyMIDI(initial_tempo=float(bpm))
    inst = pretty_midi.Instrument(program=0, is_drum=True, name="beatbox")
    for i, p in enumerate(patterns):
        for s, v in zip(*np.nonzero(p.hits)):
            t = (i * STEPS + s + p.offset[s, v] + (swing if s % 2 else 0.0)) * step
            vel = int(np.clip(round(p.velocity[s, v] * 127), 1, 127))
            inst.notes.append(pretty_midi.Note(velocity=vel, pitch=VOICE_NOTES[v], start=max(0.0, t),
                                               end=max(0.0, t) + step / 2))
    inst.notes.sort(key=lambda n: n.start)
    pm.instruments.append(inst)
    return pm


# ------------------------------------------------------------------------------------------- reading
def _windows(hits: np.ndarray, vel: np.ndarray, off: np.ndarray, *, hop: int, min_hits: int) -> list[DrumPattern]:
    out = []
    n = hits.shape[0]
    for start in range(0, max(1, n - STEPS + 1), hop):
        h = hits[start:start + STEPS]
        if h.shape[0] < STEPS or h.sum() < min_hits:
            continue
        out.append(DrumPattern(h, vel[start:start + STEPS], off[start:start + STEPS]))
    return out


def midi_to_patterns(midi, *, hop_bars: int = 1, min_hits: int = 4) -> list[DrumPattern]:
    """Every two-bar window (stepping ``hop_bars``) of the drum tracks of a GM MIDI file or ``PrettyMIDI``.

    Notes are quantised to the 16th-note grid of the file's own beats; the remainder is kept as the
    micro-timing offset. Windows with fewer than ``min_hits`` hits are skipped.

    Raises ParameterError when the file cannot be read or has no drum track.
    """
    from latentstudio.core.midi import read_midi

    pm = read_midi(midi) if isinstance(midi, (str, os.PathLike)) else midi
    drums = [n for inst in pm.instruments if inst.is_drum for n in inst.notes]
    if not drums:
        raise ParameterError(f"MIDI {midi!r} has no drum track (channel 10)")
    beats = list(pm.get_beats())
    if len(beats) < 2:
        return []
    while len(beats) % 4 != 1 or beats[-1] <= max(n.start for n in drums):  # whole bars past the last note
        beats.append(2 * beats[-1] - beats[-2])
    beats = np.array(beats)
    grid = np.concatenate([np.linspace(b0, b1, 4, endpoint=False) for b0, b1 in zip(beats[:-1], beats[1:])] + [beats[-1:]])
    n = len(grid) + 1
    hits = np.zeros((n, N_VOICES), np.float32)
    vel = np.zeros_like(hits)
    off = np.zeros_like(hits)
    for note in drums:
        v = GM_TO_VOICE.get(note.pitch)
        if v is None:
            continue
        s = int(np.clip(np.searchsorted(grid, note.start), 1, len(grid) - 1))
        s = s if abs(grid[s] - note.start) < abs(grid[s - 1] - note.start) else s - 1
        width = (grid[s + 1] - grid[s]) if s + 1 < len(grid) else (grid[s] - grid[s - 1])
        if note.velocity / 127 >= vel[s, v]:
            hits[s, v], vel[s, v] = 1, note.velocity / 127
            off[s, v] = np.clip((note.start - grid[s]) / width, -0.5, 0.5)
    # start at the first downbeat (bars of 4 beats from the first beat)
    return _windows(hits, vel, off, hop=hop_bars * STEPS_PER_BAR, min_hits=min_hits)


def h2song_patterns(path: str | os.PathLike, *, min_hits: int = 4) -> list[DrumPattern]:
    """The patterns of a Hydrogen song (``.h2song``), each as two bars (one-bar patterns repeated).

    Instruments map to voices by name (:func:`voice_of`); Hydrogen's 48 ticks per beat give 12 per step.
    """
    try:
        root = ET.parse(str(path)).getroot()
    except (ET.ParseError, OSError) as exc:
        raise ParameterError(f"Hydrogen song {str(path)!r} cannot be read ({exc})") from None
    ids = {}
    for inst in root.iter("instrument"):
        if inst.findtext("id") is not None:
            ids[inst.findtext("id").strip()] = voice_of(inst.findtext("name") or "")
    out = []
    for pat in root.iter("pattern"):
        size = int(pat.findtext("size") or 192)
        n = max(1, size // 12)
        hits = np.zeros((max(n, STEPS), N_VOICES), np.float32)
        vel, off = np.zeros_like(hits), np.zeros_like(hits)
        for note in pat.iter("note"):
            v = ids.get((note.findtext("instrument") or "").strip())
            if v is None:
                continue
            pos = float(note.findtext("position") or 0) / 12.0
            s = int(round(pos))
            if not 0 <= s < n:
                continue
            hits[s, v] = 1
            vel[s, v] = max(vel[s, v], float(note.findtext("velocity") or 0.8))
            off[s, v] = np.clip(pos - s + float(note.findtext("leadlag") or 0) * 0.25, -0.5, 0.5)
        if n < STEPS:  # repeat a short pattern to fill two bars
            reps = int(np.ceil(STEPS / n))
            hits, vel, off = (np.tile(a[:n], (reps, 1))[:STEPS] for a in (hits, vel, off))
        out += _windows(hits, vel, off, hop=STEPS_PER_BAR, min_hits=min_hits)
    return out


def hydrogen_demo_patterns() -> list[DrumPattern]:
    """Patterns of the Hydrogen demo songs that ship with ``hydrogen-data`` (empty when absent)."""
    out = []
    for d in ("/usr/share/hydrogen/data/demo_songs", os.path.expanduser("~/.hydrogen/data/songs")):
        for f in sorted(Path(d).glob("*.h2song")) if Path(d).is_dir() else []:
            try:
                out += h2song_patterns(f)
            except ParameterError:
                continue
    return out
