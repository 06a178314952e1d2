"""Perception Engines (floor 2): abstract strokes that classifiers name, judged by classifiers held out.

* :mod:`~latentstudio.perception.renderer` - drawings as vectors in [0, 1]; ``render`` at any size (crisp
  or soft), ``to_svg``.
* :mod:`~latentstudio.perception.robust` - print transforms: misregistration, reframing, perspective, lighting;
  input diversity (resolution, blur, saturation).
* :mod:`~latentstudio.perception.ensemble` - ``Ensemble`` (reward = product of target probabilities),
  ``judge`` (probability, rank, top-5 per model).
* :mod:`~latentstudio.perception.greedy`, :mod:`~latentstudio.perception.es`,
  :mod:`~latentstudio.perception.gradient` - the three search phases.
* :mod:`~latentstudio.perception.schedule` - ``time_schedule``: a wall-time budget as iteration counts.
* :mod:`~latentstudio.perception.perceive` - ``perceive`` runs a planner (es, grad, hybrid) end to end in a
  time budget (seconds) or a fixed schedule -> ``PerceiveResult`` (``to_dict``; ``save``: the print, its SVG
  and their provenance).

Example
-------
>>> res = perceive("goldfish", budget=60)                       # 60 s of wall time  # doctest: +SKIP
>>> svg = to_svg(res.drawing, size=1920)                        # doctest: +SKIP
"""

from latentstudio.perception.ensemble import Ensemble, judge
from latentstudio.perception.es import es_refine
from latentstudio.perception.gradient import gradient_plan
from latentstudio.perception.greedy import greedy_build
from latentstudio.perception.perceive import (BUDGETS, DEFAULT_HOLDOUT, DEFAULT_MODELS, DEFAULT_SECONDS, PLANNERS,
                                              PerceiveResult, load_blacklist, perceive, resolve_target)
from latentstudio.perception.renderer import n_params, random_drawings, render, to_svg
from latentstudio.perception.robust import diversity, lighting, misregistration, perspective, print_transform, reframe
from latentstudio.perception.schedule import time_schedule

__all__ = ["Ensemble", "judge", "es_refine", "gradient_plan", "greedy_build", "perceive", "PerceiveResult",
           "load_blacklist", "resolve_target", "PLANNERS", "BUDGETS", "DEFAULT_MODELS", "DEFAULT_HOLDOUT",
           "DEFAULT_SECONDS", "time_schedule", "diversity",
           "n_params", "random_drawings", "render", "to_svg", "lighting", "misregistration", "perspective",
           "print_transform", "reframe"]
