"""Onset strength envelope and onset detection with backtracking.

The envelope is a spectral flux on a log-mel spectrogram (with SuperFlux's maximum filter over
frequency, which ignores vibrato and slow pitch changes); onsets are its peaks, picked against a
moving average and threshold, then optionally *backtracked* to the energy minimum just before each
peak so a segment starts at the true start of the sound, not at its steepest rise.

Frame ``t`` of an envelope corresponds to time ``t * hop_length / sr`` (librosa's convention), so
``onset_envelope`` can feed a beat tracker directly.

Example
-------
>>> import numpy as np
>>> sr = 22050
>>> y = np.zeros(sr, dtype=np.float32)
>>> for t in (0.2, 0.5, 0.8):
...     i = int(t * sr); y[i:i + 2000] = np.random.default_rng(0).standard_normal(2000) * np.exp(-np.arange(2000) / 300)
>>> np.round(onset_detect(y, sr=sr), 2).tolist()
[0.2, 0.5, 0.8]
"""

from __future__ import annotations

import numpy as np

from latentstudio.errors import ParameterError

#: Default hop between envelope frames at 22.05 kHz (11.6 ms).
HOP_LENGTH = 256
_UNITS = ("time", "frames", "samples")


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ParameterError(f"{name}={value!r} must be a positive integer")
    return int(value)


def _mono(y, name: str = "y") -> np.ndarray:
    from latentstudio.core.audio import valid_audio

    y = valid_audio(np.asarray(y) if not isinstance(y, np.ndarray) else y, name=name)
    return y.mean(axis=0) if y.ndim == 2 else y


def onset_envelope(y: np.ndarray | None = None, *, sr: int, hop_length: int = HOP_LENGTH,
                   S: np.ndarray | None = None, n_fft: int = 1024, n_mels: int = 128, lag: int = 1,
                   max_size: int = 3, fmax: float | None = None) -> np.ndarray:
    """Onset strength per frame: half-wave rectified spectral flux of a log-mel spectrogram.

    Parameters
    ----------
    y : mono audio ``(n,)`` (a ``(channels, n)`` array is averaged to mono), or None when ``S`` is given
    sr : sample rate of ``y`` in Hz
    hop_length : samples between frames
    S : precomputed log-power mel spectrogram in dB, ``(n_mels, frames)``, in place of ``y``
    n_fft, n_mels, fmax : spectrogram parameters (``n_fft`` also sets the delay that aligns peaks with
        onsets, so pass the one ``S`` was made with)
    lag : frames between the two spectra compared
    max_size : width in mel bands of the maximum filter on the reference spectrum (1 = plain flux)

    Returns
    -------
    np.ndarray : float32 ``(frames,)``, frame ``t`` at time ``t * hop_length / sr``; all zeros for silence;
        from audio it does not depend on the gain (``y`` is scaled to peak 1 before the spectrogram, so the
        -100 dB floor of the dB scale clips a quiet sound exactly as it clips a loud one)

    Raises
    ------
    ParameterError : neither or both of ``y``/``S``, bad sizes, non-finite audio

    Example
    -------
    >>> env = onset_envelope(np.zeros(22050, dtype=np.float32), sr=22050)
    >>> env.shape, float(env.max())
    ((87,), 0.0)
    """
    import scipy.ndimage

    sr = _check_positive_int("sr", sr)
    hop_length = _check_positive_int("hop_length", hop_length)
    lag = _check_positive_int("lag", lag)
    max_size = _check_positive_int("max_size", max_size)
    if (y is None) == (S is None):
        raise ParameterError("onset_envelope needs exactly one of y= (audio) or S= (a log-mel spectrogram)")
    if S is None:
        from latentstudio.core.spectral import log_mel

        y = _mono(y)
        peak = float(np.max(np.abs(y)))
        # scaled to peak 1 so the spectrogram, and any clipping at the dB scale's absolute floor (amin,
        # -100 dB), is the same at every gain: unscaled, the silence before a quiet sound (gain 0.01) was
        # clipped at -100 dB instead of 80 dB below its peak, which shrank its first onset by ~10 dB
        S = log_mel(y / peak if peak > 0.0 else y, sr=sr, n_fft=_check_positive_int("n_fft", n_fft),
                    hop_length=hop_length, n_mels=_check_positive_int("n_mels", n_mels), fmax=fmax).numpy()
        if peak == 0.0:  # digital silence: no flux at all
            return np.zeros(S.shape[-1], dtype=np.float32)
    else:
        S = np.asarray(S, dtype=np.float32)
        if S.ndim != 2 or S.shape[-1] == 0:
            raise ParameterError(f"S must be a (n_mels, frames) spectrogram, got shape {S.shape}")
        if not np.all(np.isfinite(S)):
            raise ParameterError("S contains NaN or infinite values")
    ref = scipy.ndimage.maximum_filter1d(S, max_size, axis=0) if max_size > 1 else S
    flux = np.maximum(0.0, S[:, lag:] - ref[:, :-lag]) if S.shape[-1] > lag else np.zeros((1, 0))
    # a centred window sees an onset before its centre reaches it: delay by ~0.3 n_fft so that
    # envelope peaks fall on onset times
    delay = lag + int(round(0.3 * _check_positive_int("n_fft", n_fft) / hop_length))
    env = np.concatenate([np.zeros(delay, dtype=np.float32), flux.mean(axis=0).astype(np.float32)])
    return env[: S.shape[-1]]


