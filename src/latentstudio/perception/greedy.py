"""Greedy build-up (Perception Engines' first phase): best of many random starts, then a few strokes at a time.

Round 0 draws ``candidates`` random drawings of ``start_strokes`` strokes and keeps the best. Each later
round appends ``add_strokes`` random strokes to the kept drawing in ``candidates`` different ways and
keeps the best completion, until ``n_strokes`` are drawn.

Example
-------
>>> from latentstudio import zoo                                                          # doctest: +SKIP
>>> ens = Ensemble([zoo.load_classifier()], target=1)                                    # doctest: +SKIP
>>> drawing, history = greedy_build(ens, n_strokes=8, generator=torch.Generator())      # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from latentstudio.errors import ParameterError
from latentstudio.optvis.transform import Transform
from latentstudio.perception.ensemble import Ensemble
from latentstudio.perception.renderer import random_drawings, random_strokes


def greedy_build(ensemble: Ensemble, *, n_strokes: int, generator: torch.Generator, start_strokes: int = 4,
                 add_strokes: int = 2, candidates: int = 32, transform: Transform | None = None,
                 callback: Callable[[str, int, float], None] | None = None) -> tuple[torch.Tensor, list[float]]:
    """Build a drawing of ``n_strokes`` strokes greedily.

    Parameters
    ----------
    ensemble : the judges
    n_strokes : strokes in the final drawing
    generator : seeds every random draw
    start_strokes, add_strokes : strokes of the first drawings, strokes added per round
    candidates : random drawings (or completions) compared per round
    transform : print transform applied when scoring (same draw for every candidate of a round)
    callback : ``callback("greedy", round, log_reward)`` after each round

    Returns
    -------
    (drawing, history) : the ``(D,)`` drawing and the best log-reward of each round
    """
    if n_strokes < 1 or start_strokes < 1 or add_strokes < 1 or candidates < 1:
        raise ParameterError(f"n_strokes={n_strokes}, start_strokes={start_strokes}, add_strokes={add_strokes} "
                             f"and candidates={candidates} must be >= 1")
    start = min(start_strokes, n_strokes)

    def score(batch: torch.Tensor) -> torch.Tensor:
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
        return ensemble.log_reward(batch, transform=transform, generator=torch.Generator().manual_seed(seed))

    pool = random_drawings(candidates, n_strokes=start, generator=generator)
    r = score(pool)
    best = int(r.argmax())
    drawing, history = pool[best], [float(r[best])]
    if callback is not None:
        callback("greedy", 0, history[-1])
    have, rnd = start, 1
    while have < n_strokes:
        k = min(add_strokes, n_strokes - have)
        extra = random_strokes(candidates, n_strokes=k, generator=generator)
        pool = torch.cat([drawing.expand(candidates, -1), extra], dim=1)
        r = score(pool)
        best = int(r.argmax())
        drawing = pool[best]
        history.append(float(r[best]))
        have += k
        if callback is not None:
            callback("greedy", rnd, history[-1])
        rnd += 1
    return drawing.clone(), history


__all__ = ["greedy_build"]
