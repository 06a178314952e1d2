"""Strong, seeded augmentation of drum one-shots so the classifier hears through kits and voices.

Two stages, both batched in torch and driven by a ``torch.Generator``:

* :func:`augment_audio` — on the waveform: pitch/speed change (resampling x0.7-1.45), a late or
  early cut of the attack, a shortened decay, voicing (a buzzing harmonic tone that follows the
  sound's envelope, like a mouth imitating a drum), a small synthetic room, background noise at
  10-40 dB SNR and saturation (clipping).
* :func:`augment_patches` — on the normalised log-mel patch: a random smooth equaliser, tilt,
  microphone-like low/high cuts, vowel-like formant bumps, and SpecAugment masks.
"""

from __future__ import annotations

import math

import torch

from latentstudio.beatbox.features import CLIP_SAMPLES, N_FRAMES, N_MELS, SR, TOP_DB


def _u(g: torch.Generator, n: int, lo: float, hi: float) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=g)


def _p(g: torch.Generator, n: int, p: float) -> torch.Tensor:
    return (torch.rand(n, generator=g) < p).float()


def augment_audio(audio: torch.Tensor, generator: torch.Generator, *, strength: float = 1.0,
                  keep_decay: torch.Tensor | None = None) -> torch.Tensor:
    """``(batch, n)`` one-shots at 16 kHz (n >= CLIP_SAMPLES * 1.45) -> augmented ``(batch, CLIP_SAMPLES)``.

    ``keep_decay`` (bool, ``(batch,)``) marks sounds whose decay is their class (open hats, cymbals): they
    are never shortened, and their room stays small, so an open hat is not taught as a closed one."""
    g, b = generator, audio.shape[0]
    n_in = audio.shape[-1]
    t = torch.arange(CLIP_SAMPLES, dtype=torch.float32)
    # pitch and speed by resampling; an attack cut short or a little silence before it
    rate = torch.exp(_u(g, b, math.log(0.7), math.log(1.45)) * strength)
    shift = _u(g, b, -0.012, 0.004) * SR * strength  # negative = silence first, positive = attack cut
    pos = (t[None] * rate[:, None] + shift[:, None]).clamp(min=-1.0)
    i0 = pos.floor().long()
    frac = pos - i0
    valid = (i0 >= 0) & (i0 < n_in - 1)
    i0c = i0.clamp(0, n_in - 2)
    y = (torch.gather(audio, 1, i0c) * (1 - frac) + torch.gather(audio, 1, i0c + 1) * frac) * valid
    # shortened decay
    tau = torch.exp(_u(g, b, math.log(0.03), math.log(0.6)))
    shorten = _p(g, b, 0.5 * strength) * (1.0 if keep_decay is None else (~keep_decay).float())
    y = y * torch.where(shorten[:, None] > 0, torch.exp(-t[None] / SR / tau[:, None]), 1.0)
    env = torch.nn.functional.avg_pool1d(y.abs()[:, None], 161, stride=1, padding=80)[:, 0]
    # voicing: a sawtooth at a speaking pitch following the sound's envelope
    f0 = _u(g, b, 80.0, 260.0)
    saw = 2 * torch.remainder(t[None] * f0[:, None] / SR, 1.0) - 1
    y = y + saw * env * (_u(g, b, 0.1, 0.8) * _p(g, b, 0.3 * strength))[:, None]
    # breath: noise following the envelope
    y = y + torch.randn(y.shape, generator=g) * env * (_u(g, b, 0.1, 0.6) * _p(g, b, 0.3 * strength))[:, None]
    # a small room: exponentially decaying noise impulse response
    rt = _u(g, b, 0.05, 0.5)
    if keep_decay is not None:  # a long room would make a closed hat open: rooms stay short for short sounds
        rt = torch.where(keep_decay, rt, rt.clamp(max=0.25))
    ir = torch.randn(b, CLIP_SAMPLES, generator=g) * torch.exp(-6.9 * t[None] / SR / rt[:, None])
    ir = ir / ir.norm(dim=1, keepdim=True).clamp(min=1e-8)
    wet = _u(g, b, 0.05, 0.5) * _p(g, b, 0.5 * strength)
    nfft = 2 * CLIP_SAMPLES
    rev = torch.fft.irfft(torch.fft.rfft(y, nfft) * torch.fft.rfft(ir, nfft), nfft)[:, :CLIP_SAMPLES]
    y = y + wet[:, None] * rev * (y.norm(dim=1, keepdim=True) / rev.norm(dim=1, keepdim=True).clamp(min=1e-8))
    # background noise (white, or pink-ish by a running sum) at 10-40 dB SNR
    noise = torch.randn(b, CLIP_SAMPLES, generator=g)
    pink = torch.cumsum(noise, dim=1)
    pink = pink - pink.mean(dim=1, keepdim=True)
    noise = torch.where(_p(g, b, 0.5)[:, None] > 0, noise, pink)
    rms = y.pow(2).mean(dim=1, keepdim=True).sqrt().clamp(min=1e-6)
    snr = 10 ** (_u(g, b, 10.0, 40.0) / 20)
    y = y + _p(g, b, 0.7 * strength)[:, None] * noise / noise.pow(2).mean(dim=1, keepdim=True).sqrt() * rms / snr[:, None]
    # saturation
    drive = torch.where(_p(g, b, 0.3 * strength) > 0, _u(g, b, 1.0, 12.0), torch.ones(b))
    y = y / y.abs().amax(dim=1, keepdim=True).clamp(min=1e-6)
    return torch.tanh(drive[:, None] * y) / torch.tanh(drive[:, None])