_onset_envelope = onset_envelope


def frame_energy(y: np.ndarray, *, hop_length: int = HOP_LENGTH, frame_length: int | None = None) -> np.ndarray:
    """RMS energy per centred frame ``(frames,)``, aligned with :func:`onset_envelope`'s frames."""
    hop_length = _check_positive_int("hop_length", hop_length)
    frame_length = _check_positive_int("frame_length", frame_length or 2 * hop_length)
    y = _mono(y)
    pad = frame_length // 2
    yp = np.pad(y.astype(np.float64) ** 2, (pad, pad))
    c = np.concatenate([[0.0], np.cumsum(yp)])
    n_frames = 1 + len(y) // hop_length
    starts = np.arange(n_frames) * hop_length
    ends = np.minimum(starts + frame_length, len(yp))
    return np.sqrt(np.maximum(0.0, (c[ends] - c[starts]) / frame_length)).astype(np.float32)


def onset_detect(y: np.ndarray | None = None, *, sr: int, hop_length: int = HOP_LENGTH,
                 onset_envelope: np.ndarray | None = None, backtrack: bool = True, units: str = "time",
                 delta: float = 0.02, wait: float = 0.03, pre_avg: float = 0.05, post_avg: float = 0.05,
                 pre_max: float = 0.03, post_max: float = 0.0, max_backtrack: float = 0.05,
                 energy: np.ndarray | None = None) -> np.ndarray:
    """Onsets: peaks of the onset envelope, optionally moved back to the preceding energy minimum.

    Parameters
    ----------
    y : mono audio; needed unless ``onset_envelope`` is given (and, for backtracking, ``energy``)
    sr : sample rate in Hz
    hop_length : samples between envelope frames
    onset_envelope : a precomputed :func:`onset_envelope` (same ``sr`` and ``hop_length``)
    backtrack : move each onset back to the nearest preceding minimum of the frame energy (RMS of
        ``y``, or ``energy``, or the envelope itself when neither is available)
    units : "time" (seconds), "frames" or "samples"
    delta : threshold above the local average, as a fraction of the envelope's maximum
    wait : seconds to wait after an onset before the next one
    pre_avg, post_avg, pre_max, post_max : seconds of the moving average / maximum windows
    max_backtrack : seconds an onset may move back from its envelope peak
    energy : frame energy to backtrack on, ``(frames,)``

    Returns
    -------
    np.ndarray : sorted onset positions in ``units`` (float seconds, or int frames/samples); empty
        when the envelope is flat (silence)

    Raises
    ------
    ParameterError : bad ``units``, sizes or values

    Example
    -------
    >>> onset_detect(np.zeros(22050, dtype=np.float32), sr=22050).tolist()
    []
    """
    if units not in _UNITS:
        raise ParameterError(f"units={units!r} must be one of {', '.join(_UNITS)}")
    sr = _check_positive_int("sr", sr)
    hop_length = _check_positive_int("hop_length", hop_length)
    if not 0.0 <= delta < 1.0:
        raise ParameterError(f"delta={delta} must be in [0, 1)")
    for name, v in (("max_backtrack", max_backtrack), ("wait", wait), ("pre_avg", pre_avg), ("post_avg", post_avg), ("pre_max", pre_max),
                    ("post_max", post_max)):
        if not np.isfinite(v) or v < 0:
            raise ParameterError(f"{name}={v} must be a non-negative number of seconds")
    if onset_envelope is None:
        if y is None:
            raise ParameterError("onset_detect needs y= (audio) or onset_envelope=")
        y = _mono(y)
        env = _onset_envelope(y, sr=sr, hop_length=hop_length)
    else:
        env = np.asarray(onset_envelope, dtype=np.float32)
        if env.ndim != 1:
            raise ParameterError(f"onset_envelope must be 1-D (frames,), got shape {env.shape}")
        if not np.all(np.isfinite(env)):
            raise ParameterError("onset_envelope contains NaN or infinite values")
    empty = np.zeros(0, dtype=float if units == "time" else int)
    if env.size < 3 or float(env.max() - env.min()) <= 1e-6:
        return empty
    norm = (env - env.min()) / (env.max() - env.min())
    fps = sr / hop_length

    def frames(sec: float, lo: int = 1) -> int:
        return max(lo, int(round(sec * fps)))

    peaks = peak_pick(norm, pre_max=frames(pre_max), post_max=frames(post_max), pre_avg=frames(pre_avg),
                      post_avg=frames(post_avg, 1), delta=delta, wait=frames(wait, 0))
    if peaks.size and backtrack:
        if energy is None:
            energy = frame_energy(y, hop_length=hop_length) if y is not None else env
        energy = np.asarray(energy, dtype=np.float32)
        if energy.ndim != 1 or energy.size < env.size - 1:
            raise ParameterError(f"energy must be 1-D with at least {env.size - 1} frames, got {energy.shape}")
        starts = backtrack_to_minima(peaks, energy[: max(env.size, 3)])
        starts = np.maximum(starts, peaks - frames(max_backtrack, 1))  # a decaying tail is not a start
        if y is not None:  # sample-accurate start between the energy minimum and the envelope peak
            samples = np.array([_refine_start(y, int(a) * hop_length, (int(b) + 3) * hop_length, sr=sr)
                                for a, b in zip(starts, peaks)], dtype=int)
            samples = np.unique(samples)
            if units == "samples":
                return samples
            if units == "frames":
                return np.unique(np.round(samples / hop_length).astype(int))
            return samples / float(sr)
        peaks = np.unique(starts)
    if units == "frames":
        return peaks
    if units == "samples":
        return peaks * hop_length
    return peaks * hop_length / float(sr)


