"""Latent Pulsations: a VAE's training filmed, its dots pulsing on the beats of a track.

The film (snapshots of every embedding through training, :mod:`latentstudio.latent.training`) is played
over the length of the music:

* **time**: snapshot position follows the *perceived* motion — the cumulative displacement of the dots
  relative to the size of the view — blended with plain step order, so the chaotic first steps are not
  over in a blink and the slow final polishing does not drag; the last ``hold`` of the piece rests on the
  final clusters.
* **camera**: the view follows robust bounds of the dots (``frame_percent`` to ``100 - frame_percent``
  percentiles, 2-98 by default, plus a margin: a few stray dots may fly out rather than shrink the clusters),
  eased as a centre and a log size forwards and backwards (:func:`ease_bounds`), so it zooms evenly,
  without lag, and opens as the dots arrive.
* **pulses**: at every beat each dot gets a fresh random offset that decays exponentially
  (``decay_beats`` of a beat); downbeats are accented. The peak of a pulse is the video frame nearest the
  beat, and its size is a fraction of the view, so it reads the same at every zoom.

Frames come from a generator (one 1080p frame at a time), rasterised by :mod:`latentstudio.core.raster`.

Example
-------
>>> film = load_film("out/vae")                                              # doctest: +SKIP
>>> plan = plan_pulsations(film, seconds=10, fps=24, beats=np.arange(0, 10, 0.5))   # doctest: +SKIP
>>> frame = next(iter_frames(film, plan))                                    # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from latentstudio.core import raster
from latentstudio.core.rhythm import beat_envelope
from latentstudio.errors import ParameterError
from latentstudio.latent.training import Filmed


@dataclass
class PulseStyle:
    """How the film looks: frame size, dots, colours, pulses, camera."""

    width: int = 1920
    height: int = 1080
    radius: float | None = None
    gain: float | None = None
    background: tuple[float, float, float] = (0.03, 0.03, 0.05)
    pulse: float = 0.025
    decay_beats: float = 0.3
    accent: float = 1.6
    camera_seconds: float = 1.0
    margin: float = 0.12
    frame_percent: float = 2.0
    hold: float = 0.12
    motion_blend: float = 0.7
    legend: bool = True
    title: str | None = None

    def validate(self) -> None:
        if not (16 <= self.width <= 8192 and 16 <= self.height <= 8192):
            raise ParameterError(f"frame {self.width}x{self.height} must be from 16x16 to 8192x8192")
        for name in ("radius", "gain", "decay_beats", "camera_seconds"):
            v = getattr(self, name)
            if v is not None and not v > 0:
                raise ParameterError(f"{name}={getattr(self, name)} must be > 0")
        if not 0 <= self.frame_percent < 25:
            raise ParameterError(f"frame_percent={self.frame_percent} must be in [0, 25)")
        for name in ("pulse", "margin", "hold", "motion_blend"):
            v = getattr(self, name)
            if not 0 <= v < 1:
                raise ParameterError(f"{name}={v} must be in [0, 1)")


@dataclass
class PulsePlan:
    """Per-frame decisions: snapshot position, camera bounds, pulse envelope and which beat's noise."""

    fps: float
    position: np.ndarray          # (F,) fractional snapshot index
    bounds: np.ndarray            # (F, 4) x0, x1, y0, y1
    envelope: np.ndarray          # (F,) pulse size in view fractions
    beat_index: np.ndarray        # (F,) index of the newest beat at or before the frame (-1: none yet)
    beat_frames: np.ndarray       # (B,) frame of each beat's peak
    projection: np.ndarray | None = None   # (d, 2) for latents wider than 2
    style: PulseStyle = field(default_factory=PulseStyle)

    @property
    def frames(self) -> int:
        return len(self.position)


