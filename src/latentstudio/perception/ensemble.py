"""The judges: an ensemble of classifiers scoring drawings for a target class, and the held-out report.

The reward of a drawing is the product over the ensemble of each model's probability of the target,
each model seeing the drawing rendered at its own input size (the renderer is resolution independent).
Searches work with its logarithm, the sum of log-probabilities.

Example
-------
>>> from latentstudio import zoo                                                     # doctest: +SKIP
>>> ens = Ensemble([zoo.load_classifier("efficientnet_lite0")], target=1)           # doctest: +SKIP
>>> ens.log_reward(random_drawings(4, n_strokes=6)).shape                           # doctest: +SKIP
torch.Size([4])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from latentstudio.errors import ParameterError
from latentstudio.optvis import FeatureModel, as_feature_model, class_log_prob
from latentstudio.optvis.objectives import LOGITS, Objective
from latentstudio.optvis.transform import Transform
from latentstudio.perception.renderer import render


#: How an ensemble's per-model log-probabilities become one reward.
REDUCTIONS = ("sum", "worst")


def check_hub_weight(hub_weight) -> float:
    """``hub_weight`` as a float when it is a number in [0, 10), else ParameterError naming it."""
    if isinstance(hub_weight, bool) or not isinstance(hub_weight, (int, float)) or not 0 <= hub_weight < 10:
        raise ParameterError(f"hub_weight={hub_weight!r} must be a number in [0, 10)")
    return float(hub_weight)


class Ensemble:
    """Classifiers judging drawings for one target class.

    Parameters
    ----------
    models : classifiers (zoo modules or :class:`~latentstudio.optvis.FeatureModel`)
    target : ImageNet class index
    reduce : "sum" (the log of the product of probabilities) or "worst" (a soft minimum over the models,
        ``-log sum exp(-log p)``: the search raises the member that names the target least)
    hubs : classes the drawing should not look like (see :func:`find_hubs`); each model's score becomes
        ``log p(target) - hub_weight * log(1 + p(hubs) / p(target))`` (:func:`hub_penalty`: only hubs that
        compete with the target cost anything, so the score never rises above ``log p(target)``)
    hub_weight : weight of that contrast (0: none)
    """

    def __init__(self, models: Sequence, *, target: int, reduce: str = "sum", hubs: Sequence[int] = (),
                 hub_weight: float = 0.0):
        if not models:
            raise ParameterError("models is empty; the ensemble needs at least one classifier")
        if reduce not in REDUCTIONS:
            raise ParameterError(f"reduce={reduce!r} must be one of {', '.join(REDUCTIONS)}")
        check_hub_weight(hub_weight)
        self.models: list[FeatureModel] = [as_feature_model(m) for m in models]
        self.target = int(target)
        self.reduce = reduce
        self.hubs = sorted({int(h) for h in hubs} - {int(target)})
        if self.hubs and self.hubs[0] < 0:
            raise ParameterError(f"hubs={list(hubs)!r} must be class indices")
        self.hub_weight = float(hub_weight) if self.hubs else 0.0

    def score(self, log_probs: torch.Tensor) -> torch.Tensor:
        """``(B,)`` per-model score from ``(B, classes)`` log-probabilities: the target's, less the hub contrast."""
        out = log_probs[:, self.target]
        if self.hub_weight:
            out = out - self.hub_weight * hub_penalty(log_probs, self.target, self.hubs)
        return out

    def objective(self) -> Objective:
        """The gradient phase's objective matching :meth:`score` (per model; the search sums or soft-minimises
        it over the ensemble as :attr:`reduce` says)."""
        return hub_objective(class_log_prob(self.target), self.target, self.hubs, self.hub_weight)

    def combine(self, per_model: torch.Tensor) -> torch.Tensor:
        """Reduce per-model scores on the last axis: their sum or their soft minimum."""
        if self.reduce == "sum":
            return per_model.sum(dim=-1)
        return -torch.logsumexp(-per_model, dim=-1)

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.models]

    def log_probs(self, drawings: torch.Tensor, *, transform: Transform | None = None,
                  generator: torch.Generator | None = None, softness: float = 1.0) -> torch.Tensor:
        """``(B, n_models)`` log-probability of the target (less the hub contrast, see :meth:`score`) for each
        drawing and model (no gradient)."""
        out = []
        with torch.inference_mode():
            for fm in self.models:
                x = render(drawings, size=fm.input_size, softness=softness)
                if transform is not None:
                    x = transform(x, generator)
                logits = fm(x, layers={LOGITS})[LOGITS]
                out.append(self.score(torch.log_softmax(logits.float(), dim=1)))
        return torch.stack(out, dim=1)

    def log_reward(self, drawings: torch.Tensor, *, transform: Transform | None = None,
                   generator: torch.Generator | None = None, batch: int = 64) -> torch.Tensor:
        """``(B,)`` log of the reward (sum over models of log p(target), or its soft minimum with
        ``reduce="worst"``), in chunks of ``batch``."""
        parts = [self.combine(self.log_probs(drawings[i:i + batch], transform=transform, generator=generator))
                 for i in range(0, drawings.shape[0], batch)]
        return torch.cat(parts)


