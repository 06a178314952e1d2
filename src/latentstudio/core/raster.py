"""Point clouds to pictures: splatting, compositing, colour maps, legends.

A frame is drawn in two steps. :func:`splat` spreads every point over the pixels around it
(anti-aliased, additive) into two buffers, the weighted *colour sum* and the *density*;
:func:`composite` turns them into an RGB image: each pixel shows the mean colour of its points,
with an opacity that grows with its density, over a background. :func:`render_points` does both.

Pixel coordinates have ``x`` to the right and ``y`` down; pixel ``(col, row)`` has its centre at
``x = col, y = row``, so a frame of ``width`` x ``height`` spans ``[-0.5, width - 0.5] x [-0.5, height - 0.5]``.
:func:`to_pixels` maps world coordinates (``y`` up) to them.

Colour maps (:func:`colormap`, :func:`apply_colormap`) are matplotlib's perceptual tables, shipped as
data (CC0) so nothing here imports matplotlib; :func:`label_palette` gives colour-blind-aware label
colours; :func:`draw_legend` and :func:`draw_colorbar` annotate a finished ``uint8`` image.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> world = rng.normal(size=(1000, 2))
>>> labels = rng.integers(0, 3, 1000)
>>> xy = to_pixels(world, bounds=(-3, 3, -3, 3), width=160, height=90)
>>> frame = render_points(xy, width=160, height=90, colors=label_palette(3)[labels])
>>> frame.shape, frame.dtype
((90, 160, 3), dtype('uint8'))
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence

import numpy as np

from latentstudio.errors import ParameterError

#: Largest frame side :func:`splat` accepts.
MAX_SIDE = 16384
#: Colour shown for NaN by :func:`apply_colormap` (a neutral grey).
NAN_COLOR = (0.5, 0.5, 0.5)
CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")

__all__ = ["splat", "composite", "render_points", "to_pixels", "colormap", "colormap_names", "apply_colormap",
           "label_palette", "draw_legend", "draw_colorbar", "MAX_SIDE", "NAN_COLOR", "CORNERS"]

# Okabe & Ito (2008) without black, then five colours (Paul Tol, Tableau) picked for CIE Lab distance.
_PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
            "#EE3377", "#999933", "#9467BD", "#EE8866", "#7F7F7F")


# --------------------------------------------------------------------------------------------- checks

def _side(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 < value <= MAX_SIDE:
        raise ParameterError(f"{name}={value!r} must be an integer in 1..{MAX_SIDE}")
    return int(value)


def _number(name: str, value, *, low: float | None = None, high: float | None = None,
            low_open: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name}={value!r} must be a number") from None
    if isinstance(value, bool) or not math.isfinite(v) or (low is not None and (v <= low if low_open else v < low)) \
            or (high is not None and v > high):
        lo = "" if low is None else (f"> {low}" if low_open else f">= {low}")
        hi = "" if high is None else f"<= {high}"
        raise ParameterError(f"{name}={value!r} must be a finite number {' and '.join(s for s in (lo, hi) if s)}")
    return v


def _array(name: str, value, *, ndim: int, last: int | None = None) -> np.ndarray:
    try:
        a = np.asarray(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a numeric array, got {type(value).__name__}") from None
    if a.dtype.kind not in "biuf" or a.ndim != ndim or (last is not None and a.shape[-1] != last):
        want = "(" + ", ".join(["N"] * (ndim - 1) + [str(last) if last else "M"]) + ("," if ndim == 1 else "") + ")"
        raise ParameterError(f"{name} must be a real array of shape {want}, got shape {a.shape} "
                             f"and dtype {a.dtype}")
    return a


def _rgb(name: str, value) -> np.ndarray:
    a = _array(name, value, ndim=1, last=3).astype(np.float64)
    if not (np.all(a >= 0) and np.all(a <= 1)):
        raise ParameterError(f"{name}={tuple(a.tolist())} must be an RGB triple in [0, 1]")
    return a


def _background(value, shape: tuple[int, int]) -> np.ndarray:
    """An RGB triple in [0, 1], or a uint8 ``(H, W, 3)`` image of the frame's size, as float in [0, 1]."""
    if np.ndim(value) != 3:
        return _rgb("background", value)
    img = _image(value)
    if img.shape[:2] != shape:
        raise ParameterError(f"background image of shape {img.shape} must cover the frame {shape}")
    return img.astype(np.float64) / 255.0


def _image(value) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.dtype != np.uint8 or value.ndim != 3 or value.shape[2] != 3:
        shape = getattr(value, "shape", None)
        raise ParameterError(f"image must be a uint8 array of shape (H, W, 3), got "
                             f"{type(value).__name__} of shape {shape} and dtype {getattr(value, 'dtype', None)}")
    if 0 in value.shape:
        raise ParameterError(f"image of shape {value.shape} is empty")
    return value


# ------------------------------------------------------------------------------------------- geometry

