"""Render DrumSynth presets (``.ds``, the drum-machine patches LMMS ships) to audio.

A preset is an INI file of up to six sound sources, each with a breakpoint envelope of ``time,level``
pairs (time in samples at 44.1 kHz, level 0-100), mixed and optionally distorted and filtered:

* ``[Tone]`` — a sine gliding from ``F1`` to ``F2`` Hz (``Droop`` sets how fast): kick and tom bodies.
* ``[Noise]`` — white noise tilted by ``Slope`` (low values darker): snare wires, claps.
* ``[Overtones]`` — two oscillators (``Wave`` 0 sine, 1 rectified sine, 2 triangle, 3 saw, 4 square) at
  ``F1`` and ``F2`` Hz, combined by ``Method`` (0 add, 1 ring-modulate, 2 FM, 3 phase-modulate, with
  ``Param`` as depth): metallic hats and cymbals.
* ``[NoiseBand]``, ``[NoiseBand2]`` — noise band-limited around ``F`` Hz, ``dF`` its width in percent.
* ``[Distortion]`` — clipping gain in dB, bit and rate reduction.
* ``[General]`` — ``Tuning`` (semitones), ``Stretch`` (% of envelope time), ``Level`` (dB), a
  low- or high-pass ``Filter`` whose cutoff follows ``FilterEnv``.

This is the project's own reading of the format, not a port of DrumSynth: it gets each preset's
sources, pitches, envelopes and brightness, which is what a drum class is heard by, not every nuance.

Example
-------
>>> y = render_drumsynth("/usr/share/lmms/samples/drumsynth/tr808/Kick.ds", sr=16000)  # doctest: +SKIP
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path

import numpy as np

from latentstudio.errors import ParameterError

DS_RATE = 44100.0  # envelope times are in samples at this rate
MAX_SECONDS = 1.5


def _f(sec, key: str, default: float = 0.0) -> float:
    try:
        return float(str(sec.get(key, default)).split()[0].replace(",", "."))
    except (TypeError, ValueError, IndexError):
        return default


def _envelope(text: str, n: int, sr: int, stretch: float) -> np.ndarray:
    pts = []
    for pair in str(text or "").split():
        try:
            t, v = pair.split(",")[:2]
            pts.append((float(t) * stretch / DS_RATE * sr, float(v) / 100.0))
        except ValueError:
            continue
    if not pts:
        return np.zeros(n, np.float32)
    pts.sort()
    t = np.array([p[0] for p in pts])
    v = np.array([p[1] for p in pts])
    return np.interp(np.arange(n), t, v, left=v[0], right=0.0).astype(np.float32)


def _end_time(text: str, stretch: float) -> float:
    times = []
    for pair in str(text or "").split():
        try:
            times.append(float(pair.split(",")[0]))
        except ValueError:
            continue
    return max(times, default=0.0) * stretch / DS_RATE


def _wave(phase: np.ndarray, form: int) -> np.ndarray:
    if form == 1:
        return 2 * np.abs(np.sin(0.5 * phase)) - 1
    frac = np.mod(phase / (2 * np.pi), 1.0)
    if form == 2:
        return 4 * np.abs(frac - 0.5) - 1
    if form == 3:
        return 2 * frac - 1
    if form >= 4:
        return np.where(frac < 0.5, 1.0, -1.0)
    return np.sin(phase)


def _band_noise(rng: np.random.Generator, n: int, sr: int, f: float, df_percent: float) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / sr)
    width = max(20.0, f * max(df_percent, 1.0) / 100.0)
    spec *= np.exp(-0.5 * ((freqs - f) / width) ** 2)
    y = np.fft.irfft(spec, n)
    return y / (np.std(y) + 1e-9)


def render_drumsynth(path: str | os.PathLike, *, sr: int = 16000, seed: int = 0) -> np.ndarray:
    """Audio of a DrumSynth preset: mono float32 at ``sr``, peak 1 (all zeros if every source is off).

    Raises ParameterError when the file is not a readable DrumSynth preset.
    """
    p = Path(path)
    cp = configparser.ConfigParser(strict=False, interpolation=None)
    try:
        cp.read_string(p.read_text(errors="replace"))
    except (OSError, configparser.Error) as exc:
        raise ParameterError(f"DrumSynth preset {str(p)!r} is not readable ({exc})") from None
    if not cp.has_section("General"):
        raise ParameterError(f"DrumSynth preset {str(p)!r} has no [General] section")
    g = cp["General"]
    stretch = max(0.1, _f(g, "Stretch", 100.0) / 100.0)
    tune = 2 ** (_f(g, "Tuning") / 12.0)
    rng = np.random.default_rng(seed)
    on = {s: cp.has_section(s) and _f(cp[s], "On") > 0 for s in
          ("Tone", "Noise", "Overtones", "NoiseBand", "NoiseBand2", "Distortion")}
    ends = [_end_time(cp[s].get("Envelope", ""), stretch) for s in ("Tone", "Noise", "NoiseBand", "NoiseBand2") if on[s]]
    if on["Overtones"]:
        ends += [_end_time(cp["Overtones"].get(k, ""), stretch) for k in ("Envelope1", "Envelope2")]
    dur = min(MAX_SECONDS, max(ends, default=0.0))
    n = max(1, int(dur * sr))
    t = np.arange(n) / sr
    out = np.zeros(n)
    tone_phase = None
    if on["Tone"]:
        s = cp["Tone"]
        f1, f2 = _f(s, "F1", 200) * tune, _f(s, "F2", 50) * tune
        droop = max(_f(s, "Droop"), 0.0)
        rate = 2.0 + 60.0 * (droop / 100.0) ** 2 / stretch  # 1/s: how fast F1 falls to F2
        freq = f2 + (f1 - f2) * np.exp(-rate * t)
        tone_phase = 2 * np.pi * np.cumsum(freq) / sr + np.deg2rad(_f(s, "Phase"))
        out += _f(s, "Level", 100) / 100 * np.sin(tone_phase) * _envelope(s.get("Envelope"), n, sr, stretch)
    if on["Noise"]:
        s = cp["Noise"]
        noise = rng.standard_normal(n)
        slope = _f(s, "Slope", 0) / 100.0  # -1 dark .. +1 bright: a one-pole tilt
        low = np.empty(n)
        acc = 0.0
        for i in range(n):  # one-pole low-pass, cheap enough for <= 1.5 s
            acc += 0.15 * (noise[i] - acc)
            low[i] = acc
        mix = np.clip(0.5 + 0.5 * slope, 0, 1)
        noise = mix * (noise - low) + (1 - mix) * low * 3
        out += _f(s, "Level", 100) / 100 * 0.5 * noise * _envelope(s.get("Envelope"), n, sr, stretch)
    if on["Overtones"]:
        s = cp["Overtones"]
        f1, f2 = _f(s, "F1", 400) * tune, _f(s, "F2", 600) * tune
        ph1, ph2 = 2 * np.pi * f1 * t, 2 * np.pi * f2 * t
        if tone_phase is not None and _f(s, "Track1") > 0 and f1 > 0:
            ph1 = tone_phase * f1 / max(_f(cp["Tone"], "F2", 50) * tune, 1.0)
        if tone_phase is not None and _f(s, "Track2") > 0 and f2 > 0:
            ph2 = tone_phase * f2 / max(_f(cp["Tone"], "F2", 50) * tune, 1.0)
        w1, w2 = int(_f(s, "Wave1")), int(_f(s, "Wave2"))
        e1 = _envelope(s.get("Envelope1"), n, sr, stretch)
        e2 = _envelope(s.get("Envelope2"), n, sr, stretch)
        depth = _f(s, "Param", 50) / 100.0
        method = int(_f(s, "Method"))
        if method == 1:
            o = _wave(ph1, w1) * e1 * (1 - depth + depth * _wave(ph2, w2) * e2)
        elif method in (2, 3):
            o = _wave(ph1 + 2 * np.pi * depth * _wave(ph2, w2) * e2, w1) * e1
        else:
            o = (_wave(ph1, w1) * e1 + _wave(ph2, w2) * e2) * 0.5
        out += _f(s, "Level", 100) / 100 * o
    for name in ("NoiseBand", "NoiseBand2"):
        if on[name]:
            s = cp[name]
            band = _band_noise(rng, n, sr, min(_f(s, "F", 1000) * tune, sr / 2 - 100), _f(s, "dF", 50))
            out += _f(s, "Level", 100) / 100 * 0.5 * band * _envelope(s.get("Envelope"), n, sr, stretch)
    if on["Distortion"]:
        s = cp["Distortion"]
        drive = 10 ** (_f(s, "Clipping") / 20)
        peak = np.max(np.abs(out)) + 1e-9
        out = np.clip(out / peak * drive, -1, 1)
        bits = int(_f(s, "Bits"))
        if bits > 0:
            q = 2 ** max(1, 8 - bits)
            out = np.round(out * q) / q
        rate = int(_f(s, "Rate"))
        if rate > 0:
            hold = rate + 1
            out = np.repeat(out[::hold], hold)[:n]
    if _f(g, "Filter") > 0:
        fenv = _envelope(g.get("FilterEnv"), n, sr, stretch)
        cutoff = 40.0 * (sr / 2 / 40.0) ** np.clip(fenv, 0.0, 1.0)  # 0..100 -> 40 Hz..Nyquist, log scale
        a = 1 - np.exp(-2 * np.pi * cutoff / sr)
        low = np.empty(n)
        acc = 0.0
        for i in range(n):
            acc += a[i] * (out[i] - acc)
            low[i] = acc
        out = out - low if _f(g, "HighPass") > 0 else low
    peak = float(np.max(np.abs(out))) if n else 0.0
    if not np.isfinite(peak):
        raise ParameterError(f"DrumSynth preset {str(p)!r} renders to non-finite audio")
    return (out / peak if peak > 0 else out).astype(np.float32)
