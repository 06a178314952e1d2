"""Image filters and optical flow for live re-seeing: blur, Canny edges, adaptive threshold, flow, warp.

Images are ``(H, W, 3)`` float32 RGB in [0, 1] (uint8 and ``(H, W)`` greyscale accepted, see
:func:`latentstudio.core.image.valid_image`); every function returns a new float32 array and leaves its
input alone. At 256x256 a filter costs a few milliseconds and the flow well under ten, so they fit in a
camera loop.

* :func:`gaussian_blur`, :func:`canny_edges`, :func:`adaptive_threshold`, :func:`luminance`
* :func:`parse_filters`, :func:`apply_filter` — the ``"blur:2,canny"`` spec language of the CLI's
  ``--pre`` / ``--post`` options
* :func:`optical_flow`, :func:`warp` — dense coarse-to-fine Lucas-Kanade flow, bilinear warping along it

Flow convention: ``flow = optical_flow(prev, cur)`` is an ``(H, W, 2)`` array of ``(dy, dx)`` pixel
displacements on ``cur``'s grid: the content at ``p`` in ``cur`` was at ``p - flow[p]`` in ``prev``. So a
picture that moved 3 px down and 5 px left has ``flow == (3, -5)`` everywhere, and
``warp(prev, flow)`` (which samples ``prev`` at ``p - flow[p]``) looks like ``cur``.

Example
-------
>>> import numpy as np
>>> img = np.random.default_rng(0).random((64, 64, 3)).astype(np.float32)
>>> apply_filter(img, "blur:2,grey").shape
(64, 64, 3)
>>> parse_filters("blur:2, canny")
[('blur', 2.0), ('canny', 1.5)]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from latentstudio.core.image import valid_image
from latentstudio.errors import ParameterError

#: Rec. 601 luma weights (what OpenCV's ``COLOR_RGB2GRAY`` uses)
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _number(value, name: str, *, lo: float = 0.0, lo_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value < lo or (lo_open and value == lo):
        bound = f"> {lo:g}" if lo_open else f">= {lo:g}"
        raise ParameterError(f"{name}={value!r} must be a finite number {bound}")
    return float(value)


def _integer(value, name: str, *, lo: int, odd: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo \
            or (odd and value % 2 == 0):
        what = "an odd integer" if odd else "an integer"
        raise ParameterError(f"{name}={value!r} must be {what} >= {lo}")
    return int(value)


def luminance(img: np.ndarray) -> np.ndarray:
    """Rec. 601 luma ``0.299 R + 0.587 G + 0.114 B`` of an image, as ``(H, W)`` float32 in [0, 1].

    Example
    -------
    >>> import numpy as np
    >>> float(luminance(np.ones((2, 2, 3), np.float32))[0, 0])
    1.0
    """
    return valid_image(img) @ LUMA


def _rgb(lum: np.ndarray) -> np.ndarray:
    return np.repeat(lum.astype(np.float32, copy=False)[..., None], 3, axis=2)


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Blur with a separable Gaussian of standard deviation ``sigma`` pixels (edges reflected).

    Parameters
    ----------
    img : ``(H, W, 3)`` image
    sigma : standard deviation in pixels; 0 returns an unchanged copy

    Returns
    -------
    np.ndarray : ``(H, W, 3)`` float32; the mean and the range stay in [0, 1]

    Raises
    ------
    ParameterError : bad image, negative or non-finite ``sigma``

    Example
    -------
    >>> import numpy as np
    >>> noise = np.random.default_rng(0).random((64, 64, 3)).astype(np.float32)
    >>> bool(gaussian_blur(noise, 2.0).std() < noise.std() / 4)
    True
    """
    from scipy import ndimage

    img = valid_image(img)
    sigma = _number(sigma, "sigma")
    if sigma == 0:
        return img.copy()
    out = ndimage.gaussian_filter1d(img, sigma, axis=0, mode="reflect", truncate=3.0)
    return ndimage.gaussian_filter1d(out, sigma, axis=1, mode="reflect", truncate=3.0)


