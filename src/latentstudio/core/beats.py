"""Tempo, beats, downbeats and bar phase.

The tracker has two halves that can be used apart:

1. an *activation*: per frame, how likely a beat is there. Without a model it is the onset envelope
   of :mod:`latentstudio.core.onsets` (spectral flux of a log-mel spectrogram); the DJ passes the
   output of its trained beat network instead (``activation=``).
2. a *decoder*: dynamic programming over (beat time, beat interval) — a beat-pointer model like a
   dynamic Bayesian network, solved exactly with Viterbi in blocks so it runs vectorised. The beat
   interval may drift slowly from beat to beat (``transition_lambda``), a log-normal tempo prior keeps
   the metrical level (``prior_bpm``), and beats are refined to sub-frame precision.

Downbeats: every bar phase of every meter is a candidate. With a trained network's downbeat activation,
a spectrogram and its fitted ``downbeat_weights`` (:func:`choose_downbeats`), each candidate is scored by
a conditional logit over the contrasts, at its downbeats against the other beats, of the downbeat and beat
activations, the spectral and bass-line change across the beat and the bass onsets, plus a prior per meter
(2, 3, 4); otherwise the phase where the per-beat score (the downbeat activation, else bass onsets and
harmonic change) stands out most wins (:func:`downbeat_phase`, meters 3 and 4).

Beats can also be drawn onto a smooth grid (:func:`smooth_beats`, ``smooth=``): off by default.

Frame ``t`` is at time ``t / fps`` seconds, with ``fps = sr / hop_length``.

Once beats are known, :func:`beat_envelope` turns them into a per-frame pulse for a video (used by the
Latent Pulsations film and the GAN's beat-accented walks).

Example
-------
>>> import numpy as np
>>> sr = 16000
>>> y = np.zeros(8 * sr, dtype=np.float32)
>>> for t in np.arange(0.5, 8, 0.5):                       # 120 bpm clicks
...     i = int(t * sr); y[i:i + 400] += np.hanning(800)[400:] * np.sin(np.arange(400))
>>> res = beat_track(y, sr=sr)
>>> round(res.bpm)
120
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from latentstudio.errors import ParameterError

#: Analysis sample rate and hop of the default front end (100 frames per second).
SR = 16000
HOP_LENGTH = 160
MIN_BPM = 55.0
MAX_BPM = 215.0


#: Centres (bpm) of the tempo classes of a beat network's tempo head: log-spaced, about 1.9 % apart.
TEMPO_GRID = np.geomspace(40.0, 250.0, 100)


def tempo_target(bpm: float, *, grid: np.ndarray = TEMPO_GRID, width: float = 1.0) -> np.ndarray:
    """Soft class target for a tempo: a Gaussian over ``grid`` (log tempo, ``width`` classes wide), sum 1."""
    _positive("bpm", bpm)
    step = float(np.log(grid[1] / grid[0]))
    z = (np.log(grid) - np.log(float(bpm))) / (step * width)
    logp = -0.5 * z * z
    p = np.exp(logp - logp.max())  # far outside the grid every class underflows: the nearest keeps the mass
    return p / p.sum()


def tempo_log_prob(bpm: float, tempo_probs: np.ndarray, *, grid: np.ndarray = TEMPO_GRID,
                   tolerance: float = 0.04) -> float:
    """Log of the probability mass ``tempo_probs`` (over ``grid``) puts within ``tolerance`` of ``bpm``."""
    p = np.asarray(tempo_probs, dtype=np.float64)
    if p.shape != grid.shape:
        raise ParameterError(f"tempo_probs has shape {p.shape}, the tempo grid {grid.shape}")
    near = np.abs(np.log(grid / float(bpm))) <= np.log1p(tolerance)
    return float(np.log(p[near].sum() + 1e-3))


@dataclass
class BeatResult:
    """What :func:`beat_track` found. Times in seconds."""

    bpm: float
    beats: np.ndarray
    downbeats: np.ndarray
    beats_per_bar: int
    confidence: float = 0.0
    info: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"bpm": round(float(self.bpm), 3), "beats": [round(float(b), 4) for b in self.beats],
                "downbeats": [round(float(b), 4) for b in self.downbeats], "beats_per_bar": int(self.beats_per_bar),
                "confidence": round(float(self.confidence), 4)}


def _positive(name: str, value, *, integer: bool = False) -> float:
    ok = isinstance(value, (int, np.integer)) if integer else isinstance(value, (int, float, np.number))
    if isinstance(value, bool) or not ok or not np.isfinite(value) or value <= 0:
        kind = "a positive integer" if integer else "a positive number"
        raise ParameterError(f"{name}={value!r} must be {kind}")
    return value


def _meters(beats_per_bar) -> tuple[int, ...]:
    m = tuple(beats_per_bar)
    if not m or any(isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1 for b in m):
        raise ParameterError(f"beats_per_bar={beats_per_bar!r} must be a non-empty tuple of positive ints")
    return m


def _activation(a, name: str = "activation") -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise ParameterError(f"{name} must be a non-empty 1-D array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ParameterError(f"{name} contains NaN or infinite values")
    return a


def features(y: np.ndarray, *, sr: int, hop_length: int = HOP_LENGTH, n_mels: int = 64) -> np.ndarray:
    """Log-mel spectrogram ``(n_mels, frames)`` of mono ``y`` resampled to :data:`SR` (the tracker's input).

    ``y`` may be ``(channels, n)`` (averaged) at any ``sr``; frames are ``hop_length`` samples at 16 kHz.
    """
    from latentstudio.core.audio import resample, valid_audio
    from latentstudio.core.spectral import log_mel

    y = valid_audio(y)
    _positive("sr", sr, integer=True)
    if y.ndim == 2:
        y = y.mean(axis=0)
    if sr != SR:
        y = resample(y, orig_sr=int(sr), target_sr=SR)
    if y.shape[-1] < 2048:
        y = np.pad(y, (0, 2048 - y.shape[-1]))
    return log_mel(y, sr=SR, n_fft=1024, hop_length=int(hop_length), n_mels=n_mels, fmin=30.0, fmax=7600.0).numpy()


def onset_activation(S: np.ndarray) -> np.ndarray:
    """Model-free beat activation in [0, 1] from a log-mel spectrogram: normalised spectral flux."""
    from latentstudio.core.onsets import onset_envelope

    env = onset_envelope(S=S, sr=SR, hop_length=HOP_LENGTH).astype(np.float64)
    if env.max() <= 0:
        return np.zeros_like(env)
    # remove the slow trend, then squash to a pseudo-probability
    k = min(41, env.size if env.size % 2 else env.size - 1)  # odd, <= len(env): "same" keeps env's length
    trend = np.convolve(env, np.ones(k) / k, mode="same")
    env = np.maximum(0.0, env - trend)
    scale = np.percentile(env[env > 0], 95) if np.any(env > 0) else 1.0
    return np.clip(2.0 * env / (scale + 1e-9), 0.0, 1.0) * 0.9


def tempo_candidates(activation: np.ndarray, *, fps: float, min_bpm: float = MIN_BPM, max_bpm: float = MAX_BPM,
                     prior_bpm: float = 120.0, prior_width: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Tempo strength per bpm from the autocorrelation of the activation, weighted by a log-normal prior.

    Returns ``(bpms, strength)``; ``bpms[argmax(strength)]`` is the global tempo.
    """
    a = _activation(activation)
    a = a - a.mean()
    n = len(a)
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    spec = np.fft.rfft(a, nfft)
    ac = np.fft.irfft(spec * np.conj(spec), nfft)[:n]
    lags = np.arange(max(1, int(fps * 60 / max_bpm)), min(n - 1, int(np.ceil(fps * 60 / min_bpm))) + 1)
    if lags.size == 0:
        return np.array([prior_bpm]), np.array([0.0])
    # comb: reward lags whose multiples also correlate (metrical consistency)
    strength = np.zeros(len(lags))
    for k, w in ((1, 1.0), (2, 0.5), (3, 0.25), (4, 0.25)):
        idx = np.minimum(lags * k, n - 1)
        strength += w * ac[idx]
    strength = np.maximum(strength, 0.0)
    bpms = 60.0 * fps / lags
    prior = np.exp(-0.5 * (np.log2(bpms / prior_bpm) / prior_width) ** 2)
    return bpms, strength * prior


def decode_beats(activation: np.ndarray, *, fps: float, min_bpm: float = MIN_BPM, max_bpm: float = MAX_BPM,
                 prior_bpm: float = 120.0, prior_width: float = 1.0, transition_lambda: float = 100.0,
                 tempo_weight: float = 1.0) -> np.ndarray:
    """Beat frames (float, sub-frame refined) by Viterbi over (time, beat interval).

    Parameters
    ----------
    activation : beat probability per frame in [0, 1]
    fps : frames per second of ``activation``
    min_bpm, max_bpm : tempo range searched
    prior_bpm, prior_width : log-normal tempo prior (centre in bpm, width in octaves) on the global tempo
    transition_lambda : how strongly a change of beat interval between two beats is penalised
        (log-probability ``-lambda * |ratio - 1|``, as in madmom's DBN)
    tempo_weight : weight of the global-tempo agreement term (0 disables it)

    Returns
    -------
    np.ndarray : beat positions in frames (float), increasing
    """
    a = np.clip(_activation(activation), 1e-6, 1 - 1e-6)
    _positive("fps", fps)
    if not (0 < min_bpm < max_bpm):
        raise ParameterError(f"min_bpm={min_bpm!r}, max_bpm={max_bpm!r} must satisfy 0 < min_bpm < max_bpm")
    n = len(a)
    tau_min = max(2, int(np.floor(60.0 * fps / max_bpm)))
    tau_max = max(tau_min + 1, int(np.ceil(60.0 * fps / min_bpm)))
    taus = np.arange(tau_min, tau_max + 1)
    if n < 2 * tau_min or a.max() < 0.05:
        return np.zeros(0)
    # reward of a beat at t: log-odds (the non-beat frames' log(1 - a) is common to every path)
    r = np.log(a) - np.log1p(-a)
    # global tempo agreement: favour intervals near the strongest tempo and its metrical level
    tempo_lp = np.zeros(len(taus))
    if tempo_weight > 0:
        bpms, strength = tempo_candidates(a, fps=fps, min_bpm=min_bpm, max_bpm=max_bpm, prior_bpm=prior_bpm,
                                          prior_width=prior_width)
        tempo_bpm = float(bpms[int(np.argmax(strength))]) if strength.max() > 0 else prior_bpm
        tau_est = 60.0 * fps / tempo_bpm
        tempo_lp = -tempo_weight * 2.0 * np.log2(taus / tau_est) ** 2
    # banded transitions between intervals
    ratio = taus[None, :] / taus[:, None]                      # [prev j', next j]
    trans = -transition_lambda * np.abs(ratio - 1.0)
    trans[trans < -30] = -np.inf
    width = int(max(np.isfinite(trans[:, j]).sum() for j in range(len(taus))))
    src = np.zeros((len(taus), width), dtype=np.int64)
    tval = np.full((len(taus), width), -np.inf)
    for j in range(len(taus)):
        js = np.nonzero(np.isfinite(trans[:, j]))[0]
        src[j, : len(js)] = js
        tval[j, : len(js)] = trans[js, j]
    T = len(taus)
    D = np.full((n + tau_max, T), -np.inf)      # row t + tau_max is frame t; rows < tau_max: before start
    D[:tau_max] = 0.0
    back = np.full((n, T), -1, dtype=np.int64)  # argmax j' (or -1: path starts here)
    B = tau_min
    for b in range(0, n, B):
        ts = np.arange(b, min(n, b + B))
        prev_rows = (ts[:, None] - taus[None, :]) + tau_max                     # (bt, T)
        cand = D[prev_rows[:, :, None], src[None, :, :]] + tval[None, :, :]     # (bt, T, W)
        k = np.argmax(cand, axis=2)
        best = np.take_along_axis(cand, k[:, :, None], axis=2)[:, :, 0]
        jprev = np.take_along_axis(np.broadcast_to(src, cand.shape), k[:, :, None], axis=2)[:, :, 0]
        D[ts + tau_max] = r[ts][:, None] + best + tempo_lp[None, :]
        back[ts] = np.where(ts[:, None] - taus[None, :] < 0, -1, jprev)
    # the path runs through the whole signal: it ends within the last beat interval
    tail = D[tau_max + max(0, n - tau_max):]
    t, j = np.unravel_index(int(np.argmax(tail)), tail.shape)
    t += max(0, n - tau_max)
    frames = []
    while True:
        frames.append(t)
        jp = back[t, j]
        if jp < 0:
            break
        t, j = t - taus[j], jp
    frames = _extend_end(frames[::-1], r, taus, tempo_lp)
    # drop beats in leading/trailing stretches without activity (silence, fade-out)
    local = np.array([a[max(0, int(f) - 2): int(f) + 3].max() for f in frames])
    active = np.nonzero(local >= 0.1 * a.max())[0]
    if active.size == 0:
        return np.zeros(0)
    frames = frames[active[0]: active[-1] + 1]
    # sub-frame refinement: parabola through the activation around each beat
    i = frames.astype(np.int64)
    lo, hi = np.clip(i - 1, 0, n - 1), np.clip(i + 1, 0, n - 1)
    y0, y1, y2 = a[lo], a[i], a[hi]
    den = y0 - 2 * y1 + y2
    off = np.where((np.abs(den) > 1e-9) & (y1 >= y0) & (y1 >= y2), 0.5 * (y0 - y2) / np.where(den == 0, 1, den), 0.0)
    return frames + np.clip(off, -0.5, 0.5)


def _extend_end(frames: list, r: np.ndarray, taus: np.ndarray, tempo_lp: np.ndarray) -> np.ndarray:
    """Continue a decoded path past its end while the next beat is more likely than not.

    The Viterbi path may stop one beat early: its beat intervals are whole frames, so a tempo between two
    integers alternates them, and each alternation costs ``lambda * |ratio - 1|``, which at the very end
    can outweigh a clear last beat. Here the next beat, one interval on (+-1 frame of that jitter), is
    added when its log-odds plus the global-tempo term are positive, as any beat inside the path must be.
    """
    out = [int(f) for f in frames]
    n = len(r)
    while len(out) >= 2:
        d = out[-1] - out[-2]
        j = int(np.searchsorted(taus, d))
        if j >= len(taus) or taus[j] != d:
            break
        lo, hi = out[-1] + d - 1, min(n - 1, out[-1] + d + 1)
        if lo > hi:
            break
        t = lo + int(np.argmax(r[lo: hi + 1]))
        if r[t] + tempo_lp[j] <= 0:
            break
        out.append(t)
    return np.array(out, dtype=np.float64)


def downbeat_phase(beat_scores: np.ndarray, *, beats_per_bar: tuple[int, ...] = (3, 4)) -> tuple[int, int, float]:
    """Choose meter and phase: ``(beats_per_bar, index of the first downbeat, margin)`` from per-beat scores."""
    s = np.asarray(beat_scores, dtype=np.float64)
    beats_per_bar = _meters(beats_per_bar)
    best = (4 if 4 in beats_per_bar else beats_per_bar[0], 0, -np.inf)
    second = -np.inf
    if len(s) == 0:
        return best[0], 0, 0.0
    z = (s - s.mean()) / (s.std() + 1e-9)
    for m in beats_per_bar:
        for p in range(min(m, len(z))):
            sel = z[p::m]
            # contrast of the downbeat position against the bar's other positions; meters with more
            # beats must earn their extra position, so a small bias favours 4 over 3 only when tied
            val = float(sel.mean()) - float(np.delete(z, np.arange(p, len(z), m)).mean() if len(z) > len(sel) else 0.0)
            if val > best[2]:
                second = best[2]
                best = (m, p, val)
            elif val > second:
                second = val
    return best[0], best[1], float(best[2] - second) if np.isfinite(second) else 0.0


#: Tempo ratios tried by :func:`choose_metrical_level` against the decoder's first answer.
LEVEL_FACTORS = (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0, 1.5, 2.0 / 3.0)
#: Weights of the metrical-level score (a conditional logit over the candidate levels of one track),
#: fitted on 260 rendered development tracks (``random_spec`` streams of seeds 7000, 8000, 9000 and 9500,
#: 24 bars: disjoint from the beat network's training seed 0 and the bench's seed 1000) with the shipped
#: ``dj_beats`` network. 4-fold cross-validated on those tracks: tempo within 2 % 0.888 -> 0.965, beat F
#: 0.954 -> 0.977 (without ``mid_log_odds``: 0.954 and 0.974).
#: Refit: ``python bench/dj_beats.py --fit-levels 7000:40,8000:80,9000:60,9500:80``.
#: A fallback only: a beat network trained by ``latentstudio dj train-beats`` carries its own weights, fitted
#: with :func:`fit_level_weights` on its validation music, and ``track_beats`` uses those.
#: ``tempo_logp`` (a tempo head's opinion, :func:`tempo_log_prob`) is 0 here: these weights predate it.
LEVEL_WEIGHTS = {"log_odds": 3.2094, "offbeats_active": -1.5387, "downbeat_margin": 1.9019,
                 "log_tempo_sq": 0.3639, "log_tempo": 4.9987, "first_choice": 1.5145, "mid_log_odds": 0.3923,
                 "tempo_logp": 0.0}


def fit_level_weights(groups: list[tuple[np.ndarray, np.ndarray]], *, names: tuple[str, ...] | None = None,
                      l2: float = 0.1) -> dict:
    """Fit the metrical-level score from data: a conditional logit over each track's candidate levels.

    ``groups`` holds, per track, ``(X, ok)``: the candidates' features (rows in the order of ``names``,
    default the keys of :data:`LEVEL_WEIGHTS`) and which candidates are right (tempo within 2 % of the
    truth). Tracks with no right candidate are ignored. Returns ``{feature: weight}``."""
    from scipy.optimize import minimize

    names = tuple(names or LEVEL_WEIGHTS)
    gs = [(np.asarray(X, dtype=np.float64), np.asarray(ok, dtype=np.float64)) for X, ok in groups]
    gs = [g for g in gs if g[1].any()]
    if not gs:
        raise ParameterError("fit_level_weights: no track has a candidate at the right level")

    def loss(w):
        val, grad = l2 * w @ w, 2 * l2 * w
        for X, ok in gs:
            sc = X @ w
            p = np.exp(sc - sc.max())
            p /= p.sum()
            t = ok / ok.sum()
            val -= t @ np.log(p + 1e-12)
            grad -= X.T @ (t - p)
        return val, grad

    w = minimize(loss, np.zeros(len(names)), jac=True, method="L-BFGS-B").x
    return {n: round(float(v), 4) for n, v in zip(names, w)}


def cross_validate_levels(groups: list[tuple[np.ndarray, np.ndarray, np.ndarray]], *, folds: int = 4,
                          names: tuple[str, ...] | None = None, l2: float = 0.1, keys: list | None = None) -> dict:
    """:func:`fit_level_weights` on all ``groups`` (per track: candidates' features, right-tempo flags, beat
    F-measures) and its ``folds``-fold cross-validated accuracy beside the decoder's first choice (when
    ``names`` has a ``first_choice`` column; any other choice among candidates, e.g. the downbeat phase, too).
    ``keys`` (one per group, e.g. the piece a rendering came from) keeps groups with the same key in one
    fold; default: group ``i`` goes to fold ``i % folds``.

    Returns ``{"weights", "cv_tempo_within_2pct", "cv_f_measure", "first_choice_tempo_within_2pct",
    "first_choice_f_measure"}`` (None for figures with no held-out track)."""
    names = tuple(names or LEVEL_WEIGHTS)
    first = names.index("first_choice") if "first_choice" in names else None
    if keys is not None and len(keys) != len(groups):
        raise ParameterError(f"keys has {len(keys)} entries for {len(groups)} groups")
    order = {key: j for j, key in enumerate(dict.fromkeys(keys))} if keys is not None else None
    fold = [order[key] % folds for key in keys] if order is not None else [i % folds for i in range(len(groups))]
    cv_ok, cv_f, base_ok, base_f = [], [], [], []
    for k in range(folds):
        part = [(X, ok) for i, (X, ok, _) in enumerate(groups) if fold[i] != k]
        if not any(np.any(ok) for _, ok in part):
            continue
        w = fit_level_weights(part, names=names, l2=l2)
        wv = np.array([w[n] for n in names])
        for X, ok, f in (g for i, g in enumerate(groups) if fold[i] == k):
            j = int(np.argmax(X @ wv))
            cv_ok.append(ok[j])
            cv_f.append(f[j])
            if first is not None:
                j0 = int(np.argmax(X[:, first]))
                base_ok.append(ok[j0])
                base_f.append(f[j0])
    mean = lambda v: float(np.mean(v)) if v else None  # noqa: E731
    return {"weights": fit_level_weights([(X, ok) for X, ok, _ in groups], names=names, l2=l2),
            "cv_tempo_within_2pct": mean(cv_ok), "cv_f_measure": mean(cv_f),
            "first_choice_tempo_within_2pct": mean(base_ok), "first_choice_f_measure": mean(base_f)}


def _peak_at(x: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Maximum of ``x`` within +-2 frames of each (float) frame position."""
    i = np.clip(np.round(frames).astype(np.int64), 0, len(x) - 1)
    win = np.clip(i[:, None] + np.arange(-2, 3)[None, :], 0, len(x) - 1)
    return x[win].max(axis=1)


def level_features(activation: np.ndarray, downbeat_activation: np.ndarray, frames: np.ndarray, *, fps: float,
                   beats_per_bar: tuple[int, ...] = (3, 4), tempo_probs: np.ndarray | None = None) -> dict:
    """Evidence that beat frames ``frames`` sit at the right metrical level (see :data:`LEVEL_WEIGHTS`).

    ``log_odds``: mean log-odds of the beat activation at the beats (too fast a level puts beats on
    silence); ``offbeats_active``: share of midpoints between beats where the activation exceeds 0.3 (too
    slow a level leaves beats between its beats); ``mid_log_odds``: mean log-odds of the beat activation
    at those midpoints; ``downbeat_margin``: how clearly one bar phase of the downbeat activation stands out
    (bars of 2 beats are tried too: compound meters such as 6/8 count two dotted-quarter beats);
    ``log_tempo`` and ``log_tempo_sq``: log2 of bpm / 115 and its square; ``tempo_logp``: the log-probability
    a tempo head gives this tempo (:func:`tempo_log_prob`; 0 without ``tempo_probs``).
    """
    a = np.clip(np.asarray(activation, dtype=np.float64), 1e-4, 1 - 1e-4)
    on = _peak_at(a, frames)
    mid = _peak_at(a, 0.5 * (frames[1:] + frames[:-1])) if len(frames) > 1 else np.full(1, 1e-4)
    bpm = 60.0 * fps / float(np.median(np.diff(frames)))
    _, _, margin = downbeat_phase(_peak_at(np.asarray(downbeat_activation, dtype=np.float64), frames),
                                  beats_per_bar=tuple(sorted({2, *beats_per_bar})))
    lt = float(np.log2(bpm / 115.0))
    return {"log_odds": float(np.mean(np.log(on) - np.log1p(-on))), "offbeats_active": float(np.mean(mid > 0.3)),
            "mid_log_odds": float(np.mean(np.log(mid) - np.log1p(-mid))),
            "downbeat_margin": float(margin), "log_tempo_sq": lt * lt, "log_tempo": lt,
            "tempo_logp": 0.0 if tempo_probs is None else tempo_log_prob(bpm, tempo_probs), "bpm": bpm}


def level_candidates(activation: np.ndarray, downbeat_activation: np.ndarray, frames: np.ndarray, *,
                     fps: float, min_bpm: float = MIN_BPM, max_bpm: float = MAX_BPM,
                     beats_per_bar: tuple[int, ...] = (3, 4), tempo_probs: np.ndarray | None = None
                     ) -> list[tuple[float, np.ndarray, dict]]:
    """``[(factor, frames, features)]``: ``frames`` and its re-decodings at :data:`LEVEL_FACTORS` x its tempo.

    Each level within ``min_bpm``..``max_bpm`` (5 % slack) is decoded by :func:`decode_beats` within
    +-12 % of its tempo; ``features`` are :func:`level_features` plus ``first_choice`` (1 for ``frames``).
    """
    a = np.clip(_activation(activation), 0.0, 1.0)
    d = _activation(downbeat_activation, "downbeat_activation")
    if len(d) != len(a):
        raise ParameterError(f"downbeat_activation has {len(d)} frames, activation {len(a)}")
    frames = np.asarray(frames, dtype=np.float64)
    if len(frames) < 4:
        return []
    bpm0 = 60.0 * fps / float(np.median(np.diff(frames)))
    out = []
    for k, c in enumerate(LEVEL_FACTORS):
        bpm = bpm0 * c
        if not (min_bpm * 0.95 <= bpm <= max_bpm * 1.05):
            continue
        fr = frames if k == 0 else decode_beats(a, fps=fps, tempo_weight=0.0, min_bpm=bpm / 1.12,
                                                max_bpm=min(bpm * 1.12, max_bpm * 1.12))
        if len(fr) < 4:
            continue
        x = level_features(a, d, fr, fps=fps, beats_per_bar=beats_per_bar, tempo_probs=tempo_probs)
        out.append((float(c), fr, {**x, "first_choice": float(k == 0)}))
    return out


def choose_metrical_level(activation: np.ndarray, downbeat_activation: np.ndarray, frames: np.ndarray, *,
                          fps: float, min_bpm: float = MIN_BPM, max_bpm: float = MAX_BPM,
                          beats_per_bar: tuple[int, ...] = (3, 4), weights: dict | None = None,
                          tempo_probs: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """Re-decode at 2x, 1/2, 3x, 1/3, 3/2 and 2/3 the tempo of ``frames`` and keep the best-scoring level.

    The candidates come from :func:`level_candidates`; each is scored by its features dotted with
    ``weights`` (default :data:`LEVEL_WEIGHTS`). Returns ``(frames, info)`` with the chosen factor and
    every level's score.

    Example
    -------
    >>> fps = 100.0
    >>> a = np.full(2000, 0.02); a[50::50] = 0.95; d = np.full(2000, 0.02); d[50::200] = 0.9
    >>> f0 = decode_beats(a, fps=fps)
    >>> f, info = choose_metrical_level(a, d, f0, fps=fps)
    >>> round(60 * fps / float(np.median(np.diff(f))))
    120
    """
    w = LEVEL_WEIGHTS if weights is None else weights
    cands = level_candidates(activation, downbeat_activation, frames, fps=fps, min_bpm=min_bpm, max_bpm=max_bpm,
                             beats_per_bar=beats_per_bar, tempo_probs=tempo_probs)
    if not cands:
        return np.asarray(frames, dtype=np.float64), {"level_factor": 1.0}
    scores = [sum(w[name] * x.get(name, 0.0) for name in w) for _, _, x in cands]
    best = int(np.argmax(scores))
    return cands[best][1], {"level_factor": round(cands[best][0], 4),
                            "level_scores": {round(c, 4): round(float(v), 4) for (c, _, _), v in zip(cands, scores)}}


def beat_descriptors(S: np.ndarray, beat_frames: np.ndarray) -> dict[str, np.ndarray]:
    """Per-beat downbeat evidence from a log-mel spectrogram ``(n_mels, frames)``: ``low_onset`` (bass onset
    strength at the beat: the lowest sixth of the bands), ``change`` (how much the spectrum of the beat that
    starts here differs from the previous beat's: chords change at bar lines) and ``low_change`` (the same
    over the lowest three eighths of the bands: the bass line)."""
    S = np.asarray(S, dtype=np.float64)
    n = S.shape[1]
    idx = np.clip(np.round(beat_frames).astype(np.int64), 0, n - 1)
    low = S[: S.shape[0] // 6]
    low_flux = np.maximum(0.0, np.diff(low, axis=1, prepend=low[:, :1])).mean(axis=0)
    bass = np.array([low_flux[max(0, i - 2): i + 3].max() for i in idx])
    edges = np.concatenate([idx, [n]])
    seg = np.array([S[:, edges[k]: max(edges[k] + 1, edges[k + 1])].mean(axis=1) for k in range(len(idx))])

    def change(x: np.ndarray) -> np.ndarray:
        x = x - x.mean(axis=1, keepdims=True)
        x = x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-9)
        c = np.ones(len(x))
        c[1:] = 1.0 - np.sum(x[1:] * x[:-1], axis=1)
        return c
    return {"low_onset": bass, "change": change(seg), "low_change": change(seg[:, : max(2, 3 * S.shape[0] // 8)])}


def _z(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return (v - v.mean()) / (v.std() + 1e-9)


def downbeat_evidence(S: np.ndarray, beat_frames: np.ndarray, activation: np.ndarray,
                      downbeat_activation: np.ndarray) -> dict[str, np.ndarray]:
    """Every per-beat quantity of :data:`DOWNBEAT_FEATURES`: :func:`beat_descriptors` plus the beat and
    downbeat activations' peaks at the beats (``beat_frames``, frames of ``S`` and the activations)."""
    return {**beat_descriptors(S, beat_frames), "downbeat": _peak_at(downbeat_activation, beat_frames),
            "beat": _peak_at(activation, beat_frames)}


def heuristic_downbeat_scores(S: np.ndarray, beat_frames: np.ndarray) -> np.ndarray:
    """Per-beat downbeat evidence without a model: bass onset strength plus spectral change across the beat."""
    d = beat_descriptors(S, beat_frames)
    return _z(d["low_onset"]) + 0.5 * _z(d["change"])


#: What :func:`downbeat_candidates` measures of each (meter, phase): for each per-beat quantity, z-scored
#: over the track, its mean at the candidate's downbeats minus its mean at the other beats. ``downbeat``
#: and ``beat``: a network's downbeat and beat activations at the beats; the rest: :func:`beat_descriptors`.
DOWNBEAT_FEATURES = ("downbeat", "beat", "change", "low_change", "low_onset")
#: Meters the learned downbeat choice considers (2: marches, polkas, rags, and compound 6/8 counted in
#: dotted quarters).
DOWNBEAT_METERS = (2, 3, 4)


def downbeat_candidates(per_beat: dict[str, np.ndarray], *, beats_per_bar: tuple[int, ...] = DOWNBEAT_METERS
                        ) -> list[tuple[tuple[int, int], np.ndarray]]:
    """``[((meter, phase), features)]`` for every bar phase of every meter: ``features`` in the order of
    :data:`DOWNBEAT_FEATURES`, then one indicator per meter of ``beats_per_bar`` (a prior over meters)."""
    meters = _meters(beats_per_bar)
    zs = [_z(per_beat[k]) for k in DOWNBEAT_FEATURES]
    n = len(zs[0])
    out = []
    for m in meters:
        for p in range(min(m, n)):
            sel = np.zeros(n, dtype=bool)
            sel[p::m] = True
            if sel.sum() < 2 or sel.all():
                continue
            x = [float(z[sel].mean() - z[~sel].mean()) for z in zs] + [float(m == k) for k in meters]
            out.append(((m, p), np.array(x)))
    return out


def downbeat_feature_names(beats_per_bar: tuple[int, ...] = DOWNBEAT_METERS) -> tuple[str, ...]:
    """Names of :func:`downbeat_candidates`' features: :data:`DOWNBEAT_FEATURES`, then ``meter_<m>``."""
    return DOWNBEAT_FEATURES + tuple(f"meter_{m}" for m in _meters(beats_per_bar))


def choose_downbeats(per_beat: dict[str, np.ndarray], weights: dict, *,
                     beats_per_bar: tuple[int, ...] = DOWNBEAT_METERS) -> tuple[int, int, float]:
    """``(meter, index of the first downbeat, margin)``: the best-scoring candidate of
    :func:`downbeat_candidates` under ``weights`` (a conditional logit fitted by :func:`fit_level_weights`
    on music with known downbeats); ``margin`` is its score minus the runner-up's. Meters the weights do not
    know score 0 for their indicator."""
    meters = _meters(beats_per_bar)
    names = downbeat_feature_names(meters)
    w = np.array([float(weights.get(k, 0.0)) for k in names])
    cands = downbeat_candidates(per_beat, beats_per_bar=meters)
    if not cands:
        return (4 if 4 in meters else meters[0]), 0, 0.0
    sc = np.array([x @ w for _, x in cands])
    order = np.argsort(-sc, kind="stable")
    (m, p) = cands[order[0]][0]
    return m, p, float(sc[order[0]] - sc[order[1]]) if len(order) > 1 else 0.0


def smooth_beats(beats: np.ndarray, *, half_window: int = 8, max_shift: float = 0.15) -> np.ndarray:
    """Beat times drawn onto a smooth grid: each beat is replaced by a local quadratic fit (beat time
    against beat number, so steady tempo and tempo ramps are both kept) over the ``half_window`` beats on
    either side, within its run of regular beats.

    A run ends at an interval more than 40 % off the median of its neighbours (a missed or an extra beat, a
    change of level). A beat further than ``max_shift`` (a fraction of the local interval) from its fit is an
    accent the fit should not follow: the fit is redone without it, and it keeps its own time.
    Runs shorter than 5 beats and ``half_window=0`` leave the times as they are.

    >>> grid = np.arange(40) * 0.5                                  # 120 bpm
    >>> t = grid + np.random.default_rng(0).normal(0, 0.005, 40)    # 5 ms of jitter
    >>> bool(np.abs(smooth_beats(t) - grid).mean() < 0.6 * np.abs(t - grid).mean())
    True
    """
    t = np.asarray(beats, dtype=np.float64)
    if t.ndim != 1 or not np.all(np.isfinite(t)):
        raise ParameterError("beats must be a 1-D array of finite times")
    k = int(_positive("half_window", half_window, integer=True)) if half_window else 0
    if k == 0 or t.size < 5:
        return t.copy()
    d = np.diff(t)
    if np.any(d <= 0):
        raise ParameterError("beats must be strictly increasing")
    # an interval more than 40 % off the median of its neighbours (a missed or an extra beat) separates runs
    local = np.array([np.median(d[max(0, i - 4): i + 5]) for i in range(d.size)])
    bad = np.nonzero(np.abs(np.log(d / local)) > np.log(1.4))[0]
    out = t.copy()
    for a, b in zip(np.concatenate([[0], bad + 1]), np.concatenate([bad, [t.size - 1]])):   # runs of beats a..b
        idx = np.arange(a, b + 1)
        if idx.size < 5:
            continue
        keep = np.ones(idx.size, dtype=bool)
        for _ in range(2):
            fit = _local_quadratic(t[idx], keep, k)
            far = np.abs(t[idx] - fit) > max_shift * local[np.minimum(idx, d.size - 1)]
            if not far.any() or np.array_equal(~far, keep):
                break
            keep = ~far
        out[idx] = np.where(far, t[idx], fit)
    return out


def _local_quadratic(t: np.ndarray, keep: np.ndarray, k: int) -> np.ndarray:
    """At each index, a least-squares quadratic over the kept points within ``k`` indices, evaluated there
    (fewer than 5 kept points: the point's own value)."""
    n = t.size
    out = t.copy()
    x_all = np.arange(n)
    for i in range(n):
        lo, hi = max(0, i - k), min(n, i + k + 1)
        m = keep[lo:hi]
        if m.sum() < 5:
            continue
        x = x_all[lo:hi][m] - i
        A = np.stack([x * x, x, np.ones_like(x)], axis=1).astype(np.float64)
        coef = np.linalg.lstsq(A, t[lo:hi][m], rcond=None)[0]
        out[i] = coef[2]
    return out


def beat_track(y: np.ndarray | None = None, *, sr: int | None = None, S: np.ndarray | None = None,
               activation: np.ndarray | None = None, downbeat_activation: np.ndarray | None = None,
               fps: float = SR / HOP_LENGTH, min_bpm: float = MIN_BPM, max_bpm: float = MAX_BPM,
               prior_bpm: float = 120.0, beats_per_bar: tuple[int, ...] | None = None,
               offset: float = 0.0, tempo_weight: float | None = None,
               metrical_level: bool | None = None, level_weights: dict | None = None,
               tempo_probs: np.ndarray | None = None, smooth: int = 0,
               downbeat_weights: dict | None = None) -> BeatResult:
    """Tempo, beats and downbeats of mono audio (or of a precomputed spectrogram / activation).

    Parameters
    ----------
    y, sr : audio ``(n,)`` or ``(channels, n)`` and its sample rate
    S : log-mel spectrogram from :func:`features` (in place of ``y``)
    activation : beat activation per frame in [0, 1] (e.g. a trained network's), in place of the onset flux
    downbeat_activation : downbeat activation per frame (optional)
    fps : frames per second of ``S`` / ``activation``
    min_bpm, max_bpm, prior_bpm : tempo range and prior of :func:`decode_beats`
    beats_per_bar : meters the downbeat search considers (default :data:`DOWNBEAT_METERS` for the learned
        choice, else 3 and 4)
    offset : seconds added to every beat (latency calibration of an activation)
    tempo_weight : weight of the global-tempo term of :func:`decode_beats`; default 1 for the onset flux and
        0 for a given (calibrated) ``activation``, whose own probabilities choose the metrical level
    metrical_level : re-choose the metrical level (tempo x2, /2, x3, ...) with
        :func:`choose_metrical_level`; default on when both ``activation`` and ``downbeat_activation``
        are given
    level_weights : weights of the metrical-level score (default :data:`LEVEL_WEIGHTS`; a trained beat
        network carries its own, fitted on its validation music by :func:`fit_level_weights`)
    tempo_probs : a tempo head's class probabilities over :data:`TEMPO_GRID` (evidence for the metrical level)
    downbeat_weights : weights of the learned meter-and-phase choice (:func:`choose_downbeats`: a trained
        beat network carries its own, fitted on its validation music); used when ``downbeat_activation``
        and a spectrogram are at hand, else the downbeat activation's (or the spectrum's) strongest phase
    smooth : half-width in beats of :func:`smooth_beats` (0, the default, keeps the decoder's times: on
        performed music, whose beats push and pull, smoothing moved beats away from the played ones)

    Returns
    -------
    BeatResult : bpm (median of inter-beat intervals), beats, downbeats, beats_per_bar, confidence

    Raises
    ------
    ParameterError : no input, bad shapes, non-finite values

    Example
    -------
    >>> res = beat_track(np.zeros(16000, dtype=np.float32), sr=16000)   # silence: no beats
    >>> res.beats.size, res.bpm
    (0, 0.0)
    """
    if y is None and S is None and activation is None:
        raise ParameterError("beat_track needs y= (audio with sr=), S= (a log-mel spectrogram) or activation=")
    level_meters = _meters(beats_per_bar or (3, 4))
    if y is not None:
        if sr is None:
            raise ParameterError("beat_track: sr= is required with y=")
        S = features(y, sr=int(sr))
        fps = SR / HOP_LENGTH
    if tempo_weight is None:
        tempo_weight = 1.0 if activation is None else 0.0
    if activation is None:
        activation = onset_activation(S)
    a = _activation(activation)
    frames = decode_beats(a, fps=fps, min_bpm=min_bpm, max_bpm=max_bpm, prior_bpm=prior_bpm,
                          tempo_weight=tempo_weight)
    if metrical_level is None:
        metrical_level = downbeat_activation is not None and tempo_weight == 0.0
    info: dict = {}
    if metrical_level and downbeat_activation is not None and frames.size >= 4:
        frames, info = choose_metrical_level(a, downbeat_activation, frames, fps=fps, min_bpm=min_bpm,
                                             max_bpm=max_bpm, beats_per_bar=level_meters,
                                             weights=level_weights, tempo_probs=tempo_probs)
    if frames.size < 2:
        return BeatResult(0.0, np.zeros(0), np.zeros(0), level_meters[-1], 0.0)
    beats = smooth_beats(frames / fps, half_window=smooth) + offset
    bpm = float(60.0 / np.median(np.diff(beats)))
    if downbeat_activation is not None:
        d = _activation(downbeat_activation, "downbeat_activation")
        scores = _peak_at(d, frames)
    elif S is not None:
        scores = heuristic_downbeat_scores(S, frames)
    else:
        scores = np.zeros(len(frames))
    if downbeat_weights is not None and downbeat_activation is not None and S is not None:
        m, p, margin = choose_downbeats(downbeat_evidence(S, frames, a, d), downbeat_weights,
                                        beats_per_bar=tuple(beats_per_bar or DOWNBEAT_METERS))
    else:
        m, p, margin = downbeat_phase(scores, beats_per_bar=level_meters)
    conf = float(np.mean(a[np.clip(np.round(frames).astype(int), 0, len(a) - 1)]))
    return BeatResult(bpm, beats, beats[p::m], m, conf, {"downbeat_margin": margin, **info})


def bar_phase(times, *, beats: np.ndarray, downbeats: np.ndarray) -> np.ndarray:
    """Position in the bar (0 at a downbeat, 1 at the next) of each of ``times`` (seconds).

    Between downbeats the phase grows linearly in time; before the first and after the last downbeat it
    extrapolates with the nearest bar's length. (``beats`` is accepted for symmetry with the tracker's output.)
    """
    t = np.atleast_1d(np.asarray(times, dtype=np.float64))
    d = np.asarray(downbeats, dtype=np.float64)
    if d.size < 2:
        raise ParameterError(f"bar_phase needs at least 2 downbeats, got {d.size}")
    if d.ndim != 1 or not np.all(np.isfinite(d)) or np.any(np.diff(d) <= 0):
        raise ParameterError("downbeats must be a 1-D array of finite, strictly increasing times")
    bar_no = np.interp(t, d, np.arange(len(d)), left=np.nan, right=np.nan)
    first, last = (d[1] - d[0]), (d[-1] - d[-2])
    bar_no = np.where(t < d[0], (t - d[0]) / first, bar_no)
    bar_no = np.where(t > d[-1], len(d) - 1 + (t - d[-1]) / last, bar_no)
    return np.mod(bar_no, 1.0)


def beat_envelope(beats: np.ndarray, downbeats: np.ndarray | None, *, frames: int, fps: float,
                  decay_beats: float = 0.3, accent: float = 1.6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pulse envelope per frame (1 at a beat's frame, decaying exponentially over ``decay_beats`` of the
    local beat period; ``accent`` at downbeats), the newest beat per frame, and each beat's frame."""
    beats = np.asarray(beats, dtype=np.float64)
    beats = beats[(beats >= 0) & (beats * fps < frames - 0.5)] if beats.size else beats
    env = np.zeros(frames)
    newest = np.full(frames, -1, dtype=np.int64)
    bframes = np.round(beats * fps).astype(np.int64)
    if beats.size == 0:
        return env, newest, bframes
    period = np.diff(beats).mean() if beats.size > 1 else 0.5
    down = set(np.round(np.asarray(downbeats if downbeats is not None else [], dtype=np.float64) * fps)
               .astype(np.int64).tolist())
    f = np.arange(frames)
    for i, fb in enumerate(bframes):
        nxt = bframes[i + 1] if i + 1 < len(bframes) else frames
        seg = slice(fb, max(fb + 1, nxt))
        amp = accent if fb in down else 1.0
        env[seg] = amp * np.exp(-(f[seg] - fb) / (decay_beats * period * fps))
        newest[seg] = i
    return env, newest, bframes
