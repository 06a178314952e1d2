"""DeepDream (floor 2): amplify what a classifier sees in a picture, on the optvis engine.

* :mod:`~latentstudio.dream.deepdream` - ``dream`` (octaves, detail carried, random roll, normalised
  steps, tiled gradients for any size) -> ``DreamResult``.
* :mod:`~latentstudio.dream.objectives` - ``dream_objective`` (layers / channels),
  ``strongest_channels``, ``guided_objective`` (steer towards a guide image's features).
* :mod:`~latentstudio.dream.zoom` - ``zoom_frames``, the zoom-feedback video.
* :mod:`~latentstudio.dream.colors` - ``keep_luminance`` (``--keep-colors``).
* :mod:`~latentstudio.dream.pipeline` - ``objective_from_options``, ``fit_image``, ``dream_from_options`` ->
  ``DreamRun``: a dream from the CLI's (or a page's) options, end to end.

Example
-------
>>> from latentstudio import assets                                                   # doctest: +SKIP
>>> from latentstudio.core.image import load                                          # doctest: +SKIP
>>> res = dream(load(assets.sample_image("chelsea")), objective="blocks.10", steps=8)  # doctest: +SKIP
>>> round(res.gain, 1)                                                                # doctest: +SKIP
"""

from latentstudio.dream.colors import keep_luminance
from latentstudio.dream.deepdream import DEFAULT_LAYER, DreamResult, dream, dream_step, octave_sizes, resolve_model
from latentstudio.dream.objectives import dream_objective, guided_objective, strongest_channels
from latentstudio.dream.pipeline import DreamRun, dream_from_options, fit_image, objective_from_options
from latentstudio.dream.zoom import zoom_frames, zoom_in

__all__ = ["dream", "dream_step", "DreamResult", "octave_sizes", "resolve_model", "DEFAULT_LAYER", "dream_objective",
           "guided_objective", "strongest_channels", "keep_luminance", "zoom_frames", "zoom_in",
           "objective_from_options", "fit_image", "dream_from_options", "DreamRun"]