def _canny_lum(lum: np.ndarray, sigma: float, low: float, high: float) -> np.ndarray:
    """Canny on one channel: boolean edge map."""
    from scipy import ndimage

    smooth = ndimage.gaussian_filter(lum, sigma, mode="nearest", truncate=3.0) if sigma > 0 else lum
    gy = ndimage.correlate1d(smooth, [-0.5, 0.0, 0.5], axis=0, mode="nearest")
    gx = ndimage.correlate1d(smooth, [-0.5, 0.0, 0.5], axis=1, mode="nearest")
    # a black-to-white step blurred by sigma has a peak slope of 1 / (sqrt(2 pi) sigma): scale so it reads 1
    mag = np.hypot(gx, gy) * np.float32(np.sqrt(2 * np.pi) * max(sigma, 1 / np.sqrt(2 * np.pi)))
    # non-maximum suppression along the gradient direction, quantised to 0, 45, 90, 135 degrees
    h, w = mag.shape
    pad = np.pad(mag, 1)
    ax, ay = np.abs(gx), np.abs(gy)
    tan22, tan67 = np.float32(np.tan(np.pi / 8)), np.float32(np.tan(3 * np.pi / 8))
    across = ay <= tan22 * ax                       # gradient along x: compare left and right
    along = ay > tan67 * ax                         # gradient along y: compare up and down
    diagonal = ~(across | along)
    same_sign = (gx * gy) > 0
    keep = np.zeros((h, w), dtype=bool)
    for sector, (dy, dx) in ((across, (0, 1)), (diagonal & same_sign, (1, 1)), (along, (1, 0)),
                             (diagonal & ~same_sign, (1, -1))):
        a = pad[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
        b = pad[1 - dy:1 - dy + h, 1 - dx:1 - dx + w]
        keep |= sector & (mag >= a) & (mag > b)
    candidates = keep & (mag >= low)
    # hysteresis: keep the 8-connected runs of candidates that hold at least one strong pixel
    labels, n = ndimage.label(candidates, structure=np.ones((3, 3), dtype=bool))
    if n == 0:
        return candidates
    strong = np.zeros(n + 1, dtype=bool)
    strong[labels[candidates & (mag >= high)]] = True
    strong[0] = False
    return strong[labels]


def canny_edges(img: np.ndarray, *, sigma: float = 1.5, low: float = 0.1, high: float = 0.2) -> np.ndarray:
    """Canny edges of the image's luminance, white (1) on black (0).

    Gaussian smoothing, central-difference gradient, non-maximum suppression, hysteresis. The
    thresholds are in units of a luminance step: a clean black-to-white edge has strength 1 whatever
    ``sigma`` is, a step from 0.4 to 0.6 has strength 0.2.

    Parameters
    ----------
    img : ``(H, W, 3)`` image
    sigma : smoothing in pixels (0 = none); larger keeps only coarser edges
    low, high : hysteresis thresholds, ``0 <= low <= high``: pixels above ``high`` start an edge,
        connected pixels above ``low`` continue it

    Returns
    -------
    np.ndarray : ``(H, W, 3)`` float32 of 0 and 1, the same in every channel

    Raises
    ------
    ParameterError : bad image, negative ``sigma``, ``low > high`` or negative thresholds

    Example
    -------
    >>> import numpy as np
    >>> img = np.zeros((64, 64, 3), np.float32); img[16:48, 16:48] = 1.0
    >>> edges = canny_edges(img)
    >>> bool(edges[32, 14:18, 0].any()), bool(edges[32, 24:40, 0].any())
    (True, False)
    """
    lum = luminance(img)
    sigma = _number(sigma, "sigma")
    low = _number(low, "low")
    high = _number(high, "high")
    if low > high:
        raise ParameterError(f"low={low:g} must not exceed high={high:g}")
    return _rgb(_canny_lum(lum, sigma, low, high))


def adaptive_threshold(img: np.ndarray, *, block: int = 31, offset: float = 0.02) -> np.ndarray:
    """Local-mean threshold of the luminance (OpenCV's ``ADAPTIVE_THRESH_MEAN_C``).

    A pixel is white when it is brighter than the mean of the ``block`` x ``block`` square around it
    minus ``offset``, black otherwise, so uneven lighting does not swallow the pattern. The means come
    from a running-sum box filter (edges replicated), whatever the block size costs the same.

    Parameters
    ----------
    img : ``(H, W, 3)`` image
    block : side of the square neighbourhood in pixels, odd, >= 3
    offset : subtracted from the local mean (luminance units); positive values turn flat areas white

    Returns
    -------
    np.ndarray : ``(H, W, 3)`` float32 of 0 and 1, the same in every channel

    Raises
    ------
    ParameterError : bad image, even or too small ``block``, non-finite ``offset``

    Example
    -------
    >>> import numpy as np
    >>> ramp = np.linspace(0.2, 0.8, 64, dtype=np.float32)[None, :, None] * np.ones((64, 1, 3), np.float32)
    >>> dots = ramp.copy(); dots[::8, ::8] += 0.1
    >>> int(adaptive_threshold(dots, block=7, offset=-0.05)[..., 0].sum())   # the 64 dots, not the ramp
    64
    """
    from scipy import ndimage

    lum = luminance(img)
    block = _integer(block, "block", lo=3, odd=True)
    if isinstance(offset, bool) or not isinstance(offset, (int, float, np.integer, np.floating)) \
            or not np.isfinite(offset):
        raise ParameterError(f"offset={offset!r} must be a finite number")
    mean = ndimage.uniform_filter(lum, block, mode="nearest")
    return _rgb(lum > mean - np.float32(offset))


# ---- the spec language of --pre / --post -------------------------------------------------------------

#: name -> (default value, kind of value): "float" (>= 0), "odd" (odd integer >= 3), None (takes no value)
FILTERS: dict[str, tuple[float | int | None, str | None]] = {
    "none": (None, None),
    "blur": (2.0, "float"),
    "canny": (1.5, "float"),
    "threshold": (31, "odd"),
    "invert": (None, None),
    "grey": (None, None),
}

_HELP = ("valid steps: none, blur[:sigma], canny[:sigma], threshold[:block], invert, grey "
         "(e.g. \"blur:2,canny\")")
#: Largest sigma (px) of blur and canny, and largest threshold block (px): a Gaussian's kernel is 6 sigma
#: wide, so an unbounded value (blur:1e6) would run for hours or ask for terabytes.
MAX_SIGMA, MAX_BLOCK = 256.0, 1025


def parse_filters(spec: str) -> list[tuple[str, float | int | None]]:
    """Parse a filter spec like ``"blur:2,canny"`` into ``[(name, value), ...]``, checking every step.

    Steps are comma-separated, each ``name`` or ``name:value``; spaces and case are ignored.

    ========== ===================================================== ===============
    name        what it does                                          value (default)
    ========== ===================================================== ===============
    none        nothing (an explicit "no filter")                     none
    blur        :func:`gaussian_blur`                                 sigma px (2)
    canny       :func:`canny_edges`                                   sigma px (1.5)
    threshold   :func:`adaptive_threshold`                            odd block px (31)
    invert      ``1 - img``                                           none
    grey        luminance in all three channels                       none
    ========== ===================================================== ===============

    Parameters
    ----------
    spec : the spec; ``""`` and ``"none"`` mean no filtering

    Returns
    -------
    list of (name, value) : value is the step's number (its default when omitted) or None; ``none``
        steps are dropped, so an empty list means "leave the image alone"

    Raises
    ------
    ParameterError : unknown names, missing or malformed values, values on steps that take none; the
        message lists the valid steps

    Example
    -------
    >>> parse_filters("Blur:1.5 , threshold:15, invert")
    [('blur', 1.5), ('threshold', 15), ('invert', None)]
    >>> parse_filters("none")
    []
    """
    if not isinstance(spec, str):
        raise ParameterError(f"filter spec must be a string, got {type(spec).__name__}; {_HELP}")
    steps: list[tuple[str, float | int | None]] = []
    text = spec.strip()
    if not text:
        return steps
    for raw in text.split(","):
        part = raw.strip().lower()
        name, sep, value = (s.strip() for s in part.partition(":"))
        if not name:
            raise ParameterError(f"filter spec {spec!r} has an empty step; {_HELP}")
        if name not in FILTERS:
            raise ParameterError(f"filter spec {spec!r}: unknown filter {name!r}; {_HELP}")
        default, kind = FILTERS[name]
        if kind is None:
            if sep:
                raise ParameterError(f"filter spec {spec!r}: {name!r} takes no value, got {raw.strip()!r}; {_HELP}")
            if name != "none":
                steps.append((name, None))
            continue
        if not sep:
            steps.append((name, default))
            continue
        steps.append((name, _parse_value(spec, name, value, kind)))
    return steps


def _parse_value(spec: str, name: str, value: str, kind: str) -> float | int:
    what = (f"a number of pixels from 0 to {MAX_SIGMA:g}" if kind == "float"
            else f"an odd whole number of pixels from 3 to {MAX_BLOCK}")
    bad = ParameterError(f"filter spec {spec!r}: {name}:{value!r} needs {what}; {_HELP}")
    try:
        number = float(value) if kind == "float" else int(value)
    except ValueError:
        raise bad from None
    if kind == "float" and not (np.isfinite(number) and 0 <= number <= MAX_SIGMA):
        raise bad
    if kind == "odd" and (number < 3 or number > MAX_BLOCK or number % 2 == 0):
        raise bad
    return number


def apply_filter(img: np.ndarray, spec: str | Sequence[tuple[str, float | int | None]]) -> np.ndarray:
    """Run the steps of a filter spec (see :func:`parse_filters`) on an image, left to right.

    Parameters
    ----------
    img : ``(H, W, 3)`` image
    spec : a spec string like ``"blur:2,canny"``, or the list :func:`parse_filters` returned (parse once,
        apply to every frame)

    Returns
    -------
    np.ndarray : ``(H, W, 3)`` float32 in [0, 1] (a copy even when there is nothing to do)

    Raises
    ------
    ParameterError : bad image or spec

    Example
    -------
    >>> import numpy as np
    >>> img = np.full((8, 8, 3), 0.25, np.float32)
    >>> float(apply_filter(img, "invert")[0, 0, 0])
    0.75
    >>> steps = parse_filters("blur:1,grey")
    >>> apply_filter(img, steps).shape
    (8, 8, 3)
    """
    steps = parse_filters(spec) if isinstance(spec, str) else _check_steps(spec)
    out = valid_image(img).copy()
    for name, value in steps:
        if name == "blur":
            out = gaussian_blur(out, value)
        elif name == "canny":
            out = canny_edges(out, sigma=value)
        elif name == "threshold":
            out = adaptive_threshold(out, block=value)
        elif name == "invert":
            out = 1.0 - out
        elif name == "grey":
            out = _rgb(out @ LUMA)
    return out


def _check_steps(steps) -> list[tuple[str, float | int | None]]:
    """Validate a pre-parsed list by writing it back as a spec and parsing that."""
    try:
        parts = [name if value is None else f"{name}:{value}" for name, value in steps]
    except (TypeError, ValueError):
        raise ParameterError(f"filter steps must be a spec string or a list of (name, value) pairs, "
                             f"got {steps!r}; {_HELP}") from None
    if not all(isinstance(name, str) for name, _ in steps):
        raise ParameterError(f"filter steps {steps!r}: names must be strings; {_HELP}")
    return parse_filters(",".join(parts))


# ---- optical flow -------------------------------------------------------------------------------------

# The arithmetic is numpy and torch only samples (grid_sample, area pooling of one plane): numpy runs on one
# core, so a busy machine cannot stall it the way it stalls torch's multi-threaded elementwise kernels.

def _sample(planes: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``planes`` (C, h, w) at pixel positions ``ys``, ``xs`` (H, W); edges repeated."""
    import torch
    import torch.nn.functional as F

    h, w = planes.shape[1:]
    grid = np.empty(ys.shape + (2,), dtype=np.float32)
    np.multiply(xs + 0.5, 2.0 / w, out=grid[..., 0])
    np.multiply(ys + 0.5, 2.0 / h, out=grid[..., 1])
    grid -= 1.0
    with torch.inference_mode():
        out = F.grid_sample(torch.from_numpy(np.ascontiguousarray(planes, dtype=np.float32))[None],
                            torch.from_numpy(grid)[None], mode="bilinear", padding_mode="border",
                            align_corners=False)
    return out[0].numpy()


def _pixel_grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(h, dtype=np.float32)[:, None], np.arange(w, dtype=np.float32)[None, :]


def _warp_planes(planes: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``planes`` (C, h, w) sampled at ``p - flow[p]``; ``flow`` (2, h, w) as (dy, dx)."""
    ys, xs = _pixel_grid(*planes.shape[1:])
    return _sample(planes, ys - flow[0], xs - flow[1])


def _resize_flow(flow: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a (2, h, w) flow to ``size``, displacements scaled with it."""
    h, w = flow.shape[1:]
    if (h, w) == tuple(size):
        return flow
    ys, xs = _pixel_grid(*size)
    ys = np.broadcast_to((ys + 0.5) * (h / size[0]) - 0.5, size)
    xs = np.broadcast_to((xs + 0.5) * (w / size[1]) - 0.5, size)
    out = _sample(flow, ys, xs)
    out[0] *= size[0] / h
    out[1] *= size[1] / w
    return out


def _area(plane: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area (box) downsampling of one (H, W) plane to ``size``."""
    import torch
    import torch.nn.functional as F

    if plane.shape == tuple(size):
        return plane
    with torch.inference_mode():
        return F.interpolate(torch.from_numpy(np.ascontiguousarray(plane))[None, None], size=size,
                             mode="area")[0, 0].numpy()


def _box(x: np.ndarray, k: int) -> np.ndarray:
    """Mean over k x k squares (edges repeated) of each (h, w) plane of x (C, h, w); running sums, O(1) in k."""
    from scipy import ndimage

    return ndimage.uniform_filter(x, size=(1, k, k), mode="nearest")


#: Tikhonov term added to the Lucas-Kanade normal equations (squared luminance gradient per pixel)
_REG = 1e-4


def _lk_step(p: np.ndarray, c: np.ndarray, flow: np.ndarray, window: int, reg: float) -> np.ndarray:
    """One Lucas-Kanade update of ``flow`` (2, h, w) so that ``p`` (h, w) warped along it matches ``c``."""
    pw = _warp_planes(p[None], flow)[0]
    gy, gx = np.gradient(0.5 * (pw + c))
    dt = pw - c
    sxx, sxy, syy, sxt, syt = _box(np.stack((gx * gx, gx * gy, gy * gy, gx * dt, gy * dt)), window)
    sxx += reg
    syy += reg
    det = sxx * syy - sxy * sxy
    step = np.stack(((sxx * syt - sxy * sxt) / det, (syy * sxt - sxy * syt) / det))
    # per-pixel updates amplify their own noise through the warp; a 3x3 mean after each one keeps them stable
    return _box(flow + step, 3)


def optical_flow(prev: np.ndarray, cur: np.ndarray, *, levels: int = 3, downscale: float = 2.0,
                 window: int = 5, iterations: int = 2) -> np.ndarray:
    """Dense optical flow from ``prev`` to ``cur`` by coarse-to-fine Lucas-Kanade on the luminance.

    Both frames are area-downsampled by ``downscale``; a pyramid of ``levels`` halvings is built on that;
    from the coarsest level down, the flow is refined ``iterations`` times by warping ``prev`` along it
    and solving the windowed 2x2 Lucas-Kanade system (lightly regularised, then smoothed over 3x3, so
    flat areas take their neighbours' flow or none). The result is upsampled bilinearly to the full size. Motions up to about
    ``2 ** (levels - 1) * downscale`` pixels a frame are followed; motion boundaries are soft over
    roughly ``window * downscale`` pixels.

    Parameters
    ----------
    prev, cur : ``(H, W, 3)`` frames of the same size
    levels : pyramid levels (>= 1); fewer are used when the frames are too small for them
    downscale : work at ``1 / downscale`` of the resolution (>= 1; 1 = full resolution, slower)
    window : side of the Lucas-Kanade window at the working resolution, odd, >= 3
    iterations : refinements per level, >= 1

    Returns
    -------
    np.ndarray : ``(H, W, 2)`` float32 ``(dy, dx)`` in pixels on ``cur``'s grid: the content at ``p`` in
        ``cur`` came from ``p - flow[p]`` in ``prev``, so ``warp(prev, flow)`` approximates ``cur``

    Raises
    ------
    ParameterError : bad frames, frames of different sizes or under 2x2 pixels, bad
        ``levels``/``downscale``/``window``/``iterations``

    Example
    -------
    >>> from skimage import data
    >>> big = data.astronaut()[::2, ::2].astype(np.float32) / 255
    >>> prev, cur = big[40:168, 40:168], big[37:165, 45:173]   # the picture moved 3 px down, 5 px left
    >>> flow = optical_flow(prev, cur)
    >>> np.round(np.median(flow[32:-32, 32:-32].reshape(-1, 2), axis=0)).tolist()
    [3.0, -5.0]
    """
    prev = valid_image(prev, name="prev")
    cur = valid_image(cur, name="cur")
    if prev.shape != cur.shape:
        raise ParameterError(f"prev is {prev.shape[1]}x{prev.shape[0]} but cur is {cur.shape[1]}x{cur.shape[0]}; "
                             f"optical_flow needs frames of the same size")
    if min(prev.shape[:2]) < 2:
        raise ParameterError(f"prev and cur are {prev.shape[1]}x{prev.shape[0]}; optical_flow needs frames of at "
                             f"least 2x2 pixels")
    levels = _integer(levels, "levels", lo=1)
    downscale = _number(downscale, "downscale", lo=1.0)
    window = _integer(window, "window", lo=3, odd=True)
    iterations = _integer(iterations, "iterations", lo=1)

    h_full, w_full = prev.shape[:2]
    smallest = 8  # no level smaller than this on its shorter side
    h0 = min(h_full, max(smallest, int(round(h_full / downscale))))
    w0 = min(w_full, max(smallest, int(round(w_full / downscale))))
    sizes = [(h0, w0)]
    while len(sizes) < levels and min(sizes[-1]) // 2 >= smallest:
        sizes.append(((sizes[-1][0] + 1) // 2, (sizes[-1][1] + 1) // 2))

    lums = [prev @ LUMA, cur @ LUMA]
    pyramid = [[_area(lum, sizes[0]) for lum in lums]]
    for size in sizes[1:]:
        pyramid.append([_area(lum, size) for lum in pyramid[-1]])
    flow = np.zeros((2,) + sizes[-1], dtype=np.float32)
    for p, c in reversed(pyramid):
        flow = _resize_flow(flow, p.shape)
        for _ in range(iterations):
            flow = _lk_step(p, c, flow, window, _REG)
    flow = _resize_flow(flow, (h_full, w_full))
    return np.ascontiguousarray(flow.transpose(1, 2, 0), dtype=np.float32)


def _check_flow(flow, name: str = "flow") -> np.ndarray:
    if not isinstance(flow, np.ndarray) or flow.ndim != 3 or flow.shape[2] != 2 or 0 in flow.shape:
        shape = flow.shape if isinstance(flow, np.ndarray) else type(flow).__name__
        raise ParameterError(f"{name} must be an (H, W, 2) array of (dy, dx), got {shape}")
    if not np.issubdtype(flow.dtype, np.floating) or not np.all(np.isfinite(flow)):
        raise ParameterError(f"{name} must hold finite float displacements")
    return flow.astype(np.float32, copy=False)


def warp(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Backward-warp an image along a flow: ``out[p] = img[p - flow[p]]``, bilinear, edges repeated.

    With ``flow = optical_flow(prev, cur)``, ``warp(prev, flow)`` moves ``prev``'s content to where it is
    in ``cur`` (see the module's flow convention).

    Parameters
    ----------
    img : ``(H, W)`` or ``(H, W, C)`` finite array (float of any range: an image, a mask, another flow;
        uint8 is scaled to [0, 1])
    flow : ``(H, W, 2)`` float ``(dy, dx)`` pixel displacements, the same height and width as ``img``

    Returns
    -------
    np.ndarray : float32, the shape of ``img``

    Raises
    ------
    ParameterError : non-finite or wrongly shaped ``img`` or ``flow``, or sizes that differ

    Example
    -------
    >>> import numpy as np
    >>> img = np.zeros((8, 8), np.float32); img[2, 2] = 1
    >>> flow = np.zeros((8, 8, 2), np.float32); flow[..., 1] = 3      # move 3 px right
    >>> np.argwhere(warp(img, flow) > 0.5).tolist()
    [[2, 5]]
    """
    if not isinstance(img, np.ndarray) or img.ndim not in (2, 3) or 0 in img.shape:
        shape = img.shape if isinstance(img, np.ndarray) else type(img).__name__
        raise ParameterError(f"img must be an (H, W) or (H, W, C) array, got {shape}")
    if img.dtype == np.uint8:
        img = img.astype(np.float32) / 255.0
    if not (np.issubdtype(img.dtype, np.floating) or np.issubdtype(img.dtype, np.integer)) \
            or not np.all(np.isfinite(img)):
        raise ParameterError("img must hold finite numbers")
    flow = _check_flow(flow)
    if flow.shape[:2] != img.shape[:2]:
        raise ParameterError(f"flow is {flow.shape[1]}x{flow.shape[0]} but img is {img.shape[1]}x{img.shape[0]}; "
                             f"they must be the same size")
    x = img.astype(np.float32, copy=False)
    planes = x[None] if x.ndim == 2 else x.transpose(2, 0, 1)
    out = _warp_planes(planes, flow.transpose(2, 0, 1))
    return out[0] if img.ndim == 2 else np.ascontiguousarray(out.transpose(1, 2, 0))


__all__ = ["gaussian_blur", "canny_edges", "adaptive_threshold", "luminance", "parse_filters", "apply_filter",
           "optical_flow", "warp", "FILTERS", "LUMA"]
