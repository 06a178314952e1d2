"""Time budgets: the search's iteration counts, scaled to the wall time a user grants.

A user asks for a drawing in ``seconds``; the search measures, on the machine at hand, what one ensemble
evaluation of a drawing (``eval_s``) and one gradient step (``step_s``) cost, and :func:`time_schedule` turns the
seconds into iteration counts in the proportions of :data:`REFERENCE` (3 greedy build-ups, each scouted by 70
gradient steps; 330 steps on the best; a 10-iteration ES polish - the proportions the fixed "default" schedule
was chosen with). Below about half the reference cost there is one build-up and no scouting. Deadlines inside
each phase then catch what the estimate missed, so the search returns the best drawing found when time is up.

Example
-------
>>> s = time_schedule(180, step_s=0.3, eval_s=0.02, planner="hybrid", n_strokes=12)
>>> s["restarts"], s["grad_steps"] > 100
(3, True)
>>> time_schedule(10, step_s=0.3, eval_s=0.02, planner="hybrid", n_strokes=12)["restarts"]
1
"""

from __future__ import annotations

import math

from latentstudio.errors import ParameterError

#: The proportions a time budget is scaled from (the keys of ``perception.BUDGETS``).
REFERENCE = dict(candidates=32, es_iters=30, grad_steps=330, views=3, population=24, restarts=3, scout_steps=70)
#: Strokes of the first greedy drawings and strokes added per greedy round (``greedy_build``'s defaults).
START_STROKES, ADD_STROKES = 4, 2
#: Fraction of the budget held back for the final choice, the judges and estimate errors.
MARGIN = 0.02


def greedy_evals(n_strokes: int, candidates: int) -> int:
    """Ensemble evaluations of one greedy build-up of ``n_strokes`` strokes."""
    rounds = 1 + max(0, math.ceil((n_strokes - START_STROKES) / ADD_STROKES))
    return rounds * candidates


def time_schedule(seconds: float, *, step_s: float, eval_s: float, planner: str, n_strokes: int) -> dict[str, int]:
    """Iteration counts that fit ``seconds`` of wall time.

    Parameters
    ----------
    seconds : wall time left for the search
    step_s : seconds per gradient step (``REFERENCE["views"]`` views through the whole ensemble)
    eval_s : seconds per drawing scored by the whole ensemble (crisp render, under a print transform)
    planner : "es", "grad" or "hybrid"
    n_strokes : strokes in the drawing

    Returns
    -------
    dict with the keys of :data:`REFERENCE` (the form ``perceive(budget=dict)`` takes)

    Raises
    ------
    ParameterError : non-positive seconds or costs
    """
    if not seconds > 0 or not step_s > 0 or not eval_s > 0:
        raise ParameterError(f"seconds={seconds}, step_s={step_s} and eval_s={eval_s} must be positive")
    ref = REFERENCE
    avail = seconds * (1 - MARGIN)
    es_cost = (ref["population"] + 1) * eval_s
    out = dict(ref)
    if planner == "grad":
        out.update(restarts=1, scout_steps=0, es_iters=0, grad_steps=max(1, int(avail / step_s)))
        return out
    if planner == "es":
        greedy = greedy_evals(n_strokes, ref["candidates"]) * eval_s
        out.update(restarts=1, scout_steps=0, grad_steps=0,
                   es_iters=max(1, int((avail - greedy) / es_cost)))
        return out
    # hybrid: restarts x (greedy + scout) + main gradient run + ES polish (a third of es_iters)
    greedy = greedy_evals(n_strokes, ref["candidates"]) * eval_s
    polish = ref["es_iters"] // 3
    select = 4 * ref["restarts"] * eval_s
    fixed = ref["restarts"] * greedy + select
    variable = (ref["restarts"] * ref["scout_steps"] + ref["grad_steps"]) * step_s + polish * es_cost
    scale = (avail - fixed) / variable
    if scale >= 0.5:
        out.update(scout_steps=max(1, round(ref["scout_steps"] * scale)),
                   grad_steps=max(1, round(ref["grad_steps"] * scale)),
                   es_iters=3 * max(1, round(polish * scale)))
        return out
    # one build-up, no scouting; fewer candidates when even that does not fit
    candidates = ref["candidates"]
    while candidates > 4 and greedy_evals(n_strokes, candidates) * eval_s > 0.3 * avail:
        candidates //= 2
    greedy = greedy_evals(n_strokes, candidates) * eval_s
    variable = ref["grad_steps"] * step_s + polish * es_cost
    scale = max(0.0, (avail - greedy) / variable)
    out.update(candidates=candidates, restarts=1, scout_steps=0, grad_steps=max(1, round(ref["grad_steps"] * scale)),
               es_iters=3 * max(1, round(polish * scale)))
    return out


__all__ = ["time_schedule", "greedy_evals", "REFERENCE", "MARGIN"]
