"""Latent Landscapes: pictures of how a decoder stretches its latent space, and the maps that undo it.

* the **magnification factor** ``sqrt(det(J^T J))`` of the decoder's output distribution over a grid of the
  latent plane (exact Jacobians, :func:`latentstudio.latent.geometry.magnification`) — or, for decoders
  that cannot be differentiated, the finite-difference version or the expected output distance of small
  latent steps (:func:`~latentstudio.latent.geometry.step_distance`, "Latent Space Cartography");
* its **cartogram**: the plane warped so each region's area follows the measure (Gastner & Newman's
  diffusion, :mod:`latentstudio.latent.cartogram`), drawn as a coloured, gridded sheet with the data's
  dots carried along;
* the **velocity field** of that diffusion at its start, the magnification treated as a particle density
  (the Latent Pulsations cover): line-integral convolution coloured by the field's speed.

Any generative model with a latent works through :func:`decoder_map`: the latent VAEs (their Fisher-Rao
embeddings), the beatbox's rhythm VAE, or any ``nn.Module`` mapping ``(B, d)`` latents to outputs.

Example
-------
>>> vae = load_vae("out/vae")                                                     # doctest: +SKIP
>>> land = compute_landscape(decoder_map(vae), latent_dim=2, bounds=(-3, 3, -3, 3), resolution=256)  # doctest: +SKIP
>>> images = render_landscape(land)                                               # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from latentstudio.core import raster
from latentstudio.errors import ParameterError
from latentstudio.latent import cartogram as carto
from latentstudio.latent import geometry

MEASURES = ("magnification", "fd", "distance")


def decoder_map(model, *, density=None):
    """The function whose Euclidean pull-back is the model's latent metric, and the latent width.

    Returns ``(f, latent_dim)``. Latent VAEs give their Fisher-Rao ``geometry_map``; the beatbox rhythm VAE
    gives its hits' Bernoulli embedding with the velocities and micro-timings (at a fixed per-drum
    ``density``, default a typical groove); a model with ``decode(z)`` and ``latent_dim`` (NeuralFunk's SampleVAE)
    gives its decoded output; any other ``nn.Module`` with a ``latent_dim`` attribute (a GAN generator ...) is
    taken as is: its output, flattened. Modules are put in eval mode.
    """
    if isinstance(model, torch.nn.Module):
        model.eval()
    if hasattr(model, "geometry_map"):
        return model.geometry_map, int(model.latent_dim)
    from latentstudio.beatbox.rhythm_vae import RhythmVAE

    if isinstance(model, RhythmVAE):
        from latentstudio.beatbox.pattern import N_VOICES

        dens = torch.tensor(density if density is not None else [0.25, 0.125, 0.5, 0.06, 0.03, 0.03, 0.03, 0.03, 0.0],
                            dtype=torch.float32)
        if dens.shape != (N_VOICES,):
            raise ParameterError(f"density must have {N_VOICES} values, got {tuple(dens.shape)}")

        def rhythm(z: torch.Tensor) -> torch.Tensor:
            logits, vel, off = model.decode(z, dens.expand(z.shape[0], -1))
            p = torch.sigmoid(logits).flatten(1).clamp(1e-6, 1 - 1e-6)
            return torch.cat([2 * p.sqrt(), 2 * (1 - p).sqrt(), vel.flatten(1), off.flatten(1)], dim=1)

        return rhythm, int(model.latent_dim)
    if callable(getattr(model, "decode", None)) and isinstance(getattr(model, "latent_dim", None), int):
        return model.decode, int(model.latent_dim)          # NeuralFunk's SampleVAE: latent -> log-mel image
    if isinstance(model, torch.nn.Module) and isinstance(getattr(model, "latent_dim", None), int):
        return model, int(model.latent_dim)
    raise ParameterError(f"{type(model).__name__} has no latent to map: give a latent VAE, the rhythm VAE or a "
                         "module with a latent_dim attribute")


@dataclass
class Landscape:
    """A measure over a grid of a latent plane (row 0 = top = largest second coordinate)."""

    values: np.ndarray
    bounds: tuple[float, float, float, float]
    measure: str
    seconds: float
    basis: np.ndarray | None = None
    points: np.ndarray | None = None          # (N, 2) data embeddings in plane coordinates, for the overlay
    labels: np.ndarray | None = None
    cartogram: carto.Cartogram | None = None
    equalisation: dict = field(default_factory=dict)

    def summary(self) -> dict:
        v = self.values[np.isfinite(self.values)]
        return {"measure": self.measure, "resolution": list(self.values.shape), "bounds": list(self.bounds),
                "seconds": round(self.seconds, 2), "min": float(v.min()), "median": float(np.median(v)),
                "max": float(v.max()), "dynamic_range": float(v.max() / max(v.min(), 1e-30)),
                "cartogram": self.equalisation or None}


def fit_bounds(points: np.ndarray, *, margin: float = 0.1, square: bool = True) -> tuple[float, float, float, float]:
    """Bounds around the 0.5-99.5 percentiles of ``points`` plus a ``margin``, square by default."""
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2 or len(p) == 0 or not np.isfinite(p).all():
        raise ParameterError(f"points must be finite (N, 2), got shape {p.shape}")
    lo, hi = np.percentile(p, 0.5, axis=0), np.percentile(p, 99.5, axis=0)
    span = np.maximum(hi - lo, 1e-6)
    if square:
        c, s = (lo + hi) / 2, span.max()
        lo, hi, span = c - s / 2, c + s / 2, np.array([s, s])
    lo, hi = lo - margin * span, hi + margin * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def compute_landscape(f, *, latent_dim: int, bounds=(-3.0, 3.0, -3.0, 3.0), resolution=256, measure="magnification",
                      basis=None, origin=None, eps: float | None = None, batch_size: int = 4096) -> Landscape:
    """The measure of decoder ``f`` over a ``resolution`` grid of the plane (``basis``, ``origin``).

    ``measure``: ``"magnification"`` (exact, autodiff), ``"fd"`` (finite differences, any decoder) or
    ``"distance"`` (mean output distance per unit step over 16 directions). ``eps`` is the finite step
    (default 1e-3 x the plane's width for ``fd``, 1e-2 x for ``distance``).
    """
    if measure not in MEASURES:
        raise ParameterError(f"measure={measure!r} must be one of {', '.join(MEASURES)}")
    # a wider latent is cut along its first two axes unless a plane is named
    b = basis if basis is not None or latent_dim == 2 else torch.eye(latent_dim)[:, :2]
    grid = geometry.latent_grid(bounds=bounds, resolution=resolution, origin=origin, basis=b)
    width = float(bounds[1] - bounds[0])
    t0 = time.perf_counter()
    with torch.no_grad() if measure != "magnification" else torch.enable_grad():
        if measure == "magnification":
            v = geometry.magnification(f, grid, basis=b, batch_size=batch_size)
        elif measure == "fd":
            v = geometry.magnification_fd(f, grid, eps=eps or 1e-3 * width, basis=b, batch_size=batch_size)
        else:
            v = geometry.step_distance(f, grid, eps=eps or 1e-2 * width, basis=b, batch_size=batch_size)
    v = np.asarray(v, dtype=np.float64).reshape(grid.shape[:2])
    return Landscape(v, tuple(float(x) for x in bounds), measure, time.perf_counter() - t0,
                     None if b is None else np.asarray(b))


def add_cartogram(land: Landscape, *, cells: int = 128) -> Landscape:
    """Compute the diffusion cartogram of the landscape's measure on a grid of at most ``cells`` per side
    (block means of the map) and its equalisation figures (coefficient of variation before / after)."""
    v = land.values
    h, w = v.shape
    fy, fx = max(1, int(np.ceil(h / cells))), max(1, int(np.ceil(w / cells)))
    hh, ww = h // fy, w // fx
    coarse = v[: hh * fy, : ww * fx].reshape(hh, fy, ww, fx).mean(axis=(1, 3))
    floor = max(float(np.percentile(coarse, 1)) * 1e-3, 1e-12)
    dens = np.maximum(coarse, floor)
    land.cartogram = carto.diffusion_cartogram(dens, bounds=land.bounds)
    land.equalisation = {k: float(x) for k, x in carto.equalisation(dens, land.cartogram).items()}
    return land


def _frame(values: np.ndarray, *, name: str, log: bool):
    finite = values[np.isfinite(values) & (values > 0 if log else True)]
    vmin, vmax = (float(np.percentile(finite, 1)), float(np.percentile(finite, 99))) if finite.size else (1e-3, 1)
    if vmax <= vmin:
        vmax = vmin * 1.01 + 1e-12
    img = raster.apply_colormap(values, name=name, vmin=vmin, vmax=vmax, log=log)
    return img, vmin, vmax


def render_map(land: Landscape, *, colormap: str = "magma", log: bool = True, colorbar: bool = True,
               points: bool = False, labels_palette: np.ndarray | None = None) -> np.ndarray:
    """The measure as an image, log-coloured, with a colour bar; optionally the data's dots on top."""
    img, vmin, vmax = _frame(land.values, name=colormap, log=log)
    if points and land.points is not None:
        img = _overlay(img, land.points, land.labels, land.bounds, labels_palette)
    if colorbar and min(img.shape[:2]) >= 160:          # a smaller map has no room for the bar
        img = raster.draw_colorbar(img, name=colormap, vmin=vmin, vmax=vmax, log=log,
                                   label="magnification factor" if land.measure != "distance" else
                                   "output distance per unit step")
    return img


def _overlay(img: np.ndarray, pts: np.ndarray, labels, bounds, palette) -> np.ndarray:
    h, w = img.shape[:2]
    n = int(labels.max()) + 1 if labels is not None and len(labels) else 1
    pal = palette if palette is not None else raster.label_palette(max(n, 1))
    colors = pal[labels] if labels is not None else np.ones((len(pts), 3))
    xy = raster.to_pixels(pts, bounds=bounds, width=w, height=h)
    accum, dens = raster.splat(xy, width=w, height=h, colors=colors, radius=1.0)
    return raster.composite(accum, dens, background=img, opacity=0.95, gain=1.5)


def render_cartogram(land: Landscape, *, size: int = 1024, colormap: str = "magma", log: bool = True,
                     grid_every: int = 8, points: bool = True) -> np.ndarray:
    """The warped sheet: each cell in its new place coloured by its measure, a grid line every
    ``grid_every`` cells, and the data's dots carried through the same warp."""
    from PIL import Image, ImageDraw

    c = land.cartogram
    if c is None:
        raise ParameterError("the landscape has no cartogram; call add_cartogram first")
    x0, x1, y0, y1 = land.bounds
    colours, _, _ = _frame(c.density, name=colormap, log=log)
    if points and land.points is not None:
        colours = (colours.astype(np.float32) * 0.45).astype(np.uint8)      # the dots stand out on a dimmed sheet
    img = Image.new("RGB", (size, size), (12, 12, 16))
    draw = ImageDraw.Draw(img)
    px = (c.grid_x - x0) / (x1 - x0) * size
    py = (y1 - c.grid_y) / (y1 - y0) * size
    hh, ww = c.density.shape
    for r in range(hh):
        for k in range(ww):
            quad = [(px[r, k], py[r, k]), (px[r, k + 1], py[r, k + 1]), (px[r + 1, k + 1], py[r + 1, k + 1]),
                    (px[r + 1, k], py[r + 1, k])]
            draw.polygon(quad, fill=tuple(int(v) for v in colours[r, k]))
    line = (235, 235, 235)
    for r in range(0, hh + 1, grid_every):
        draw.line(list(zip(px[r], py[r])), fill=line, width=1)
    for k in range(0, ww + 1, grid_every):
        draw.line(list(zip(px[:, k], py[:, k])), fill=line, width=1)
    out = np.asarray(img)
    if points and land.points is not None:
        p = land.points
        inside = (p[:, 0] > x0) & (p[:, 0] < x1) & (p[:, 1] > y0) & (p[:, 1] < y1)
        labels = land.labels[inside] if land.labels is not None else None
        n = int(land.labels.max()) + 1 if land.labels is not None and len(land.labels) else 1
        out = _overlay(out, c.warp(p[inside]), labels, land.bounds, raster.label_palette(n))
    return out


def render_flow(land: Landscape, *, colormap: str = "magma", length: int = 24, seed: int = 0) -> np.ndarray:
    """The velocity field of the measure's diffusion at its start (the magnification as a particle density):
    streaks along the flow (line-integral convolution), coloured by log speed."""
    dens = np.maximum(land.values, max(float(np.nanpercentile(land.values, 1)) * 1e-3, 1e-12))
    vx, vy = carto.velocity_field(dens, bounds=land.bounds)
    streaks = carto.line_integral_convolution(vx, vy, length=length, seed=seed)
    speed = np.hypot(vx, vy)
    colour, _, _ = _frame(speed + 1e-12, name=colormap, log=True)
    s = streaks - streaks.mean()
    shade = np.clip(0.55 + 2.2 * s / (s.std() + 1e-9) * 0.25, 0, 1.4)
    return np.clip(colour.astype(np.float32) * shade[..., None], 0, 255).astype(np.uint8)
