"""Perception Engines (Tom White, 2018): draw strokes until an ensemble of classifiers names the target,
then ask classifiers that took no part in the search.

Planners (``planner=``):

* ``"es"`` - the original: greedy build-up, then evolution-strategy refinement;
* ``"grad"`` - random start, then gradient ascent through the soft rasteriser;
* ``"hybrid"`` (default) - greedy build-up, gradient planning, then a short ES polish on the crisp renderer.
  With ``restarts`` k > 1 and ``scout_steps`` n > 0 in the budget (the "default" budget: k=3, n=70) it makes
  k greedy build-ups, scouts each with n gradient steps and continues the best by robust ensemble reward.

Every phase scores drawings under print transforms (misregistration, reframing, perspective, lighting) unless
``robust=False``. The result keeps the best drawing by clean reward, and reports, for each model of the
ensemble and the held-out ones, the target's probability, its rank and the top-5 labels.

Example
-------
>>> res = perceive("goldfish", budget="small", seed=0)        # doctest: +SKIP
>>> res.report[-1]["role"], res.report[-1]["rank"]            # doctest: +SKIP
('holdout', 1)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources

import torch

from latentstudio.errors import ParameterError
from latentstudio.optvis import FeatureModel, as_feature_model
from latentstudio.perception.ensemble import Ensemble, judge
from latentstudio.perception.es import es_refine
from latentstudio.perception.gradient import gradient_plan
from latentstudio.perception.greedy import greedy_build
from latentstudio.perception.renderer import random_drawings
from latentstudio.perception.robust import print_transform

DEFAULT_MODELS = ("efficientnet_lite0", "efficientnet_lite1")
DEFAULT_HOLDOUT = ("efficientnet_lite2",)
PLANNERS = ("es", "grad", "hybrid")

#: Iteration budgets (reproducible for a seed). "default" aims at under 3 minutes per class on 2 CPU cores;
#: "small" is for demos and tests. The default's 330 gradient steps (from 220) raised the held-out model's
#: probability of the target on the 6 development classes of :func:`~latentstudio.perception.robust.print_transform`
#: (median 0.08 -> 0.28) for a third more time.
BUDGETS: dict[str, dict[str, int]] = {
    "small": dict(candidates=12, es_iters=6, grad_steps=80, views=2, population=12, restarts=1, scout_steps=0),
    "default": dict(candidates=32, es_iters=30, grad_steps=330, views=3, population=24, restarts=3,
                    scout_steps=70),
    "large": dict(candidates=100, es_iters=200, grad_steps=500, views=8, population=100, restarts=1,
                  scout_steps=0),
}


#: Suffixes :meth:`PerceiveResult.save` writes: a print (with its SVG beside it) or the SVG alone.
OUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg")
#: Sides (px) a print may have.
PRINT_SIDES = (16, 16384)


def check_print_size(size: int) -> int:
    """``size`` if a print may be that many px wide, else ParameterError (check before a long search)."""
    lo, hi = PRINT_SIDES
    if isinstance(size, bool) or int(size) != size or not lo <= size <= hi:
        raise ParameterError(f"size={size} must be an integer between {lo} and {hi} px")
    return int(size)


@dataclass
class PerceiveResult:
    """What :func:`perceive` returns."""

    drawing: torch.Tensor                  #: (D,) values in [0, 1]; render with ``renderer.render``
    target: int                            #: ImageNet index
    label: str                             #: its name
    reward: float                          #: product over the ensemble of p(target), clean drawing
    report: list[dict] = field(default_factory=list)     #: per model: role, prob, rank, top5
    history: list[tuple[str, int, float]] = field(default_factory=list)  #: (phase, iteration, log reward)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """JSON-ready: target (name), target_index, reward, seconds, models (the judges' report), drawing."""
        return {"target": self.label, "target_index": self.target, "reward": self.reward,
                "seconds": round(self.seconds, 1), "models": self.report,
                "drawing": [round(float(v), 5) for v in self.drawing]}

    def save(self, output, *, size: int = 1024, command: str = "perceive", seed: int | None = None,
             params: dict | None = None) -> tuple:
        """Write the drawing: a ``size`` px print (.png/.jpg) with its SVG beside it, or the SVG alone
        (.svg), and the print's provenance sidecar (the report, the models that drew and judged it).

        Returns
        -------
        (Path, Path) : the output and the SVG (the same path for an .svg output)

        Raises
        ------
        ParameterError : another suffix, or a size outside :data:`PRINT_SIDES`
        """
        from pathlib import Path

        from latentstudio.core.fileio import atomic_write_text
        from latentstudio.core.image import from_tensor, save
        from latentstudio.perception.renderer import render, to_svg
        from latentstudio.provenance import write_sidecar

        out = Path(output)
        if out.suffix.lower() not in OUT_SUFFIXES:
            raise ParameterError(f"output={str(out)!r} must end with one of {', '.join(OUT_SUFFIXES)}")
        size = check_print_size(size)
        svg = out if out.suffix.lower() == ".svg" else out.with_suffix(".svg")
        atomic_write_text(svg, to_svg(self.drawing, size=size))
        if svg != out:
            save(out, from_tensor(render(self.drawing, size=size)))
        write_sidecar(out, command=command, seed=seed, models=[r["model"] for r in self.report],
                      params=params, result={**self.to_dict(), "output": str(out), "svg": str(svg)})
        return out, svg


def load_blacklist() -> list[int]:
    """ImageNet indices of the classes strokes trigger too easily (``data/perception_blacklist.txt``)."""
    from latentstudio.zoo import class_index

    text = resources.files("latentstudio").joinpath("data/perception_blacklist.txt").read_text(encoding="utf-8")
    names = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return sorted({class_index(n) for n in names})


def resolve_target(target: str | int, *, generator: torch.Generator) -> int:
    """An ImageNet index from a name, an index, or ``"random"`` (any class outside the blacklist)."""
    from latentstudio.zoo import class_index

    if isinstance(target, str) and target.strip().lower() == "random":
        banned = set(load_blacklist())
        allowed = [i for i in range(1000) if i not in banned]
        return allowed[int(torch.randint(0, len(allowed), (1,), generator=generator))]
    return class_index(target)


def _models(names_or_models: Sequence, *, device: str) -> list[FeatureModel]:
    from latentstudio import zoo

    out = []
    for m in names_or_models:
        out.append(as_feature_model(zoo.load_classifier(m, device=device) if isinstance(m, str) else m))
    return out


def perceive(target: str | int, *, models: Sequence = DEFAULT_MODELS, holdout: Sequence = DEFAULT_HOLDOUT,
             planner: str = "hybrid", n_strokes: int = 12, budget: str | dict = "default", robust: bool = True,
             seed: int = 0, device: str = "cpu", max_seconds: float | None = None,
             callback: Callable[[str, int, float], None] | None = None) -> PerceiveResult:
    """Search a drawing of ``n_strokes`` strokes that the ``models`` ensemble classifies as ``target``.

    Parameters
    ----------
    target : class name ("goldfish"), index, or "random" (outside the blacklist)
    models : the ensemble that guides the search (zoo names or modules)
    holdout : models that only judge the result
    planner : "es", "grad" or "hybrid"
    n_strokes : strokes in the drawing
    budget : "small", "default", "large" or a dict overriding :data:`BUDGETS` keys
    robust : score under print transforms during the search
    seed : seeds every random choice
    device : where models named by string are loaded
    max_seconds : stop refining once this much time has passed (None: iteration budget only)
    callback : ``callback(phase, iteration, log_reward)`` for progress bars

    Returns
    -------
    PerceiveResult

    Raises
    ------
    ParameterError : unknown planner, budget, model or class (the message lists close class names), no
        model, a bad ``n_strokes`` or ``max_seconds``
    """
    if planner not in PLANNERS:
        raise ParameterError(f"planner={planner!r} must be one of {', '.join(PLANNERS)}")
    if isinstance(budget, str):
        if budget not in BUDGETS:
            raise ParameterError(f"budget={budget!r} must be one of {', '.join(BUDGETS)}")
        b = dict(BUDGETS[budget])
    else:
        b = {**BUDGETS["default"], **dict(budget)}
    if int(n_strokes) != n_strokes or not 1 <= n_strokes <= 200:
        raise ParameterError(f"n_strokes={n_strokes} must be an integer from 1 to 200")
    if isinstance(models, str) or not list(models):
        raise ParameterError(f"models={models!r} must name at least one model (a list)")
    if isinstance(holdout, str):
        raise ParameterError(f"holdout={holdout!r} must be a list of models")
    if max_seconds is not None and not max_seconds > 0:
        raise ParameterError(f"max_seconds={max_seconds} must be a positive number of seconds")
    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(int(seed))
    idx = resolve_target(target, generator=gen)
    ens = Ensemble(_models(models, device=device), target=idx)
    held = _models(holdout, device=device)
    shared_t = print_transform(shared=True) if robust else None
    views_t = print_transform(shared=False) if robust else None
    history: list[tuple[str, int, float]] = []

    def note(phase: str, it: int, value: float) -> None:
        history.append((phase, it, value))
        if callback is not None:
            callback(phase, it, value)

    def robust_reward(stack: torch.Tensor) -> torch.Tensor:
        clean = ens.log_reward(stack)
        if views_t is None:
            return clean
        noisy = torch.stack([ens.log_reward(stack, transform=views_t, generator=torch.Generator().manual_seed(k))
                             for k in range(3)]).mean(dim=0)
        return 0.5 * clean + 0.5 * noisy

    candidates = []
    if planner == "hybrid" and b.get("restarts", 1) > 1 and b.get("scout_steps", 0) > 0:
        # several greedy starts, each scouted by a short gradient run; keep the best by robust reward
        scouts = []
        for _ in range(int(b["restarts"])):
            start, _ = greedy_build(ens, n_strokes=n_strokes, generator=gen, candidates=b["candidates"],
                                    transform=shared_t, callback=note)
            scout, _ = gradient_plan(ens, start, generator=gen, steps=b["scout_steps"], views=b["views"],
                                     transform=views_t, callback=note)
            scouts.append(scout)
        stack = torch.stack(scouts)
        drawing = scouts[int(robust_reward(stack).argmax())]
        candidates.append(drawing)
    elif planner in ("es", "hybrid"):
        drawing, _ = greedy_build(ens, n_strokes=n_strokes, generator=gen, candidates=b["candidates"],
                                  transform=shared_t, callback=note)
        candidates.append(drawing)
    else:
        drawing = random_drawings(1, n_strokes=n_strokes, generator=gen)[0]
        candidates.append(drawing)
    if planner in ("grad", "hybrid"):
        drawing, _ = gradient_plan(ens, drawing, generator=gen, steps=b["grad_steps"], views=b["views"],
                                   transform=views_t, callback=note)
        candidates.append(drawing)
    es_iters = b["es_iters"] if planner == "es" else b["es_iters"] // 3
    if max_seconds is not None and time.perf_counter() - t0 > max_seconds:
        es_iters = 0
    if es_iters > 0:
        drawing, _ = es_refine(ens, drawing, generator=gen, population=b["population"], max_iters=es_iters,
                               transform=shared_t, callback=note)
        candidates.append(drawing)
    # keep the best candidate by the clean reward averaged with the reward under print transforms
    clean = robust_reward(torch.stack(candidates))
    best = candidates[int(clean.argmax())]
    labels = ens.models[0].labels
    report = judge(ens.models, best, target=idx, role="ensemble", labels=labels)
    report += judge(held, best, target=idx, role="holdout", labels=labels)
    reward = math.prod(r["prob"] for r in report if r["role"] == "ensemble")
    label = labels[idx] if labels else str(idx)
    return PerceiveResult(drawing=best, target=idx, label=label, reward=reward, report=report, history=history,
                          seconds=time.perf_counter() - t0)


__all__ = ["perceive", "PerceiveResult", "check_print_size", "OUT_SUFFIXES", "PRINT_SIDES", "load_blacklist",
           "resolve_target", "PLANNERS", "BUDGETS", "DEFAULT_MODELS", "DEFAULT_HOLDOUT"]
