"""Projection: the latent whose picture best reconstructs a given picture (GAN inversion by optimisation).

Several restarts (the mean latent and seeded random ones) are optimised together with Adam on
``pixel_weight x MSE + feature_weight x |f(G(w)) - f(x)|^2 / |f(x)|^2`` — pixels for colour and layout, the
pooled EfficientNet-Lite0 features ``f`` for what the picture shows — plus a small prior term that keeps the
Gaussian part of the latent near the shell where typical latents lie. The restart with the lowest loss wins.

The figure to judge it by is the feature distance ``|f(G(w)) - f(x)|`` on pictures the generator never saw,
against the same distance from the mean latent's picture (what a projection that learned nothing would give).

Example
-------
>>> res = project(generator, picture, steps=150, restarts=4, seed=0)                # doctest: +SKIP
>>> res.feature_distance < res.mean_latent_feature_distance                         # doctest: +SKIP
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from latentstudio.errors import ParameterError


@dataclass
class Projection:
    """The best latent for a picture and how close its picture came."""

    latent: torch.Tensor
    picture: torch.Tensor
    target: torch.Tensor
    feature_distance: float
    mean_latent_feature_distance: float
    pixel_mse: float
    restart_losses: list[float] = field(default_factory=list)
    best_restart: int = 0

    def summary(self) -> dict:
        return {"feature_distance": self.feature_distance,
                "mean_latent_feature_distance": self.mean_latent_feature_distance,
                "pixel_mse": self.pixel_mse, "restart_losses": self.restart_losses, "best_restart": self.best_restart}


def target_tensor(picture, image_size: int, *, fit: str = "crop") -> torch.Tensor:
    """A picture (``(H, W, 3)`` float/uint8 array, or ``(3, H, W)`` tensor in [0, 1]) as ``(1, 3, S, S)``."""
    from latentstudio.core.image import valid_image
    from latentstudio.gan.data import square

    if isinstance(picture, torch.Tensor):
        t = picture.detach().float()
        if t.ndim == 4 and t.shape[0] == 1:
            t = t[0]
        if t.ndim != 3 or t.shape[0] != 3:
            raise ParameterError(f"picture tensor must be (3, H, W), got {tuple(picture.shape)}")
        picture = t.clamp(0, 1).permute(1, 2, 0).numpy()
    arr = valid_image(picture, name="picture")
    return torch.from_numpy(square(arr, image_size=image_size, fit=fit)).float().div(255.0)[None]


def project(generator: torch.nn.Module, picture, *, steps: int = 200, restarts: int = 4, lr: float = 0.05,
            pixel_weight: float = 1.0, feature_weight: float = 1.0, prior_weight: float = 1e-3,
            feature_size: int = 128, fit: str = "crop", seed: int = 0, feature_model=None,
            progress=None) -> Projection:
    """Optimise ``restarts`` latents at once to reconstruct ``picture``; keep the best.

    Parameters
    ----------
    generator : any of the project's generators (``sample_latents``, ``mean_latent``, ``forward(w)``)
    picture : ``(H, W, 3)`` array (made square by ``fit`` and resized to the generator's size) or tensor
    steps : Adam steps (learning rate ``lr``, cosine decay)
    restarts : latents optimised together: the mean latent, then seeded random ones
    pixel_weight, feature_weight, prior_weight : weights of the loss terms
    feature_size : side at which the feature network sees the pictures
    seed : the random restarts
    feature_model : a feature network instead of EfficientNet-Lite0 (tests)
    progress : ``progress(step, steps)``

    Raises
    ------
    ParameterError : bad counts or weights, a picture that is not an image
    """
    from latentstudio.gan.metrics import _feature_model, pooled_features

    for name, v in (("steps", steps), ("restarts", restarts)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ParameterError(f"{name}={v!r} must be a positive integer")
    for name, v in (("lr", lr), ("pixel_weight", pixel_weight), ("feature_weight", feature_weight),
                    ("prior_weight", prior_weight)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
            raise ParameterError(f"{name}={v!r} must be a finite number >= 0")
    if lr <= 0 or pixel_weight + feature_weight <= 0:
        raise ParameterError(f"lr={lr} must be > 0 and pixel_weight + feature_weight must be > 0")
    net = feature_model if feature_model is not None else _feature_model()
    target = target_tensor(picture, generator.image_size, fit=fit)
    was = generator.training
    generator.eval()
    requires = [p.requires_grad for p in generator.parameters()]
    for p in generator.parameters():
        p.requires_grad_(False)
    try:
        with torch.no_grad():
            f_target = pooled_features(net, target, size=feature_size)
            norm2 = f_target.pow(2).sum().clamp_min(1e-8)
            mean = generator.mean_latent()[None]
            f_mean = pooled_features(net, generator(mean), size=feature_size)
        g = torch.Generator().manual_seed(seed)
        inits = [mean] + [generator.sample_latents(1, generator=g) for _ in range(restarts - 1)]
        w = torch.cat(inits).clone().requires_grad_(True)
        opt = torch.optim.Adam([w], lr=lr)
        nd = generator.noise_dim

        def losses(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            x = generator(w)
            pix = (x - target).pow(2).flatten(1).mean(1)
            feat = (pooled_features(net, x, size=feature_size) - f_target).pow(2).sum(1) / norm2
            prior = (w[:, :nd].pow(2).mean(1) - 1.0).pow(2)
            return pixel_weight * pix + feature_weight * feat + prior_weight * prior, pix

        for step in range(steps):
            for group in opt.param_groups:
                group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
            loss, _ = losses(w)
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
            if progress is not None:
                progress(step + 1, steps)
        with torch.no_grad():
            final, pix = losses(w)
            best = int(torch.argmin(final))
            picture_best = generator(w[best:best + 1])
            f_best = pooled_features(net, picture_best, size=feature_size)
    finally:
        for p, r in zip(generator.parameters(), requires):
            p.requires_grad_(r)
        generator.train(was)
    return Projection(w[best].detach().clone(), picture_best[0].detach(), target[0],
                      float((f_best - f_target).norm()), float((f_mean - f_target).norm()), float(pix[best]),
                      [float(v) for v in final], best)


def reconstruction_figures(results: list[Projection]) -> dict:
    """Median and range of the feature distances of several projections, with the mean-latent baseline."""
    d = np.array([r.feature_distance for r in results])
    m = np.array([r.mean_latent_feature_distance for r in results])
    return {"pictures": len(results), "feature_distance_median": float(np.median(d)),
            "feature_distance_range": [float(d.min()), float(d.max())],
            "mean_latent_feature_distance_median": float(np.median(m)),
            "better_than_mean_latent": int(np.sum(d < m))}


__all__ = ["project", "Projection", "target_tensor", "reconstruction_figures"]
