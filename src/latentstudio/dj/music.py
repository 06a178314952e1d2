"""Music with exact beats: MIDI the project writes itself, rendered with FluidSynth and Hydrogen kits.

A :class:`TrackSpec` (tempo, meter, key, style, instruments) becomes a ``pretty_midi.PrettyMIDI`` whose
notes sit on a beat grid the generator chooses (constant tempo, a ramp, or swing), so the beat and
downbeat times of the rendered audio are known exactly. Used to build the demo library, the beat
tracker's training set, the benchmark and the tests. Drums come from the General MIDI percussion
channel or, when ``kit`` names a Hydrogen drum kit, from that kit's samples mixed in at the exact times.

Example
-------
>>> spec = TrackSpec(bpm=124.0, beats_per_bar=4, tonic=9, minor=True, style="house", bars=8, seed=3)
>>> track = render_track(spec, sr=22050)           # doctest: +SKIP
>>> track.beats[:2], track.bpm                     # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
import numpy as np

from latentstudio.errors import LatentStudioError, ParameterError

#: Drum styles: per beats_per_bar a pattern over 4 sixteenths per beat (k=kick s=snare h=hat o=open hat).
STYLES = ("rock", "house", "breaks", "halftime", "waltz", "shuffle", "sparse", "nodrums", "offbeat")
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
_PADS = (0, 4, 48, 49, 50, 52, 88, 89, 90, 19, 16)          # pianos, strings, choirs, synth pads, organ
_BASSES = (32, 33, 34, 35, 36, 38, 39, 87)
_LEADS = (0, 11, 13, 24, 25, 26, 40, 56, 65, 71, 73, 80, 81, 104)


@dataclass
class TrackSpec:
    """What to compose: tempo in bpm, meter, key, drum style, length and seed.

    ``bpm_end`` (if set) ramps the tempo linearly over the track; ``swing`` in [0, 0.33] delays
    off-beat eighths; ``drum_gain`` scales the drums (0.2 = weak drums); ``kit`` names a Hydrogen kit.
    """

    bpm: float = 120.0
    beats_per_bar: int = 4
    tonic: int = 0
    minor: bool = False
    style: str = "rock"
    bars: int = 16
    seed: int = 0
    bpm_end: float | None = None
    swing: float = 0.0
    drum_gain: float = 1.0
    kit: str | None = None
    intro_bars: int = 2
    programs: dict = field(default_factory=dict)

    def check(self) -> TrackSpec:
        if not (30.0 <= float(self.bpm) <= 300.0):
            raise ParameterError(f"bpm={self.bpm!r} must be within 30..300")
        if self.bpm_end is not None and not (30.0 <= float(self.bpm_end) <= 300.0):
            raise ParameterError(f"bpm_end={self.bpm_end!r} must be within 30..300")
        if self.beats_per_bar not in (2, 3, 4, 5, 6, 7):
            raise ParameterError(f"beats_per_bar={self.beats_per_bar!r} must be 2..7")
        if self.style not in STYLES:
            raise ParameterError(f"style={self.style!r} must be one of {', '.join(STYLES)}")
        if not (1 <= int(self.bars) <= 512):
            raise ParameterError(f"bars={self.bars!r} must be within 1..512")
        if not (0 <= int(self.tonic) <= 11):
            raise ParameterError(f"tonic={self.tonic!r} must be a pitch class 0..11")
        return self

    @property
    def key_name(self) -> str:
        return f"{PITCH_NAMES[self.tonic]} {'minor' if self.minor else 'major'}"


@dataclass
class Track:
    """A rendered track with its exact ground truth (times in seconds)."""

    audio: np.ndarray
    sr: int
    beats: np.ndarray
    downbeats: np.ndarray
    spec: TrackSpec
    midi: object = None

    @property
    def bpm(self) -> float:
        return float(60.0 / np.median(np.diff(self.beats)))


def beat_grid(spec: TrackSpec, *, start: float = 0.25) -> np.ndarray:
    """Beat times of ``spec`` in seconds (constant tempo, or a linear tempo ramp to ``bpm_end``)."""
    n = spec.bars * spec.beats_per_bar + 1
    b0, b1 = float(spec.bpm), float(spec.bpm_end or spec.bpm)
    bpm = b0 + (b1 - b0) * np.arange(n) / max(1, n - 1)
    return start + np.concatenate([[0.0], np.cumsum(60.0 / bpm[:-1])])


def _at(grid: np.ndarray, pos: float) -> float:
    """Time of fractional beat ``pos`` on ``grid`` (linear between beats)."""
    i = min(int(np.floor(pos)), len(grid) - 2)
    return float(grid[i] + (pos - i) * (grid[i + 1] - grid[i]))


def _drum_pattern(style: str, bpb: int, rng: np.random.Generator) -> dict[str, list[float]]:
    """Drum hits per bar as fractional beat positions for each role."""
    eighths = [i * 0.5 for i in range(2 * bpb)]
    if style == "house":
        pat = {"kick": [float(b) for b in range(bpb)], "snare": [float(b) for b in range(1, bpb, 2)],
               "open": [b + 0.5 for b in range(bpb)], "hat": [i * 0.25 for i in range(4 * bpb)]}
    elif style == "breaks":
        pat = {"kick": [0.0, 1.75, 2.5][: max(2, bpb - 1)], "snare": [1.0, 3.0, 3.75][: bpb - 1] if bpb > 2 else [1.0],
               "hat": eighths}
    elif style == "halftime":
        pat = {"kick": [0.0, 1.5], "snare": [2.0 % bpb], "hat": eighths}
    elif style == "waltz":
        pat = {"kick": [0.0], "snare": [float(b) for b in range(1, bpb)], "hat": [float(b) for b in range(bpb)]}
    elif style == "shuffle":
        pat = {"kick": [0.0, 2.0 % bpb], "snare": [float(b) for b in range(1, bpb, 2)],
               "ride": [b + x for b in range(bpb) for x in (0.0, 2 / 3)]}
    elif style == "sparse":
        pat = {"kick": [0.0], "hat": [float(b) for b in range(bpb)]}
    elif style == "offbeat":
        pat = {"kick": [0.0, 2.0 % bpb], "hat": [b + 0.5 for b in range(bpb)], "snare": [float(bpb - 1)]}
    elif style == "nodrums":
        pat = {}
    else:  # rock
        pat = {"kick": [0.0] + ([2.0, 2.5] if bpb >= 4 else []), "snare": [float(b) for b in range(1, bpb, 2)],
               "hat": eighths}
    if style != "nodrums" and rng.random() < 0.3:
        pat.setdefault("crash", [])
    return pat


def compose(spec: TrackSpec):
    """Write the MIDI of ``spec``; returns ``(PrettyMIDI, beats, downbeats, drum_hits)``.

    ``drum_hits`` is a list of ``(time, role, velocity)`` (also written as GM drums into the MIDI
    unless the spec names a Hydrogen kit).
    """
    import pretty_midi

    spec = spec.check()
    rng = np.random.default_rng(spec.seed)
    bpb = spec.beats_per_bar
    grid = beat_grid(spec)
    beats = grid[:-1]
    downbeats = beats[::bpb]
    pm = pretty_midi.PrettyMIDI(initial_tempo=float(spec.bpm))
    scale = _MINOR if spec.minor else _MAJOR
    root = 36 + spec.tonic

    def t(pos: float) -> float:
        frac = pos - np.floor(pos)
        if spec.swing and abs(frac - 0.5) < 1e-6:
            pos = np.floor(pos) + 0.5 + spec.swing * 0.5
        return _at(grid, pos)

    def note(inst, pitch: int, p0: float, p1: float, vel: int) -> None:
        s, e = t(p0), t(p1)
        inst.notes.append(pretty_midi.Note(velocity=int(np.clip(vel, 1, 127)), pitch=int(pitch), start=s,
                                           end=max(e, s + 0.05)))

    degrees = [0, 5, 3, 4] if rng.random() < 0.5 else [0, 3, 4, 0]
    if spec.minor:
        degrees = [0, 5, 2, 6] if rng.random() < 0.5 else [0, 3, 6, 4]
    prog = {k: int(v) for k, v in spec.programs.items()}
    pad = pretty_midi.Instrument(program=prog.get("pad", int(rng.choice(_PADS))))
    bass = pretty_midi.Instrument(program=prog.get("bass", int(rng.choice(_BASSES))))
    lead = pretty_midi.Instrument(program=prog.get("lead", int(rng.choice(_LEADS))))
    comp_style = rng.choice(["sustain", "stabs", "arp", "offbeat"])
    if comp_style == "offbeat" and (spec.drum_gain < 1.0 or spec.style in ("nodrums", "sparse")):
        comp_style = "stabs"  # off-beat chords over weak drums would move the felt beat
    bass_style = rng.choice(["roots", "eighths", "syncop", "walk"])
    lead_rhythm = [rng.choice([0.5, 1.0, 1.5, 0.25, 2.0], p=[0.35, 0.3, 0.1, 0.15, 0.1]) for _ in range(16)]
    pitch_deg = 0
    intro = min(spec.intro_bars, max(0, spec.bars - 2))
    for bar in range(spec.bars):
        deg = degrees[(bar // max(1, (2 if rng.random() < 0.3 else 1))) % len(degrees)]
        chord = [scale[(deg + k) % 7] + 12 * ((deg + k) // 7) for k in (0, 2, 4)]
        b0 = bar * bpb
        # chords
        vel = int(rng.integers(60, 90))
        if comp_style == "sustain":
            for c in chord:
                note(pad, root + 24 + c, b0, b0 + bpb - 0.05, vel)
        elif comp_style == "stabs":
            for pos in range(bpb):
                for c in chord:
                    note(pad, root + 24 + c, b0 + pos, b0 + pos + 0.4, vel - 10 * (pos % 2))
        elif comp_style == "offbeat":
            for pos in range(bpb):
                for c in chord:
                    note(pad, root + 24 + c, b0 + pos + 0.5, b0 + pos + 0.8, vel)
        else:
            for i in range(2 * bpb):
                c = chord[i % 3] + 12 * (i // 3 % 2)
                note(pad, root + 24 + c, b0 + 0.5 * i, b0 + 0.5 * i + 0.45, vel - 8 * (i % 2))
        # bass
        if bar >= intro // 2:
            bvel = int(rng.integers(80, 110))
            r = root + chord[0] - (12 if chord[0] >= 7 else 0)
            if bass_style == "roots":
                for pos in range(bpb):
                    note(bass, r, b0 + pos, b0 + pos + 0.9, bvel - 15 * (pos > 0))
            elif bass_style == "eighths":
                for i in range(2 * bpb):
                    note(bass, r + 12 * (i % 2 == 1 and rng.random() < 0.3), b0 + 0.5 * i, b0 + 0.5 * i + 0.4,
                         bvel - 20 * (i % 2))
            elif bass_style == "syncop":
                for pos in ([0.0, 1.5, 2.5] if bpb >= 4 else [0.0, 1.5]) + ([3.0] if bpb >= 4 else []):
                    note(bass, r, b0 + pos, b0 + pos + 0.4, bvel)
            else:
                for pos in range(bpb):
                    note(bass, r + scale[(pos * 2) % 7], b0 + pos, b0 + pos + 0.9, bvel)
        # melody
        if bar >= intro and rng.random() < 0.8:
            pos = 0.0
            i = 0
            while pos < bpb - 0.01:
                dur = min(lead_rhythm[(bar * 3 + i) % 16], bpb - pos)
                pitch_deg = int(np.clip(pitch_deg + rng.integers(-2, 3), -3, 9))
                if rng.random() < 0.85:
                    p = root + 36 + scale[pitch_deg % 7] + 12 * (pitch_deg // 7)
                    note(lead, p, b0 + pos, b0 + pos + dur * 0.9, int(rng.integers(70, 105)))
                pos += dur
                i += 1
    pm.instruments += [pad, bass, lead]
    # drums
    hits: list[tuple[float, str, int]] = []
    pattern = _drum_pattern(spec.style, bpb, rng)
    for bar in range(spec.bars):
        if bar < intro and rng.random() < 0.5 and spec.style != "nodrums":
            roles = {"hat": pattern.get("hat", pattern.get("ride", []))}
        else:
            roles = pattern
        for role, positions in roles.items():
            if role == "crash":
                positions = [0.0] if bar % 8 == 0 else []
            for pos in positions:
                if pos >= bpb:
                    continue
                v = 100 if pos == int(pos) else 75
                v = int(np.clip(v * spec.drum_gain + rng.integers(-10, 10), 5, 127))
                hits.append((t(bar * bpb + pos), role, v))
        if spec.style not in ("nodrums", "sparse") and bar % 4 == 3 and rng.random() < 0.5:  # a fill
            for k in range(4):
                hits.append((t(bar * bpb + bpb - 1 + 0.25 * k), "snare", int(60 + 10 * k)))
    if spec.kit is None and hits:
        from latentstudio.core.midi import GM_DRUMS

        gm = {"kick": GM_DRUMS["kick"], "snare": GM_DRUMS["snare"], "hat": GM_DRUMS["closed_hat"],
              "open": GM_DRUMS["open_hat"], "ride": GM_DRUMS["ride"], "crash": GM_DRUMS["crash"]}
        drums = pretty_midi.Instrument(program=0, is_drum=True)
        for when, role, v in hits:
            drums.notes.append(pretty_midi.Note(velocity=v, pitch=gm[role], start=when, end=when + 0.1))
        pm.instruments.append(drums)
    return pm, beats, downbeats, hits


def _kit_samples(kit: str, sr: int) -> dict[str, list[np.ndarray]]:
    """One sample of a Hydrogen kit per drum role (kick, snare, hat, open, ride, crash), loaded at ``sr``."""
    from latentstudio import assets
    from latentstudio.core.audio import load

    roles = {"kick": "kick", "snare": "snare", "closed_hat": "hat", "open_hat": "open", "cymbal": "crash",
             "clap": "snare", "rim": "snare"}
    out: dict[str, list[np.ndarray]] = {}
    for inst in assets.drumkit(kit).instruments:
        role = roles.get(inst.drum_class or "")
        if role is None or role in out:
            continue
        try:
            y, _ = load(inst.files[len(inst.files) // 2], sr=sr)
        except Exception:  # a broken sample in a kit: skip that voice
            continue
        out[role] = [y[: int(1.5 * sr)]]
    if "crash" in out:
        out.setdefault("ride", out["crash"])
    return out


def render_track(spec: TrackSpec, *, sr: int = 22050) -> Track:
    """Compose and render ``spec`` to mono audio with its exact beats and downbeats."""
    from latentstudio.core.midi import render_midi

    kit = None
    if spec.kit is not None:
        try:
            kit = _kit_samples(spec.kit, sr)
        except LatentStudioError:        # kit not installed: General MIDI drums instead
            spec = dataclasses.replace(spec, kit=None)
    pm, beats, downbeats, hits = compose(spec)
    y = render_midi(pm, sr=sr)
    if kit is not None and hits:
        end = len(y)
        for when, role, v in hits:
            s = kit.get(role) or kit.get("hat") or kit.get("snare")
            if not s:
                continue
            i = int(round(when * sr))
            seg = s[0][: max(0, end - i)] * (v / 127.0) * 0.6
            y[i:i + len(seg)] += seg
    peak = float(np.max(np.abs(y))) or 1.0
    y = (y / peak * 0.7).astype(np.float32)
    return Track(audio=y, sr=sr, beats=beats, downbeats=downbeats, spec=spec, midi=pm)


def random_spec(rng: np.random.Generator, *, bars: int = 12, seed: int | None = None,
                kits: tuple[str, ...] = ()) -> TrackSpec:
    """A random :class:`TrackSpec` covering tempi 60..190 bpm, 2/3/4 meters, keys, styles, weak drums."""
    bpb = int(rng.choice([4, 4, 4, 3, 3, 2]))
    style = str(rng.choice(STYLES))
    if bpb == 3 and style in ("house", "breaks", "halftime"):
        style = "waltz"
    bpm = float(np.exp(rng.uniform(np.log(60), np.log(190))))
    ramp = bpm * float(rng.uniform(0.9, 1.1)) if rng.random() < 0.15 else None
    return TrackSpec(bpm=round(bpm, 2), beats_per_bar=bpb, tonic=int(rng.integers(12)), minor=bool(rng.random() < 0.5),
                     style=style, bars=bars, seed=int(rng.integers(2**31)) if seed is None else seed,
                     bpm_end=None if ramp is None else round(float(np.clip(ramp, 40, 220)), 2),
                     swing=float(rng.choice([0.0, 0.0, 0.0, 0.25])),
                     drum_gain=float(rng.choice([1.0, 1.0, 0.5, 0.25])),
                     kit=(str(rng.choice(kits)) if kits and rng.random() < 0.4 else None),
                     intro_bars=int(rng.integers(0, 3)))


def with_changes(spec: TrackSpec, **kw) -> TrackSpec:
    """A copy of ``spec`` with some fields changed."""
    return dataclasses.replace(spec, **kw)


#: A small demo library: house and breaks around 120-128 bpm, a half-time track, keys around the Camelot wheel.
DEMO_SPECS = (
    TrackSpec(bpm=122.0, tonic=9, minor=True, style="house", bars=24, seed=11, kit="TR808EmulationKit"),
    TrackSpec(bpm=124.0, tonic=4, minor=True, style="house", bars=24, seed=12),
    TrackSpec(bpm=126.0, tonic=7, minor=False, style="rock", bars=24, seed=13, kit="GMRockKit"),
    TrackSpec(bpm=63.0, tonic=0, minor=False, style="halftime", bars=12, seed=14),
    TrackSpec(bpm=119.0, tonic=2, minor=True, style="breaks", bars=24, seed=15, kit="VariBreaks"),
    TrackSpec(bpm=128.0, tonic=11, minor=True, style="offbeat", bars=24, seed=16),
)


def write_library(folder, specs=DEMO_SPECS, *, sr: int = 22050) -> list[dict]:
    """Render ``specs`` into ``folder`` as WAV files named by tempo, key and style; returns their ground truth
    (path, bpm, key, beats, downbeats) for checks."""
    from pathlib import Path

    from latentstudio.core.audio import save

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    truth = []
    for i, spec in enumerate(specs):
        tr = render_track(spec, sr=sr)
        name = f"{i + 1:02d}-{spec.style}-{spec.bpm:g}bpm-{PITCH_NAMES[spec.tonic]}{'m' if spec.minor else ''}.wav"
        save(out / name, tr.audio, sr)
        truth.append({"path": str((out / name).resolve()), "bpm": tr.bpm, "key": spec.key_name,
                      "beats": tr.beats.tolist(), "downbeats": tr.downbeats.tolist()})
    return truth
