"""The render loop: optimise an image parametrisation so an objective rises, and return tensors.

It reads top to bottom: draw the image, transform it, run every model on it, add the scores, step the
optimiser. Nothing is shown or saved (faces do that).

Example
-------
>>> import torch
>>> from torch import nn
>>> from latentstudio.optvis import objectives
>>> net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 4, 3)).eval()
>>> res = render(net, objectives.channel("2", 1), size=32, steps=20, seed=0)
>>> res.images.shape, res.scores[-1] > res.scores[0]
(torch.Size([1, 3, 32, 32]), True)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from latentstudio.errors import ParameterError
from latentstudio.optvis.engine import FeatureModel, as_feature_model
from latentstudio.optvis.objectives import INPUT, Objective, as_objective
from latentstudio.optvis.param import fft_image
from latentstudio.optvis.transform import Transform, standard_transforms


@dataclass
class RenderResult:
    """What :func:`render` returns."""

    images: torch.Tensor                    #: (N, 3, H, W) in [0, 1], detached
    scores: list[float] = field(default_factory=list)   #: mean objective (summed over models) per step
    params: list[torch.Tensor] = field(default_factory=list)  #: the optimised parameters, detached


def _takes_size(image_fn: Callable) -> bool:
    try:
        return "size" in inspect.signature(image_fn).parameters
    except (TypeError, ValueError):
        return False


def render(models, objective: Objective | str, *, param: tuple[list[torch.Tensor], Callable] | None = None,
           transforms: Transform | None = None, steps: int = 256, lr: float = 0.05, size: int = 224,
           seed: int = 0, optimizer: Callable[[list[torch.Tensor]], torch.optim.Optimizer] | None = None,
           callback: Callable[[int, float], None] | None = None,
           stop: Callable[[], bool] | None = None,
           combine: Callable[[torch.Tensor], torch.Tensor] | None = None) -> RenderResult:
    """Maximise ``objective`` over an image parametrisation.

    Parameters
    ----------
    models : one model or a sequence (an ensemble); each is a classifier or a :class:`FeatureModel`.
        The score is the sum of the objective over the models.
    objective : an :class:`Objective` or its string shorthand (``"blocks.5:12"``)
    param : ``(parameters, image_fn)``; default an FFT image of ``size`` px. An ``image_fn`` that takes a
        ``size`` keyword is drawn at each model's own input size (resolution-independent renderers).
    transforms : robustness transform applied before each model (default :func:`standard_transforms`;
        pass ``lambda x, g: x`` for none)
    steps, lr : optimiser steps and Adam learning rate
    seed : seeds the parametrisation and the transforms
    optimizer : ``optimizer(params) -> torch.optim.Optimizer`` to replace Adam
    callback : called as ``callback(step, score)`` after each step (progress bars)
    stop : called before each step; ``True`` ends the loop early (a deadline); at least one step runs
    combine : maps the ``(n_models,)`` scores to the one raised (default: their sum), e.g. a soft minimum

    Returns
    -------
    RenderResult
    """
    if steps < 1:
        raise ParameterError(f"steps={steps} must be >= 1")
    if lr <= 0:
        raise ParameterError(f"lr={lr} must be positive")
    fms: list[FeatureModel] = [as_feature_model(m) for m in
                               (models if isinstance(models, Sequence) else [models])]
    if not fms:
        raise ParameterError("models is empty; give at least one classifier")
    objective = as_objective(objective)
    for fm in fms:
        fm.check_layers(objective.layers)
    g = torch.Generator().manual_seed(int(seed))
    if param is None:
        param = fft_image((1, 3, size, size), generator=g, device=fms[0].device)
    params, image_fn = param
    sized = _takes_size(image_fn)
    transforms = transforms or standard_transforms()
    opt = optimizer(params) if optimizer is not None else torch.optim.Adam(params, lr=lr)
    layers = objective.layers - {INPUT}
    scores: list[float] = []
    for step in range(steps):
        if step > 0 and stop is not None and stop():
            break
        opt.zero_grad(set_to_none=True)
        total = 0.0
        loss = 0.0
        per_model = []
        shared = None if sized else image_fn()
        for fm in fms:
            img = image_fn(size=fm.input_size) if sized else shared
            x = transforms(img, g)
            acts = fm(x, layers=layers)
            acts[INPUT] = x
            s = objective(acts).mean()
            per_model.append(s)
            loss = loss - s
            total += float(s.detach())
        if combine is not None:
            combined = combine(torch.stack(per_model))
            loss, total = -combined, float(combined.detach())
        loss.backward()
        opt.step()
        scores.append(total)
        if callback is not None:
            callback(step, total)
    with torch.no_grad():
        final = image_fn(size=size) if sized else image_fn()
    return RenderResult(images=final.detach(), scores=scores, params=[p.detach() for p in params])


__all__ = ["render", "RenderResult"]
