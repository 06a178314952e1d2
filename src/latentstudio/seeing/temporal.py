"""Temporal smoothing of re-seen frames, optionally flow-guided, and the flicker it removes.

A network that re-sees each camera frame on its own flickers: a small change of input becomes a large
change of output. Learning to See blends each output with the previous one (weights 0.5-0.8 of the
previous). Plain blending leaves ghosts behind anything that moves; with ``flow=True`` the previous
output is first warped along the optical flow of the *input* frames (:func:`latentstudio.core.filters.optical_flow`),
so it lines up with the new frame, and where the warped previous input still disagrees with the new
one (disocclusions, cuts) the previous output counts less.

* :class:`TemporalSmoother` — ``smoother(frame, guide=camera_frame)`` per frame; ``reset()`` between clips
* :func:`flicker` — mean absolute frame-to-frame difference of a sequence

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> noisy = [np.clip(0.5 + 0.05 * rng.standard_normal((32, 32, 3)), 0, 1).astype(np.float32) for _ in range(40)]
>>> smoother = TemporalSmoother(0.6)
>>> smooth = [smoother(f) for f in noisy]
>>> bool(flicker(smooth[10:]) < 0.4 * flicker(noisy[10:]))
True
"""

from __future__ import annotations

import numpy as np

from latentstudio.core.filters import LUMA, optical_flow, warp
from latentstudio.core.image import valid_image
from latentstudio.errors import ParameterError


class TemporalSmoother:
    """Exponential smoothing of a stream of frames: ``out = weight * previous_out + (1 - weight) * frame``.

    Parameters
    ----------
    weight : how much of the previous smoothed frame is kept, in [0, 1); 0 passes frames through
    flow : warp the previous smoothed frame along the optical flow from the previous guide frame to the
        current one before blending, so moving things do not leave ghosts
    tolerance : with ``flow``, the luminance difference (0-1, 3x3 mean) between the flow-warped previous
        guide and the current guide at which the previous frame stops counting; below it the weight
        falls off linearly. Catches what the flow cannot follow (disocclusions, cuts). ``None`` trusts
        the flow everywhere.

    Notes
    -----
    The first frame, and the first after :meth:`reset` or a change of frame or guide size, passes
    through unchanged. For a static scene with independent noise of deviation ``s`` per frame the
    output's frame-to-frame differences shrink by ``(1 - weight) / sqrt(1 + weight)`` (0.32 at 0.6).

    Raises
    ------
    ParameterError : ``weight`` outside [0, 1), ``tolerance`` not positive

    Example
    -------
    >>> import numpy as np
    >>> smoother = TemporalSmoother(0.5)
    >>> black, white = np.zeros((4, 4, 3), np.float32), np.ones((4, 4, 3), np.float32)
    >>> float(smoother(black)[0, 0, 0]), float(smoother(white)[0, 0, 0]), float(smoother(white)[0, 0, 0])
    (0.0, 0.5, 0.75)
    """

    def __init__(self, weight: float = 0.6, *, flow: bool = False, tolerance: float | None = 0.2):
        if isinstance(weight, bool) or not isinstance(weight, (int, float, np.integer, np.floating)) \
                or not 0 <= weight < 1:
            raise ParameterError(f"weight={weight!r} must be a number in [0, 1) (0 = no smoothing)")
        if not isinstance(flow, (bool, np.bool_)):
            raise ParameterError(f"flow={flow!r} must be True or False")
        if tolerance is not None and (isinstance(tolerance, bool) or not isinstance(
                tolerance, (int, float, np.integer, np.floating)) or not 0 < tolerance < np.inf):
            raise ParameterError(f"tolerance={tolerance!r} must be a positive number or None")
        self.weight = float(weight)
        self.flow = bool(flow)
        self.tolerance = None if tolerance is None else float(tolerance)
        self._out: np.ndarray | None = None
        self._guide: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"TemporalSmoother(weight={self.weight:g}, flow={self.flow}, tolerance={self.tolerance})"

    def reset(self) -> None:
        """Forget the previous frame: the next one passes through unchanged (call it between clips)."""
        self._out = None
        self._guide = None

    def __call__(self, frame: np.ndarray, *, guide: np.ndarray | None = None) -> np.ndarray:
        """Smooth the next frame.

        Parameters
        ----------
        frame : ``(H, W, 3)`` image in [0, 1] (uint8 accepted), e.g. the network's output
        guide : the frame the flow is measured on, e.g. the network's input (the camera frame), of
            the same height and width as ``frame``; default ``frame`` itself. Only used with ``flow``.

        Returns
        -------
        np.ndarray : ``(H, W, 3)`` float32, a new array (changing it does not change the smoother)

        Raises
        ------
        ParameterError : bad ``frame`` or ``guide``, or a ``guide`` whose size differs from ``frame``'s
        """
        frame = valid_image(frame, name="frame")
        if guide is not None:
            guide = valid_image(guide, name="guide")
            if guide.shape[:2] != frame.shape[:2]:
                raise ParameterError(f"guide is {guide.shape[1]}x{guide.shape[0]} but frame is "
                                     f"{frame.shape[1]}x{frame.shape[0]}; resize the guide to the frame's size")
        elif self.flow:
            guide = frame
        if self._out is None or self._out.shape != frame.shape or self.weight == 0:
            out = frame.copy()
        elif self.flow:
            out = self._blend_along_flow(frame, guide)
        else:
            out = self.weight * self._out + (1.0 - self.weight) * frame
        self._out = out.copy()
        self._guide = guide.copy() if self.flow else None
        return out

    def _blend_along_flow(self, frame: np.ndarray, guide: np.ndarray) -> np.ndarray:
        from scipy import ndimage

        flow = optical_flow(self._guide, guide)
        previous = warp(self._out, flow)
        if self.tolerance is None:
            return self.weight * previous + (1.0 - self.weight) * frame
        moved = warp(self._guide @ LUMA, flow)
        miss = ndimage.uniform_filter(np.abs(moved - guide @ LUMA), 3, mode="nearest")
        w = (self.weight * np.clip(1.0 - miss / self.tolerance, 0.0, 1.0))[..., None]
        return (w * previous + (1.0 - w) * frame).astype(np.float32, copy=False)


