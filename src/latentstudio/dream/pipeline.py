"""A dream from its options, end to end (the CLI's ``dream`` and a web page call this).

* :func:`objective_from_options` — the objective that layers, channels, the strongest N channels of the
  picture or a guide image describe;
* :func:`fit_image` — a picture shrunk so its longer side is at most ``max_side``;
* :func:`dream_from_options` -> :class:`DreamRun`: the picture fitted, the model prepared, the objective
  built, then one dream or a zoom-feedback video's frames; :meth:`DreamRun.save` writes the image or the
  video with its provenance.

Example
-------
>>> from latentstudio import assets                                                   # doctest: +SKIP
>>> from latentstudio.core.image import load                                          # doctest: +SKIP
>>> run = dream_from_options(load(assets.sample_image("chelsea")), strongest=4)      # doctest: +SKIP
>>> run.objective, round(run.gain, 1)                                                 # doctest: +SKIP
('deepdream(blocks.10, channels=[...])', 2.3)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from latentstudio.dream.deepdream import DEFAULT_LAYER, dream, resolve_model
from latentstudio.dream.objectives import dream_objective, guided_objective, strongest_channels
from latentstudio.dream.zoom import zoom_frames as make_frames
from latentstudio.errors import ParameterError
from latentstudio.optvis import FeatureModel, Objective

#: Suffixes of a zoom-feedback video.
VIDEO_SUFFIXES = (".mp4", ".gif")
#: Most octaves a dream may have.
MAX_OCTAVES = 20
#: Largest side (px) of the picture a guide or the strongest channels are measured on.
GUIDE_SIDE = 384
STRONGEST_SIDE = 448


def objective_from_options(model: FeatureModel, image: np.ndarray | None = None, *,
                           layers: str | Sequence[str] = (DEFAULT_LAYER,),
                           channels: Sequence[int] | None = None, strongest: int | None = None,
                           guide: np.ndarray | None = None) -> Objective:
    """The objective the options describe, checked against ``model``'s layers.

    Parameters
    ----------
    model : the prepared network (:func:`latentstudio.dream.resolve_model`)
    image : the picture to dream on, ``(H, W, 3)`` in [0, 1] (needed by ``strongest``)
    layers : layer(s) to amplify; ``"blocks.10:3,7"`` names channels
    channels : only these channels of the layer(s)
    strongest : amplify the N channels of the first layer most active on ``image``
    guide : steer towards the features of this picture at the first layer (takes precedence)

    Returns
    -------
    Objective : ``deepdream(...)`` (summed over layers) or ``guided(layer)``

    Raises
    ------
    ParameterError : unknown layers (the message lists valid ones), a bad channel or count
    """
    from latentstudio.core.image import resize, to_tensor

    names = [layers] if isinstance(layers, str) else list(layers)
    if not names:
        raise ParameterError("layers=[]: name at least one layer to dream on")
    device = str(model.device)
    if guide is not None:
        g = resize(guide, min(GUIDE_SIDE, min(guide.shape[:2])))
        model.check_layers([names[0]])
        return guided_objective(model, to_tensor(g, device=device), layer=names[0])
    chans = list(channels) if channels else None
    if strongest is not None:
        if image is None:
            raise ParameterError(f"strongest={strongest} needs the image whose channels are measured")
        small = resize(image, min(STRONGEST_SIDE, min(image.shape[:2])))
        model.check_layers([names[0]])
        chans = strongest_channels(model, to_tensor(small, device=device), layer=names[0], n=strongest)
    obj = dream_objective(names, channels=chans)
    model.check_layers(obj.layers)
    return obj


def fit_image(image: np.ndarray, max_side: int = 0) -> np.ndarray:
    """``image`` shrunk (aspect kept) so its longer side is at most ``max_side``; 0 keeps its size."""
    from latentstudio.core.image import resize

    if max_side < 0:
        raise ParameterError(f"max_side={max_side} must be >= 0")
    h, w = image.shape[:2]
    if not max_side or max(h, w) <= max_side:
        return image
    s = max_side / max(h, w)
    return resize(image, (max(1, round(w * s)), max(1, round(h * s))))


@dataclass
class DreamRun:
    """One dream (``image``) or a zoom video's ``frames``, with the objective and how it went."""

    objective: str                                     #: the objective's name
    width: int                                         #: of the (fitted) input picture
    height: int
    seconds: float
    image: np.ndarray | None = field(default=None, repr=False)
    frames: list[np.ndarray] | None = field(default=None, repr=False)
    zoom: float | None = None
    initial_score: float | None = None
    final_score: float | None = None
    gain: float | None = None

    model: str = ""                                    #: the network's name (recorded in provenance)
    seed: int = 0

    def summary(self) -> dict:
        """JSON-ready: scores and gain of a dream, or frames and zoom of a video."""
        if self.frames is not None:
            return {"frames": len(self.frames), "zoom": self.zoom}
        return {"initial_score": self.initial_score, "final_score": self.final_score, "gain": self.gain}

    def to_dict(self) -> dict:
        """JSON-ready: :meth:`summary` with the objective, the picture's size and the seconds taken."""
        return {**self.summary(), "objective": self.objective, "width": self.width, "height": self.height,
                "seconds": round(self.seconds, 2)}

    def save(self, output, *, fps: float = 12.0, command: str = "dream", params: dict | None = None) -> dict:
        """Write the dream (an image: .png, .jpg ...) or the zoom video's frames (.mp4/.gif at ``fps``), and
        its provenance sidecar (``params``, the seed, the model, :meth:`to_dict`).

        Returns
        -------
        dict : :meth:`to_dict` with ``output`` (and ``fps`` for a video)

        Raises
        ------
        ParameterError : an output suffix that does not fit (a video needs .mp4/.gif), a bad ``fps``
        """
        from pathlib import Path

        from latentstudio.core.image import IMAGE_EXTENSIONS, save
        from latentstudio.core.video import write_video
        from latentstudio.provenance import write_sidecar

        out = Path(output)
        suffixes = VIDEO_SUFFIXES if self.frames is not None else IMAGE_EXTENSIONS
        if out.suffix.lower() not in suffixes:
            raise ParameterError(f"output={str(out)!r} must end with one of {', '.join(suffixes)}")
        report = self.to_dict()
        if self.frames is not None:
            write_video(out, self.frames, fps=fps)
            report["fps"] = fps
        else:
            save(out, self.image)
        report["output"] = str(out)
        write_sidecar(out, command=command, seed=self.seed, models=[self.model], params=params, result=report)
        return report


