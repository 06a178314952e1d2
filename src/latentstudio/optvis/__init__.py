"""optvis - optimisation of images against a classifier's activations (floor 1).

Small contracts in the lucent manner, shared by DeepDream and Perception Engines:

* :mod:`~latentstudio.optvis.objectives` - ``Objective`` (``+ - *``) and ``deepdream``, ``channel``,
  ``neuron``, ``class_logit``, ``class_log_prob``, ``direction``, ``total_variation``; ``as_objective``
  reads the ``"layer:channel"`` shorthand.
* :mod:`~latentstudio.optvis.param` - ``pixel_image``, ``fft_image`` (decorrelated colour) ->
  ``(parameters, image_fn)``.
* :mod:`~latentstudio.optvis.transform` - ``pad``, ``jitter``, ``roll``, ``random_scale``,
  ``random_rotate``, ``compose``, ``standard_transforms``.
* :mod:`~latentstudio.optvis.engine` - ``FeatureModel``: any classifier with BatchNorm folded and the
  forward pass truncated at the deepest layer an objective reads.
* :mod:`~latentstudio.optvis.tiling` - ``tiled_gradient`` for images of any size without seams.
* :mod:`~latentstudio.optvis.render` - ``render``, the loop; returns tensors.

Example
-------
>>> from latentstudio import zoo, optvis                               # doctest: +SKIP
>>> net = zoo.load_classifier("efficientnet_lite0")                   # doctest: +SKIP
>>> res = optvis.render(net, "blocks.10:7", steps=128)                # doctest: +SKIP
>>> res.images.shape                                                  # doctest: +SKIP
torch.Size([1, 3, 224, 224])
"""

from latentstudio.optvis.engine import FeatureModel, as_feature_model, fold_batchnorm
from latentstudio.optvis.objectives import (
    Objective,
    as_objective,
    channel,
    class_log_prob,
    class_logit,
    deepdream,
    direction,
    neuron,
    total_variation,
)
from latentstudio.optvis.param import fft_image, pixel_image, to_valid_rgb
from latentstudio.optvis.render import RenderResult, render
from latentstudio.optvis.tiling import tile_spans, tiled_gradient, tiled_score
from latentstudio.optvis.transform import compose, jitter, pad, random_rotate, random_scale, roll, standard_transforms

__all__ = [
    "FeatureModel", "as_feature_model", "fold_batchnorm",
    "Objective", "as_objective", "channel", "class_log_prob", "class_logit", "deepdream", "direction", "neuron",
    "total_variation",
    "fft_image", "pixel_image", "to_valid_rgb",
    "RenderResult", "render",
    "tile_spans", "tiled_gradient", "tiled_score",
    "compose", "jitter", "pad", "random_rotate", "random_scale", "roll", "standard_transforms",
]
