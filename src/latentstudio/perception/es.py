"""Evolution-strategy refinement (Perception Engines' second phase).

Each iteration perturbs the drawing with Gaussian noise (``population`` samples, antithetic pairs),
scores every sample with the ensemble (one shared print-transform draw, so samples are compared fairly),
standardises the rewards and moves the drawing along the reward-weighted noise with Adam. Values stay in
[0.01, 0.99]. It stops at ``max_iters``, when the reward reaches ``target_reward``, or after ``patience``
iterations without a new best; the best drawing seen is returned.

Example
-------
>>> drawing, history = es_refine(ens, drawing, generator=torch.Generator(), max_iters=10)   # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch

from latentstudio.errors import ParameterError
from latentstudio.optvis.transform import Transform
from latentstudio.perception.ensemble import Ensemble


def es_refine(ensemble: Ensemble, drawing: torch.Tensor, *, generator: torch.Generator, population: int = 32,
              sigma: float = 0.03, lr: float = 0.01, max_iters: int = 60, patience: int = 30,
              target_reward: float = 0.9999, transform: Transform | None = None, deadline: float | None = None,
              callback: Callable[[str, int, float], None] | None = None) -> tuple[torch.Tensor, list[float]]:
    """Refine ``drawing`` (D,) by an evolution strategy; returns (best drawing, best log-reward per iteration).

    ``deadline`` (a ``time.perf_counter()`` value) ends the run after the iteration that passes it.

    Raises
    ------
    ParameterError : population < 2, non-positive sigma or lr
    """
    if population < 2:
        raise ParameterError(f"population={population} must be >= 2")
    if not sigma > 0 or not lr > 0:
        raise ParameterError(f"sigma={sigma} and lr={lr} must be positive")
    theta = drawing.detach().clone().clamp(0.01, 0.99)
    half = population // 2
    opt_m = torch.zeros_like(theta)
    opt_v = torch.zeros_like(theta)
    b1, b2, eps = 0.9, 0.999, 1e-8
    best, best_r = theta.clone(), -math.inf
    history: list[float] = []
    stale = 0
    log_target = math.log(target_reward)
    for it in range(max_iters):
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
        noise = torch.randn(half, theta.numel(), generator=generator)
        noise = torch.cat([noise, -noise])
        samples = (theta + sigma * noise).clamp(0.01, 0.99)
        batch = torch.cat([theta[None], samples])
        r = ensemble.log_reward(batch, transform=transform, generator=torch.Generator().manual_seed(seed))
        r_centre, r_samp = float(r[0]), r[1:]
        i_best = int(r_samp.argmax())
        cand, cand_r = (theta, r_centre) if r_centre >= float(r_samp[i_best]) else (samples[i_best], float(r_samp[i_best]))
        if cand_r > best_r:
            best, best_r, stale = cand.clone(), cand_r, 0
        else:
            stale += 1
        history.append(best_r)
        if callback is not None:
            callback("es", it, best_r)
        if best_r >= log_target or stale >= patience or (deadline is not None and time.perf_counter() >= deadline):
            break
        z = (r_samp - r_samp.mean()) / (r_samp.std() + 1e-8)
        grad = (z[:, None] * noise).mean(dim=0) / sigma            # ascent direction
        opt_m = b1 * opt_m + (1 - b1) * grad
        opt_v = b2 * opt_v + (1 - b2) * grad * grad
        mhat, vhat = opt_m / (1 - b1 ** (it + 1)), opt_v / (1 - b2 ** (it + 1))
        theta = (theta + lr * mhat / (vhat.sqrt() + eps)).clamp(0.01, 0.99)
    return best, history


__all__ = ["es_refine"]