def hub_penalty(log_probs: torch.Tensor, target: int, hubs: Sequence[int]) -> torch.Tensor:
    """``(B,)`` ``log(1 + p(hubs) / p(target))`` from ``(B, classes)`` log-probabilities: near 0 once the target
    outweighs the hub classes together, about ``log p(hubs) - log p(target)`` while they outweigh it."""
    if max(hubs) >= log_probs.shape[1]:
        raise ParameterError(f"hub class {max(hubs)} is outside the model's {log_probs.shape[1]} classes")
    return nn.functional.softplus(torch.logsumexp(log_probs[:, list(hubs)], dim=1) - log_probs[:, target])


def hub_objective(base: Objective, target: int, hubs: Sequence[int], weight: float) -> Objective:
    """``base`` less ``weight`` times :func:`hub_penalty` on the logits (``base`` itself when there is none)."""
    if not weight or not hubs:
        return base
    hub_idx = list(hubs)

    def contrast(acts):
        logp = torch.log_softmax(acts[LOGITS].float(), dim=1)
        return base(acts) - weight * hub_penalty(logp, target, hub_idx)
    return Objective(contrast, layers=base.layers | {LOGITS}, name=f"{base.name}-hubs")


def find_hubs(models: Sequence, *, n: int = 64, n_strokes: int = 12, top: int = 10,
              generator: torch.Generator | None = None) -> list[int]:
    """The ``top`` classes the models give most probability to over ``n`` random drawings of ``n_strokes``
    strokes (mean over drawings and models): what any stroke drawing looks like to them (on EfficientNet-Lite:
    clocks, matchsticks, rulers, pinwheels). A search can contrast the target against them (``Ensemble(hubs=...)``)."""
    from latentstudio.perception.renderer import random_drawings

    if n < 1 or top < 1:
        raise ParameterError(f"n={n} and top={top} must be >= 1")
    drawings = random_drawings(n, n_strokes=n_strokes, generator=generator)
    mean = 0.0
    with torch.inference_mode():
        for fm in (as_feature_model(m) for m in models):
            logits = fm(render(drawings, size=fm.input_size), layers={LOGITS})[LOGITS]
            mean = mean + torch.softmax(logits.float(), dim=1).mean(dim=0)
    return [int(i) for i in torch.as_tensor(mean).topk(top).indices]


def judge(models: Sequence[FeatureModel], drawing: torch.Tensor, *, target: int, role: str, top: int = 5,
          labels: Sequence[str] | None = None) -> list[dict]:
    """For each model: the target's probability and rank (1 = top) and the ``top`` labels, on the clean
    drawing rendered at the model's input size."""
    rows = []
    with torch.inference_mode():
        for fm in models:
            x = render(drawing.reshape(1, -1), size=fm.input_size)
            probs = torch.softmax(fm(x, layers={LOGITS})[LOGITS].float(), dim=1)[0]
            names = labels or fm.labels or [str(i) for i in range(probs.numel())]
            p = float(probs[target])
            rank = int((probs > probs[target]).sum()) + 1
            vals, idx = probs.topk(top)
            rows.append({"model": fm.name, "role": role, "prob": p, "rank": rank,
                         "top5": [[names[int(i)], round(float(v), 4)] for v, i in zip(vals, idx)]})
    return rows


__all__ = ["Ensemble", "judge", "find_hubs", "hub_penalty", "hub_objective", "check_hub_weight", "REDUCTIONS"]
