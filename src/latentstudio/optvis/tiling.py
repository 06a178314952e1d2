"""Tiled gradients: the gradient of an objective for an image of any size in bounded memory.

The image is cut into tiles; each tile is run through the network with a margin of context around
it, and only the gradient of the tile's core is kept. Because each core sees its neighbours' pixels,
its gradient is (up to the network's effective receptive field) the gradient the whole image would
give, so no seams appear at tile borders. Each tile's score is weighted by its window's area, so that
a mean-over-positions objective contributes equally per pixel in every tile. Callers shift the image by
a random roll before tiling (DeepDream does, every step) so that the grid moves and any residue
averages out.

Memory is one image, one gradient image and one tile's activations; a 4096x4096 image needs about
0.5 GB beyond the model.

Example
-------
>>> import torch
>>> from torch import nn
>>> from latentstudio.optvis.engine import FeatureModel
>>> from latentstudio.optvis.objectives import deepdream
>>> fm = FeatureModel(nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU()).eval())
>>> g, score = tiled_gradient(fm, deepdream("1"), torch.rand(1, 3, 100, 90), tile_size=48, margin=8)
>>> g.shape
torch.Size([1, 3, 100, 90])
"""

from __future__ import annotations

import torch

from latentstudio.errors import ParameterError
from latentstudio.optvis.engine import FeatureModel
from latentstudio.optvis.objectives import INPUT, Objective


def tile_spans(size: int, *, tile_size: int, margin: int) -> list[tuple[int, int, int, int]]:
    """Split ``[0, size)`` into cores of at most ``tile_size`` with windows ``margin`` wider each side.

    Returns
    -------
    list of (core_start, core_end, window_start, window_end)

    Example
    -------
    >>> tile_spans(10, tile_size=4, margin=1)
    [(0, 3, 0, 4), (3, 7, 2, 8), (7, 10, 6, 10)]
    """
    if tile_size < 1:
        raise ParameterError(f"tile_size={tile_size} must be a positive number of pixels")
    if margin < 0:
        raise ParameterError(f"margin={margin} must be >= 0")
    if size <= tile_size:
        return [(0, size, 0, size)]
    n = -(-size // tile_size)
    edges = [round(i * size / n) for i in range(n + 1)]
    return [(a, b, max(0, a - margin), min(size, b + margin)) for a, b in zip(edges[:-1], edges[1:])]


def tiled_gradient(model: FeatureModel, objective: Objective, image: torch.Tensor, *, tile_size: int = 512,
                   margin: int = 64, shift: tuple[int, int] = (0, 0)) -> tuple[torch.Tensor, float]:
    """Gradient of ``objective`` with respect to ``image`` (1, 3, H, W), computed tile by tile.

    Parameters
    ----------
    model : the prepared network
    objective : what to raise; its per-tile scores are weighted by tile area
    image : ``(1, 3, H, W)`` tensor (not modified)
    tile_size : largest core side in px; images that fit are done in one pass without margin
    margin : context px around each core (its gradient is discarded)
    shift : ``(dy, dx)`` circular roll applied before tiling and undone on the gradient

    Returns
    -------
    (gradient, score) : gradient shaped like ``image``; the area-weighted mean score

    Raises
    ------
    ParameterError : an image that is not (1, 3, H, W)
    """
    if image.ndim != 4 or image.shape[0] != 1 or image.shape[1] != 3:
        raise ParameterError(f"image must have shape (1, 3, H, W), got {tuple(image.shape)}")
    layers = set(objective.layers)
    model.check_layers(layers)
    dy, dx = int(shift[0]), int(shift[1])
    src = torch.roll(image.detach(), shifts=(dy, dx), dims=(-2, -1)) if (dy or dx) else image.detach()
    h, w = src.shape[-2:]
    grad = torch.zeros_like(src)
    total_area = float(h * w)
    score = 0.0
    rows = tile_spans(h, tile_size=tile_size, margin=margin)
    cols = tile_spans(w, tile_size=tile_size, margin=margin)
    for (ca, cb, wa, wb) in rows:
        for (ra, rb, va, vb) in cols:
            win = src[..., wa:wb, va:vb].clone().requires_grad_(True)
            acts = model(win, layers=layers)
            if INPUT in layers:
                acts[INPUT] = win
            weight = (wb - wa) * (vb - va) / total_area
            s = objective(acts).sum() * weight
            (g,) = torch.autograd.grad(s, win)
            grad[..., ca:cb, ra:rb] = g[..., ca - wa:cb - wa, ra - va:rb - va]
            score += float(s.detach())
    if dy or dx:
        grad = torch.roll(grad, shifts=(-dy, -dx), dims=(-2, -1))
    return grad, score


def tiled_score(model: FeatureModel, objective: Objective, image: torch.Tensor, *, tile_size: int = 512,
                margin: int = 64) -> float:
    """The area-weighted score :func:`tiled_gradient` reports, without computing a gradient."""
    if image.ndim != 4 or image.shape[0] != 1 or image.shape[1] != 3:
        raise ParameterError(f"image must have shape (1, 3, H, W), got {tuple(image.shape)}")
    layers = set(objective.layers)
    h, w = image.shape[-2:]
    score = 0.0
    with torch.no_grad():
        for (_, _, wa, wb) in tile_spans(h, tile_size=tile_size, margin=margin):
            for (_, _, va, vb) in tile_spans(w, tile_size=tile_size, margin=margin):
                win = image[..., wa:wb, va:vb]
                acts = model(win, layers=layers)
                if INPUT in layers:
                    acts[INPUT] = win
                score += float(objective(acts).sum()) * (wb - wa) * (vb - va) / float(h * w)
    return score


__all__ = ["tile_spans", "tiled_gradient", "tiled_score"]
