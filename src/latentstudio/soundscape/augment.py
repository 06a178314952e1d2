"""Augmentation for a tiny paired set: many plausible versions of each sound and each picture.

With ~130 (image, sound) pairs the student would memorise them; instead every training example is
a fresh variation. Audio (waveform, then spectrogram): random crop/placement, varispeed (pitch and
speed together), added noise at a random SNR, a quiet second sound in the background, a random EQ
tilt, time stretch and mel shift, time and frequency masks. Images: random resized crops, flips,
colour jitter and greyscale, so the *teacher's* distribution varies as well.

All functions take an explicit generator (torch) or ``rng`` (numpy) and never touch global state.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from latentstudio.core.audio import resample
from latentstudio.core.image import resize
from latentstudio.errors import ParameterError


def _uniform(generator: torch.Generator, n: int, low: float, high: float) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


# ------------------------------------------------------------------------------------------ waveforms
def varispeed(y: np.ndarray, *, rate: float, sr: int) -> np.ndarray:
    """Play ``y`` ``rate`` times faster (pitch rises with speed, like a tape), by resampling."""
    if not 0.25 <= rate <= 4.0:
        raise ParameterError(f"rate={rate} must be within [0.25, 4]")
    if abs(rate - 1.0) < 1e-3:
        return y
    return resample(y, orig_sr=int(round(sr * rate)), target_sr=sr)


def crop_or_place(y: np.ndarray, *, n: int, generator: torch.Generator) -> np.ndarray:
    """A random ``n``-sample excerpt of ``y``, or ``y`` placed at a random offset in ``n`` samples of silence."""
    if y.shape[0] >= n:
        start = int(torch.randint(0, y.shape[0] - n + 1, (1,), generator=generator))
        return y[start:start + n]
    out = np.zeros(n, dtype=np.float32)
    start = int(torch.randint(0, n - y.shape[0] + 1, (1,), generator=generator))
    out[start:start + y.shape[0]] = y
    return out


def coloured_noise(n_items: int, n: int, *, generator: torch.Generator) -> torch.Tensor:
    """``(n_items, n)`` unit-RMS noise, each row white, pink or brown at random."""
    white = torch.randn(n_items, n, generator=generator)
    spec = torch.fft.rfft(white, dim=1)
    freqs = torch.arange(spec.shape[1], dtype=torch.float32).clamp_min(1.0)
    slope = torch.randint(0, 3, (n_items, 1), generator=generator).float()  # 0 white, 1 pink, 2 brown
    noise = torch.fft.irfft(spec / freqs[None] ** (slope / 2), n=n, dim=1)
    return noise / noise.pow(2).mean(dim=1, keepdim=True).sqrt().clamp_min(1e-8)


def augment_waveforms(y: torch.Tensor, *, generator: torch.Generator, background: torch.Tensor | None = None,
                      snr_db: tuple[float, float] = (5.0, 40.0), background_db: tuple[float, float] = (-24.0, -8.0),
                      p_noise: float = 0.7, p_background: float = 0.4) -> torch.Tensor:
    """Add noise and a background sound to a batch ``(B, n)`` of waveforms; returns a new tensor.

    ``background`` is ``(B, n)`` other sounds mixed in at ``background_db`` below the foreground's RMS
    (with probability ``p_background``); noise comes at an SNR drawn from ``snr_db``.
    """
    b, n = y.shape
    rms = y.pow(2).mean(dim=1, keepdim=True).sqrt().clamp_min(1e-6)
    out = y.clone()
    if background is not None:
        brms = background.pow(2).mean(dim=1, keepdim=True).sqrt().clamp_min(1e-6)
        gain = 10 ** (_uniform(generator, b, *background_db) / 20)[:, None]
        use = (torch.rand(b, 1, generator=generator) < p_background).float()
        out = out + use * background / brms * rms * gain
    snr = _uniform(generator, b, *snr_db)[:, None]
    use = (torch.rand(b, 1, generator=generator) < p_noise).float()
    out = out + use * coloured_noise(b, n, generator=generator) * rms * 10 ** (-snr / 20)
    gain = 10 ** (_uniform(generator, b, -20.0, 0.0) / 20)[:, None]
    return out * gain


# ------------------------------------------------------------------------------------- spectrograms
def augment_spectrograms(S: torch.Tensor, *, generator: torch.Generator, max_stretch: float = 0.2,
                         max_mel_shift: float = 3.0, max_tilt: float = 0.3, time_masks: int = 2,
                         freq_masks: int = 2, mask_fraction: float = 0.12) -> torch.Tensor:
    """Augment a batch of normalised log-mels ``(B, n_mels, frames)``; the shape is kept.

    One resampling pass per batch (``grid_sample``) applies, per item, a time stretch of up to
    ``max_stretch`` with a random offset and a mel shift of up to ``max_mel_shift`` bands (a pitch
    shift); then an EQ tilt (a slope of up to ``max_tilt`` across the bands, in normalised units)
    and SpecAugment-style time and frequency masks. Uncovered cells get the item's floor.

    Example
    -------
    >>> S = torch.rand(4, 64, 63)
    >>> augment_spectrograms(S, generator=torch.Generator().manual_seed(0)).shape
    torch.Size([4, 64, 63])
    """
    b, m, t = S.shape
    floor = S.amin(dim=(1, 2), keepdim=True)
    rate = _uniform(generator, b, 1 - max_stretch, 1 + max_stretch)   # > 1 plays faster (reads a longer span)
    offset = _uniform(generator, b, -1.0, 1.0) * (rate - 1).abs()
    shift = _uniform(generator, b, -max_mel_shift, max_mel_shift) * 2 / m
    xs = torch.linspace(-1, 1, t)[None] * rate[:, None] + offset[:, None]
    ys = torch.linspace(-1, 1, m)[None] + shift[:, None]
    grid = torch.stack([xs[:, None, :].expand(b, m, t), ys[:, :, None].expand(b, m, t)], dim=-1)
    out = F.grid_sample((S - floor)[:, None], grid, mode="bilinear", padding_mode="zeros",
                        align_corners=True)[:, 0] + floor
    tilt = _uniform(generator, b, -max_tilt, max_tilt)[:, None, None] * torch.linspace(-1, 1, m)[None, :, None]
    out = torch.maximum(out + tilt, floor)
    for size, masks, axis in ((t, time_masks, 2), (m, freq_masks, 1)):
        for _ in range(masks):
            width = (torch.rand(b, generator=generator) * mask_fraction * size).long()
            start = (torch.rand(b, generator=generator) * (size - width)).long()
            idx = torch.arange(size)[None]
            mask = (idx >= start[:, None]) & (idx < (start + width)[:, None])
            mask = mask[:, None, :] if axis == 2 else mask[:, :, None]
            out = torch.where(mask, floor, out)
    return out


# ------------------------------------------------------------------------------------------- images
def augment_image(image: np.ndarray, *, rng: np.random.Generator, size: int = 224,
                  scale: tuple[float, float] = (0.35, 1.0)) -> np.ndarray:
    """One random view of an ``(H, W, 3)`` image: resized crop to ``size``, flip, colour jitter, greyscale.

    Example
    -------
    >>> img = np.random.default_rng(0).random((300, 200, 3)).astype(np.float32)
    >>> augment_image(img, rng=np.random.default_rng(1), size=64).shape
    (64, 64, 3)
    """
    h, w = image.shape[:2]
    area = h * w * rng.uniform(*scale)
    aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
    ch = int(min(h, max(1, round(np.sqrt(area / aspect)))))
    cw = int(min(w, max(1, round(np.sqrt(area * aspect)))))
    top = int(rng.integers(0, h - ch + 1))
    left = int(rng.integers(0, w - cw + 1))
    view = resize(np.ascontiguousarray(image[top:top + ch, left:left + cw]), (size, size))
    if rng.random() < 0.5:
        view = view[:, ::-1]
    brightness = rng.uniform(0.7, 1.3)
    contrast = rng.uniform(0.7, 1.3)
    saturation = rng.uniform(0.6, 1.4)
    grey = view @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    view = view * brightness
    view = (view - view.mean()) * contrast + view.mean()
    view = (view - grey[..., None] * brightness) * saturation + grey[..., None] * brightness
    if rng.random() < 0.1:
        view = np.repeat(view.mean(axis=2, keepdims=True), 3, axis=2)
    return np.clip(view, 0.0, 1.0).astype(np.float32)


__all__ = ["varispeed", "crop_or_place", "coloured_noise", "augment_waveforms", "augment_spectrograms",
           "augment_image"]
