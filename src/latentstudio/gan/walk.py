"""Latent walks: keyframes, interpolation, easing, loops, constant perceived speed, beat-locked timing.

A walk is a :class:`LatentPath` through ``K`` keyframe latents (from seeds, or given: projected pictures) and
a *position* per frame, a float in ``[0, span]`` (``span = K - 1``, or ``K`` for a loop back to the first key).

* **interpolation** — ``"lerp"`` or ``"slerp"`` on the Gaussian part of the latent (slerp turns the direction
  on the great circle and moves the length linearly, so a walk between typical latents never cuts through
  the unlikely middle of the ball); a condition part (an eye's colour) is always blended linearly.
* **easing** — ``"linear"``, ``"sine"``, ``"smooth"`` (smoothstep), ``"smoother"`` on each segment's fraction:
  a deliberate slow-down at every keyframe.
* **constant perceived speed** — :func:`constant_speed_positions` re-parametrises the path by its arc length
  under a feature metric (the distance between EfficientNet-Lite0 pooled features of consecutive pictures,
  :func:`feature_measure`), so the picture changes by the same amount from frame to frame: no jumps where the
  generator changes fast, no stalls where it barely moves. Pacing ``"global"`` spends time on each segment in
  proportion to its length; ``"segment"`` keeps each keyframe at its time (the beat it is locked to) and
  evens the speed inside each segment.
* **beats** — :func:`beat_key_coordinates` places a keyframe every ``beats_per_key`` beats of a track;
  :func:`beat_accents` adds a decaying push along a fresh random direction at every beat (stronger on downbeats).
* :func:`evenness` — max / median of the frame-to-frame feature distances (1 is perfectly even).

Example
-------
>>> import torch
>>> keys = torch.randn(3, 8)
>>> path = LatentPath(keys, interpolation="slerp")
>>> path.at(np.linspace(0, path.span, 5)).shape
torch.Size([5, 8])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from latentstudio.core.rhythm import beat_envelope
from latentstudio.errors import ParameterError

INTERPOLATIONS = ("lerp", "slerp")
PACES = ("global", "segment")


def _ease(name: str) -> Callable[[np.ndarray], np.ndarray]:
    table = {
        "linear": lambda u: u,
        "sine": lambda u: 0.5 - 0.5 * np.cos(np.pi * u),
        "smooth": lambda u: u * u * (3 - 2 * u),
        "smoother": lambda u: u * u * u * (u * (6 * u - 15) + 10),
    }
    if name not in table:
        raise ParameterError(f"easing={name!r} must be one of {', '.join(table)}")
    return table[name]


EASINGS = ("linear", "sine", "smooth", "smoother")


def lerp(a: torch.Tensor, b: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """``a + u (b - a)``, row by row (``u`` of shape ``(N, 1)``)."""
    return a + u * (b - a)


def slerp(a: torch.Tensor, b: torch.Tensor, u: torch.Tensor, *, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation of the direction, linear of the length: ``|slerp| = (1 - u)|a| + u|b|``.

    Rows of ``a`` and ``b`` (``(N, D)``); nearly parallel rows fall back to a normalised lerp.
    """
    na, nb = a.norm(dim=-1, keepdim=True), b.norm(dim=-1, keepdim=True)
    da, db = a / na.clamp_min(eps), b / nb.clamp_min(eps)
    dot = (da * db).sum(-1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7)
    theta = torch.arccos(dot)
    s = torch.sin(theta)
    small = s < 1e-4
    wa = torch.where(small, 1 - u, torch.sin((1 - u) * theta) / s.clamp_min(1e-12))
    wb = torch.where(small, u, torch.sin(u * theta) / s.clamp_min(1e-12))
    d = wa * da + wb * db
    d = d / d.norm(dim=-1, keepdim=True).clamp_min(eps)
    return d * ((1 - u) * na + u * nb)


def truncate(latents: torch.Tensor, mean: torch.Tensor, psi: float, *, noise_dim: int | None = None) -> torch.Tensor:
    """Pull the Gaussian part of latents towards ``mean`` by ``psi`` (1: unchanged, 0: the mean picture)."""
    if not np.isfinite(psi) or psi < 0:
        raise ParameterError(f"truncation={psi!r} must be a finite number >= 0")
    nd = latents.shape[-1] if noise_dim is None else noise_dim
    out = latents.clone()
    out[..., :nd] = mean[:nd] + psi * (latents[..., :nd] - mean[:nd])
    return out