def to_pixels(points, *, width: int, height: int,
              bounds: tuple[float, float, float, float] | None = None) -> np.ndarray:
    """Map world coordinates (``y`` up) to pixel coordinates (``y`` down) of a frame.

    The world rectangle ``bounds`` is grown, about its centre, along one axis until it has the frame's
    aspect ratio (``width / height``); world units are then square on screen, the rectangle fills the
    frame, and its edges fall on the frame's edges (``x0 -> -0.5``, ``x1 -> width - 0.5``).

    Parameters
    ----------
    points : (N, 2) world coordinates ``(x, y)``; NaN rows stay NaN (and :func:`splat` drops them)
    width, height : frame size in pixels
    bounds : ``(x0, x1, y0, y1)`` world rectangle to show, ``x0 < x1`` or ``y0 < y1`` (one may be flat);
        ``None`` uses the extent of the finite points. A video should pass fixed bounds, or the view
        follows the points from frame to frame.

    Returns
    -------
    (N, 2) float64 pixel coordinates ``(x right, y down)`` for :func:`splat`.

    Raises
    ------
    ParameterError : bad shapes or sizes, bounds of zero or negative extent, no finite points to bound

    Example
    -------
    >>> to_pixels([[0, 0], [1, 1]], bounds=(0, 1, 0, 1), width=4, height=2).round(2).tolist()
    [[0.5, 1.5], [2.5, -0.5]]
    """
    width, height = _side("width", width), _side("height", height)
    pts = _array("points", points, ndim=2, last=2).astype(np.float64)
    if bounds is None:
        finite = pts[np.isfinite(pts).all(axis=1)]
        if len(finite) == 0:
            raise ParameterError("points has no finite rows to take bounds from; pass bounds=(x0, x1, y0, y1)")
        (x0, y0), (x1, y1) = finite.min(axis=0), finite.max(axis=0)
        if x1 == x0 and y1 == y0:
            x0, x1, y0, y1 = x0 - 0.5, x1 + 0.5, y0 - 0.5, y1 + 0.5
    else:
        try:
            x0, x1, y0, y1 = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise ParameterError(f"bounds={bounds!r} must be four numbers (x0, x1, y0, y1)") from None
        if not all(map(math.isfinite, (x0, x1, y0, y1))) or x1 < x0 or y1 < y0 or (x1 == x0 and y1 == y0):
            raise ParameterError(f"bounds={bounds!r} must be finite (x0, x1, y0, y1) with x0 <= x1, y0 <= y1 "
                                 "and a positive extent along at least one axis")
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    span_x, span_y = x1 - x0, y1 - y0
    aspect = width / height
    if span_x < span_y * aspect:
        span_x = span_y * aspect
    else:
        span_y = span_x / aspect
    scale = width / span_x                                   # pixels per world unit, both axes
    out = np.empty_like(pts)
    out[:, 0] = (pts[:, 0] - (cx - span_x / 2)) * scale - 0.5
    out[:, 1] = ((cy + span_y / 2) - pts[:, 1]) * scale - 0.5
    return out


# ------------------------------------------------------------------------------------------ splatting

