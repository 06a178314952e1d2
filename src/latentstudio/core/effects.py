"""Audio effects that make rendered audio sound like records: reverb, EQ, compression, noise, lossy codecs.

Used as training augmentation (the DJ's beat network, the beatbox's onset network) and usable on their
own. Every function takes mono float audio and returns float32 of the same length; randomised choices
come from :func:`record_chain`, which draws a chain of effects from a ``numpy`` generator.

Example
-------
>>> import numpy as np
>>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
>>> out = compress(y, sr=16000, threshold_db=-30.0, ratio=4.0)
>>> out.shape, float(np.abs(out).max()) <= 1.0
((16000,), True)
"""

from __future__ import annotations

import io

import numpy as np

from latentstudio.errors import ParameterError


def _feedback(x: np.ndarray, d: int, taps: tuple[float, float]) -> np.ndarray:
    """``y[n] = x[n] + taps[0] * y[n - d] + taps[1] * y[n - d - 1]``, computed a block of ``d`` samples at a time."""
    n = len(x)
    blocks = -(-n // d)
    xp = np.zeros(blocks * d)
    xp[:n] = x
    y = np.zeros_like(xp)
    prev = np.zeros(d)
    last = 0.0  # y[n - d - 1] for the first sample of a block: the last sample of the block before last
    for k in range(blocks):
        shifted = np.concatenate([[last], prev[:-1]])
        cur = xp[k * d:(k + 1) * d] + taps[0] * prev + taps[1] * shifted
        last, prev = prev[-1], cur
        y[k * d:(k + 1) * d] = cur
    return y[:n]


def schroeder_reverb(x: np.ndarray, *, rt: float, damping: float = 0.3, seed: int = 0, sr: int = 16000) -> np.ndarray:
    """The wet signal of a Schroeder/Freeverb-style reverb: 8 parallel damped feedback combs
    (delays 22-40 ms, gains for a ``rt``-second decay, ``damping`` in [0, 1) darkening the tail) into 4
    series all-passes. Seeded small changes of the delays give each room its own colour."""
    rng = np.random.default_rng(seed)
    x = np.asarray(x, dtype=np.float64)
    base = np.array([1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617]) * sr / 44100
    wet = np.zeros_like(x)
    for d in np.round(base * rng.uniform(0.85, 1.15, len(base))).astype(int):
        gain = 10 ** (-3 * d / sr / max(rt, 0.05))
        wet += _feedback(x, int(d), (gain * (1 - damping), gain * damping))
    for d in np.round(np.array([556, 441, 341, 225]) * sr / 44100 * rng.uniform(0.9, 1.1, 4)).astype(int):
        # all-pass: y[n] = -0.5 x[n] + x[n - d] + 0.5 y[n - d]
        delayed = np.concatenate([np.zeros(d), wet[:-d]])
        wet = _feedback(-0.5 * wet + delayed, int(d), (0.5, 0.0))
    return (wet / 8).astype(np.float32)


def fdn_reverb(x: np.ndarray, *, rt: float, damping: float = 0.3, size: float = 1.0, predelay: float = 0.0,
               seed: int = 0, sr: int = 16000, lines: int = 8) -> np.ndarray:
    """The wet signal of a feedback delay network reverb (Jot's FDN, the kind FluidSynth 2.1+ and most
    plug-in halls use): ``lines`` delay lines of 30-95 ms times ``size`` (seeded, mutually different),
    mixed back through an orthogonal (Hadamard) matrix, each with the gain of a ``rt``-second decay and a
    one-pole low-pass in its loop, so a ``damping`` in [0, 1) makes the highs die sooner. Its tail thickens
    for ~100 ms after a hit, unlike a comb bank's flutter (:func:`schroeder_reverb`). ``predelay`` seconds
    pass before the room answers (FluidSynth's hall first answers ~160 ms after a hit, as a distinct echo).

    Computed a block of the shortest delay at a time, so every line reads only samples already written.
    """
    import scipy.linalg
    import scipy.signal

    if rt <= 0 or not 0 <= damping < 1 or size <= 0 or predelay < 0 or lines < 2 or lines & (lines - 1):
        raise ParameterError(f"fdn_reverb: rt={rt!r} > 0, damping={damping!r} in [0, 1), size={size!r} > 0, "
                             f"predelay={predelay!r} >= 0 and lines={lines!r} a power of two >= 2 are needed")
    rng = np.random.default_rng(seed)
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    m = np.sort(np.round(np.geomspace(0.030, 0.095, lines) * size * sr * rng.uniform(0.93, 1.07, lines))).astype(int)
    m = np.maximum(m + np.arange(lines), 2)                           # never two equal lengths
    A = scipy.linalg.hadamard(lines) / np.sqrt(lines)
    g = 10 ** (-3 * m / (sr * rt))                                    # -60 dB after rt seconds, per pass
    b_in, c_out = rng.choice([-1.0, 1.0], lines), rng.choice([-1.0, 1.0], lines)
    B = int(m[0])
    blocks = -(-n // B)
    total = blocks * B
    s = np.zeros((lines, int(m[-1]) + total))                        # what each line holds, history first
    off = int(m[-1])
    xp = np.zeros(total)
    xp[:n] = x
    wet = np.zeros(total)
    zi = np.zeros((lines, 1))
    lp_b, lp_a = np.array([1.0 - damping]), np.array([1.0, -damping])
    for k in range(blocks):
        t = k * B
        o = np.stack([s[i, off + t - m[i]: off + t - m[i] + B] for i in range(lines)]) * g[:, None]
        d, zi = scipy.signal.lfilter(lp_b, lp_a, o, axis=1, zi=zi)
        s[:, off + t: off + t + B] = b_in[:, None] * xp[None, t:t + B] + A @ d
        wet[t:t + B] = c_out @ d
    pd = int(round(predelay * sr))
    wet = np.concatenate([np.zeros(pd), wet[:max(n - pd, 0)]])[:n]
    return (wet / np.sqrt(lines)).astype(np.float32)


def _biquad(kind: str, f0: float, gain_db: float, q: float, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """RBJ cookbook coefficients of a peaking / low-shelf / high-shelf filter."""
    A = 10 ** (gain_db / 40)
    w = 2 * np.pi * f0 / sr
    cw, sw = np.cos(w), np.sin(w)
    alpha = sw / (2 * q)
    if kind == "peak":
        b = [1 + alpha * A, -2 * cw, 1 - alpha * A]
        a = [1 + alpha / A, -2 * cw, 1 - alpha / A]
    else:
        s = 1 if kind == "low" else -1
        sq = 2 * np.sqrt(A) * alpha
        b = [A * ((A + 1) - s * (A - 1) * cw + sq), s * 2 * A * ((A - 1) - s * (A + 1) * cw),
             A * ((A + 1) - s * (A - 1) * cw - sq)]
        a = [(A + 1) + s * (A - 1) * cw + sq, -s * 2 * ((A - 1) + s * (A + 1) * cw), (A + 1) + s * (A - 1) * cw - sq]
    return np.asarray(b) / a[0], np.asarray(a) / a[0]


def equalize(y: np.ndarray, *, sr: int, bands: list[tuple[str, float, float]]) -> np.ndarray:
    """Apply ``[(kind, freq_hz, gain_db)]`` filters in turn; kind is ``"low"``/``"high"`` (shelves) or ``"peak"``."""
    import scipy.signal

    out = np.asarray(y, dtype=np.float64)
    for kind, f0, g in bands:
        if kind not in ("low", "high", "peak"):
            raise ParameterError(f"EQ band kind {kind!r} must be 'low', 'high' or 'peak'")
        if not 0 < f0 < sr / 2:
            raise ParameterError(f"EQ frequency {f0!r} must lie in (0, {sr / 2})")
        b, a = _biquad(kind, float(f0), float(g), 0.9 if kind == "peak" else 0.707, sr)
        out = scipy.signal.lfilter(b, a, out)
    return out.astype(np.float32)


def compress(y: np.ndarray, *, sr: int, threshold_db: float = -20.0, ratio: float = 4.0, attack: float = 0.005,
             release: float = 0.1, limit: bool = True) -> np.ndarray:
    """Feed-forward compressor on a peak envelope (attack/release in seconds), make-up gain to the input's peak,
    and a brick-wall limiter at 0 dBFS (``limit``)."""
    import scipy.signal

    if ratio < 1:
        raise ParameterError(f"ratio={ratio!r} must be >= 1")
    x = np.asarray(y, dtype=np.float64)
    peak_in = float(np.abs(x).max()) + 1e-12
    # envelope: fast attack (one-pole on the rectified signal), then a slower release smoothing
    a_att = np.exp(-1.0 / (max(attack, 1e-4) * sr))
    a_rel = np.exp(-1.0 / (max(release, 1e-3) * sr))
    env = scipy.signal.lfilter([1 - a_att], [1, -a_att], np.abs(x))
    env = np.maximum(env, scipy.signal.lfilter([1 - a_rel], [1, -a_rel], env))
    level = 20 * np.log10(env + 1e-9)
    over = np.maximum(0.0, level - threshold_db)
    out = x * 10 ** (-over * (1 - 1 / ratio) / 20)
    out *= peak_in / (np.abs(out).max() + 1e-12)
    if limit:
        out = np.tanh(out * 1.2) / np.tanh(1.2) if np.abs(out).max() > 0.9 else out
        out = np.clip(out, -1.0, 1.0)
    return out.astype(np.float32)


def add_noise(y: np.ndarray, *, snr_db: float, rng: np.random.Generator, colour: str = "white") -> np.ndarray:
    """Add white or pink noise at ``snr_db`` below the signal's RMS."""
    x = np.asarray(y, dtype=np.float64)
    n = rng.standard_normal(len(x))
    if colour == "pink":
        f = np.fft.rfft(n)
        f /= np.sqrt(np.maximum(np.arange(len(f)), 1))
        n = np.fft.irfft(f, n=len(x))
    elif colour != "white":
        raise ParameterError(f"colour={colour!r} must be 'white' or 'pink'")
    rms = np.sqrt(np.mean(x ** 2)) + 1e-9
    n *= rms / (np.sqrt(np.mean(n ** 2)) + 1e-12) * 10 ** (-snr_db / 20)
    return (x + n).astype(np.float32)


def lossy(y: np.ndarray, *, sr: int, codec: str = "ogg", quality: float = 0.1) -> np.ndarray:
    """Encode and decode through a lossy codec (``"ogg"`` Vorbis, ``"opus"`` or ``"mp3"`` through libsndfile);
    ``quality`` in [0, 1] (low = worse). Returns audio of the input's length."""
    import soundfile as sf

    fmt = {"ogg": ("OGG", "VORBIS"), "opus": ("OGG", "OPUS"), "mp3": ("MP3", "MPEG_LAYER_III")}
    if codec not in fmt:
        raise ParameterError(f"codec={codec!r} must be one of {sorted(fmt)}")
    x = np.clip(np.asarray(y, dtype=np.float32), -1, 1)
    buf = io.BytesIO()
    sr_enc = 48000 if codec == "opus" else sr
    if sr_enc != sr:
        from latentstudio.core.audio import resample

        x = resample(x, orig_sr=sr, target_sr=sr_enc)
    with sf.SoundFile(buf, "w", samplerate=sr_enc, channels=1, format=fmt[codec][0], subtype=fmt[codec][1],
                      compression_level=1.0 - float(np.clip(quality, 0.0, 1.0))) as f:
        f.write(x)
    buf.seek(0)
    out, file_sr = sf.read(buf, dtype="float32")
    if file_sr != sr:
        from latentstudio.core.audio import resample

        out = resample(out, orig_sr=file_sr, target_sr=sr)
    n = len(y)
    out = np.pad(out, (0, max(0, n - len(out))))[:n]
    return out.astype(np.float32)


def record_chain(y: np.ndarray, *, sr: int, rng: np.random.Generator, strength: float = 1.0) -> tuple[np.ndarray, list]:
    """A random chain of the effects above, as records differ: EQ, room reverb, bus compression and limiting,
    noise, a lossy codec, level. Each effect is applied with probability ~``0.5 * strength``.
    Returns ``(audio, [effect names with parameters])``. Time is never shifted: sample ``n`` stays sample ``n``."""
    p = 0.5 * float(strength)
    out = np.asarray(y, dtype=np.float32)
    done: list = []
    if rng.random() < p:
        bands = [("low", float(rng.uniform(60, 250)), float(rng.uniform(-9, 9))),
                 ("high", float(rng.uniform(2000, min(7000, sr * 0.45))), float(rng.uniform(-15, 6))),
                 ("peak", float(rng.uniform(300, 3000)), float(rng.uniform(-8, 8)))]
        out = equalize(out, sr=sr, bands=bands)
        done.append(("eq", bands))
    if rng.random() < p:
        rt, mix = float(rng.uniform(0.3, 2.5)), float(rng.uniform(0.1, 0.6))
        out = out + mix * schroeder_reverb(out, rt=rt, damping=float(rng.uniform(0, 0.6)),
                                           seed=int(rng.integers(1 << 30)), sr=sr)
        done.append(("reverb", rt, mix))
    if rng.random() < p:
        th, ratio = float(rng.uniform(-30, -8)), float(rng.uniform(2, 10))
        out = compress(out, sr=sr, threshold_db=th + 20 * np.log10(np.abs(out).max() + 1e-9), ratio=ratio)
        done.append(("compress", th, ratio))
    if rng.random() < p * 0.6:
        snr = float(rng.uniform(12, 45))
        out = add_noise(out, snr_db=snr, rng=rng, colour=str(rng.choice(["white", "pink"])))
        done.append(("noise", snr))
    peak = float(np.abs(out).max())
    if peak > 0:
        out = out * (float(rng.uniform(0.1, 0.95)) / peak)
    if rng.random() < p * 0.6:
        codec = str(rng.choice(["ogg", "mp3"]))
        q = float(rng.uniform(0.0, 0.5))
        out = lossy(out, sr=sr, codec=codec, quality=q)
        done.append(("lossy", codec, q))
    return out.astype(np.float32), done