def peak_pick(x: np.ndarray, *, pre_max: int, post_max: int, pre_avg: int, post_avg: int, delta: float,
              wait: int) -> np.ndarray:
    """Frames ``n`` where ``x[n]`` is the maximum of ``x[n - pre_max : n + post_max]``, exceeds the mean
    of ``x[n - pre_avg : n + post_avg]`` by ``delta``, and comes more than ``wait`` frames after the
    previous peak (librosa's ``peak_pick`` rule, in numpy)."""
    from numpy.lib.stride_tricks import sliding_window_view

    for name, v in (("pre_max", pre_max), ("post_max", post_max), ("pre_avg", pre_avg),
                    ("post_avg", post_avg), ("wait", wait)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ParameterError(f"{name}={v!r} must be a non-negative integer number of frames")
    if pre_max + post_max < 1 or pre_avg + post_avg < 1:
        raise ParameterError(f"peak_pick windows must span a frame: pre_max + post_max = "
                             f"{pre_max + post_max}, pre_avg + post_avg = {pre_avg + post_avg}")
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    xm = np.pad(x, (pre_max, post_max), constant_values=-np.inf)
    is_max = x >= sliding_window_view(xm, pre_max + post_max)[:n].max(axis=1)
    xa = np.pad(x, (pre_avg, post_avg), constant_values=np.nan)
    avg = np.nanmean(sliding_window_view(xa, pre_avg + post_avg)[:n], axis=1)
    cand = np.flatnonzero(is_max & (x >= avg + delta))
    out, last = [], -np.inf
    for c in cand:
        if c - last > wait:
            out.append(c)
            last = c
    return np.array(out, dtype=int)


def backtrack_to_minima(events: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """Move each event frame back to the nearest local minimum of ``energy`` at or before it."""
    e = np.asarray(energy, dtype=np.float64)
    minima = np.concatenate([[0], 1 + np.flatnonzero((e[1:-1] <= e[:-2]) & (e[1:-1] < e[2:]))])
    idx = np.searchsorted(minima, np.asarray(events), side="right") - 1
    return minima[np.clip(idx, 0, None)]


def _refine_start(y: np.ndarray, lo: int, hi: int, *, sr: int, rise: float = 0.15) -> int:
    """First sample in ``[lo, hi)`` where the high-passed 4 ms RMS rises ``rise`` of the way from its
    minimum to its peak (the attack of a drum is broadband; a decaying low tail is not)."""
    lo, hi = max(1, lo), min(len(y), hi)
    win, step = max(16, sr // 250), max(4, sr // 2000)
    if hi - lo < 2 * win:
        return max(0, lo - 1)
    hp = np.diff(y[lo - 1:hi].astype(np.float64))
    c = np.concatenate([[0.0], np.cumsum(hp ** 2)])
    idx = np.arange(0, len(hp) - win, step)
    e = np.sqrt((c[idx + win] - c[idx]) / win)
    top = int(np.argmax(e))
    low = int(np.argmin(e[: top + 1]))
    above = np.flatnonzero(e[low: top + 1] >= e[low] + rise * (e[top] - e[low]))
    # the window ending at the crossing contains the start; place it at the window's end
    return lo + int(idx[low + int(above[0] if above.size else 0)]) + win


__all__ = ["HOP_LENGTH", "onset_envelope", "onset_detect", "frame_energy", "peak_pick", "backtrack_to_minima"]