def _taps(coord: np.ndarray, size: int, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixel indices and tent weights, ``(T, n)`` each, of the pixels within ``radius`` of ``coord``."""
    n_taps = math.ceil(2 * radius)
    start = np.floor(coord - radius) + 1.0                       # first pixel strictly inside the tent
    frac = (coord - start).astype(np.float32)                    # distance of the point past that pixel
    start = start.astype(np.int32)
    idx = np.empty((n_taps, len(coord)), np.int32)
    w = np.empty((n_taps, len(coord)), np.float32)
    for j in range(n_taps):                                      # w = max(0, 1 - |frac - j| / radius)
        np.subtract(frac, j, out=w[j])
        np.abs(w[j], out=w[j])
        np.multiply(w[j], -1.0 / radius, out=w[j])
        np.add(w[j], 1.0, out=w[j])
        np.maximum(w[j], 0.0, out=w[j])
        np.add(start, j, out=idx[j])
    if radius != 1.0:                                            # sampled tents of other widths don't sum to 1
        w /= w.sum(axis=0)
    if start.min() < 0 or start.max() + n_taps > size:           # the frame cuts splats at its edges
        outside = (idx < 0) | (idx >= size)
        w[outside] = 0.0
        idx[outside] = 0
    return idx, w


def _tile_order(x: np.ndarray, y: np.ndarray, *, width: int, height: int) -> np.ndarray:
    """An order visiting points tile by tile (16 x 32 pixels or larger), so the scatter stays in cache.

    A stable radix sort on 16-bit tile numbers; it makes :func:`splat` about 3x faster on large
    clouds. Sums then add up in a different order, which changes them only by float rounding.
    """
    sy, sx = 4, 5
    while (((height - 1) >> sy) + 1) * (((width - 1) >> sx) + 1) > 2**16:
        sy, sx = sy + 1, sx + 1
    col = np.clip(x, 0, width - 1).astype(np.int32) >> sx
    row = np.clip(y, 0, height - 1).astype(np.int32) >> sy
    key = (row * (((width - 1) >> sx) + 1) + col).astype(np.uint16)
    return np.argsort(key, kind="stable")


def splat(xy, *, width: int, height: int, colors=None, weights=None,
          radius: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Spread points additively over a frame's pixels (anti-aliased).

    Each point spreads its weight over the pixels within ``radius`` of it with a separable tent
    (pyramid) kernel normalised to sum to the weight: ``radius=1`` is the classic bilinear splat
    (2 x 2 pixels, so a point on a pixel centre lands wholly in that pixel), ``radius=2`` spreads over
    4 x 4 pixels. Parts of a splat beyond the frame's edge are cut off, so a point leaving the frame
    fades out instead of piling up on the border; points further out, and NaN points, add nothing.
    Work is vectorised: one sparse scatter (``ceil(2 * radius) ** 2`` pixels per point) into
    one buffer.

    Parameters
    ----------
    xy : (N, 2) pixel coordinates ``(x right, y down)``, pixel centres at integers (see :func:`to_pixels`)
    width, height : frame size in pixels
    colors : (N, 3) RGB in [0, 1] per point, or one (3,) colour for all; ``None`` is white
    weights : (N,) non-negative weight per point; ``None`` is 1 each
    radius : splat radius in pixels, ``>= 1``; cost grows as ``ceil(2 * radius) ** 2``

    Returns
    -------
    accum : (H, W, 3) float32, sum of ``weight * color`` per pixel
    density : (H, W) float32, sum of weights per pixel; ``accum / density`` is the mean colour.
        Both are views of one ``(H, W, 4)`` float32 buffer (``accum.base is density.base``).

    Raises
    ------
    ParameterError : bad shapes, sizes or radius; colours outside [0, 1]; negative or non-finite weights

    Example
    -------
    >>> accum, density = splat([[1.0, 0.0], [1.5, 1.0]], width=3, height=2, colors=[1.0, 0.0, 0.0])
    >>> density.tolist()
    [[0.0, 1.0, 0.0], [0.0, 0.5, 0.5]]
    >>> accum[0, 1].tolist()
    [1.0, 0.0, 0.0]
    """
    import scipy.sparse

    width, height = _side("width", width), _side("height", height)
    radius = _number("radius", radius, low=1.0, high=256.0)
    pts = _array("xy", xy, ndim=2, last=2)
    n = len(pts)
    if colors is not None:
        if np.ndim(colors) == 1:
            colors = _rgb("colors", colors)
        else:
            colors = _array("colors", colors, ndim=2, last=3)
            if len(colors) != n:
                raise ParameterError(f"colors has {len(colors)} rows but xy has {n} points")
            if n and not (colors.min() >= 0 and colors.max() <= 1):
                raise ParameterError(f"colors must lie in [0, 1], got values in [{colors.min()}, {colors.max()}]")
    if weights is not None:
        weights = _array("weights", weights, ndim=1)
        if len(weights) != n:
            raise ParameterError(f"weights has {len(weights)} entries but xy has {n} points")
        if n and not (weights.min() >= 0 and np.isfinite(weights.max())):
            raise ParameterError(f"weights must be finite and >= 0, got values in [{weights.min()}, "
                                 f"{weights.max()}]")

    x, y = pts[:, 0], pts[:, 1]
    reach = radius                                               # the tent touches pixel 0 iff x > -radius
    keep = (x > -reach) & (x < width - 1 + reach) & (y > -reach) & (y < height - 1 + reach)  # False for NaN
    pick = np.flatnonzero(keep)
    if len(pick) == 0:
        buffer = np.zeros((height, width, 4), np.float32)
        return buffer[..., :3], buffer[..., 3]
    inside = pts if len(pick) == len(pts) else pts.take(pick, axis=0)
    pick = pick[_tile_order(inside[:, 0], inside[:, 1], width=width, height=height)]
    inside = pts.take(pick, axis=0)                              # row gathers: much faster than fancy indexing
    x, y = inside[:, 0].astype(np.float64), inside[:, 1].astype(np.float64)
    n = len(pick)

    values = np.empty((len(pts), 4), np.float32)                 # per point: weight * (r, g, b), weight
    values[:, 3] = 1.0 if weights is None else weights
    if colors is None:
        values[:, :3] = values[:, 3:]
    elif colors.ndim == 1:
        np.multiply(values[:, 3:], colors.astype(np.float32), out=values[:, :3])
    else:
        for c in range(3):
            np.multiply(values[:, 3], colors[:, c], out=values[:, c])
    values = values.take(pick, axis=0)

    ix, wx = _taps(x, width, radius)
    iy, wy = _taps(y, height, radius)
    n_taps = ix.shape[0]
    per_point = n_taps * n_taps
    np.multiply(iy, width, out=iy)
    if n_taps == 2:                                              # the taps of each point, row-major
        flat = np.empty((n, per_point), np.int32)
        share = np.empty((n, per_point), np.float32)
        for i, j in ((0, 0), (0, 1), (1, 0), (1, 1)):
            np.add(iy[i], ix[j], out=flat[:, 2 * i + j])
            np.multiply(wy[i], wx[j], out=share[:, 2 * i + j])
    else:                                                        # (faster than columns for 9+ taps)
        flat = np.ascontiguousarray((iy.T[:, :, None] + ix.T[:, None, :]).reshape(n, per_point))
        share = np.ascontiguousarray((wy.T[:, :, None] * wx.T[:, None, :]).reshape(n, per_point))
    index_type = np.int32 if n * per_point < 2**31 else np.int64
    indptr = np.arange(0, n * per_point + 1, per_point, dtype=index_type)
    # rows: points, columns: pixels; its transpose times ``values`` scatters every tap in C
    spread = scipy.sparse.csr_array((share.ravel(), flat.ravel(), indptr), shape=(n, width * height))
    buffer = (spread.T @ values).reshape(height, width, 4)
    return buffer[..., :3], buffer[..., 3]


# ----------------------------------------------------------------------------------------- compositing

def _haze(light: np.ndarray, *, sigma: float, strength: float) -> np.ndarray:
    """``strength`` x the Gaussian blur (``sigma`` pixels) of a uint8 light image, as uint8.

    Blurred at reduced resolution (shrink by a box filter, blur, enlarge bilinearly) with Pillow's C code:
    a wide blur varies slowly, so little is lost and the cost stays small at 1080p.
    """
    from PIL import Image, ImageFilter

    height, width = light.shape[:2]
    factor = max(1, min(8, int(sigma // 2)))
    small = Image.fromarray(light)
    if factor > 1:
        small = small.reduce(factor)
    small = small.filter(ImageFilter.GaussianBlur(sigma / factor))
    scaled = np.asarray(small, dtype=np.float32) * strength + 0.5
    small = Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8))
    return np.asarray(small.resize((width, height), Image.Resampling.BILINEAR))


def _packed(accum: np.ndarray, density: np.ndarray) -> np.ndarray | None:
    """The ``(H * W, 4)`` buffer behind ``accum`` and ``density`` when they are :func:`splat`'s two views."""
    base = density.base
    if not (isinstance(base, np.ndarray) and accum.base is base and base.dtype == np.float32
            and accum.dtype == np.float32 and density.dtype == np.float32 and base.flags.c_contiguous
            and base.size == 4 * density.size):
        return None
    start = base.__array_interface__["data"][0]
    row = 16 * density.shape[1]
    if (accum.__array_interface__["data"][0] == start and density.__array_interface__["data"][0] == start + 12
            and accum.strides == (row, 16, 4) and density.strides == (row, 16)):
        return base.reshape(-1, 4)
    return None


def _over(accum: np.ndarray, density: np.ndarray, bg: np.ndarray, *, opacity: float, gain: float) -> np.ndarray:
    """Points over the background (an RGB triple, or an ``(H, W, 3)`` image) as uint8, computed only at pixels
    with non-zero density."""
    height, width = density.shape
    out = np.empty((height * width, 3), np.uint8)
    if bg.ndim == 3:
        out[:] = np.round(bg.reshape(-1, 3) * 255).astype(np.uint8)
    else:
        out.reshape(height, width * 3)[:] = np.tile(np.round(bg * 255).astype(np.uint8), width)
    hit = np.flatnonzero(density.reshape(-1) != 0)
    if len(hit) == 0:
        return out.reshape(height, width, 3)
    packed = _packed(accum, density)
    if packed is not None:                                       # one gather of 16-byte rows: much faster
        rows = packed.take(hit, axis=0)
        d, channels = rows[:, 3], (rows[:, 0], rows[:, 1], rows[:, 2])
    else:
        colour = accum.reshape(-1, 3)
        d, channels = density.reshape(-1)[hit], tuple(colour[:, c][hit] for c in range(3))
    d = d.astype(np.float32)
    alpha = np.multiply(d, -gain, dtype=np.float32)
    np.expm1(alpha, out=alpha)
    np.multiply(alpha, -opacity, out=alpha)                      # opacity * (1 - exp(-gain * density))
    per_weight = alpha / d
    np.subtract(1.0, alpha, out=alpha)                           # now the background's share
    under = bg.reshape(-1, 3)[hit] if bg.ndim == 3 else None
    for c in range(3):
        v = np.multiply(channels[c], per_weight, dtype=np.float32)
        v += (under[:, c].astype(np.float32) if under is not None else np.float32(bg[c])) * alpha
        np.clip(v, 0.0, 1.0, out=v)
        np.multiply(v, 255, out=v)
        np.add(v, 0.5, out=v)
        out[:, c][hit] = v
    return out.reshape(height, width, 3)


def composite(accum, density, *, background=(0.0, 0.0, 0.0), opacity: float = 1.0, gain: float = 1.0,
              glow: float = 0.0, glow_radius: float | None = None) -> np.ndarray:
    """Turn :func:`splat` buffers into an RGB image over a background.

    A pixel shows the mean colour of its points, ``accum / density``, with opacity
    ``alpha = opacity * (1 - exp(-gain * density))``: a lone point (density up to 1) stays visible
    (``gain=1``: 63 % at a pixel centre) while dense clusters saturate to their full colour. With
    ``glow > 0`` the emitted light ``colour * alpha`` is blurred (sigma ``glow_radius``; in 8 bits at
    reduced resolution, which a wide blur hides) and added on top, so clusters bloom; sums saturate at white.
    Only pixels with non-zero density are computed, so sparse frames composite faster.

    Parameters
    ----------
    accum : (H, W, 3) non-negative colour sums from :func:`splat`
    density : (H, W) non-negative weight sums from :func:`splat`
    background : RGB in [0, 1], or an ``(H, W, 3)`` uint8 image to draw the points over
    opacity : largest opacity of the points, in [0, 1]
    gain : opacity per unit of density, > 0; raise it when points are faint, lower it to see structure
        inside dense clusters
    glow : strength of the additive bloom, >= 0 (0: none; about 0.5 to 2 for a visible glow)
    glow_radius : sigma of the bloom in pixels, > 0; ``None`` is ``height / 100``

    Returns
    -------
    (H, W, 3) uint8 RGB image.

    Raises
    ------
    ParameterError : bad shapes or parameter values

    Example
    -------
    >>> accum, density = splat([[1.0, 1.0]], width=3, height=3, colors=[1.0, 0.5, 0.0])
    >>> composite(accum, density, background=(0, 0, 0), gain=100)[1, 1].tolist()
    [255, 128, 0]
    """
    accum = _array("accum", accum, ndim=3, last=3)
    density = _array("density", density, ndim=2)
    if accum.shape[:2] != density.shape:
        raise ParameterError(f"accum of shape {accum.shape} and density of shape {density.shape} "
                             "must cover the same (H, W)")
    bg = _background(background, density.shape)
    opacity = _number("opacity", opacity, low=0.0, high=1.0)
    gain = _number("gain", gain, low=0.0, low_open=True)
    glow = _number("glow", glow, low=0.0)
    height, width = density.shape
    if glow_radius is not None:
        glow_radius = _number("glow_radius", glow_radius, low=0.0, low_open=True)

    if glow > 0:
        light = _over(accum, density, np.zeros(3), opacity=opacity, gain=gain)   # colour * alpha
        base = light if not bg.any() else _over(accum, density, bg, opacity=opacity, gain=gain)
        haze = _haze(light, sigma=glow_radius if glow_radius is not None else max(height / 100, 1.0),
                     strength=glow)
        return base + np.minimum(haze, 255 - base)               # saturating add
    return _over(accum, density, bg, opacity=opacity, gain=gain)


def render_points(xy, *, width: int, height: int, colors=None, weights=None, radius: float = 1.0,
                  background=(0.0, 0.0, 0.0), opacity: float = 1.0, gain: float = 1.0, glow: float = 0.0,
                  glow_radius: float | None = None) -> np.ndarray:
    """Draw points as a ``(H, W, 3)`` uint8 frame: :func:`splat` then :func:`composite`.

    Parameters
    ----------
    xy, width, height, colors, weights, radius : as for :func:`splat` (``xy`` in pixel coordinates,
        see :func:`to_pixels`)
    background, opacity, gain, glow, glow_radius : as for :func:`composite`

    Returns
    -------
    (H, W, 3) uint8 RGB frame.

    Raises
    ------
    ParameterError : as :func:`splat` and :func:`composite` do

    Example
    -------
    >>> frame = render_points([[2.0, 1.0]], width=4, height=3, colors=[0.0, 1.0, 0.0], gain=50)
    >>> frame[1, 2].tolist(), frame[0, 0].tolist()
    ([0, 255, 0], [0, 0, 0])
    """
    accum, density = splat(xy, width=width, height=height, colors=colors, weights=weights, radius=radius)
    return composite(accum, density, background=background, opacity=opacity, gain=gain, glow=glow,
                     glow_radius=glow_radius)


# -------------------------------------------------------------------------------------------- colours

@functools.cache
def _tables() -> dict[str, np.ndarray]:
    """The packaged colour tables, read once (read-only arrays)."""
    from importlib import resources

    text = resources.files("latentstudio").joinpath("data/colormaps.json").read_text(encoding="utf-8")
    tables = {}
    for name, rows in json.loads(text)["maps"].items():
        table = np.asarray(rows, dtype=np.float64)
        table.setflags(write=False)
        tables[name] = table
    return tables


def colormap_names() -> list[str]:
    """Names :func:`colormap` knows (each also reversed with a ``_r`` suffix).

    Example
    -------
    >>> "viridis" in colormap_names()
    True
    """
    return sorted(_tables())


def colormap(name: str, n: int = 256) -> np.ndarray:
    """A perceptual colour map as ``(n, 3)`` RGB floats in [0, 1], from low to high.

    The tables are matplotlib's (CC0; see ``tools/make_colormaps.py``): ``viridis``, ``plasma``,
    ``magma``, ``inferno``, ``cividis`` (all rising in lightness, so they print in greyscale and read
    under colour-vision deficiency) and the cyclic ``twilight``. A ``_r`` suffix reverses a map.
    ``n`` other than 256 resamples the table linearly.

    Parameters
    ----------
    name : map name, see :func:`colormap_names`; ``"<name>_r"`` for the reversed map
    n : number of colours, 1 to 65536

    Returns
    -------
    (n, 3) float64 RGB in [0, 1], a fresh copy.

    Raises
    ------
    ParameterError : unknown name (the message lists the known ones) or ``n`` out of range

    Example
    -------
    >>> colormap("viridis")[0].round(3).tolist()
    [0.267, 0.005, 0.329]
    >>> colormap("magma", 5).shape
    (5, 3)
    """
    tables = _tables()
    if not isinstance(name, str):
        raise ParameterError(f"colormap name={name!r} must be a string, one of {', '.join(sorted(tables))}")
    base, reverse = (name[:-2], True) if name.endswith("_r") else (name, False)
    if base not in tables:
        raise ParameterError(f"colormap name={name!r} is unknown; known: {', '.join(sorted(tables))} "
                             "(add '_r' to reverse one)")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= 65536:
        raise ParameterError(f"n={n!r} must be an integer in 1..65536")
    table = tables[base][::-1] if reverse else tables[base]
    if n == len(table):
        return table.copy()
    where = np.linspace(0.0, 1.0, n)
    known = np.linspace(0.0, 1.0, len(table))
    return np.stack([np.interp(where, known, table[:, c]) for c in range(3)], axis=1)


def _to_uint8(rgb: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(rgb, dtype=np.float64) * 255 + 0.5, 0, 255).astype(np.uint8)


def _limit(name: str, value, *, log: bool) -> float:
    v = _number(name, value)
    if log:
        if v <= 0:
            raise ParameterError(f"{name}={value!r} must be > 0 with log=True")
        v = math.log10(v)
    return v


def apply_colormap(values, *, name: str = "magma", vmin: float | None = None, vmax: float | None = None,
                   log: bool = False, nan_color=NAN_COLOR) -> np.ndarray:
    """Colour an array of values with a colour map, as uint8 RGB.

    Values from ``vmin`` to ``vmax`` run through the map; values beyond are clipped to its ends.
    Limits left as ``None`` are robust ones: the 1st and 99th percentiles of the finite values, so a few
    outliers don't wash out the map (constant data gets the middle colour). With ``log=True`` values are
    coloured by ``log10``; the limits are still given in data units, and values <= 0 take the low end.
    NaN shows as ``nan_color`` (a neutral grey); ``+inf`` / ``-inf`` take the high / low end.

    Parameters
    ----------
    values : real array, typically (H, W)
    name : colour map name, see :func:`colormap`
    vmin, vmax : value limits in data units (``vmin < vmax``; ``> 0`` with ``log=True``)
    log : colour by ``log10(values)``
    nan_color : RGB in [0, 1] for NaN

    Returns
    -------
    ``values.shape + (3,)`` uint8 RGB.

    Raises
    ------
    ParameterError : non-real values, unknown map, bad or crossed limits

    Example
    -------
    >>> img = apply_colormap([[0.0, 1.0], [np.nan, 2.0]], name="viridis", vmin=0, vmax=2)
    >>> img[0, 0].tolist(), img[1, 0].tolist(), img[1, 1].tolist()
    ([68, 1, 84], [128, 128, 128], [253, 231, 37])
    """
    lut = np.concatenate([_to_uint8(colormap(name)), _to_uint8(_rgb("nan_color", nan_color))[None]])
    v = np.asarray(values)
    if v.dtype.kind not in "biuf" or v.ndim == 0:
        raise ParameterError(f"values must be a real array with at least one axis, got dtype {v.dtype} "
                             f"and shape {v.shape}")
    v = v.astype(np.float64)
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.where(np.isnan(v), np.nan, -np.inf))
    lo = None if vmin is None else _limit("vmin", vmin, log=log)
    hi = None if vmax is None else _limit("vmax", vmax, log=log)
    if lo is not None and hi is not None and lo >= hi:
        raise ParameterError(f"vmin={vmin!r} must be below vmax={vmax!r}")
    if lo is None or hi is None:
        finite = v[np.isfinite(v)]
        if len(finite):
            auto_lo, auto_hi = np.percentile(finite, [1.0, 99.0])
        else:
            auto_lo, auto_hi = 0.0, 1.0
        if lo is None and hi is None and auto_lo == auto_hi:
            auto_lo, auto_hi = auto_lo - 0.5, auto_hi + 0.5
        lo = float(auto_lo) if lo is None else lo
        hi = float(auto_hi) if hi is None else hi
        if lo >= hi:
            which = f"vmin={vmin!r}" if vmin is not None else f"vmax={vmax!r}"
            raise ParameterError(f"{which} leaves no range against the automatic limit "
                                 f"({'1st' if vmin is None else '99th'} percentile of the data); pass both limits")
    nan = np.isnan(v)
    scaled = (v - lo) * (255.0 / (hi - lo))
    np.clip(scaled, 0.0, 255.0, out=scaled)
    scaled[nan] = 256.0
    return lut[np.rint(scaled).astype(np.intp)]


def _oklch_to_rgb(lightness: np.ndarray, chroma: np.ndarray, hue: np.ndarray) -> np.ndarray:
    """OKLCh (Ottosson 2020; hue in radians) to sRGB in [0, 1], clipped to the gamut."""
    a, b = chroma * np.cos(hue), chroma * np.sin(hue)
    lms = np.stack([lightness + 0.3963377774 * a + 0.2158037573 * b,
                    lightness - 0.1055613458 * a - 0.0638541728 * b,
                    lightness - 0.0894841775 * a - 1.2914855480 * b], axis=-1) ** 3
    linear = lms @ np.array([[4.0767416621, -3.3077115913, 0.2309699292],
                             [-1.2684380046, 2.6097574011, -0.3413193965],
                             [-0.0041960863, -0.7034186147, 1.7076147010]]).T
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


def label_palette(n: int) -> np.ndarray:
    """``n`` distinct label colours as ``(n, 3)`` RGB floats in [0, 1]; the same ``n`` always gives the same.

    Up to 12 labels get a fixed list: the 7 colours of Okabe & Ito (2008, without black), which stay
    apart under the common colour-vision deficiencies, then magenta, olive, purple, salmon and grey
    (Paul Tol's and Tableau's) chosen for their distance in CIE Lab; none is near black or white, so they
    show on dark and light backgrounds (the yellow is faint on white). Beyond 12 (where no palette stays
    colour-blind-safe) the ``n`` colours are evenly spaced hues in OKLCh, alternating two lightness levels.

    Parameters
    ----------
    n : number of labels, 0 to 65536

    Returns
    -------
    (n, 3) float64 RGB in [0, 1]; index it with integer labels to colour points.

    Raises
    ------
    ParameterError : ``n`` is not an integer in range

    Example
    -------
    >>> label_palette(2).round(3).tolist()
    [[0.902, 0.624, 0.0], [0.337, 0.706, 0.914]]
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n <= 65536:
        raise ParameterError(f"n={n!r} must be an integer in 0..65536")
    if n <= len(_PALETTE):
        return np.array([[int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)] for h in _PALETTE[:n]]).reshape(n, 3)
    k = np.arange(n)
    return _oklch_to_rgb(np.where(k % 2 == 0, 0.74, 0.60), np.full(n, 0.13), 0.5 + 2 * np.pi * k / n)


# ------------------------------------------------------------------------------------------ annotation

def _font(size: int):
    """Pillow's scalable default font (Pillow >= 10.1 with FreeType), else its small bitmap font."""
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError, AttributeError):
        return ImageFont.load_default()