def flicker(frames) -> float:
    """Mean absolute frame-to-frame difference of a sequence of frames (0 = perfectly still).

    Parameters
    ----------
    frames : ``(N, H, W, 3)`` array or a sequence of ``(H, W, 3)`` frames of one size, N >= 2

    Returns
    -------
    float : mean over pairs of consecutive frames of the mean absolute difference per pixel and channel

    Raises
    ------
    ParameterError : fewer than two frames, frames of different sizes, bad frames

    Example
    -------
    >>> import numpy as np
    >>> flicker([np.zeros((2, 2, 3)), np.ones((2, 2, 3)), np.ones((2, 2, 3))])
    0.5
    """
    if isinstance(frames, (str, bytes)) or not hasattr(frames, "__iter__"):
        raise ParameterError(f"frames must be an (N, H, W, 3) array or a sequence of frames, "
                             f"got {type(frames).__name__}")
    total, pairs, previous = 0.0, 0, None
    for i, frame in enumerate(frames):
        frame = valid_image(frame, name=f"frames[{i}]")
        if previous is not None:
            if frame.shape != previous.shape:
                raise ParameterError(f"frames[{i}] has shape {frame.shape}, unlike frames[{i - 1}] {previous.shape}")
            total += float(np.abs(frame - previous).mean())
            pairs += 1
        previous = frame
    if pairs == 0:
        raise ParameterError("flicker needs at least two frames")
    return total / pairs


__all__ = ["TemporalSmoother", "flicker"]