def projection_of(film: Filmed) -> np.ndarray | None:
    """Principal plane of the final embeddings (``(d, 2)``) for a latent wider than 2; None for 2-D."""
    d = film.snapshots.shape[2]
    if d == 2:
        return None
    if d < 2:
        raise ParameterError(f"a {d}-D latent cannot be drawn on a plane")
    final = np.asarray(film.snapshots[-1], dtype=np.float64)
    final = final - final.mean(axis=0)
    _, _, vt = np.linalg.svd(final[:: max(1, len(final) // 20000)], full_matrices=False)
    return vt[:2].T


def points_at(film: Filmed, position: float, projection: np.ndarray | None = None) -> np.ndarray:
    """Embeddings at a fractional snapshot position (linear between snapshots), ``(N, 2)`` float32."""
    s = film.snapshots
    k = int(np.clip(np.floor(position), 0, len(s) - 1))
    w = float(position - k)
    a = np.asarray(s[k], dtype=np.float32)
    if w > 1e-6 and k + 1 < len(s):
        a = a + w * (np.asarray(s[k + 1], dtype=np.float32) - a)
    return a if projection is None else (a @ projection.astype(np.float32))


def motion_profile(film: Filmed, projection: np.ndarray | None = None, *, sample: int = 20000,
                   seed: int = 0) -> np.ndarray:
    """Perceived motion between consecutive snapshots: median dot displacement over the view's spread."""
    n = film.snapshots.shape[1]
    idx = np.sort(np.random.default_rng(seed).choice(n, size=min(sample, n), replace=False))
    prev = None
    out = []
    for k in range(len(film.snapshots)):
        p = np.asarray(film.snapshots[k][idx], dtype=np.float32)
        p = p if projection is None else p @ projection.astype(np.float32)
        if prev is not None:
            spread = np.percentile(p, 95, axis=0) - np.percentile(p, 5, axis=0)
            scale = float(np.mean(spread)) + 1e-8
            out.append(float(np.median(np.linalg.norm(p - prev, axis=1))) / scale)
        prev = p
    return np.asarray(out)


def _lowpass(x: np.ndarray, *, fps: float, seconds: float) -> np.ndarray:
    """Zero-phase first-order low-pass along axis 0 (forwards and backwards, ends padded with their values)."""
    from scipy.signal import filtfilt

    if len(x) <= 9:
        return x
    alpha = 1.0 - np.exp(-1.0 / (seconds * fps))
    pad = min(len(x) - 1, 3 * int(round(seconds * fps)) + 1)
    return filtfilt([alpha], [1.0, alpha - 1.0], x, axis=0, padtype="constant", padlen=pad)


def ease_bounds(raw: np.ndarray, *, fps: float, seconds: float, lookahead: float = 0.5) -> np.ndarray:
    """Camera bounds ``(F, 4)`` (x0, x1, y0, y1) that ease without lag and keep the dots in view.

    The centre is low-passed (zero-phase, time constant ``seconds``); then the half-size each frame needs
    to hold the raw bounds around that centre is taken in log units (zooming by equal ratios feels even),
    widened to its largest value within +- ``lookahead`` x ``seconds`` (1: the view opens before the dots
    arrive and the low-pass never cuts them off; 0.5, the default: a tighter view that follows a sudden
    explosion a moment late: on the demo film the bulk of the dots fills at least 26 % of the view instead of
    14 %, and at most 2.6 % of the dots are outside it for an instant) and low-passed the same way."""
    from scipy.ndimage import maximum_filter1d

    raw = np.asarray(raw, dtype=np.float64)
    centre = _lowpass(np.stack([(raw[:, 0] + raw[:, 1]) / 2, (raw[:, 2] + raw[:, 3]) / 2], axis=1),
                      fps=fps, seconds=seconds)
    need = np.stack([np.maximum(raw[:, 1] - centre[:, 0], centre[:, 0] - raw[:, 0]),
                     np.maximum(raw[:, 3] - centre[:, 1], centre[:, 1] - raw[:, 2])], axis=1)
    half = np.log(np.maximum(need, 1e-9))
    half = maximum_filter1d(half, size=2 * max(1, int(round(lookahead * seconds * fps))) + 1, axis=0, mode="nearest")
    half = np.exp(_lowpass(half, fps=fps, seconds=0.5 * seconds))
    return np.stack([centre[:, 0] - half[:, 0], centre[:, 0] + half[:, 0],
                     centre[:, 1] - half[:, 1], centre[:, 1] + half[:, 1]], axis=1)


def plan_pulsations(film: Filmed, *, seconds: float, fps: float = 24.0, beats: np.ndarray | None = None,
                    downbeats: np.ndarray | None = None, style: PulseStyle | None = None,
                    seed: int = 0) -> PulsePlan:
    """Decide every frame of a film of ``seconds`` at ``fps`` (snapshot position, camera, pulses).

    Raises
    ------
    ParameterError : non-positive length or fps, a film of fewer than 2 snapshots
    """
    style = style or PulseStyle()
    style.validate()
    if not (np.isfinite(seconds) and seconds > 0) or not (np.isfinite(fps) and fps > 0):
        raise ParameterError(f"seconds={seconds} and fps={fps} must be positive")
    if len(film.snapshots) < 2:
        raise ParameterError("the film has fewer than 2 snapshots; train for longer or snapshot more often")
    frames = max(2, int(round(seconds * fps)))
    proj = projection_of(film)
    motion = motion_profile(film, proj, seed=seed)
    weight = style.motion_blend * motion / max(motion.sum(), 1e-12) + (1 - style.motion_blend) / len(motion)
    cum = np.concatenate([[0.0], np.cumsum(weight)])
    cum /= cum[-1]
    moving = max(2, int(round(frames * (1 - style.hold))))
    u = np.minimum(np.arange(frames) / (moving - 1), 1.0)
    position = np.interp(u, cum, np.arange(len(cum)))
    # camera: robust bounds on a sample of the dots, smoothed without lag
    n = film.snapshots.shape[1]
    idx = np.sort(np.random.default_rng(seed).choice(n, size=min(20000, n), replace=False))
    raw = np.empty((frames, 4))
    cache: dict[int, np.ndarray] = {}
    for fr, pos in enumerate(position):
        key = int(round(pos * 4))                   # quarter-snapshot resolution is smooth after filtering
        if key not in cache:
            k = int(np.clip(np.floor(pos), 0, len(film.snapshots) - 1))
            w = pos - k
            a = np.asarray(film.snapshots[k][idx], dtype=np.float32)
            if w > 1e-6 and k + 1 < len(film.snapshots):
                a = a + w * (np.asarray(film.snapshots[k + 1][idx], dtype=np.float32) - a)
            a = a if proj is None else a @ proj.astype(np.float32)
            lo, hi = np.percentile(a, style.frame_percent, axis=0), np.percentile(a, 100 - style.frame_percent, axis=0)
            pad = (hi - lo) * style.margin + 1e-6
            cache[key] = np.array([lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1]])
        raw[fr] = cache[key]
    bounds = ease_bounds(raw, fps=fps, seconds=style.camera_seconds)
    env, newest, bframes = beat_envelope(np.asarray(beats if beats is not None else []), downbeats,
                                         frames=frames, fps=fps, decay_beats=style.decay_beats,
                                         accent=style.accent)
    return PulsePlan(fps, position, bounds, env * style.pulse, newest, bframes, proj, style)


def _beat_noise(beat: int, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng([seed, beat]).standard_normal((n, 2), dtype=np.float32)


def frame_points(film: Filmed, plan: PulsePlan, frame: int, *, seed: int = 0,
                 noise_cache: dict | None = None) -> np.ndarray:
    """The dots of one frame in latent coordinates, pulse included, ``(N, 2)``."""
    pts = points_at(film, float(plan.position[frame]), plan.projection)
    b = int(plan.beat_index[frame])
    if b >= 0 and plan.envelope[frame] > 1e-4:
        cache = noise_cache if noise_cache is not None else {}
        if b not in cache:
            cache.clear()
            cache[b] = _beat_noise(b, len(pts), seed)
        x0, x1, y0, y1 = plan.bounds[frame]
        size = 0.5 * min(x1 - x0, y1 - y0)
        pts = pts + cache[b] * np.float32(plan.envelope[frame] * size)
    return pts


def dot_size(n: int, width: int, height: int, *, radius: float | None = None,
             gain: float | None = None) -> tuple[float, float]:
    """Dot radius and opacity gain for ``n`` dots on a frame: sparse films get bigger, bolder dots (radius
    0.15 x the mean spacing, 1 to 3 px); 300k dots on 1080p stay at 1 px with gentle gain, so clusters glow."""
    spacing = float(np.sqrt(width * height / max(n, 1)))
    r = float(np.clip(0.15 * spacing, 1.0, 3.0)) if radius is None else float(radius)
    g = float(np.clip(0.6 * r * r, 0.6, 4.0)) if gain is None else float(gain)
    return r, g


def iter_frames(film: Filmed, plan: PulsePlan, *, seed: int = 0, start: int = 0, stop: int | None = None):
    """Yield ``(H, W, 3)`` uint8 frames of the plan (``start`` .. ``stop``)."""
    st = plan.style
    palette = raster.label_palette(len(film.label_names))
    colors = palette[np.asarray(film.labels)].astype(np.float32)
    names = [f"{name}" for name in film.label_names]
    cache: dict = {}
    stop = plan.frames if stop is None else min(stop, plan.frames)
    legend = st.legend and st.height >= 160 and st.width >= 240      # smaller frames have no room for it
    radius, gain = dot_size(len(colors), st.width, st.height, radius=st.radius, gain=st.gain)
    for fr in range(start, stop):
        pts = frame_points(film, plan, fr, seed=seed, noise_cache=cache)
        xy = raster.to_pixels(pts, bounds=tuple(plan.bounds[fr]), width=st.width, height=st.height)
        img = raster.render_points(xy, width=st.width, height=st.height, colors=colors, radius=radius,
                                   gain=gain, background=st.background)
        if legend:
            img = raster.draw_legend(img, names, palette, title=st.title)
        yield img


def pulse_alignment(plan: PulsePlan, beats: np.ndarray) -> np.ndarray:
    """Frame offset of each pulse peak (local maximum of the envelope) from the nearest beat, in frames.

    The offsets are measured on the envelope the frames are drawn with; the criterion is |offset| <= 1.
    """
    env = plan.envelope
    if env.size < 3 or not np.any(env > 0):
        return np.zeros(0)
    peaks = np.flatnonzero((env[1:-1] > env[:-2]) & (env[1:-1] >= env[2:])) + 1
    if env[0] > env[1]:
        peaks = np.concatenate([[0], peaks])
    beat_frames = np.asarray(beats, dtype=np.float64) * plan.fps
    if beat_frames.size == 0:
        return np.full(peaks.size, np.inf)
    return np.array([float(np.min(np.abs(beat_frames - p))) for p in peaks])


def fit_tempo(bpm: float, fps: float, *, prefer: str = "nearest") -> float:
    """A tempo whose beat lasts a whole number of frames (Latent Pulsations: 172 -> 160 bpm at 24 fps).

    ``prefer``: ``"nearest"`` whole number of frames, ``"slower"`` (more frames per beat) or ``"faster"``.
    """
    if not (bpm > 0 and fps > 0):
        raise ParameterError(f"bpm={bpm} and fps={fps} must be positive")
    per = 60.0 * fps / bpm
    k = {"nearest": round(per), "slower": np.ceil(per), "faster": np.floor(per)}.get(prefer)
    if k is None:
        raise ParameterError(f"prefer={prefer!r} must be 'nearest', 'slower' or 'faster'")
    return 60.0 * fps / max(1.0, float(k))