def _font_size(name: str, value, height: int) -> int:
    if value is None:
        return max(10, round(height / 45))
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 4 <= value <= 1000:
        raise ParameterError(f"{name}={value!r} must be an integer in 4..1000 (pixels)")
    return int(value)


def _place(image: np.ndarray, box_w: int, box_h: int, corner: str, what: str, font_size: int) -> tuple[int, int]:
    """Top-left corner of a ``box_w`` x ``box_h`` box in ``corner`` of ``image``, with a margin."""
    if corner not in CORNERS:
        raise ParameterError(f"corner={corner!r} must be one of {', '.join(CORNERS)}")
    height, width = image.shape[:2]
    margin = max(2, round(0.02 * min(height, width)))
    if box_w + 2 * margin > width or box_h + 2 * margin > height:
        raise ParameterError(f"the {what} ({box_w} x {box_h} px at font_size={font_size}) does not fit the "
                             f"{width} x {height} image; pass a smaller font_size or fewer labels")
    x0 = margin if corner.endswith("left") else width - margin - box_w
    y0 = margin if corner.startswith("top") else height - margin - box_h
    return x0, y0


def _panel(region: np.ndarray, pad: int):
    """A semi-transparent rounded panel over ``region``; returns (PIL RGBA tile, ink colour)."""
    from PIL import Image, ImageDraw

    luma = float(np.mean(region[..., :3] @ np.array([0.2126, 0.7152, 0.0722]))) / 255
    fill, ink = ((255, 255, 255, 190), (25, 25, 25, 255)) if luma > 0.5 else ((0, 0, 0, 160), (240, 240, 240, 255))
    tile = Image.fromarray(region).convert("RGBA")
    overlay = Image.new("RGBA", tile.size, (0, 0, 0, 0))
    ImageDraw.Draw(overlay).rounded_rectangle((0, 0, tile.width - 1, tile.height - 1), radius=max(1, pad // 2),
                                              fill=fill)
    return Image.alpha_composite(tile, overlay), ink


def _text(draw, xy: tuple[float, float], text: str, font, ink, *, align: str = "left") -> None:
    """Draw ``text`` vertically centred on ``xy[1]``, starting at (or centred on) ``xy[0]``."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = xy[0] - left - ((right - left) / 2 if align == "center" else 0)
    draw.text((round(x), round(xy[1] - (top + bottom) / 2)), text, font=font, fill=ink)


def draw_legend(image, labels: Sequence, colors, *, corner: str = "top-right", font_size: int | None = None,
                title: str | None = None) -> np.ndarray:
    """Draw a legend (a colour dot and a name per label) in a corner of an image.

    The legend sits on a semi-transparent rounded box, dark over dark images and light over light
    ones; only pixels inside that box change.

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB, left untouched
    labels : names, one per colour (non-strings are shown with ``str``)
    colors : (n, 3) RGB in [0, 1], e.g. from :func:`label_palette`
    corner : ``"top-left"``, ``"top-right"``, ``"bottom-left"`` or ``"bottom-right"``
    font_size : text height in pixels; ``None`` scales with the image (``height / 45``, at least 10)
    title : optional heading

    Returns
    -------
    A new (H, W, 3) uint8 image.

    Raises
    ------
    ParameterError : bad image, empty labels, a colour count that differs, or a legend too big for the image

    Example
    -------
    >>> img = np.zeros((120, 200, 3), np.uint8)
    >>> out = draw_legend(img, ["cats", "dogs"], label_palette(2), title="pets")
    >>> out.shape, bool(out[:, :60].any()), bool(out[:, -60:].any())
    ((120, 200, 3), False, True)
    """
    from PIL import Image, ImageDraw

    image = _image(image)
    if isinstance(labels, str) or not isinstance(labels, Sequence) or len(labels) == 0:
        raise ParameterError(f"labels must be a non-empty list of names, got {labels!r}")
    labels = [str(label) for label in labels]
    colors = _array("colors", colors, ndim=2, last=3)
    if len(colors) != len(labels):
        raise ParameterError(f"colors has {len(colors)} rows but labels has {len(labels)} names")
    if not (colors.min() >= 0 and colors.max() <= 1):
        raise ParameterError(f"colors must lie in [0, 1], got values in [{colors.min()}, {colors.max()}]")
    size = _font_size("font_size", font_size, image.shape[0])
    font = _font(size)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    pad, gap, line = max(3, round(0.6 * size)), max(2, round(0.5 * size)), round(1.4 * size)
    dot = max(4, round(0.7 * size))
    text_w = max(measure.textlength(t, font=font) for t in labels)
    title_w = measure.textlength(title, font=font) if title else 0
    box_w = int(math.ceil(2 * pad + max(dot + gap + text_w, title_w)))
    box_h = 2 * pad + line * (len(labels) + (1 if title else 0))
    x0, y0 = _place(image, box_w, box_h, corner, "legend", size)

    tile, ink = _panel(image[y0:y0 + box_h, x0:x0 + box_w], pad)
    draw = ImageDraw.Draw(tile)
    row = 0
    if title:
        _text(draw, (pad, pad + line / 2), title, font, ink)
        row = 1
    for label, rgb in zip(labels, _to_uint8(colors)):
        cy = pad + line * (row + 0.5)
        draw.ellipse((pad, cy - dot / 2, pad + dot, cy + dot / 2), fill=tuple(int(v) for v in rgb),
                     outline=(128, 128, 128, 255))
        _text(draw, (pad + dot + gap, cy), label, font, ink)
        row += 1
    out = image.copy()
    out[y0:y0 + box_h, x0:x0 + box_w] = np.asarray(tile.convert("RGB"))
    return out


def _ticks(lo: float, hi: float, *, log: bool) -> tuple[list[float], list[str]]:
    """About 3 to 6 round tick values in [lo, hi] and their labels."""
    if log:
        decades = list(range(math.ceil(math.log10(lo) - 1e-9), math.floor(math.log10(hi) + 1e-9) + 1))
        if len(decades) >= 2:
            step = max(1, math.ceil(len(decades) / 6))
            decades = decades[::step]
            return [10.0 ** k for k in decades], [f"{10.0 ** k:g}" if abs(k) < 4 else f"1e{k}" for k in decades]
        return [lo, hi], [f"{lo:.3g}", f"{hi:.3g}"]
    raw = (hi - lo) / 4
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    values = [k * step for k in range(math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9) + 1)]
    if 1e-4 <= step < 1e6:
        decimals = max(0, -math.floor(math.log10(step) + 1e-9))
        decimals += round(step, decimals) != step
        texts = [f"{v:.{decimals}f}" for v in values]
    else:
        texts = [f"{v:.3g}" for v in values]
    return values, [t[1:] if t.startswith("-") and float(t) == 0 else t for t in texts]


def draw_colorbar(image, *, name: str, vmin: float, vmax: float, label: str | None = None, log: bool = False,
                  corner: str = "bottom-right", font_size: int | None = None) -> np.ndarray:
    """Draw a horizontal colour bar with round tick values in a corner of an image.

    Pair it with :func:`apply_colormap` called with the same ``name``, limits and ``log``. The bar is a
    quarter of the image wide on a semi-transparent box; only pixels inside the box change.

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB, left untouched
    name : colour map name, see :func:`colormap`
    vmin, vmax : the value limits of the map (``vmin < vmax``, both ``> 0`` with ``log``)
    label : optional caption above the bar (what the values are, with units)
    log : logarithmic bar with ticks at powers of ten
    corner, font_size : as for :func:`draw_legend`

    Returns
    -------
    A new (H, W, 3) uint8 image.

    Raises
    ------
    ParameterError : bad image, unknown map, bad limits, or a bar too big for the image

    Example
    -------
    >>> img = np.full((200, 400, 3), 255, np.uint8)
    >>> out = draw_colorbar(img, name="magma", vmin=0, vmax=3.5, label="density")
    >>> bool((out[:100] == 255).all()), bool((out[-60:] != 255).any())
    (True, True)
    """
    from PIL import Image, ImageDraw

    image = _image(image)
    lut = colormap(name)
    lo, hi = _number("vmin", vmin), _number("vmax", vmax)
    if lo >= hi:
        raise ParameterError(f"vmin={vmin!r} must be below vmax={vmax!r}")
    if log and lo <= 0:
        raise ParameterError(f"vmin={vmin!r} must be > 0 with log=True")
    size = _font_size("font_size", font_size, image.shape[0])
    font = _font(size)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    pad, line = max(3, round(0.6 * size)), round(1.4 * size)
    bar_w, bar_h, tick = max(4 * size, round(image.shape[1] / 4)), max(4, round(0.8 * size)), max(2, size // 4)
    values, texts = _ticks(lo, hi, log=log)
    half = max(measure.textlength(t, font=font) for t in texts) / 2
    side = int(math.ceil(pad + half))
    box_w = bar_w + 2 * side
    box_h = 2 * pad + (line if label else 0) + bar_h + tick + line
    x0, y0 = _place(image, box_w, box_h, corner, "colour bar", size)

    tile, ink = _panel(image[y0:y0 + box_h, x0:x0 + box_w], pad)
    top = pad + (line if label else 0)
    strip = _to_uint8(colormap(name, bar_w) if bar_w != len(lut) else lut)
    tile.paste(Image.fromarray(np.ascontiguousarray(np.broadcast_to(strip, (bar_h, bar_w, 3)))).convert("RGBA"),
               (side, top))
    draw = ImageDraw.Draw(tile)
    if label:
        _text(draw, (side, pad + line / 2), label, font, ink)
    t_lo, t_hi = (math.log10(lo), math.log10(hi)) if log else (lo, hi)
    for value, text in zip(values, texts):
        t = math.log10(value) if log else value
        x = side + (t - t_lo) / (t_hi - t_lo) * (bar_w - 1)
        draw.line((round(x), top + bar_h, round(x), top + bar_h + tick - 1), fill=ink)
        _text(draw, (x, top + bar_h + tick + line / 2), text, font, ink, align="center")
    out = image.copy()
    out[y0:y0 + box_h, x0:x0 + box_w] = np.asarray(tile.convert("RGB"))
    return out
