"""Gradient planner: optimise the strokes through the soft rasteriser with the optvis render loop.

By default (``parametrisation="box"``) the drawing is optimised directly in [0.01, 0.99] with projected Adam
(each step clipped back into the box, as the original clips its parameters), so no parameter saturates and
loses its gradient; ``parametrisation="sigmoid"`` keeps the older logits (``drawing = sigmoid(params)``). The
drawing is drawn with a soft stroke edge that narrows from ``softness_start`` px to 1 px over the run, so
early gradients reach pixels near each stroke and the end result matches the crisp print renderer. Each step
renders ``views`` copies at each model's input size, applies an independent print transform to each, and
raises the mean log-probability of the target summed over the ensemble (the log of the reward) with Adam.

Example
-------
>>> drawing, history = gradient_plan(ens, drawing, generator=torch.Generator(), steps=50)   # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from latentstudio.errors import ParameterError
from latentstudio.optvis import render
from latentstudio.optvis.objectives import Objective
from latentstudio.optvis.transform import Transform
from latentstudio.perception.ensemble import Ensemble
from latentstudio.perception.renderer import render as draw


def gradient_plan(ensemble: Ensemble, drawing: torch.Tensor, *, generator: torch.Generator, steps: int = 150,
                  lr: float = 0.1, views: int = 4, softness_start: float = 3.0, parametrisation: str = "box",
                  transform: Transform | None = None, keep: str = "best", deadline: float | None = None,
                  objective: Objective | None = None, seconds: float | None = None,
                  callback: Callable[[str, int, float], None] | None = None) -> tuple[torch.Tensor, list[float]]:
    """Optimise ``drawing`` (D,) by gradient ascent on the soft rasteriser.

    ``parametrisation`` is "sigmoid" (logits) or "box" (projected Adam in [0.01, 0.99]). ``lr`` is the Adam
    rate in logit units; in the box it is scaled by 1/4 (the sigmoid's slope at 0.5) so both take steps of a
    similar size in drawing units. ``keep`` = "best" returns the drawing of the step with the highest
    objective from the last fifth of the run (once the stroke edges are nearly crisp), "last" the final
    iterate: Adam at a constant rate can climb high and then fall away again (on one run the objective
    peaked at -0.55 and ended at -6.9), so the last iterate can be far from the best. ``deadline`` (a
    ``time.perf_counter()`` value) ends the run early; a run cut before its last fifth returns its last iterate.
    ``objective`` replaces the ensemble's own (:meth:`Ensemble.objective`: the target's log-probability, less
    its hub contrast when it has one; per model, combined over the ensemble as its ``reduce`` says).
    ``seconds`` makes the run last that much wall time (``steps`` is then only a cap): the softness schedule
    and the kept last fifth follow the elapsed fraction of the time instead of the step count, so the run
    fills its time however fast the machine is at the moment.

    Returns
    -------
    (drawing, history) : the kept drawing in [0.01, 0.99] and the objective per step
    """
    if parametrisation not in ("box", "sigmoid"):
        raise ParameterError(f"parametrisation={parametrisation!r} must be 'box' or 'sigmoid'")
    if keep not in ("best", "last"):
        raise ParameterError(f"keep={keep!r} must be 'best' or 'last'")
    if steps < 1 or views < 1:
        raise ParameterError(f"steps={steps} and views={views} must be >= 1")
    if softness_start < 1:
        raise ParameterError(f"softness_start={softness_start} must be >= 1 px")
    if seconds is not None and not seconds > 0:
        raise ParameterError(f"seconds={seconds} must be positive")
    box = parametrisation == "box"
    start = drawing.detach().clone().clamp(0.01, 0.99)
    params = (start if box else torch.logit(start)).requires_grad_(True)

    def value() -> torch.Tensor:
        return params if box else torch.sigmoid(params)
    state = {"step": 0, "late": False}
    t_start = time.perf_counter()
    end = None if seconds is None else t_start + seconds
    if deadline is not None:
        end = deadline if end is None else min(end, deadline)

    def ramp() -> float:
        """How far the soft edge has narrowed (0 -> 1 over the first four fifths of the run)."""
        if seconds is None:
            return min(1.0, state["step"] / max(1, int(0.8 * steps)))
        return min(1.0, (time.perf_counter() - t_start) / (0.8 * seconds))

    def image_fn(size: int) -> torch.Tensor:
        state["current"] = value().detach().clone()          # the drawing this step's objective scores
        frac = ramp()
        state["late"] = frac >= 1.0
        d = value()[None].expand(views, -1)
        return draw(d, size=size, softness=max(1.0001, softness_start + (1.0 - softness_start) * frac))

    history: list[float] = []
    best = {"score": -float("inf"), "drawing": None}
    first_kept = int(0.8 * steps)

    def on_step(step: int, score: float) -> None:
        state["step"] = step + 1
        history.append(score)
        late = step >= first_kept if seconds is None else state["late"]
        if late and score > best["score"]:
            best["score"], best["drawing"] = score, state["current"]
        if callback is not None:
            callback("grad", step, score)

    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    render(ensemble.models, objective or ensemble.objective(), param=([params], image_fn),
           transforms=transform or (lambda x, g: x), steps=steps, lr=lr, seed=seed, callback=on_step,
           optimizer=(lambda ps: _BoxAdam(ps, lr=lr / 4)) if box else None,
           stop=None if end is None else (lambda: time.perf_counter() >= end),
           combine=None if ensemble.reduce == "sum" else ensemble.combine)
    with torch.no_grad():
        last = value().detach().clone()
    kept = best["drawing"] if keep == "best" and best["drawing"] is not None else last
    return kept.clamp(0.01, 0.99), history


class _BoxAdam(torch.optim.Adam):
    """Adam followed by a projection back into [0.01, 0.99]."""

    @torch.no_grad()
    def step(self, closure=None):
        loss = super().step(closure)
        for group in self.param_groups:
            for p in group["params"]:
                p.clamp_(0.01, 0.99)
        return loss


__all__ = ["gradient_plan"]
