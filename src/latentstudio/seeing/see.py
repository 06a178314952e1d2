"""Re-seeing at run time: frames in, frames of the world out, fast enough for a live camera.

:class:`Seer` holds one or more trained generators (swappable between frames), the pre-filters applied to
each camera frame, the degradation the network learned from, the post-filters and the temporal smoothing.
The generator runs frozen (batch norm folded into the convolutions by TorchScript's ``freeze``) in
channels-last layout: about 2-3x the plain eager network on a CPU (``bench/seeing.py`` measures both).

Example
-------
>>> seer = Seer([load_seer_model("models/flowers")], size=256, smooth=0.6)    # doctest: +SKIP
>>> out = seer(frame)                                                        # doctest: +SKIP
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from latentstudio.core import filters as imfilters
from latentstudio.errors import ParameterError
from latentstudio.seeing.degrade import degrade
from latentstudio.seeing.temporal import TemporalSmoother
from latentstudio.seeing.training import SeerModel

#: Generators' sides must be multiples of this (four stride-2 stages).
MULTIPLE = 16


def optimise(generator: torch.nn.Module, example: torch.Tensor) -> torch.nn.Module:
    """A frozen TorchScript trace of ``generator`` (batch norm folded) in channels-last layout.

    Falls back to the eager module (with a warning) where tracing fails, e.g. on a user's custom module.
    """
    net = generator.eval().to(memory_format=torch.channels_last)
    x = example.contiguous(memory_format=torch.channels_last)
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.jit.freeze(torch.jit.trace(net, x))
            traced(x)
        return traced
    except Exception as exc:  # noqa: BLE001 - any tracing failure means: run eagerly
        warnings.warn(f"could not trace the generator ({exc}); running it eagerly")
        return net


@dataclass
class FrameSize:
    """How a frame of ``(h, w)`` maps onto the network: scaled to ``(sh, sw)``, padded to ``(ph, pw)``."""

    h: int
    w: int
    sh: int
    sw: int
    ph: int
    pw: int


def plan_size(h: int, w: int, size: int | None) -> FrameSize:
    """Scale so the shorter side is ``size`` (None: keep), then pad up to multiples of :data:`MULTIPLE`."""
    if size is None:
        sh, sw = h, w
    else:
        s = size / min(h, w)
        sh, sw = max(MULTIPLE, round(h * s)), max(MULTIPLE, round(w * s))
    return FrameSize(h, w, sh, sw, math.ceil(sh / MULTIPLE) * MULTIPLE, math.ceil(sw / MULTIPLE) * MULTIPLE)


class Seer:
    """Re-see frames as the world of the current model.

    Parameters
    ----------
    models : one or more :class:`~latentstudio.seeing.training.SeerModel` (:func:`load_seer_model`)
    size : shorter side the network works at (None: the frame's own); output is resized back to the frame
    pre, post : filter specs applied before the degradation / after the network (:func:`core.filters.apply_filter`:
        ``"blur:2,canny"``, ``"threshold"``, ``"none"``)
    smooth : temporal smoothing weight of the previous output (0 = off; the original used 0.5-0.8)
    flow : warp the previous output along the optical flow of the input frames before blending
    fast : run frozen channels-last TorchScript (False: the plain eager network)
    keep_size : return frames at the input's size (False: at the network's working size)

    Example
    -------
    >>> seer = Seer(models, size=256, pre="blur:1", smooth=0.6, flow=True)     # doctest: +SKIP
    >>> seer.switch(1)                                                         # doctest: +SKIP
    """

    def __init__(self, models: list[SeerModel] | SeerModel, *, size: int | None = 256, pre: str = "none",
                 post: str = "none", smooth: float = 0.0, flow: bool = False, fast: bool = True,
                 keep_size: bool = True):
        self.models = [models] if isinstance(models, SeerModel) else list(models)
        if not self.models or not all(isinstance(m, SeerModel) for m in self.models):
            raise ParameterError("Seer needs one or more trained models (load_seer_model)")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or not 32 <= size <= 4096):
            raise ParameterError(f"size={size!r} must be an integer in [32, 4096] or None")
        if not isinstance(smooth, (int, float)) or not 0 <= smooth < 1:
            raise ParameterError(f"smooth={smooth!r} must be in [0, 1)")
        self.pre, self.post = imfilters.parse_filters(pre), imfilters.parse_filters(post)
        self.pre_spec, self.post_spec = pre, post
        self.size, self.fast, self.keep_size = size, bool(fast), bool(keep_size)
        self.smoother = TemporalSmoother(float(smooth), flow=bool(flow)) if smooth > 0 else None
        self.index = 0
        self._nets: dict[tuple[int, int, int], torch.nn.Module] = {}

    @property
    def model(self) -> SeerModel:
        return self.models[self.index]

    def switch(self, index: int) -> None:
        """Swap to model ``index`` between frames (the smoothing carries over, so the change dissolves)."""
        if not isinstance(index, int) or not 0 <= index < len(self.models):
            raise ParameterError(f"model index {index!r} must be in [0, {len(self.models) - 1}]")
        self.index = index

    def reset(self) -> None:
        """Forget the previous frame (a new clip starts)."""
        if self.smoother is not None:
            self.smoother.reset()

    def _net(self, ph: int, pw: int) -> torch.nn.Module:
        key = (self.index, ph, pw)
        if key not in self._nets:
            gen = self.model.generator
            in_ch = getattr(gen, "in_ch", 1)
            self._nets[key] = optimise(gen, torch.zeros(1, in_ch, ph, pw)) if self.fast else gen.eval()
        return self._nets[key]

    def network_input(self, frame: np.ndarray) -> tuple[torch.Tensor, FrameSize]:
        """Pre-filter, resize and degrade a frame: the ``(1, 1, ph, pw)`` tensor the network sees."""
        if frame.ndim != 3 or frame.shape[2] != 3:
            raise ParameterError(f"frame must be (H, W, 3), got {frame.shape}")
        img = frame.astype(np.float32) / 255.0 if frame.dtype == np.uint8 else np.asarray(frame, np.float32)
        if self.pre:
            img = imfilters.apply_filter(img, self.pre)
        plan = plan_size(img.shape[0], img.shape[1], self.size)
        x = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None]
        if (plan.sh, plan.sw) != (plan.h, plan.w):
            x = F.interpolate(x, size=(plan.sh, plan.sw), mode="area" if plan.sh < plan.h else "bilinear",
                              **({} if plan.sh < plan.h else {"align_corners": False}))
        x = degrade(x.clamp(0, 1), self.model.degradation)
        if (plan.ph, plan.pw) != (plan.sh, plan.sw):
            x = F.pad(x, (0, plan.pw - plan.sw, 0, plan.ph - plan.sh), mode="replicate")
        return x, plan

    @torch.inference_mode()
    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """One frame ``(H, W, 3)`` (uint8 or float in [0, 1]) -> the re-seen frame, float32 in [0, 1]."""
        x, plan = self.network_input(frame)
        net = self._net(plan.ph, plan.pw)
        y = net(x.contiguous(memory_format=torch.channels_last) if self.fast else x)
        y = y[..., :plan.sh, :plan.sw]
        if self.keep_size and (plan.sh, plan.sw) != (plan.h, plan.w):
            y = F.interpolate(y, size=(plan.h, plan.w), mode="bilinear", align_corners=False)
        out = y[0].permute(1, 2, 0).clamp(0, 1).numpy()
        if self.post:
            out = imfilters.apply_filter(out, self.post)
        if self.smoother is not None:
            g = x[..., :plan.sh, :plan.sw]
            if g.shape[-2:] != out.shape[:2]:
                g = F.interpolate(g, size=out.shape[:2], mode="bilinear", align_corners=False)
            out = self.smoother(out, guide=np.repeat(g[0, 0].numpy()[..., None], 3, axis=2))
        return np.ascontiguousarray(out, dtype=np.float32)
