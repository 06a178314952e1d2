"""DiffAugment (Zhao et al. 2020): differentiable augmentations of everything the discriminator sees.

The same random policy is applied to real and generated images (fresh parameters per image), and gradients
flow through it to the generator, so a discriminator trained on a few hundred images cannot memorise them
and the generator is not taught to produce the augmentations.

* ``color`` — brightness (add U(-0.5, 0.5)), saturation (x U(0, 2)), contrast (x U(0.5, 1.5))
* ``translation`` — shift by up to 1/8 of the side, zeros shifted in
* ``cutout`` — zero one square of half the side at a random place

Images are ``(N, C, H, W)`` in [-1, 1]. Randomness comes from torch's global generator (the training loop
re-seeds it every step) or from ``generator``.

Example
-------
>>> x = torch.zeros(4, 3, 16, 16)
>>> diff_augment(x, "color,translation,cutout").shape
torch.Size([4, 3, 16, 16])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from latentstudio.errors import ParameterError

POLICIES = ("color", "translation", "cutout")


def parse_policy(policy: str | None) -> tuple[str, ...]:
    """``"color,translation,cutout"`` -> a tuple of known names; ``""``/None -> ()."""
    if not policy:
        return ()
    names = tuple(p.strip() for p in str(policy).split(",") if p.strip())
    bad = [p for p in names if p not in POLICIES]
    if bad:
        raise ParameterError(f"diffaugment policy {bad[0]!r} is unknown; choose from {', '.join(POLICIES)}")
    return names


def _rand(n: int, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.rand(n, 1, 1, 1, generator=generator, device="cpu").to(x.device, x.dtype)


def color(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    n = x.shape[0]
    x = x + (_rand(n, x, generator) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_rand(n, x, generator) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_rand(n, x, generator) + 0.5) + mean


def translation(x: torch.Tensor, ratio: float = 0.125, generator: torch.Generator | None = None) -> torch.Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (n, 1, 1), generator=generator).to(x.device)
    dx = torch.randint(-sw, sw + 1, (n, 1, 1), generator=generator).to(x.device)
    gy, gx = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    ys = torch.clamp(gy[None] + dy + 1, 0, h + 1)
    xs = torch.clamp(gx[None] + dx + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1])
    idx = (ys * (w + 2) + xs).reshape(n, 1, h * w).expand(-1, x.shape[1], -1)
    return padded.flatten(2).gather(2, idx).reshape_as(x)


def cutout(x: torch.Tensor, ratio: float = 0.5, generator: torch.Generator | None = None) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), generator=generator).to(x.device)
    ox = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), generator=generator).to(x.device)
    gy = torch.arange(h, device=x.device).view(1, h, 1)
    gx = torch.arange(w, device=x.device).view(1, 1, w)
    top, left = oy - ch // 2, ox - cw // 2
    inside = (gy >= top) & (gy < top + ch) & (gx >= left) & (gx < left + cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


def diff_augment(x: torch.Tensor, policy: str | tuple[str, ...] = POLICIES, *,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Apply the named augmentations in order (``"color,translation,cutout"`` or a tuple)."""
    names = parse_policy(policy) if isinstance(policy, str) else tuple(policy)
    for name in names:
        x = {"color": color, "translation": translation, "cutout": cutout}[name](x, generator=generator)
    return x


__all__ = ["diff_augment", "parse_policy", "POLICIES", "color", "translation", "cutout"]
