"""Density-equalising maps by diffusion (Gastner & Newman 2004), and line integral convolution of the flow.

A cartogram warps a rectangle so that every cell's area becomes proportional to the measure it holds:
painted with a decoder's magnification factor (:mod:`latentstudio.latent.geometry`), the warped latent grid
shows the latent space as the decoder sees it, regions that change the output fast blown up. Gastner &
Newman (2004, PNAS 101:7499, "Diffusion-based method for producing density-equalizing maps") let the density
diffuse, ``d rho / dt = laplacian(rho)``, until it is uniform, and carry every point along the velocity
``v = -grad(rho) / rho`` of the diffusing "particles".

Here the density is one value per cell of an ``H x W`` grid over ``bounds = (x0, x1, y0, y1)``, row 0 the
*top* (``y1``, image convention, as :func:`latentstudio.latent.geometry.latent_grid`). The diffusion is solved
spectrally with a cosine transform (DCT-II, reflecting walls): coefficient ``(l, k)`` decays as
``exp(-lambda t)`` with ``lambda = (4 / dx^2) sin^2(pi k / 2W) + (4 / dy^2) sin^2(pi l / 2H)``, the exact
solution of the five-point discrete heat equation. For long wavelengths this is Gastner & Newman's
``pi^2 (k^2 / Lx^2 + l^2 / Ly^2)``; unlike the continuous rates applied to a grid it can never make the
density negative. Velocities live on the cell faces (zero on the walls) and are interpolated bilinearly at
the moving cell corners, which an adaptive Heun (RK2) integrator advects until the density is uniform.

Functions
---------
diffusion_cartogram        the warped cell corners, as a :class:`Cartogram`
cell_areas                 signed areas of warped quadrilateral cells (shoelace)
equalisation               coefficient of variation of measure per unit area, before and after
velocity_field             the diffusion flow at time ``t`` at the cell centres (for rendering)
line_integral_convolution  vectorised LIC of a vector field (Cabral & Leedom 1993)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.fft import dctn, idctn

from latentstudio.errors import ParameterError


def _check_density(density) -> np.ndarray:
    rho = np.asarray(density)
    if rho.ndim != 2 or min(rho.shape) < 2:
        raise ParameterError(f"density must be a 2-D array of at least 2 x 2 cells, got shape {rho.shape}")
    if not (np.issubdtype(rho.dtype, np.floating) or np.issubdtype(rho.dtype, np.integer)):
        raise ParameterError(f"density must hold real numbers, got dtype {rho.dtype}")
    rho = rho.astype(np.float64)
    if not np.isfinite(rho).all():
        raise ParameterError("density contains NaN or infinite values")
    if rho.min() <= 0:
        raise ParameterError(f"density must be positive everywhere, its minimum is {rho.min():g}")
    return rho


def _check_bounds(bounds, shape) -> tuple[float, float, float, float]:
    """The rectangle: ``bounds`` checked like a latent plane's, or one unit per cell when None."""
    from latentstudio.latent.geometry import check_bounds

    return (0.0, float(shape[1]), 0.0, float(shape[0])) if bounds is None else check_bounds(bounds)


