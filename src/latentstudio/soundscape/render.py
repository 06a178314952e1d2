"""Layer the matched sounds into a stereo soundscape: loops, crossfades, levels by score, pan by heading.

Each match becomes a layer. A long sound (``>= loop_seconds``) loops continuously, every repeat
crossfaded into the next (equal power); a short one (a moo, a bark) recurs as events at seeded
random intervals. Layers enter one after another with fade-ins, sit at a level that falls with
their score relative to the best match, and are panned by their heading (or spread gently around
the centre for an ordinary image). The mix is faded in and out and peak-normalised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentstudio.core.audio import load as load_audio
from latentstudio.errors import ParameterError


@dataclass
class Layer:
    """A sound to place: its signal (mono, at the render rate), its score and its pan in [-1, 1]."""

    y: np.ndarray
    score: float
    pan: float = 0.0
    name: str = ""


def _fade(n: int, *, out: bool = False) -> np.ndarray:
    """Equal-power fade of ``n`` samples (sine quarter wave)."""
    t = np.linspace(0.0, np.pi / 2, max(n, 1), dtype=np.float32)
    return np.cos(t) if out else np.sin(t)


def loop_to_length(y: np.ndarray, *, n: int, crossfade: int) -> np.ndarray:
    """Repeat ``y`` to ``n`` samples, each repeat crossfaded (equal power) over ``crossfade`` samples.

    Example
    -------
    >>> loop_to_length(np.ones(100, np.float32), n=250, crossfade=10).shape
    (250,)
    """
    crossfade = int(min(crossfade, len(y) // 2))
    if crossfade < 1:
        return np.resize(y, n).astype(np.float32)
    out = np.zeros(n + len(y), dtype=np.float32)
    step = len(y) - crossfade
    fin, fout = _fade(crossfade), _fade(crossfade, out=True)
    pos = 0
    while pos < n:
        seg = y.copy()
        if pos > 0:
            seg[:crossfade] *= fin
        seg[-crossfade:] *= fout
        out[pos:pos + len(seg)] += seg
        pos += step
    return out[:n]


def scatter_events(y: np.ndarray, *, n: int, rng: np.random.Generator, density: float = 0.5) -> np.ndarray:
    """Place copies of a short sound at random times in ``n`` samples; about ``density`` of the time sounds."""
    out = np.zeros(n + len(y), dtype=np.float32)
    gap_mean = len(y) * (1.0 / max(density, 1e-3) - 1.0)
    pos = int(rng.uniform(0, max(1.0, gap_mean)))
    while pos < n:
        g = rng.uniform(0.7, 1.0)
        out[pos:pos + len(y)] += g * y
        pos += len(y) + int(rng.uniform(0.5, 1.5) * gap_mean)
    return out[:n]


def render_soundscape(layers: list[Layer], *, seconds: float = 30.0, sr: int = 44100, seed: int = 0,
                      crossfade_seconds: float = 0.5, loop_seconds: float = 4.0, fade_seconds: float = 1.5,
                      spread: float = 0.6, level_range_db: float = 18.0, peak: float = 0.89) -> np.ndarray:
    """Mix ``layers`` into a ``(2, seconds * sr)`` stereo soundscape.

    Parameters
    ----------
    layers : the matched sounds, best first (mono signals at ``sr``)
    seconds : length of the soundscape
    sr : sample rate of the signals and of the result
    seed : seeds event times and the centre spread
    crossfade_seconds : crossfade of a looping layer into its next repeat
    loop_seconds : sounds at least this long loop; shorter ones recur as events
    fade_seconds : fade-in of each layer and of the whole mix (and fade-out of the mix)
    spread : how far (in pan units) layers of an un-headed image spread around the centre
    level_range_db : the weakest match sits this many dB below the best
    peak : peak level of the result (linear)

    Raises
    ------
    ParameterError : no layers, non-positive seconds

    Example
    -------
    >>> tone = np.sin(np.linspace(0, 2000, 22050)).astype(np.float32)
    >>> out = render_soundscape([Layer(tone, 0.9), Layer(tone, 0.5, pan=-1.0)], seconds=3, sr=22050)
    >>> out.shape, bool(np.abs(out).max() <= 0.9)
    ((2, 66150), True)
    """
    if not layers:
        raise ParameterError("layers is empty: a soundscape needs at least one sound")
    if not np.isfinite(seconds) or seconds <= 0 or seconds > 3600:
        raise ParameterError(f"seconds={seconds!r} must be in (0, 3600]")
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    mix = np.zeros((2, n), dtype=np.float32)
    scores = np.array([float(layer.score) for layer in layers])
    best, worst = scores.max(), scores.min()
    centre_pans = rng.uniform(-spread, spread, len(layers)) if len(layers) > 1 else np.zeros(1)
    fade = int(fade_seconds * sr)
    for i, layer in enumerate(layers):
        y = np.asarray(layer.y, dtype=np.float32)
        if y.ndim != 1 or y.size == 0 or not np.all(np.isfinite(y)):
            raise ParameterError(f"layers[{i}] ({layer.name or 'unnamed'}) must be a finite, non-empty mono signal")
        y = y / max(float(np.sqrt(np.mean(y ** 2))), 1e-6) * 0.1          # equal loudness before levels
        if len(y) >= loop_seconds * sr:
            track = loop_to_length(y, n=n, crossfade=int(crossfade_seconds * sr))
        else:
            track = scatter_events(y, n=n, rng=rng, density=0.4 if i == 0 else 0.25)
        rel = 0.0 if best == worst else (best - scores[i]) / (best - worst)
        gain = 10 ** (-level_range_db * rel / 20)
        start = int(i * min(2.0, seconds / (2 * len(layers))) * sr)       # staggered entries
        env = np.zeros(n, dtype=np.float32)
        env[start:] = 1.0
        ramp = min(fade, n - start)
        if ramp > 0:
            env[start:start + ramp] = _fade(ramp)
        pan = float(np.clip(layer.pan if layer.pan != 0.0 else centre_pans[i], -1.0, 1.0))
        theta = (pan + 1.0) * np.pi / 4
        mix[0] += np.cos(theta) * gain * track * env
        mix[1] += np.sin(theta) * gain * track * env
    ramp = min(fade, n // 2)
    if ramp > 0:
        mix[:, :ramp] *= _fade(ramp)
        mix[:, n - ramp:] *= _fade(ramp, out=True)
    top = float(np.abs(mix).max())
    return mix * (peak / top) if top > 0 else mix


def layers_from_matches(matches, *, sr: int = 44100, max_seconds: float = 120.0) -> list[Layer]:
    """Load the sounds of :class:`~latentstudio.soundscape.query.Match` objects as render layers.

    Unreadable files are skipped (a file may have changed since it was indexed).
    """
    out = []
    for m in matches:
        try:
            y, _ = load_audio(m.path, sr=sr, mono=True, duration=max_seconds, max_seconds=None)
        except ParameterError:
            continue
        out.append(Layer(y=y, score=m.score, pan=m.pan, name=m.path))
    if not out:
        raise ParameterError("none of the matched sounds could be read; re-index the library")
    return out


__all__ = ["Layer", "render_soundscape", "layers_from_matches", "loop_to_length", "scatter_events"]