def seed_latents(generator: torch.nn.Module, seeds, *, truncation: float = 1.0, condition=None) -> torch.Tensor:
    """One latent per seed (``generator.sample_latents`` with a generator seeded by it): ``(K, latent_dim)``."""
    seeds = list(seeds)
    if not seeds:
        raise ParameterError("seeds=[] is empty; give at least one seed")
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 0 <= s <= 2**63 - 1:
            raise ParameterError(f"seed {s!r} must be an integer from 0 to 2**63 - 1")
    return torch.cat([generator.sample_latents(1, generator=torch.Generator().manual_seed(int(s)),
                                               truncation=truncation, condition=condition) for s in seeds])


@dataclass
class LatentPath:
    """A path through keyframe latents ``keys`` ``(K, D)``; positions run over ``[0, span]``.

    ``noise_dim``: leading entries interpolated by ``interpolation`` (the rest blended linearly); ``loop``: the
    path returns to the first key (``span = K``); ``easing`` shapes each segment's fraction.
    """

    keys: torch.Tensor
    interpolation: str = "slerp"
    loop: bool = False
    easing: str = "linear"
    noise_dim: int | None = None

    def __post_init__(self):
        if not isinstance(self.keys, torch.Tensor):
            self.keys = torch.as_tensor(np.asarray(self.keys), dtype=torch.float32)
        if self.keys.ndim != 2 or len(self.keys) < 1 or not bool(torch.isfinite(self.keys).all()):
            raise ParameterError(f"keys must be a finite (K, D) array with K >= 1, got {tuple(self.keys.shape)}")
        if len(self.keys) < 2 and not self.loop:
            raise ParameterError("a walk needs at least 2 keyframes (or loop=True)")
        if self.interpolation not in INTERPOLATIONS:
            raise ParameterError(f"interpolation={self.interpolation!r} must be one of {', '.join(INTERPOLATIONS)}")
        self._ease = _ease(self.easing)
        self.keys = self.keys.float()

    @property
    def span(self) -> int:
        return len(self.keys) if self.loop else len(self.keys) - 1

    def at(self, positions) -> torch.Tensor:
        """Latents ``(F, D)`` at these positions (clipped to ``[0, span]``)."""
        p = np.clip(np.asarray(positions, dtype=np.float64).ravel(), 0.0, float(self.span))
        k = np.minimum(np.floor(p).astype(np.int64), self.span - 1)
        u = torch.from_numpy(self._ease(p - k)).float()[:, None]
        n = len(self.keys)
        a, b = self.keys[k % n], self.keys[(k + 1) % n]
        nd = self.keys.shape[1] if self.noise_dim is None else self.noise_dim
        mix = slerp if self.interpolation == "slerp" else lerp
        out = torch.empty_like(a)
        out[:, :nd] = mix(a[:, :nd], b[:, :nd], u)
        if nd < a.shape[1]:
            out[:, nd:] = lerp(a[:, nd:], b[:, nd:], u)
        return out


def plain_positions(frames: int, span: int, *, loop: bool) -> np.ndarray:
    """Positions of a walk at constant parameter speed: ``frames`` values over ``[0, span]`` (a loop leaves
    the end out, so the first frame follows the last)."""
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 2:
        raise ParameterError(f"frames={frames!r} must be an integer >= 2")
    return np.linspace(0.0, float(span), frames, endpoint=not loop)


def step_distances(features: np.ndarray) -> np.ndarray:
    """Euclidean distances between consecutive rows."""
    f = np.asarray(features, dtype=np.float64)
    return np.linalg.norm(np.diff(f, axis=0), axis=1)


def evenness(steps: np.ndarray) -> dict:
    """Max, median and min of frame-to-frame distances and the ratio max / median (1 = even; jumps raise it)."""
    s = np.asarray(steps, dtype=np.float64)
    med = float(np.median(s)) if s.size else 0.0
    return {"max": float(s.max()) if s.size else 0.0, "median": med, "min": float(s.min()) if s.size else 0.0,
            "max_over_median": float(s.max() / med) if med > 0 else float("inf"),
            "min_over_median": float(s.min() / med) if med > 0 else 0.0}


def _arc_targets(coords: np.ndarray, key_arc: np.ndarray, total: float, span: int, pace: str) -> np.ndarray:
    if pace == "global":
        return total * coords / span
    k = np.minimum(np.floor(coords).astype(np.int64), span - 1)
    v = coords - k
    return key_arc[k] + v * (key_arc[k + 1] - key_arc[k])


