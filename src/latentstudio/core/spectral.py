"""Batched spectral transforms in torch that match librosa on the same parameters.

Every function takes ``y`` as a numpy array or torch tensor of shape ``(..., n)`` (time last) and
returns a torch tensor ``(..., freq, frames)``. Defaults follow librosa: centred frames padded with
zeros, periodic Hann window, Slaney mel filters, ``power_to_db`` with ``ref=1``, ``amin=1e-10``,
``top_db=80``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import torch

from latentstudio.errors import ParameterError


def _as_tensor(y, name: str = "y") -> torch.Tensor:
    if isinstance(y, np.ndarray):
        if not np.issubdtype(y.dtype, np.floating):
            raise ParameterError(f"{name} must be floating point audio, got dtype {y.dtype}")
        y = torch.from_numpy(np.ascontiguousarray(y))
    if not isinstance(y, torch.Tensor):
        raise ParameterError(f"{name} must be a numpy array or torch tensor, got {type(y).__name__}")
    if y.ndim == 0 or y.shape[-1] == 0:
        raise ParameterError(f"{name} is empty (shape {tuple(y.shape)})")
    if not torch.is_floating_point(y):
        raise ParameterError(f"{name} must be floating point, got {y.dtype}")
    if not bool(torch.isfinite(y).all()):
        raise ParameterError(f"{name} contains NaN or infinite values")
    return y


def _check_int(name: str, value, minimum: int = 1) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ParameterError(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)


@functools.lru_cache(maxsize=32)
def _window(n_fft: int, win_length: int, dtype: torch.dtype) -> torch.Tensor:
    w = torch.hann_window(win_length, periodic=True, dtype=dtype)
    if win_length < n_fft:  # librosa centres a short window inside n_fft
        left = (n_fft - win_length) // 2
        w = torch.nn.functional.pad(w, (left, n_fft - win_length - left))
    return w


def stft(y, *, n_fft: int = 2048, hop_length: int | None = None, win_length: int | None = None,
         center: bool = True) -> torch.Tensor:
    """Complex STFT, shape ``(..., 1 + n_fft // 2, frames)`` (librosa.stft with pad_mode="constant").

    Example
    -------
    >>> import numpy as np
    >>> S = stft(np.zeros(22050, dtype=np.float32), n_fft=1024, hop_length=256)
    >>> tuple(S.shape)
    (513, 87)
    """
    y = _as_tensor(y)
    n_fft = _check_int("n_fft", n_fft, 2)
    hop_length = _check_int("hop_length", hop_length if hop_length is not None else n_fft // 4)
    win_length = _check_int("win_length", win_length if win_length is not None else n_fft)
    if win_length > n_fft:
        raise ParameterError(f"win_length={win_length} must be <= n_fft={n_fft}")
    shape = y.shape
    flat = y.reshape(-1, shape[-1])
    if not center and flat.shape[-1] < n_fft:
        raise ParameterError(f"signal of {flat.shape[-1]} samples shorter than n_fft={n_fft} with center=False")
    if center:
        flat = torch.nn.functional.pad(flat[:, None], (n_fft // 2, n_fft // 2), mode="constant")[:, 0]
    # librosa runs its FFT in float64 even on float32 audio; on CPU we do the same, so bins far below
    # the peak agree with it (a float32 FFT is off by up to ~1e-3 dB there). GPUs stay in float32.
    work = flat.double() if flat.device.type == "cpu" and flat.dtype != torch.float64 else flat
    S = torch.stft(work, n_fft=n_fft, hop_length=hop_length, win_length=n_fft,
                   window=_window(n_fft, win_length, work.dtype).to(work.device),
                   center=False, return_complex=True)
    if work.dtype != flat.dtype:
        S = S.to(torch.complex64)
    return S.reshape(*shape[:-1], S.shape[-2], S.shape[-1])


@functools.lru_cache(maxsize=32)
def mel_filters(*, sr: int, n_fft: int, n_mels: int = 128, fmin: float = 0.0,
                fmax: float | None = None) -> torch.Tensor:
    """librosa's Slaney-normalised mel filter bank as a float32 tensor ``(n_mels, 1 + n_fft // 2)``."""
    import librosa

    fb = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    return torch.from_numpy(fb.astype(np.float32))


def mel(y=None, *, sr: int, S: torch.Tensor | None = None, n_fft: int = 2048, hop_length: int | None = None,
        win_length: int | None = None, n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None,
        power: float = 2.0, center: bool = True) -> torch.Tensor:
    """Mel spectrogram ``(..., n_mels, frames)`` (librosa.feature.melspectrogram).

    Pass audio ``y`` or a precomputed magnitude spectrogram ``S`` (already raised to ``power``).
    """
    sr = _check_int("sr", sr)
    if S is None:
        if y is None:
            raise ParameterError("mel needs either y= (audio) or S= (a spectrogram)")
        spec = stft(y, n_fft=n_fft, hop_length=hop_length, win_length=win_length, center=center)
        S = spec.real ** 2 + spec.imag ** 2 if power == 2 else spec.abs() ** power  # no sqrt for power 2
    fb = mel_filters(sr=sr, n_fft=n_fft, n_mels=_check_int("n_mels", n_mels), fmin=float(fmin),
                     fmax=None if fmax is None else float(fmax)).to(S.device, S.dtype)
    return torch.matmul(fb, S)


def power_to_db(S: torch.Tensor, *, ref: float = 1.0, amin: float = 1e-10,
                top_db: float | None = 80.0) -> torch.Tensor:
    """``10 log10(S / ref)`` with librosa's floor ``amin`` and per-item dynamic range ``top_db`` (per
    spectrogram over the last two axes; a 1-D spectrum over its one axis)."""
    if amin <= 0:
        raise ParameterError(f"amin={amin} must be positive")
    db = 10.0 * torch.log10(torch.clamp(S, min=amin)) - 10.0 * np.log10(max(amin, ref))
    if top_db is not None:
        if top_db < 0:
            raise ParameterError(f"top_db={top_db} must be non-negative")
        if db.ndim == 0:
            raise ParameterError("power_to_db: S must have at least one dimension, got a scalar")
        peak = db.amax(dim=(-2, -1) if db.ndim >= 2 else (-1,), keepdim=True)
        db = torch.maximum(db, peak - top_db)
    return db


def pcen(S: torch.Tensor, *, sr: int, hop_length: int, time_constant: float = 0.4, gain: float = 0.98,
         bias: float = 2.0, power: float = 0.5, eps: float = 1e-6) -> torch.Tensor:
    """Per-channel energy normalisation (Wang et al. 2017) of a non-negative ``(..., bands, frames)``
    spectrogram: each band divided by its own recent energy ``M`` (a first-order low-pass over frames with
    ``time_constant`` seconds, started at the first frame's value, where ``librosa.pcen`` starts it at 1; equal
    to librosa's otherwise),
    then compressed: ``(S / (eps + M) ** gain + bias) ** power - bias ** power``. A sound that rises above what
    its band has held for the last few tenths of a second stands out; a slowly decaying tail (a hall, a
    cymbal) sits below what a steady sound gives. Computed in float64 without gradient (scipy's IIR filter).

    Example
    -------
    >>> S = torch.ones(1, 100); S[0, 50] = 100.0
    >>> out = pcen(S, sr=16000, hop_length=160)
    >>> int(out[0].argmax())
    50
    """
    import scipy.signal

    S = _as_tensor(S, "S")
    sr, hop_length = _check_int("sr", sr), _check_int("hop_length", hop_length)
    for name, v in (("time_constant", time_constant), ("gain", gain), ("bias", bias), ("power", power),
                    ("eps", eps)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v <= 0:
            raise ParameterError(f"{name}={v!r} must be a positive number")
    if S.numel() == 0:
        raise ParameterError(f"S is empty (shape {tuple(S.shape)})")
    x = S.detach().cpu().double().numpy()
    if x.min() < 0:
        raise ParameterError("S must be a non-negative (magnitude or power) spectrogram")
    t = time_constant * sr / hop_length
    b = (np.sqrt(1 + 4 * t ** 2) - 1) / (2 * t ** 2)
    zi = scipy.signal.lfilter_zi([b], [1, b - 1]) * x[..., :1]
    smooth, _ = scipy.signal.lfilter([b], [1, b - 1], x, axis=-1, zi=zi)
    # as librosa: (S / (eps + M) ** gain + bias) ** power - bias ** power, in a form that keeps precision
    norm = np.exp(-gain * (np.log(eps) + np.log1p(smooth / eps)))
    out = bias ** power * np.expm1(power * np.log1p(x * norm / bias))
    return torch.from_numpy(out).to(device=S.device, dtype=S.dtype)


def log_mel(y=None, *, sr: int, S: torch.Tensor | None = None, n_fft: int = 2048,
            hop_length: int | None = None, n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None,
            top_db: float | None = 80.0, center: bool = True) -> torch.Tensor:
    """Log-power mel spectrogram in dB, ``(..., n_mels, frames)``.

    Equals ``librosa.power_to_db(librosa.feature.melspectrogram(..., pad_mode="constant"))`` within
    1e-4 dB (1e-8 dB for float64 input). On CPU the FFT runs in float64, as librosa's does; on a GPU
    float32 input stays float32, within about 1e-3 dB in bins 80 dB below the peak.

    Example
    -------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> tuple(log_mel(y, sr=16000, n_fft=1024, hop_length=256, n_mels=64).shape)
    (64, 63)
    """
    M = mel(y, sr=sr, S=S, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, fmin=fmin, fmax=fmax,
            center=center)
    return power_to_db(M, top_db=top_db)


def istft(S: torch.Tensor, *, n_fft: int, hop_length: int | None = None, length: int | None = None,
          center: bool = True) -> torch.Tensor:
    """Inverse of :func:`stft` (overlap-add with the periodic Hann window)."""
    hop_length = hop_length or n_fft // 4
    shape = S.shape
    flat = S.reshape(-1, shape[-2], shape[-1])
    y = torch.istft(flat, n_fft=n_fft, hop_length=hop_length, window=_window(n_fft, n_fft, flat.real.dtype),
                    center=center, length=length)
    return y.reshape(*shape[:-2], y.shape[-1])


def griffin_lim(magnitude, *, n_fft: int | None = None, hop_length: int | None = None, n_iter: int = 32,
                momentum: float = 0.99, length: int | None = None, seed: int | None = 0,
                progress: Callable[[int, int], None] | None = None) -> torch.Tensor:
    """Reconstruct audio from an STFT magnitude ``(..., 1 + n_fft // 2, frames)`` (fast Griffin-Lim).

    Uses librosa's accelerated update with ``momentum``; random initial phase from ``seed``
    (``seed=None`` starts from zero phase). ``progress(done, n_iter)`` is called after each iteration.
    """
    mag = _as_tensor(magnitude, "magnitude")
    if mag.ndim < 2:
        raise ParameterError(f"magnitude must be (..., freq, frames), got shape {tuple(mag.shape)}")
    n_fft = _check_int("n_fft", n_fft or 2 * (mag.shape[-2] - 1), 2)
    if 1 + n_fft // 2 != mag.shape[-2]:
        raise ParameterError(f"n_fft={n_fft} does not match {mag.shape[-2]} frequency bins")
    n_iter = _check_int("n_iter", n_iter)
    hop_length = _check_int("hop_length", hop_length or n_fft // 4)
    if hop_length >= n_fft:  # the periodic Hann window is 0 at its first sample: frames must overlap
        raise ParameterError(f"hop_length={hop_length} must be < n_fft={n_fft} to invert the STFT")
    if length is None and mag.shape[-1] < 2:
        raise ParameterError("magnitude has a single frame: pass length= (samples) to reconstruct it")
    if seed is None:
        angles = torch.ones_like(mag, dtype=torch.complex64)
    else:
        g = torch.Generator().manual_seed(int(seed))
        phase = 2 * np.pi * torch.rand(mag.shape, generator=g)
        angles = torch.polar(torch.ones_like(mag), phase.to(mag.dtype))
    rebuilt = torch.zeros_like(angles)
    for it in range(n_iter):
        tprev = rebuilt
        inverse = istft(mag * angles, n_fft=n_fft, hop_length=hop_length, length=length)
        short = (mag.shape[-1] - 1) * hop_length - inverse.shape[-1]
        if short > 0:  # length= cut the signal before the centre of the last frames: they see zeros there
            inverse = torch.nn.functional.pad(inverse, (0, short))
        rebuilt = stft(inverse, n_fft=n_fft, hop_length=hop_length)
        if rebuilt.shape[-1] != mag.shape[-1]:
            rebuilt = rebuilt[..., : mag.shape[-1]]
        angles = rebuilt - (momentum / (1 + momentum)) * tprev
        angles = angles / (angles.abs() + 1e-16)
        if progress is not None:
            progress(it + 1, n_iter)
    return istft(mag * angles, n_fft=n_fft, hop_length=hop_length, length=length)