def augment_patches(p: torch.Tensor, generator: torch.Generator, *, strength: float = 1.0) -> torch.Tensor:
    """Random spectral colouring of ``(batch, 1, N_MELS, N_FRAMES)`` patches in [0, 1] (see module doc)."""
    g, b = generator, p.shape[0]
    m = torch.linspace(0, 1, N_MELS)[None]
    db = torch.zeros(b, N_MELS)
    for k in range(1, 4):  # smooth random equaliser, +-9 dB
        db = db + _u(g, b, -3, 3)[:, None] * torch.cos(math.pi * k * m + _u(g, b, 0, math.pi)[:, None])
    db = db + _u(g, b, -12, 12)[:, None] * (m - 0.5)  # tilt
    lo = _u(g, b, 0.0, 0.25)[:, None]  # microphone-like high-pass / low-pass
    hi = _u(g, b, 0.6, 1.2)[:, None]
    db = db - 40 * torch.sigmoid((lo - m) * 40) * _p(g, b, 0.3)[:, None]
    db = db - 40 * torch.sigmoid((m - hi) * 40) * _p(g, b, 0.4)[:, None]
    for _ in range(3):  # vowel-like formant bumps
        c, w = _u(g, b, 0.1, 0.7)[:, None], _u(g, b, 0.02, 0.06)[:, None]
        db = db + (_u(g, b, 4, 18) * _p(g, b, 0.4))[:, None] * torch.exp(-0.5 * ((m - c) / w) ** 2)
    x = p + strength * db[:, None, :, None] / TOP_DB
    # SpecAugment: one band and one stretch of time masked to the floor
    fm0 = (torch.rand(b, generator=g) * N_MELS).long()
    fw = (torch.rand(b, generator=g) * 8).long() * _p(g, b, 0.5).long()
    tm0 = (torch.rand(b, generator=g) * N_FRAMES).long()
    tw = (torch.rand(b, generator=g) * 8).long() * _p(g, b, 0.3).long()
    fi = torch.arange(N_MELS)[None]
    ti = torch.arange(N_FRAMES)[None]
    fmask = (fi >= fm0[:, None]) & (fi < (fm0 + fw)[:, None])
    tmask = (ti >= tm0[:, None]) & (ti < (tm0 + tw)[:, None])
    mask = fmask[:, None, :, None] | tmask[:, None, None, :]
    x = torch.where(mask, torch.zeros_like(x), x)
    x = x - x.amax(dim=(-2, -1), keepdim=True) + 1.0
    return x.clamp(0.0, 1.0)