def constant_speed_positions(measure: Callable[[np.ndarray], np.ndarray], *, span: int, coords: np.ndarray,
                             pace: str = "global", oversample: int = 3, refine: int = 2) -> tuple[np.ndarray, dict]:
    """Positions at which the path moves at constant speed under the metric of ``measure``.

    Parameters
    ----------
    measure : ``measure(positions) -> (n, d)`` features of the path's pictures at those positions
    span : the path's position range ``[0, span]``
    coords : the frames' plain positions (:func:`plain_positions`, or :func:`beat_key_coordinates`): with
        ``pace="global"`` only their spacing matters (frame ``f`` gets arc length ``total x coords[f] / span``);
        with ``"segment"`` a frame at ``k + v`` lies at fraction ``v`` of segment ``k``'s arc length
    oversample : samples of the path per frame for the first estimate of its arc length
    refine : passes that measure the frames themselves and move them until consecutive frames are equally far
        apart (each costs one ``measure`` of every frame): a jump between two frames is spread out

    Returns
    -------
    positions : ``(F,)`` floats
    info : ``{"samples": n, "length": total feature length}``
    """
    if pace not in PACES:
        raise ParameterError(f"pace={pace!r} must be one of {', '.join(PACES)}")
    coords = np.asarray(coords, dtype=np.float64)
    n0 = max(2, oversample * len(coords)) + 1
    samples = np.unique(np.concatenate([np.linspace(0.0, span, n0), np.arange(span + 1, dtype=np.float64)]))
    feats = np.asarray(measure(samples), dtype=np.float64)
    cum = np.concatenate([[0.0], np.cumsum(step_distances(feats))])
    key_arc = np.interp(np.arange(span + 1), samples, cum)
    pos = np.interp(_arc_targets(coords, key_arc, float(cum[-1]), span, pace), cum, samples)
    length = float(cum[-1])
    for _ in range(refine):
        # at the frames' own scale the chords between consecutive frames (what a viewer sees) are made equal;
        # inside each frame interval every sample measured so far says where the change happens, so a jump
        # narrower than a frame is found, and variation finer than a frame no longer counts as speed
        # the frames plus both ends of the path (a beat-locked walk starts inside its first segment)
        at = np.concatenate([[0.0] if pos[0] > 1e-9 else [], pos, [float(span)] if pos[-1] < span - 1e-9 else []])
        f_at = np.asarray(measure(at), dtype=np.float64)
        chords = step_distances(f_at)
        samples, feats = _merge(samples, feats, at, f_at)
        ucum = np.concatenate([[0.0], np.cumsum(step_distances(feats))])
        fcum_at = np.concatenate([[0.0], np.cumsum(chords)])
        u_at = np.interp(at, samples, ucum)
        f = np.clip(np.searchsorted(at, samples, side="right") - 1, 0, len(at) - 2)
        du = u_at[f + 1] - u_at[f]
        dp = at[f + 1] - at[f]
        frac = np.where(du > 1e-12, (ucum - u_at[f]) / np.where(du > 1e-12, du, 1.0),
                        (samples - at[f]) / np.where(dp > 1e-12, dp, 1.0))
        fcum = fcum_at[f] + chords[f] * np.clip(frac, 0.0, 1.0)
        fcum = np.maximum.accumulate(fcum)
        fkey = np.interp(np.arange(span + 1), samples, fcum)
        pos = np.interp(_arc_targets(coords, fkey, float(fcum[-1]), span, pace), fcum, samples)
    return pos, {"samples": int(len(samples)), "length": length}