def dream_from_options(image: np.ndarray, *, model="efficientnet_lite0", device: str = "cpu",
                       layers: str | Sequence[str] = (DEFAULT_LAYER,), channels: Sequence[int] | None = None,
                       strongest: int | None = None, guide: np.ndarray | None = None, octaves: int = 4,
                       octave_scale: float = 1.4, steps: int = 10, step_size: float = 0.01,
                       max_roll: int = 32, tile_size: int = 512, keep_colors: bool = False,
                       zoom_frames: int = 0, zoom: float = 1.05, max_side: int = 0, seed: int = 0,
                       progress: Callable[[], None] | None = None) -> DreamRun:
    """Dream on ``image`` as the options say: fit it to ``max_side``, prepare ``model``, build the objective
    (:func:`objective_from_options`), then dream once or, with ``zoom_frames`` > 0, make that many frames
    of the zoom-feedback loop. ``progress()`` is called after every step (dream) or frame (video).

    Raises
    ------
    ParameterError : bad options, unknown layers
    """
    if zoom_frames < 0:
        raise ParameterError(f"zoom_frames={zoom_frames} must be >= 0")
    if not 1 <= octaves <= MAX_OCTAVES:
        raise ParameterError(f"octaves={octaves} must be between 1 and {MAX_OCTAVES}")
    arr = fit_image(image, max_side)
    fm = resolve_model(model, device=device)
    name = model if isinstance(model, str) else str(getattr(model, "name", "") or type(model).__name__)
    obj = objective_from_options(fm, arr, layers=layers, channels=channels, strongest=strongest, guide=guide)
    kwargs = dict(objective=obj, octaves=octaves, octave_scale=octave_scale, steps=steps, step_size=step_size,
                  max_roll=max_roll, tile_size=tile_size, keep_colors=keep_colors)
    h, w = arr.shape[:2]
    t0 = time.perf_counter()
    if zoom_frames:
        frames = make_frames(arr, frames=zoom_frames, zoom=zoom, model=fm, seed=seed,
                             callback=(lambda i: progress()) if progress else None, **kwargs)
        return DreamRun(objective=obj.name, width=int(w), height=int(h), seconds=time.perf_counter() - t0,
                        frames=frames, zoom=zoom, model=name, seed=seed)
    res = dream(arr, model=fm, seed=seed, callback=(lambda o, s, v: progress()) if progress else None,
                **kwargs)
    return DreamRun(objective=obj.name, width=int(w), height=int(h), seconds=time.perf_counter() - t0,
                    image=res.image, initial_score=res.initial_score, final_score=res.final_score,
                    gain=res.gain, model=name, seed=seed)


__all__ = ["objective_from_options", "fit_image", "DreamRun", "dream_from_options", "VIDEO_SUFFIXES",
           "MAX_OCTAVES"]