def _bilinear(a: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``a`` at fractional (row, col) indices, clamped to the array (constant extension past its edge)."""
    R, C = a.shape
    rows = np.clip(rows, 0, R - 1)
    cols = np.clip(cols, 0, C - 1)
    r0 = rows.astype(np.intp)
    np.minimum(r0, R - 2, out=r0)
    c0 = cols.astype(np.intp)
    np.minimum(c0, C - 2, out=c0)
    wr, wc = rows - r0, cols - c0
    i = r0 * C
    i += c0
    flat = a.ravel()
    top, right = flat.take(i), flat.take(i + 1)
    i += C
    bottom, i = flat.take(i), i + 1
    bottom_right = flat.take(i)
    right -= top                              # in place: top + wc (right - top), then the same below
    right *= wc
    top += right
    bottom_right -= bottom
    bottom_right *= wc
    bottom += bottom_right
    bottom -= top
    bottom *= wr
    top += bottom
    return top


class _Diffusion:
    """The diffusing density (rows bottom-up, ``y`` increasing with the row) and its face velocities."""

    def __init__(self, rho_up: np.ndarray, dx: float, dy: float):
        H, W = rho_up.shape
        self.dx, self.dy = dx, dy
        self.coef = dctn(rho_up, type=2, norm="ortho")
        self.rate = ((4 / dy ** 2) * np.sin(np.pi * np.arange(H) / (2 * H)) ** 2)[:, None] \
            + ((4 / dx ** 2) * np.sin(np.pi * np.arange(W) / (2 * W)) ** 2)[None, :]
        self.mean = float(rho_up.mean())

    def density(self, t: float) -> np.ndarray:
        return idctn(self.coef * np.exp(-self.rate * t), type=2, norm="ortho")

    def faces(self, t: float) -> tuple[np.ndarray, np.ndarray, float]:
        """``vx`` on the vertical faces ``(H, W + 1)``, ``vy`` on the horizontal ones ``(H + 1, W)`` (zero on
        the walls), and the density's largest relative deviation from its mean."""
        rho = self.density(t)
        H, W = rho.shape
        vx = np.zeros((H, W + 1))
        vy = np.zeros((H + 1, W))
        vx[:, 1:-1] = -2 * np.diff(rho, axis=1) / (self.dx * (rho[:, 1:] + rho[:, :-1]))
        vy[1:-1] = -2 * np.diff(rho, axis=0) / (self.dy * (rho[1:] + rho[:-1]))
        return vx, vy, float(np.abs(rho / self.mean - 1).max())

    def corners(self, t: float) -> tuple[np.ndarray, float]:
        """The face velocities averaged onto the cell corners ``(H + 1, W + 1)`` as ``vx + i vy`` (one
        interpolation moves both components), and the density's deviation."""
        vx, vy, deviation = self.faces(t)
        v = np.empty((vx.shape[0] + 1, vy.shape[1] + 1), dtype=np.complex128)
        v.real[1:-1] = 0.5 * (vx[1:] + vx[:-1])
        v.real[0], v.real[-1] = vx[0], vx[-1]
        v.imag[:, 1:-1] = 0.5 * (vy[:, 1:] + vy[:, :-1])
        v.imag[:, 0], v.imag[:, -1] = vy[:, 0], vy[:, -1]
        return v, deviation

    def velocity(self, v: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        """Corner velocities ``v`` interpolated at points ``(px, py)`` measured from the bottom-left corner."""
        return _bilinear(v, py / self.dy, px / self.dx)


@dataclass(frozen=True)
class Cartogram:
    """A density-equalising warp of a rectangular grid.

    Attributes
    ----------
    grid_x, grid_y : np.ndarray (H + 1, W + 1)
        Warped positions of the cell corners; corner ``(r, c)`` started at ``(x0 + c dx, y1 - r dy)``, so row 0
        is the top edge, as in the density.
    density : np.ndarray (H, W)
        The measure per unit (unwarped) area, row 0 at the top.
    bounds : (x0, x1, y0, y1)
        The rectangle; it maps onto itself, its edges sliding along themselves.
    t : float
        Diffusion time reached (squared length units of ``bounds``).
    steps : int
        Accepted integration steps.
    converged : bool
        Whether the density was uniform within ``tol`` at time ``t``.
    """

    grid_x: np.ndarray
    grid_y: np.ndarray
    density: np.ndarray
    bounds: tuple[float, float, float, float]
    t: float
    steps: int
    converged: bool

    def warp(self, points) -> np.ndarray:
        """Map points ``(N, 2)`` = ``(x, y)`` of the rectangle through the cartogram.

        The warp is the bilinear interpolation of the warped cell corners: exact at the corners, continuous,
        and a point stays inside the warped quadrilateral of the cell it started in, consistent with the drawn
        grid (it does not re-integrate the flow, whose interior detail below a cell is not resolved anyway).

        Raises
        ------
        ParameterError
            ``points`` not ``(N, 2)``, not finite, or outside ``bounds``.

        Example
        -------
        >>> c = diffusion_cartogram(np.ones((4, 4)))
        >>> c.warp([[1.0, 3.0], [2.5, 0.5]]).tolist()
        [[1.0, 3.0], [2.5, 0.5]]
        """
        p = np.asarray(points, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != 2:
            raise ParameterError(f"points must have shape (N, 2), got {p.shape}")
        if not np.isfinite(p).all():
            raise ParameterError("points contain NaN or infinite values")
        x0, x1, y0, y1 = self.bounds
        slack = 1e-9 * max(x1 - x0, y1 - y0)
        outside = (p[:, 0] < x0 - slack) | (p[:, 0] > x1 + slack) | (p[:, 1] < y0 - slack) | (p[:, 1] > y1 + slack)
        if outside.any():
            raise ParameterError(f"{int(outside.sum())} points lie outside bounds={self.bounds}")
        H, W = self.density.shape
        u = np.clip((p[:, 0] - x0) / (x1 - x0) * W, 0, W)
        v = np.clip((y1 - p[:, 1]) / (y1 - y0) * H, 0, H)
        return np.stack([_bilinear(self.grid_x, v, u), _bilinear(self.grid_y, v, u)], axis=1)


def diffusion_cartogram(density, *, bounds=None, t_max: float | None = None, tol: float = 1e-3,
                        step_tol: float = 0.03, max_steps: int = 10000) -> Cartogram:
    """Warp a grid so that each cell's area becomes proportional to its share of ``density``.

    Parameters
    ----------
    density : array-like (H, W)
        Positive, finite measure per unit area of each cell (e.g. a magnification factor), row 0 the top.
    bounds : (x0, x1, y0, y1), optional
        The rectangle the cells tile; default ``(0, W, 0, H)`` (one unit per cell).
    t_max : float, optional
        Stop at this diffusion time (squared length units) even if the density is not yet uniform: a partial
        warp, e.g. for an animation. Default: run until uniform.
    tol : float
        Stop once ``max |rho(t) / mean - 1| <= tol``. Areas end within about ``tol`` of equal measure.
    step_tol : float
        Largest local position error per step, as a fraction of a cell side; smaller is slower and safer
        against folded cells.
    max_steps : int
        Cap on integration steps (accepted and rejected); the result then has ``converged=False``.

    Returns
    -------
    Cartogram
        Warped corner positions and how the integration ended.

    Raises
    ------
    ParameterError
        A density that is not 2-D, has fewer than 2 x 2 cells, a non-positive or non-finite value; bad bounds,
        ``t_max``, ``tol``, ``step_tol`` or ``max_steps``.

    Example
    -------
    >>> rho = np.ones((32, 32)); rho[:16, :16] = 4.0        # top-left quarter holds 4x the measure
    >>> c = diffusion_cartogram(rho)
    >>> areas = cell_areas(c.grid_x, c.grid_y)
    >>> bool(areas[:16, :16].sum() > 2 * areas[16:, 16:].sum()), round(float(areas.sum()), 6)
    (True, 1024.0)
    """
    rho = _check_density(density)
    H, W = rho.shape
    x0, x1, y0, y1 = _check_bounds(bounds, rho.shape)
    for name, value in (("tol", tol), ("step_tol", step_tol)) + ((("t_max", t_max),) if t_max is not None else ()):
        if not isinstance(value, (int, float, np.number)) or not math.isfinite(value) or value <= 0:
            raise ParameterError(f"{name}={value!r} must be a positive finite number")
    if not isinstance(max_steps, (int, np.integer)) or isinstance(max_steps, bool) or max_steps < 1:
        raise ParameterError(f"max_steps={max_steps!r} must be an integer >= 1")
    Lx, Ly = x1 - x0, y1 - y0
    dx, dy = Lx / W, Ly / H
    flow = _Diffusion(rho[::-1], dx, dy)
    px, py = (a.ravel() for a in np.meshgrid(np.arange(W + 1) * dx, np.arange(H + 1) * dy))
    atol = step_tol * min(dx, dy)
    t, steps, attempts, dt = 0.0, 0, 0, None
    v, deviation = flow.corners(t)
    k1 = flow.velocity(v, px, py)                       # complex: vx + i vy at every corner
    while deviation > tol and (t_max is None or t < t_max) and attempts < max_steps:
        attempts += 1
        if dt is None:
            dt = 0.1 * min(dx, dy) / max(float(np.abs(k1).max()), 1e-300)
        if t_max is not None:
            dt = min(dt, t_max - t)
        v2, deviation2 = flow.corners(t + dt)
        k2 = flow.velocity(v2, np.clip(px + dt * k1.real, 0, Lx), np.clip(py + dt * k1.imag, 0, Ly))
        error = 0.5 * dt * float(np.abs(k2 - k1).max())          # Heun against Euler
        factor = 0.9 * math.sqrt(atol / error) if error > 0 else 2.0
        if error <= atol:
            step = 0.5 * dt * (k1 + k2)
            px, py = np.clip(px + step.real, 0, Lx), np.clip(py + step.imag, 0, Ly)
            t, steps, deviation = t + dt, steps + 1, deviation2
            k1 = flow.velocity(v2, px, py)
            dt *= min(2.0, factor)
        else:
            dt *= max(0.2, factor)
    grid_x = x0 + px.reshape(H + 1, W + 1)[::-1]
    grid_y = y0 + py.reshape(H + 1, W + 1)[::-1]
    return Cartogram(grid_x=np.ascontiguousarray(grid_x), grid_y=np.ascontiguousarray(grid_y), density=rho,
                     bounds=(x0, x1, y0, y1), t=t, steps=steps, converged=deviation <= tol)


def cell_areas(grid_x, grid_y) -> np.ndarray:
    """Signed areas ``(H, W)`` of the quadrilateral cells of a corner grid ``(H + 1, W + 1)`` (shoelace).

    Row 0 of the grid is the top (as in :class:`Cartogram`); a cell keeps a positive area unless the warp
    folded it.

    Raises
    ------
    ParameterError
        Grids of different or too small shapes, or non-finite values.

    Example
    -------
    >>> gx, gy = np.meshgrid([0.0, 1.0, 3.0], [2.0, 0.0])          # row 0 at y = 2 (the top)
    >>> cell_areas(gx, gy).tolist()
    [[2.0, 4.0]]
    """
    gx, gy = np.asarray(grid_x, dtype=np.float64), np.asarray(grid_y, dtype=np.float64)
    if gx.ndim != 2 or gx.shape != gy.shape or min(gx.shape) < 2:
        raise ParameterError(f"grid_x {gx.shape} and grid_y {gy.shape} must be equal 2-D shapes of at least 2 x 2")
    if not (np.isfinite(gx).all() and np.isfinite(gy).all()):
        raise ParameterError("grid_x or grid_y contains NaN or infinite values")
    # counter-clockwise bottom-left, bottom-right, top-right, top-left: area = (TR - BL) x (TL - BR) / 2
    ax, ay = gx[:-1, 1:] - gx[1:, :-1], gy[:-1, 1:] - gy[1:, :-1]
    bx, by = gx[:-1, :-1] - gx[1:, 1:], gy[:-1, :-1] - gy[1:, 1:]
    return 0.5 * (ax * by - ay * bx)


def equalisation(density, cartogram: Cartogram) -> dict[str, float]:
    """How evenly the measure spreads before and after the warp.

    The coefficient of variation (std / mean over cells) of the measure per unit area,
    ``density * original_cell_area / warped_cell_area``: ``cv_before`` with the original areas (the density's
    own CV), ``cv_after`` with the warped ones (``inf`` if a cell folded). A perfect cartogram has
    ``cv_after = 0``.

    Example
    -------
    >>> rho = np.ones((32, 32)); rho[8:24, 8:24] = 5.0
    >>> e = equalisation(rho, diffusion_cartogram(rho))
    >>> bool(e["cv_after"] < e["cv_before"] / 3)
    True
    """
    rho = _check_density(density)
    if rho.shape != cartogram.density.shape:
        raise ParameterError(f"density shape {rho.shape} differs from the cartogram's {cartogram.density.shape}")
    H, W = rho.shape
    x0, x1, y0, y1 = cartogram.bounds
    warped = cell_areas(cartogram.grid_x, cartogram.grid_y)
    before = float(rho.std() / rho.mean())
    if warped.min() <= 0:
        return {"cv_before": before, "cv_after": math.inf}
    per_area = rho * ((x1 - x0) * (y1 - y0) / (H * W)) / warped
    return {"cv_before": before, "cv_after": float(per_area.std() / per_area.mean())}


def velocity_field(density, *, t: float = 0.0, bounds=None) -> tuple[np.ndarray, np.ndarray]:
    """The diffusion flow ``v = -grad(rho) / rho`` at time ``t`` at the cell centres.

    Returns ``(vx, vy)``, each ``(H, W)`` in the density's orientation (row 0 the top); ``vx`` points right and
    ``vy`` *up* (towards row 0), in length units of ``bounds`` (default one unit per cell) per unit time. Each is
    the mean of the two face velocities the cartogram integrates.

    Example
    -------
    >>> rho = np.ones((8, 8)); rho[0, 0] = 9.0                       # a bump at the top-left
    >>> vx, vy = velocity_field(rho)
    >>> bool(vx[1, 1] > 0 and vy[1, 1] < 0)                          # the flow leaves it: right and down
    True
    """
    rho = _check_density(density)
    if not isinstance(t, (int, float, np.number)) or not math.isfinite(t) or t < 0:
        raise ParameterError(f"t={t!r} must be a finite time >= 0")
    H, W = rho.shape
    x0, x1, y0, y1 = _check_bounds(bounds, rho.shape)
    vx, vy, _ = _Diffusion(rho[::-1], (x1 - x0) / W, (y1 - y0) / H).faces(float(t))
    return 0.5 * (vx[:, 1:] + vx[:, :-1])[::-1].copy(), 0.5 * (vy[1:] + vy[:-1])[::-1].copy()


def line_integral_convolution(vx, vy, *, length: int = 20, texture=None, seed: int = 0,
                              kernel: str = "hann") -> np.ndarray:
    """Line integral convolution: white noise smeared along the streamlines of a field (Cabral & Leedom 1993).

    Every pixel is traced ``length`` unit steps forward and backward along the normalised field (all pixels
    advanced together, bilinear sampling of field and texture, explicit Euler), and the texture values along
    the way are averaged with a ``"hann"`` or ``"box"`` kernel. The field follows :func:`velocity_field`:
    ``vx`` points right, ``vy`` up (towards row 0). Where the field vanishes the pixel keeps its own noise.

    Parameters
    ----------
    vx, vy : array-like (H, W)
        The vector field, finite.
    length : int
        Steps (pixels) each way, >= 1.
    texture : array-like (H, W), optional
        The input texture; default uniform white noise from ``seed``.
    seed : int
        Seed of the default texture.
    kernel : {"hann", "box"}
        Weights along the streamline.

    Returns
    -------
    np.ndarray
        float32 ``(H, W)`` in ``[0, 1]``: the 0.5th to 99.5th percentile range stretched to it.

    Example
    -------
    >>> img = line_integral_convolution(np.ones((64, 64)), np.zeros((64, 64)), length=8)
    >>> img.shape, bool(img.min() >= 0 and img.max() <= 1)
    ((64, 64), True)
    """
    fx, fy = np.asarray(vx, dtype=np.float64), np.asarray(vy, dtype=np.float64)
    if fx.ndim != 2 or fx.shape != fy.shape or min(fx.shape) < 2:
        raise ParameterError(f"vx {fx.shape} and vy {fy.shape} must be equal 2-D shapes of at least 2 x 2")
    if not (np.isfinite(fx).all() and np.isfinite(fy).all()):
        raise ParameterError("vx or vy contains NaN or infinite values")
    if not isinstance(length, (int, np.integer)) or isinstance(length, bool) or length < 1:
        raise ParameterError(f"length={length!r} must be an integer >= 1")
    if kernel not in ("hann", "box"):
        raise ParameterError(f"kernel={kernel!r} must be 'hann' or 'box'")
    H, W = fx.shape
    if texture is None:
        noise = np.random.default_rng(seed).random((H, W))
    else:
        noise = np.asarray(texture, dtype=np.float64)
        if noise.shape != (H, W) or not np.isfinite(noise).all():
            raise ParameterError(f"texture must be a finite array of shape {(H, W)}, got {noise.shape}")
    speed = np.hypot(fx, fy)
    safe = np.where(speed > 0, speed, 1.0)
    step_c, step_r = (fx / safe).astype(np.float32), (-fy / safe).astype(np.float32)  # up = towards row 0
    noise32 = noise.astype(np.float32)
    weights = (0.5 * (1 + np.cos(np.pi * np.arange(length + 1) / (length + 1))) if kernel == "hann"
               else np.ones(length + 1))
    rows0, cols0 = (a.ravel().astype(np.float32) for a in np.meshgrid(np.arange(H), np.arange(W), indexing="ij"))
    total = weights[0] * noise32.ravel()
    for sign in (1.0, -1.0):
        rows, cols = rows0.copy(), cols0.copy()
        for s in range(1, length + 1):
            dr, dc = _bilinear(step_r, rows, cols), _bilinear(step_c, rows, cols)
            rows += sign * dr
            cols += sign * dc
            np.clip(rows, 0, H - 1, out=rows)
            np.clip(cols, 0, W - 1, out=cols)
            total += weights[s] * _bilinear(noise32, rows, cols)
    out = total / (weights[0] + 2 * weights[1:].sum())
    lo, hi = np.percentile(out, [0.5, 99.5])
    if hi <= lo:
        return np.full((H, W), 0.5, dtype=np.float32)
    return np.clip((out - lo) / (hi - lo), 0, 1).reshape(H, W).astype(np.float32)


__all__ = ["Cartogram", "diffusion_cartogram", "cell_areas", "equalisation", "velocity_field",
           "line_integral_convolution"]
