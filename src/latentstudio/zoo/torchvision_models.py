"""torchvision's ImageNet classifiers as :class:`~latentstudio.zoo.classifier.Classifier` s — at scale, opt-in.

Nothing here downloads. The user brings torchvision (``pip install torchvision``) and the weight files
torchvision would have downloaded (``resnet50-0676ba61.pth``, ``googlenet-1378be20.pth`` ...) in a
folder named by the ``LATENTSTUDIO_TORCHVISION_WEIGHTS`` environment variable, or passes
``weights=`` (a file or a folder) to :func:`latentstudio.zoo.load_classifier`. Torch's own hub cache
(``~/.cache/torch/hub/checkpoints``) is searched last.

Layer names follow each architecture's own words: ``layer1`` .. ``layer4`` (ResNet), ``inception4c``
(GoogLeNet, the DeepDream classic), ``conv4_2`` / ``pool5`` (VGG), ``blocks.N`` (MobileNetV3),
``Mixed_6a`` (Inception v3); every model also has ``pool`` and ``logits``.

Example
-------
>>> os.environ["LATENTSTUDIO_TORCHVISION_WEIGHTS"] = "/data/torchvision"   # doctest: +SKIP
>>> from latentstudio.zoo import load_classifier
>>> model = load_classifier("googlenet")                                     # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path

from latentstudio.errors import AssetMissingError, ModelError, ParameterError

ENV_VAR = "LATENTSTUDIO_TORCHVISION_WEIGHTS"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
WEIGHT_SUFFIXES = (".pth", ".pt", ".safetensors")


@dataclass(frozen=True)
class TorchvisionSpec:
    """How to build one torchvision classifier and read its weights."""

    builder: str
    input_size: int = 224
    kwargs: dict = field(default_factory=dict)
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    drop: tuple[str, ...] = ()          # auxiliary heads removed after loading


# GoogLeNet and Inception v3 were trained on (x - 0.5) / 0.5 (torchvision's transform_input does that).
_HALF = (0.5, 0.5, 0.5)
MODELS: dict[str, TorchvisionSpec] = {
    "resnet18": TorchvisionSpec("resnet18"),
    "resnet50": TorchvisionSpec("resnet50"),
    "googlenet": TorchvisionSpec("googlenet", kwargs={"aux_logits": True, "init_weights": False,
                                                      "transform_input": False},
                                 mean=_HALF, std=_HALF, drop=("aux1", "aux2")),
    "inception_v3": TorchvisionSpec("inception_v3", input_size=299,
                                    kwargs={"aux_logits": True, "init_weights": False, "transform_input": False},
                                    mean=_HALF, std=_HALF, drop=("AuxLogits",)),
    "vgg16": TorchvisionSpec("vgg16"),
    "vgg19": TorchvisionSpec("vgg19"),
    "mobilenet_v3_large": TorchvisionSpec("mobilenet_v3_large"),
}


def available() -> bool:
    """Whether torchvision can be imported here."""
    return importlib.util.find_spec("torchvision") is not None


def _candidates(name: str, folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix in WEIGHT_SUFFIXES and (p.stem == name or p.stem.startswith(name + "-")))


def find_weights(name: str, weights: str | os.PathLike | None = None) -> Path:
    """The weights file of torchvision model ``name``.

    ``weights`` may be a file or a folder; without it the ``LATENTSTUDIO_TORCHVISION_WEIGHTS`` folder,
    then torch's hub cache, are searched for ``NAME.pth`` / ``NAME-HASH.pth`` / ``NAME.safetensors``.

    Raises
    ------
    AssetMissingError : nothing found; the message names the file pattern and the places searched

    Example
    -------
    >>> find_weights("resnet50", "/data/torchvision")         # doctest: +SKIP
    PosixPath('/data/torchvision/resnet50-0676ba61.pth')
    """
    if name not in MODELS:
        raise ParameterError(f"name={name!r} is not a torchvision classifier; valid: {', '.join(MODELS)}")
    searched: list[str] = []
    if weights is not None:
        p = Path(weights).expanduser()
        if p.is_file():
            return p
        if not p.is_dir():
            raise AssetMissingError(f"weights={str(weights)!r} for {name} does not exist")
        folders = [p]
    else:
        folders = []
        env = os.environ.get(ENV_VAR)
        if env:
            folders.append(Path(env).expanduser())
        try:
            import torch.hub

            folders.append(Path(torch.hub.get_dir()) / "checkpoints")
        except Exception:  # pragma: no cover - hub dir unresolvable
            pass
    for folder in folders:
        searched.append(str(folder))
        found = _candidates(name, folder)
        if found:
            return found[0]
    where = ", ".join(searched) if searched else "nowhere"
    raise AssetMissingError(f"weights for {name} are missing: put torchvision's {name}-<hash>.pth in a folder "
                            f"and set {ENV_VAR} to it, or pass weights=PATH (searched: {where})")


def _read_state(path: Path) -> dict:
    import torch

    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelError(f"cannot read weights {str(path)!r}: {exc}") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ModelError(f"weights {str(path)!r} hold a {type(state).__name__}, not a state dict")
    return state


def _layers(name: str, net) -> dict[str, str]:
    """Friendly layer names -> submodule paths inside the Classifier (prefixed ``net.``)."""
    import torch.nn as nn

    if name.startswith("resnet"):
        layers = {"stem": "maxpool", **{f"layer{i}": f"layer{i}" for i in range(1, 5)}, "pool": "avgpool",
                  "logits": "fc"}
    elif name == "googlenet":
        parts = ["conv1", "conv2", "conv3", "inception3a", "inception3b", "inception4a", "inception4b",
                 "inception4c", "inception4d", "inception4e", "inception5a", "inception5b"]
        layers = {p: p for p in parts} | {"pool": "avgpool", "logits": "fc"}
    elif name == "inception_v3":
        layers = {n: n for n, m in net.named_children() if n.startswith(("Conv2d_", "Mixed_"))}
        layers |= {"pool": "avgpool", "logits": "fc"}
    elif name.startswith("vgg"):
        layers, block, conv = {}, 1, 0
        for i, m in enumerate(net.features):
            if isinstance(m, nn.Conv2d):
                conv += 1
            elif isinstance(m, nn.ReLU):
                layers[f"conv{block}_{conv}"] = f"features.{i}"      # the ReLU after that convolution
            elif isinstance(m, nn.MaxPool2d):
                layers[f"pool{block}"] = f"features.{i}"
                block, conv = block + 1, 0
        layers |= {"pool": "avgpool", "logits": "classifier.6"}
    elif name.startswith("mobilenet"):
        layers = {f"blocks.{i}": f"features.{i}" for i in range(len(net.features))}
        layers |= {"pool": "avgpool", "logits": "classifier.3"}
    else:  # pragma: no cover - every MODELS entry is handled above
        layers = {n: n for n, _ in net.named_children()}
    return {k: f"net.{v}" for k, v in layers.items()}


def build(name: str, *, weights: str | os.PathLike, channels_last: bool = False):
    """Build torchvision model ``name``, load ``weights`` strictly and wrap it in a Classifier."""
    if not available():
        raise AssetMissingError(f"{name} needs torchvision, which is not installed: pip install torchvision")
    import torchvision.models as tvm

    from latentstudio.zoo.classifier import Classifier
    from latentstudio.zoo.labels import imagenet_labels

    spec = MODELS[name]
    net = getattr(tvm, spec.builder)(weights=None, **spec.kwargs)
    path = Path(weights)
    try:
        net.load_state_dict(_read_state(path), strict=True)
    except RuntimeError as exc:
        raise ModelError(f"weights {str(path)!r} do not fit {name}: {exc}") from None
    for attr in spec.drop:
        setattr(net, attr, None)
    if hasattr(net, "aux_logits"):
        net.aux_logits = False
    return Classifier(net, name=name, input_size=spec.input_size, labels=imagenet_labels(), mean=spec.mean,
                      std=spec.std, layers=_layers(name, net), channels_last=channels_last)


__all__ = ["MODELS", "ENV_VAR", "available", "find_weights", "build", "TorchvisionSpec"]
