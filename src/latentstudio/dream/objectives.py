"""What a dream amplifies: layers, channels, the strongest channels of the picture, or a guide image.

All are :class:`latentstudio.optvis.Objective` objects, so they add and scale like any other.

Example
-------
>>> dream_objective(["blocks.5", "blocks.10:7"]).name
'deepdream(blocks.5) + deepdream(blocks.10, channels=[7])'
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from latentstudio.errors import ParameterError
from latentstudio.optvis import FeatureModel, Objective, deepdream
from latentstudio.optvis.objectives import LOGITS


def dream_objective(layers: str | Sequence[str], *, channels: Sequence[int] | None = None) -> Objective:
    """The DeepDream objective (mean squared activation) summed over ``layers``.

    A layer written ``"name:c1,c2"`` (or given ``channels=``) amplifies only those channels.

    Raises
    ------
    ParameterError : no layer, or a channel that is not an integer

    Example
    -------
    >>> dream_objective("blocks.10", channels=[3, 4]).layers
    frozenset({'blocks.10'})
    """
    names = [layers] if isinstance(layers, str) else list(layers)
    names = [n.strip() for spec in names for n in spec.split(";") if n.strip()]
    if not names:
        raise ParameterError(f"layer={layers!r}: name at least one layer to dream on")
    total: Objective | None = None
    for spec in names:
        name, sep, rest = spec.partition(":")
        chans = None
        if sep:
            try:
                chans = [int(c) for c in rest.split(",") if c.strip()]
            except ValueError:
                raise ParameterError(f"layer={spec!r}: channels {rest!r} must be integers, e.g. blocks.10:3,7") from None
        elif channels:
            chans = [int(c) for c in channels]
        if name == LOGITS:
            raise ParameterError(f"layer={spec!r}: dream on a feature layer (blocks.N), not the logits")
        obj = deepdream(name, channels=chans)
        total = obj if total is None else total + obj
    return total  # type: ignore[return-value]


def strongest_channels(model: FeatureModel, image: torch.Tensor, *, layer: str, n: int,
                       mode: str = "strongest") -> list[int]:
    """The ``n`` channels of ``layer`` most (``strongest``) or least (``weakest``) active on ``image``.

    Activity is the mean absolute activation over positions (neural-dream's channel modes).

    Example
    -------
    >>> from torch import nn
    >>> fm = FeatureModel(nn.Sequential(nn.Conv2d(3, 6, 1)).eval())
    >>> len(strongest_channels(fm, torch.rand(1, 3, 8, 8), layer="0", n=2))
    2
    """
    if mode not in ("strongest", "weakest"):
        raise ParameterError(f"mode={mode!r} must be 'strongest' or 'weakest'")
    with torch.no_grad():
        t = model(image, layers={layer})[layer]
    if t.ndim != 4:
        raise ParameterError(f"layer {layer!r} is not spatial (shape {tuple(t.shape)})")
    if not 1 <= n <= t.shape[1]:
        raise ParameterError(f"strongest={n} must be between 1 and the {t.shape[1]} channels of {layer!r}")
    activity = t.abs().mean(dim=(0, 2, 3))
    order = torch.argsort(activity, descending=(mode == "strongest"))
    return sorted(int(i) for i in order[:n])


def guided_objective(model: FeatureModel, guide: torch.Tensor, *, layer: str) -> Objective:
    """Steer a dream towards the features of ``guide`` (the original guided DeepDream).

    Each activation vector of the dreamed image is matched with the guide's vector of largest dot
    product, and the objective is the mean of those dot products: raising it grows, everywhere, the
    guide's features that already fit best.

    Parameters
    ----------
    model : the prepared network
    guide : ``(1, 3, H, W)`` guide image in [0, 1] (a few hundred px is plenty)
    layer : the layer whose features are matched
    """
    with torch.no_grad():
        g = model(guide, layers={layer})[layer]
    if g.ndim != 4:
        raise ParameterError(f"layer {layer!r} is not spatial (shape {tuple(g.shape)})")
    gflat = g[0].flatten(1).float().contiguous()                    # (C, M)

    def fn(acts) -> torch.Tensor:
        x = acts[layer]
        scores = []
        for xi in x:
            xf = xi.flatten(1).float()                               # (C, P)
            with torch.no_grad():
                match = (xf.t() @ gflat).argmax(dim=1)               # (P,)
            target = gflat[:, match]                                 # (C, P)
            scores.append((xf * target).sum(dim=0).mean())
        return torch.stack(scores)

    return Objective(fn, layers={layer}, name=f"guided({layer})")


__all__ = ["dream_objective", "strongest_channels", "guided_objective"]
