"""Glitch: perturb chosen layers of a generator's weights, seeded, and look at what it makes then.

Network bending by weight noise: a copy of the generator whose chosen layers are disturbed, the original left
as it is. Early layers (near the latent) break the layout, late ones the texture and colour.

* ``"noise"`` — add Gaussian noise of ``scale`` x the layer's weight standard deviation
* ``"scale"`` — multiply each output channel by ``1 + scale x N(0, 1)``
* ``"drop"`` — zero a fraction ``scale`` of the output channels

Example
-------
>>> bent = glitch(generator, layers=["main.3"], scale=0.5, seed=0)       # doctest: +SKIP
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from latentstudio.errors import ParameterError

MODES = ("noise", "scale", "drop")


def glitch_layers(generator: nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    """The generator's layers with a weight matrix or kernel (convolutions, linear layers) and its shape."""
    return [(name, tuple(m.weight.shape)) for name, m in generator.named_modules()
            if name and isinstance(getattr(m, "weight", None), torch.Tensor) and m.weight.ndim >= 2]


def _resolve(generator: nn.Module, layers) -> list[str]:
    known = [n for n, _ in glitch_layers(generator)]
    if layers is None or layers == "all":
        return known
    if isinstance(layers, str):
        layers = [s.strip() for s in layers.split(",") if s.strip()]
    chosen: list[str] = []
    for name in layers:
        hits = [n for n in known if n == name or n.startswith(name + ".")]
        if not hits:
            raise ParameterError(f"layer {name!r} is not a weight layer of the generator; valid: {', '.join(known)}")
        chosen += [h for h in hits if h not in chosen]
    if not chosen:
        raise ParameterError(f"layers={layers!r} names no layer; valid: {', '.join(known)}")
    return chosen


def glitch(generator: nn.Module, *, layers=None, scale: float = 0.5, mode: str = "noise", seed: int = 0
           ) -> nn.Module:
    """A perturbed copy of ``generator`` (eval mode); ``generator`` itself is not changed.

    Parameters
    ----------
    layers : layer names of :func:`glitch_layers` (a prefix takes every layer below it: ``"blocks.2"``), a
        comma-separated string, or None / ``"all"``
    scale : strength (see the module doc), >= 0
    mode : ``"noise"``, ``"scale"`` or ``"drop"``
    seed : the perturbation (same seed, same glitch)

    Raises
    ------
    ParameterError : unknown layers or mode, negative scale (``"drop"``: scale must be at most 1)
    """
    if mode not in MODES:
        raise ParameterError(f"mode={mode!r} must be one of {', '.join(MODES)}")
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale >= 0) or (mode == "drop" and scale > 1):
        raise ParameterError(f"scale={scale!r} must be a finite number >= 0{' and <= 1 for drop' if mode == 'drop' else ''}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError(f"seed={seed!r} must be a non-negative integer")
    names = _resolve(generator, layers)
    bent = copy.deepcopy(generator).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name in names:
            w = bent.get_submodule(name).weight
            # transposed convolutions keep output channels on axis 1
            axis = 1 if isinstance(bent.get_submodule(name), nn.ConvTranspose2d) else 0
            if mode == "noise":
                w.add_(torch.randn(w.shape, generator=g).to(w) * float(scale) * w.std())
            else:
                shape = [1] * w.ndim
                shape[axis] = w.shape[axis]
                if mode == "scale":
                    w.mul_((1 + float(scale) * torch.randn(shape, generator=g)).to(w))
                else:
                    w.mul_((torch.rand(shape, generator=g) >= float(scale)).to(w))
    return bent


__all__ = ["glitch", "glitch_layers", "MODES"]
