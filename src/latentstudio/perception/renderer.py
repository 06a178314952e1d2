"""The Perception Engines renderer: a background colour and straight strokes, all in [0, 1].

A *drawing* is a flat vector in [0, 1]: three background values (RGB), then :data:`STROKE_DIM` values per
stroke - start point (x0, y0), end point (x1, y1) as fractions of the canvas, width (mapped to
:data:`MIN_WIDTH`-:data:`MAX_WIDTH` of the canvas side) and colour (r, g, b). Because every number is a
fraction of the canvas, the drawing renders the same at 224 px for the search and at 4000 px for the print
(:func:`render`), and as SVG (:func:`to_svg`).

Strokes are painted in order with round caps. The edge of a stroke is a ramp ``softness`` px wide:
1 px is an antialiased drawing; a few px give a *soft rasteriser* whose gradient reaches pixels near a
stroke, which the gradient planner uses.

Example
-------
>>> import torch
>>> d = random_drawings(2, n_strokes=5, generator=torch.Generator().manual_seed(0))
>>> d.shape, render(d, size=64).shape
(torch.Size([2, 43]), torch.Size([2, 3, 64, 64]))
"""

from __future__ import annotations

import torch

from latentstudio.errors import ParameterError

#: Values per stroke: x0, y0, x1, y1, width, r, g, b.
STROKE_DIM = 8
#: Values for the background colour.
BG_DIM = 3
#: Stroke width range as a fraction of the canvas side.
MIN_WIDTH, MAX_WIDTH = 0.01, 0.08


def n_params(n_strokes: int) -> int:
    """Length of a drawing vector with ``n_strokes`` strokes."""
    return BG_DIM + STROKE_DIM * int(n_strokes)


def n_strokes_of(drawings: torch.Tensor) -> int:
    """Number of strokes in drawings of shape ``(..., D)``."""
    d = drawings.shape[-1] - BG_DIM
    if d < 0 or d % STROKE_DIM:
        raise ParameterError(f"a drawing has {BG_DIM} + {STROKE_DIM} x strokes values, got {drawings.shape[-1]}")
    return d // STROKE_DIM


def random_drawings(n: int, *, n_strokes: int, generator: torch.Generator | None = None,
                    device: str | torch.device = "cpu") -> torch.Tensor:
    """``n`` random drawings of ``n_strokes`` strokes, shape ``(n, D)``, uniform in [0.01, 0.99]."""
    if n < 1 or n_strokes < 0:
        raise ParameterError(f"n={n} must be >= 1 and n_strokes={n_strokes} >= 0")
    return 0.01 + 0.98 * torch.rand(n, n_params(n_strokes), generator=generator, device=device)


def random_strokes(n: int, *, n_strokes: int, generator: torch.Generator | None = None,
                   device: str | torch.device = "cpu") -> torch.Tensor:
    """``n`` x ``n_strokes`` random strokes, flattened to ``(n, n_strokes * STROKE_DIM)``."""
    return 0.01 + 0.98 * torch.rand(n, n_strokes * STROKE_DIM, generator=generator, device=device)


def _segment_distance(px: torch.Tensor, py: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Distance (canvas fractions) of pixel centres to each segment: ``(B, P)`` for strokes ``(B, 8)``."""
    x0, y0, x1, y1 = (s[:, i:i + 1] for i in range(4))
    dx, dy = x1 - x0, y1 - y0
    t = ((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy).clamp_min(1e-12)
    t = t.clamp(0, 1)
    ex, ey = px - (x0 + t * dx), py - (y0 + t * dy)
    return torch.sqrt(ex * ex + ey * ey + 1e-12)


def render(drawings: torch.Tensor, *, size: int | tuple[int, int] = 224, softness: float = 1.0) -> torch.Tensor:
    """Draw ``(B, D)`` drawings as ``(B, 3, H, W)`` RGB images in [0, 1].

    Parameters
    ----------
    drawings : values in [0, 1] (clamped), as made by :func:`random_drawings`
    size : output side in px, or ``(height, width)``; the drawing is stretched to the canvas
    softness : width in px of the stroke edge ramp (1 = antialiased; larger = soft rasteriser)

    Example
    -------
    >>> d = torch.tensor([[1.0, 1.0, 1.0, 0.1, 0.5, 0.9, 0.5, 1.0, 0.0, 0.0, 0.0]])   # a black bar on white
    >>> img = render(d, size=32)
    >>> float(img[0, :, 16, 16].max()) < 0.1 and float(img[0, :, 2, 16].min()) > 0.9
    True
    """
    if drawings.ndim == 1:
        drawings = drawings[None]
    h, w = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    if h < 1 or w < 1:
        raise ParameterError(f"size={size} must be positive")
    if not softness > 0:
        raise ParameterError(f"softness={softness} must be positive")
    n = n_strokes_of(drawings)
    d = drawings.clamp(0, 1)
    b = d.shape[0]
    side = float(max(h, w))
    ys = (torch.arange(h, device=d.device, dtype=d.dtype) + 0.5) / h
    xs = (torch.arange(w, device=d.device, dtype=d.dtype) + 0.5) / w
    py = ys[:, None].expand(h, w).reshape(1, -1)
    px = xs[None, :].expand(h, w).reshape(1, -1)
    img = d[:, :BG_DIM, None].expand(b, 3, h * w)
    for k in range(n):
        s = d[:, BG_DIM + k * STROKE_DIM: BG_DIM + (k + 1) * STROKE_DIM]
        half = 0.5 * (MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * s[:, 4:5])
        inside = (half - _segment_distance(px, py, s)) * side / softness   # px inside the edge / ramp width
        cover = (inside + 0.5).clamp(0, 1) if softness <= 1.0 else torch.sigmoid(inside * 2.0)
        colour = s[:, 5:8, None]
        img = img + (colour - img) * cover[:, None, :]
    return img.reshape(b, 3, h, w)


def _hex(rgb) -> str:
    return "#" + "".join(f"{int(round(float(c) * 255)):02x}" for c in rgb)


def to_svg(drawing: torch.Tensor, *, size: int = 1024) -> str:
    """The drawing as an SVG document ``size`` px square (round-capped lines, as :func:`render` draws).

    Example
    -------
    >>> to_svg(torch.tensor([1.0, 1.0, 1.0, 0.1, 0.5, 0.9, 0.5, 0.5, 0.0, 0.0, 0.0]), size=100).count("<line")
    1
    """
    d = drawing.detach().flatten().clamp(0, 1).cpu()
    n = n_strokes_of(d)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">',
             f'<rect width="{size}" height="{size}" fill="{_hex(d[:3])}"/>']
    for k in range(n):
        s = d[BG_DIM + k * STROKE_DIM: BG_DIM + (k + 1) * STROKE_DIM].tolist()
        width = (MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * s[4]) * size
        parts.append(f'<line x1="{s[0] * size:.2f}" y1="{s[1] * size:.2f}" x2="{s[2] * size:.2f}" '
                     f'y2="{s[3] * size:.2f}" stroke="{_hex(s[5:8])}" stroke-width="{width:.2f}" '
                     f'stroke-linecap="round"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


__all__ = ["render", "to_svg", "random_drawings", "random_strokes", "n_params", "n_strokes_of", "STROKE_DIM",
           "BG_DIM", "MIN_WIDTH", "MAX_WIDTH"]
