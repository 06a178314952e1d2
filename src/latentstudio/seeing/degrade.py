"""The degradation that makes a network's input from a picture, at training time and at run time.

Learning to See trains on target pictures only: each input is the target, degraded on the fly (random
100-130 % scale and crop, flips, greyscale, about 24x area down-sampling then bicubic up-sampling, +-20 %
brightness, random contrast). At run time a camera frame gets the same deterministic part (greyscale, the
down-and-up sampling), so the network sees the same kind of input it learned from.

Tensors are ``(N, C, H, W)`` float32 in [0, 1]; network inputs are one grey channel.

Example
-------
>>> import torch
>>> x = torch.rand(2, 3, 128, 128)
>>> degrade(x).shape
torch.Size([2, 1, 128, 128])
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

from latentstudio.errors import ParameterError

_LUMA = (0.299, 0.587, 0.114)


@dataclass(frozen=True)
class Degradation:
    """How much a picture is degraded (the run-time part; the training jitter is in :func:`training_pair`).

    Attributes
    ----------
    area_factor : the picture is area-averaged down by this factor of its *area* (24 = about 4.9x per side)
        and bicubic-resampled back up
    """

    area_factor: float = 24.0

    def __post_init__(self):
        if not isinstance(self.area_factor, (int, float)) or not math.isfinite(self.area_factor) \
                or not 1 <= self.area_factor <= 1024:
            raise ParameterError(f"area_factor={self.area_factor!r} must be a number in [1, 1024]")

    def to_dict(self) -> dict:
        return asdict(self)


def grey(x: torch.Tensor) -> torch.Tensor:
    """``(N, 3, H, W)`` RGB -> ``(N, 1, H, W)`` luminance (Rec. 601 weights); one channel passes through."""
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ParameterError(f"expected an (N, 1|3, H, W) tensor, got {tuple(x.shape)}")
    if x.shape[1] == 1:
        return x
    w = torch.tensor(_LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(dim=1, keepdim=True)


def down_up(x: torch.Tensor, area_factor: float) -> torch.Tensor:
    """Area-average down by ``area_factor`` (of the area), bicubic back to the same size, clamped to [0, 1]."""
    h, w = x.shape[-2:]
    side = math.sqrt(float(area_factor))
    small = (max(2, round(h / side)), max(2, round(w / side)))
    if small == (h, w):
        return x
    lo = F.interpolate(x, size=small, mode="area")
    return F.interpolate(lo, size=(h, w), mode="bicubic", align_corners=False).clamp_(0, 1)


def degrade(x: torch.Tensor, degradation: Degradation = Degradation()) -> torch.Tensor:
    """The run-time degradation: greyscale, then down-and-up sampling. ``(N, 3, H, W)`` -> ``(N, 1, H, W)``."""
    return degrade_area(x, degradation.area_factor)


def degrade_area(x: torch.Tensor, area_factor: float) -> torch.Tensor:
    """:func:`degrade` by an area factor alone (differentiable: training losses compare through it)."""
    return down_up(grey(x), area_factor)


def random_crops(photos: list[torch.Tensor], n: int, size: int, generator: torch.Generator, *,
                 crop_range: tuple[float, float] = (0.25, 0.6), scale_range: tuple[float, float] = (1.0, 1.3),
                 flips: bool = True) -> torch.Tensor:
    """``n`` random square crops of random photographs, resized to ``size`` x ``size``.

    A crop spans ``crop_range`` of the photograph's shorter side (the content scale: a petal or a whole
    flower), divided by a random zoom in ``scale_range`` (the original's 100-130 % scale before its crop);
    horizontal and vertical flips at random. Photographs are ``(3, H, W)`` float tensors.
    """
    out = torch.empty(n, 3, size, size)
    picks = torch.randint(len(photos), (n,), generator=generator).tolist()
    u = torch.rand(n, 6, generator=generator).tolist()
    for i, (k, r) in enumerate(zip(picks, u)):
        ph = photos[k]
        h, w = ph.shape[-2:]
        frac = crop_range[0] + (crop_range[1] - crop_range[0]) * r[0]
        zoom = scale_range[0] + (scale_range[1] - scale_range[0]) * r[1]
        side = max(8, min(h, w, round(min(h, w) * frac / zoom)))
        top = int(r[2] * (h - side + 1))
        left = int(r[3] * (w - side + 1))
        crop = ph[:, top:top + side, left:left + side].unsqueeze(0)
        crop = F.interpolate(crop, size=(size, size), mode="area" if side > size else "bicubic",
                             align_corners=None if side > size else False)
        if flips and r[4] < 0.5:
            crop = crop.flip(-1)
        if flips and r[5] < 0.5:
            crop = crop.flip(-2)
        out[i] = crop[0].clamp(0, 1)
    return out


def training_pair(targets: torch.Tensor, generator: torch.Generator, degradation: Degradation = Degradation(), *,
                  brightness: float = 0.2, contrast: float = 0.3) -> torch.Tensor:
    """Inputs for training targets ``(N, 3, H, W)``: the run-time degradation plus random brightness and
    contrast (+-``brightness`` of the level, contrast scaled by 1 +- ``contrast`` about the mean).

    The jitter teaches the network that a camera's exposure does not change the world it paints.
    """
    x = degrade(targets, degradation)
    n = x.shape[0]
    b = 1.0 + (torch.rand(n, 1, 1, 1, generator=generator) * 2 - 1) * brightness
    c = 1.0 + (torch.rand(n, 1, 1, 1, generator=generator) * 2 - 1) * contrast
    mean = x.mean(dim=(2, 3), keepdim=True)
    return ((x - mean) * c + mean * b).clamp_(0, 1)


def photo_tensor(pixels: np.ndarray) -> torch.Tensor:
    """``(H, W, 3)`` uint8 or float array -> ``(3, H, W)`` float32 tensor in [0, 1]."""
    arr = np.asarray(pixels)
    t = torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1)
    return t.float() / 255.0 if arr.dtype == np.uint8 else t.float()
