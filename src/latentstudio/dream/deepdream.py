"""DeepDream (Mordvintsev, Olah, Tyka; Google 2015) on the optvis engine.

The loop, as in Google's notebook: the picture is shrunk into ``octaves`` sizes (each ``octave_scale``
smaller); starting from the smallest, ``steps`` gradient-ascent steps raise the objective, the detail
they added is enlarged and carried onto the next octave's picture, and so on up to full size. Each step
rolls the image by a random offset (up to ``max_roll`` px), takes the gradient tile by tile
(:func:`latentstudio.optvis.tiled_gradient`, so any size fits in memory without seams), divides it by
its mean absolute value, moves ``step_size`` along it and clips to the valid range [0, 1].

Example
-------
>>> from latentstudio import assets
>>> from latentstudio.core.image import load
>>> res = dream(load(assets.sample_image("chelsea"), size=256), octaves=2, steps=4)   # doctest: +SKIP
>>> res.gain > 1                                                                        # doctest: +SKIP
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from latentstudio.core.image import from_tensor, to_tensor, valid_image
from latentstudio.dream.colors import keep_luminance
from latentstudio.dream.objectives import dream_objective
from latentstudio.errors import ParameterError
from latentstudio.optvis import FeatureModel, Objective, as_feature_model, tiled_gradient, tiled_score

#: The layer DeepDream amplifies by default on EfficientNet-Lite (mid-level textures, eyes and fur).
DEFAULT_LAYER = "blocks.10"


@dataclass
class DreamResult:
    """What :func:`dream` returns."""

    image: np.ndarray                       #: (H, W, 3) float32 in [0, 1]
    initial_score: float                    #: objective on the input image at full size
    final_score: float                      #: objective on the dream at full size
    scores: list[tuple[int, int, float]] = field(default_factory=list)  #: (octave, step, score) per step

    @property
    def gain(self) -> float:
        """``final_score / initial_score``: how much the dream raised the objective."""
        return self.final_score / self.initial_score if self.initial_score > 0 else float("inf")


def resolve_model(model, *, device: str = "cpu") -> FeatureModel:
    """A :class:`FeatureModel` from a zoo name, a classifier module or a FeatureModel."""
    if isinstance(model, str):
        from latentstudio import zoo

        model = zoo.load_classifier(model, device=device)
    return as_feature_model(model)


def _resize(t: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    if tuple(t.shape[-2:]) == hw:
        return t
    shrink = hw[0] < t.shape[-2]
    return F.interpolate(t, size=hw, mode="bilinear", align_corners=False, antialias=shrink)


def octave_sizes(height: int, width: int, *, octaves: int, octave_scale: float) -> list[tuple[int, int]]:
    """Sizes of the octaves, smallest first, ending at ``(height, width)``.

    Example
    -------
    >>> octave_sizes(280, 140, octaves=3, octave_scale=1.4)
    [(143, 71), (200, 100), (280, 140)]
    """
    if octaves < 1:
        raise ParameterError(f"octaves={octaves} must be >= 1")
    if not (np.isfinite(octave_scale) and octave_scale > 1.0):          # NaN passed "<= 1" and reached round()
        raise ParameterError(f"octave_scale={octave_scale} must be a number > 1")
    sizes = [(max(1, round(height / octave_scale ** i)), max(1, round(width / octave_scale ** i)))
             for i in range(octaves)]
    if min(sizes[-1]) < 16:
        raise ParameterError(f"octaves={octaves} with octave_scale={octave_scale} shrinks a {width}x{height} "
                             f"image below 16 px; use fewer octaves")
    return sizes[::-1]


def dream_step(model: FeatureModel, objective: Objective, image: torch.Tensor, *, step_size: float,
               shift: tuple[int, int] = (0, 0), tile_size: int = 512, margin: int = 64) -> tuple[torch.Tensor, float]:
    """One DeepDream step on ``image`` (1, 3, H, W), in place: rolled tiled gradient, normalised to mean
    absolute value 1, ``step_size`` along it, clipped to [0, 1]. Returns (image, score before the step)."""
    grad, score = tiled_gradient(model, objective, image, shift=shift, tile_size=tile_size, margin=margin)
    grad /= grad.abs().mean().clamp_min(1e-12)
    image.add_(grad, alpha=step_size).clamp_(0, 1)
    return image, score


def dream(image: np.ndarray, *, model="efficientnet_lite0", objective: Objective | str | None = None,
          octaves: int = 4, octave_scale: float = 1.4, steps: int = 10, step_size: float = 0.01,
          max_roll: int = 32, tile_size: int = 512, margin: int = 64, keep_colors: bool = False,
          seed: int = 0, device: str = "cpu",
          callback: Callable[[int, int, float], None] | None = None) -> DreamResult:
    """Dream on ``image``: amplify what ``model`` sees in it.

    Parameters
    ----------
    image : ``(H, W, 3)`` float RGB in [0, 1] (uint8 accepted)
    model : a zoo classifier name, a classifier module, or a prepared :class:`FeatureModel`
    objective : an Objective or a layer spec (``"blocks.10"``, ``"blocks.10:3,7"``); default
        :data:`DEFAULT_LAYER`
    octaves, octave_scale : number of sizes and the ratio between neighbours
    steps : gradient steps per octave
    step_size : move per step, in units of the image range, along the gradient normalised to mean 1
    max_roll : largest random shift, in px, before each step
    tile_size, margin : tiled gradient (see :func:`latentstudio.optvis.tiled_gradient`)
    keep_colors : keep the input's colours and take only the dream's luminance
    seed : seeds the rolls
    device : where a model named by string is loaded
    callback : ``callback(octave, step, score)`` after each step

    Returns
    -------
    DreamResult

    Raises
    ------
    ParameterError : bad sizes or counts, unknown layers (the message lists valid ones)
    """
    arr = valid_image(image)
    for name, value, lo in (("steps", steps, 0), ("max_roll", max_roll, 0), ("margin", margin, 0)):
        if int(value) != value or value < lo:
            raise ParameterError(f"{name}={value} must be an integer >= {lo}")
    if not (np.isfinite(step_size) and step_size > 0):
        raise ParameterError(f"step_size={step_size} must be a positive number")
    fm = resolve_model(model, device=device)
    obj = dream_objective(DEFAULT_LAYER) if objective is None else (
        objective if isinstance(objective, Objective) else dream_objective(objective))
    fm.check_layers(obj.layers)
    h, w = arr.shape[:2]
    sizes = octave_sizes(h, w, octaves=octaves, octave_scale=octave_scale)
    gen = torch.Generator().manual_seed(int(seed))
    base = to_tensor(arr, device=str(fm.device))
    tiling = dict(tile_size=tile_size, margin=margin)
    initial = tiled_score(fm, obj, base, **tiling)
    scores: list[tuple[int, int, float]] = []
    detail = None
    img = base
    for octave, hw in enumerate(sizes):
        octave_base = _resize(base, hw)
        img = octave_base.clone() if detail is None else (octave_base + _resize(detail, hw)).clamp_(0, 1)
        for step in range(steps):
            if max_roll:
                dy, dx = (int(v) for v in torch.randint(-max_roll, max_roll + 1, (2,), generator=gen))
            else:
                dy = dx = 0
            img, score = dream_step(fm, obj, img, step_size=step_size, shift=(dy, dx), **tiling)
            scores.append((octave, step, score))
            if callback is not None:
                callback(octave, step, score)
        detail = img - octave_base
        del octave_base
    final = tiled_score(fm, obj, img, **tiling)
    out = from_tensor(img)
    if keep_colors:
        out = keep_luminance(out, arr)
    return DreamResult(image=out, initial_score=initial, final_score=final, scores=scores)


__all__ = ["dream", "dream_step", "DreamResult", "octave_sizes", "resolve_model", "DEFAULT_LAYER"]
