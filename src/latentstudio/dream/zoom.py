"""The zoom-feedback video: dream a frame, zoom into it a little, dream again on the result.

Example
-------
>>> import numpy as np
>>> zoom_in(np.zeros((40, 60, 3), np.float32), zoom=1.05).shape
(40, 60, 3)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from latentstudio.core.image import from_tensor, to_tensor, valid_image
from latentstudio.dream.deepdream import dream, resolve_model
from latentstudio.errors import ParameterError


def zoom_in(image: np.ndarray, *, zoom: float) -> np.ndarray:
    """Enlarge ``image`` by ``zoom`` about its centre and crop back to its size."""
    if not zoom >= 1.0:
        raise ParameterError(f"zoom={zoom} must be >= 1 (1.05 zooms in by 5 % a frame)")
    arr = valid_image(image)
    h, w = arr.shape[:2]
    t = to_tensor(arr)
    s = 1.0 / zoom
    theta = torch.tensor([[[s, 0.0, 0.0], [0.0, s, 0.0]]])
    grid = F.affine_grid(theta, [1, 3, h, w], align_corners=False)
    return from_tensor(F.grid_sample(t, grid, mode="bicubic", padding_mode="border", align_corners=False))


def zoom_frames(image: np.ndarray, *, frames: int, zoom: float = 1.05, model="efficientnet_lite0",
                callback: Callable[[int], None] | None = None, seed: int = 0, **dream_kwargs) -> list[np.ndarray]:
    """``frames`` frames of the zoom-feedback loop; each is a dream of the previous one, zoomed.

    Parameters
    ----------
    image : the first frame's input, ``(H, W, 3)`` in [0, 1]
    frames : how many frames
    zoom : enlargement between frames
    model : as for :func:`latentstudio.dream.dream` (prepared once and reused)
    callback : called with the frame index after each frame
    seed : frame ``i`` dreams with seed ``seed + i``
    dream_kwargs : passed to :func:`latentstudio.dream.dream` (objective, octaves, steps, ...)

    Returns
    -------
    list of (H, W, 3) float32 frames
    """
    if int(frames) != frames or frames < 1:
        raise ParameterError(f"frames={frames} must be a positive integer")
    fm = resolve_model(model, device=dream_kwargs.pop("device", "cpu"))
    out: list[np.ndarray] = []
    frame = valid_image(image)
    for i in range(int(frames)):
        frame = dream(frame, model=fm, seed=seed + i, **dream_kwargs).image
        out.append(frame)
        frame = zoom_in(frame, zoom=zoom)
        if callback is not None:
            callback(i)
    return out


__all__ = ["zoom_in", "zoom_frames"]
