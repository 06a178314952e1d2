"""Random transforms applied to the image before each forward pass (robustness, as in Lucid/lucent).

A transform is a callable ``t(image, generator) -> image`` on ``(N, 3, H, W)`` tensors, differentiable
in the image; :func:`compose` chains several. The generator makes every random draw reproducible.

Example
-------
>>> g = torch.Generator().manual_seed(0)
>>> t = compose([pad(4), jitter(2), random_scale([0.9, 1.1]), random_rotate([-5, 5])])
>>> t(torch.rand(1, 3, 32, 32), g).shape[1]
3
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from latentstudio.errors import ParameterError

Transform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def _randint(lo: int, hi: int, g: torch.Generator) -> int:
    """Uniform integer in [lo, hi]."""
    return int(torch.randint(lo, hi + 1, (1,), generator=g))


def _choice(values: Sequence[float], g: torch.Generator) -> float:
    return float(values[int(torch.randint(0, len(values), (1,), generator=g))])


def pad(width: int, *, mode: str = "reflect", value: float = 0.5) -> Transform:
    """Pad every side by ``width`` px (``mode`` = reflect, constant or replicate)."""
    if width < 0:
        raise ParameterError(f"pad width={width} must be >= 0")
    if mode not in ("reflect", "constant", "replicate"):
        raise ParameterError(f"pad mode={mode!r} must be reflect, constant or replicate")

    def t(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        if width == 0:
            return x
        if mode == "constant":
            return F.pad(x, [width] * 4, mode="constant", value=value)
        return F.pad(x, [width] * 4, mode=mode)
    return t


def jitter(d: int) -> Transform:
    """Random crop that shifts the image by up to ``d`` px (the output is ``d`` px smaller a side)."""
    if d < 1:
        raise ParameterError(f"jitter d={d} must be >= 1")

    def t(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        dx, dy = _randint(0, d, g), _randint(0, d, g)
        return x[..., dy:dy + x.shape[-2] - d, dx:dx + x.shape[-1] - d]
    return t


def roll(max_shift: int) -> Transform:
    """Circular shift by up to ``max_shift`` px each way (DeepDream's jitter: no pixels lost)."""
    def t(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        dy, dx = _randint(-max_shift, max_shift, g), _randint(-max_shift, max_shift, g)
        return torch.roll(x, shifts=(dy, dx), dims=(-2, -1))
    return t


def _affine(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    grid = F.affine_grid(theta.expand(x.shape[0], 2, 3).to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def random_scale(scales: Sequence[float]) -> Transform:
    """Zoom by a factor drawn from ``scales`` (about the centre, size kept)."""
    if not scales or min(scales) <= 0:
        raise ParameterError(f"scales={list(scales)} must be a non-empty list of positive factors")

    def t(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        s = _choice(scales, g)
        theta = torch.tensor([[1 / s, 0, 0], [0, 1 / s, 0]], device=x.device)
        return _affine(x, theta[None])
    return t


def random_rotate(angles: Sequence[float]) -> Transform:
    """Rotate by an angle in degrees drawn from ``angles`` (the range's ends when two values are given)."""
    if not angles:
        raise ParameterError("angles must be a non-empty list of degrees")

    def t(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        if len(angles) == 2:
            a = float(angles[0] + (angles[1] - angles[0]) * torch.rand(1, generator=g))
        else:
            a = _choice(angles, g)
        r = math.radians(a)
        theta = torch.tensor([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0]], device=x.device)
        return _affine(x, theta[None])
    return t


def compose(transforms: Sequence[Transform]) -> Transform:
    """Apply ``transforms`` in order."""
    transforms = list(transforms)

    def t(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        for tr in transforms:
            x = tr(x, g)
        return x
    return t


def standard_transforms() -> Transform:
    """lucent's defaults: pad 12, jitter 8, scale 0.9-1.1, rotate +-10 degrees, jitter 4."""
    return compose([pad(12, mode="constant"), jitter(8), random_scale([1 + (i - 5) / 50 for i in range(11)]),
                    random_rotate(list(range(-10, 11))), jitter(4)])


__all__ = ["Transform", "pad", "jitter", "roll", "random_scale", "random_rotate", "compose",
           "standard_transforms"]