def _merge(samples: np.ndarray, feats: np.ndarray, new: np.ndarray, new_feats: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """Union of two sets of measured positions (sorted, first measurement of a repeated position kept)."""
    p = np.concatenate([samples, new])
    f = np.concatenate([feats, new_feats])
    p, idx = np.unique(p, return_index=True)
    return p, f[idx]


def feature_measure(generator: torch.nn.Module, path: LatentPath, *, size: int = 128, batch_size: int = 16,
                    feature_model=None, progress=None) -> Callable[[np.ndarray], np.ndarray]:
    """``measure(positions)``: pooled EfficientNet-Lite0 features of the generator's pictures along ``path``."""
    from latentstudio.gan.metrics import image_features
    from latentstudio.gan.training import generate

    def measure(positions: np.ndarray) -> np.ndarray:
        pictures = generate(generator, path.at(positions), batch_size=batch_size)
        f = image_features(pictures, size=size, batch_size=batch_size, model=feature_model)
        if progress is not None:
            progress(len(positions))
        return f

    return measure


def beat_key_coordinates(beats: np.ndarray, *, frames: int, fps: float, beats_per_key: int = 4
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Plain positions of frames whose keyframes fall on every ``beats_per_key``-th beat.

    The beat grid is extended by its median period before the first and after the last beat, so every frame
    lies between two keys. Returns ``(coords (F,), key_times (K,))``: key ``k`` is reached at ``key_times[k]``
    seconds, and ``coords`` rises linearly in time between keys (constant-speed pacing then evens each segment).
    """
    b = np.asarray(beats, dtype=np.float64)
    b = b[np.isfinite(b)]
    if isinstance(beats_per_key, bool) or not isinstance(beats_per_key, int) or beats_per_key < 1:
        raise ParameterError(f"beats_per_key={beats_per_key!r} must be a positive integer")
    if b.size < 2:
        raise ParameterError(f"{b.size} beat(s) found; a beat-locked walk needs at least 2")
    b = np.unique(b)
    period = float(np.median(np.diff(b)))
    end = frames / fps
    before = np.arange(b[0] - period, -period * beats_per_key - 1e-9, -period)[::-1]
    after = np.arange(b[-1] + period, end + period * beats_per_key + 1e-9, period)
    grid = np.concatenate([before, b, after])
    # keys keep the phase of the first tracked beat; the first key is the last such beat at or before 0
    phase = np.arange(len(before) % beats_per_key, len(grid), beats_per_key)
    first = int(phase[grid[phase] <= 0.0].max()) if np.any(grid[phase] <= 0.0) else int(phase[0])
    key_times = grid[first::beats_per_key]
    key_times = key_times[: int(np.searchsorted(key_times, end, side="left")) + 1]
    t = np.arange(frames) / fps
    coords = np.interp(t, key_times, np.arange(len(key_times), dtype=np.float64))
    return coords, key_times


def beat_accents(beats: np.ndarray, downbeats: np.ndarray | None, *, frames: int, fps: float, dim: int,
                 strength: float = 0.3, decay_beats: float = 0.35, accent: float = 1.6, seed: int = 0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame latent offsets ``(F, dim)``: at each beat a push of ``strength x sqrt(dim)`` along a fresh
    seeded unit direction, decaying exponentially over ``decay_beats`` of a beat, ``accent`` times stronger on
    downbeats. Also returns the envelope ``(F,)`` (1 at a beat's frame)."""
    env, newest, _ = beat_envelope(np.asarray(beats, dtype=np.float64), downbeats, frames=frames, fps=fps,
                                   decay_beats=decay_beats, accent=accent)
    offsets = np.zeros((frames, dim), dtype=np.float32)
    cache: dict[int, np.ndarray] = {}
    for f in np.flatnonzero(newest >= 0):
        b = int(newest[f])
        if b not in cache:
            d = np.random.default_rng([seed, b]).standard_normal(dim)
            cache[b] = (d / np.linalg.norm(d)).astype(np.float32)
        offsets[f] = cache[b] * np.float32(strength * np.sqrt(dim) * env[f])
    return offsets, env


def peak_offsets(envelope: np.ndarray, beats: np.ndarray, *, fps: float) -> np.ndarray:
    """Frame distance of each envelope peak from the nearest beat (the criterion: at most 1 frame)."""
    env = np.asarray(envelope, dtype=np.float64)
    if env.size < 3 or not np.any(env > 0):
        return np.zeros(0)
    peaks = np.flatnonzero((env[1:-1] > env[:-2]) & (env[1:-1] >= env[2:])) + 1
    if env[0] > env[1]:
        peaks = np.concatenate([[0], peaks])
    bf = np.asarray(beats, dtype=np.float64) * fps
    if bf.size == 0:
        return np.full(peaks.size, np.inf)
    return np.array([float(np.min(np.abs(bf - p))) for p in peaks])


__all__ = ["LatentPath", "lerp", "slerp", "truncate", "seed_latents", "plain_positions", "constant_speed_positions",
           "feature_measure", "step_distances", "evenness", "beat_key_coordinates", "beat_accents", "peak_offsets",
           "INTERPOLATIONS", "EASINGS", "PACES"]
