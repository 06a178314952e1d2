"""Layers by name: list a model's meaningful layers with their shapes, and capture their outputs.

A :class:`~latentstudio.zoo.classifier.Classifier` names its layers itself ("stem", "blocks.5",
"head", "pool", "logits"); any other ``nn.Module`` (a small test network, say) is addressed by its
``named_modules`` paths. Captured outputs stay in the autograd graph, so a loss built on them can
be differentiated with respect to the input image (DeepDream, feature visualisation).

Example
-------
>>> from latentstudio.zoo import load_classifier
>>> model = load_classifier("efficientnet_lite0")
>>> x = torch.rand(1, 3, 224, 224, requires_grad=True)
>>> with features(model, ["blocks.5"]) as feats:
...     _ = model(x)
>>> feats["blocks.5"].shape
torch.Size([1, 80, 14, 14])
>>> feats["blocks.5"].mean().backward()     # gradients reach x
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

import torch
from torch import nn

from latentstudio.errors import ParameterError


def layer_modules(model: nn.Module) -> dict[str, nn.Module]:
    """Layer name -> submodule, in forward order for a Classifier (its ``layers`` map)."""
    if not isinstance(model, nn.Module):
        raise ParameterError(f"model must be a torch nn.Module, got {type(model).__name__}")
    mapping = getattr(model, "layers", None)
    if isinstance(mapping, dict):
        return {name: model.get_submodule(path) for name, path in mapping.items()}
    return {name: module for name, module in model.named_modules() if name}


def _resolve(model: nn.Module, names: str | Iterable[str]) -> dict[str, nn.Module]:
    if isinstance(names, str):
        names = [names]
    names = list(names)
    if not names:
        raise ParameterError("names=[] is empty; give at least one layer name")
    modules = layer_modules(model)
    unknown = [n for n in names if n not in modules]
    if unknown:
        valid = list(modules)
        shown = ", ".join(valid[:40]) + (f" ... ({len(valid)} in all)" if len(valid) > 40 else "")
        raise ParameterError(f"layer {unknown[0]!r} is not a layer of {getattr(model, 'name', type(model).__name__)}"
                             f"; valid: {shown}")
    return {n: modules[n] for n in names}


def _first_tensor(output):
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    return output


@contextlib.contextmanager
def features(model: nn.Module, names: str | Iterable[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Capture the outputs of the named layers during forward passes inside the ``with`` block.

    The yielded dict maps each name to its layer's latest output (overwritten on each forward).
    Tensors are kept in the graph: gradients flow through them to the input. Hooks are removed
    on leaving the block, even on error. The hooks sit on the model itself, and
    :func:`~latentstudio.zoo.load_classifier` shares one model per process: threads that hook the
    same model at once see each other's passes (give each thread its own ``copy.deepcopy(model)``).

    Parameters
    ----------
    model : a Classifier (names from :func:`layer_names`) or any nn.Module (``named_modules`` paths)
    names : one layer name or several

    Raises
    ------
    ParameterError : a name that is not a layer of ``model`` (the message lists valid ones)

    Example
    -------
    >>> with features(model, "head") as feats:            # doctest: +SKIP
    ...     logits = model(x)
    >>> feats["head"].shape                                # doctest: +SKIP
    torch.Size([1, 1280, 7, 7])
    """
    modules = _resolve(model, names)
    captured: dict[str, torch.Tensor] = {}
    handles = []

    def make_hook(key: str):
        def hook(_module, _inputs, output):
            captured[key] = _first_tensor(output)
        return hook

    try:
        for key, module in modules.items():
            handles.append(module.register_forward_hook(make_hook(key)))
        yield captured
    finally:
        for h in handles:
            h.remove()


def layer_names(model: nn.Module, *, size: int | None = None) -> list[tuple[str, tuple[int, ...]]]:
    """The model's meaningful layers and the shape of one image's output there, in forward order.

    Shapes exclude the batch: ``(channels, height, width)`` for feature maps, ``(1000,)`` for logits.
    A dummy forward pass at ``size`` x ``size`` pixels finds them (cached per model and size).

    Parameters
    ----------
    model : a Classifier or any nn.Module taking ``(N, 3, H, W)``
    size : input side in pixels; default ``model.input_size`` (224 if it has none)

    Example
    -------
    >>> from latentstudio.zoo import load_classifier
    >>> names = layer_names(load_classifier("efficientnet_lite0"))
    >>> names[0], names[-1]
    (('stem', (32, 112, 112)), ('logits', (1000,)))
    """
    side = size if size is not None else getattr(model, "input_size", 224)
    if isinstance(side, bool) or not isinstance(side, int) or side < 8:
        raise ParameterError(f"size={size!r} must be an integer of at least 8 pixels")
    cache = model.__dict__.setdefault("_layer_shape_cache", {})
    if side in cache:
        return list(cache[side])
    modules = layer_modules(model)
    try:
        param = next(model.parameters())
        device, dtype = param.device, param.dtype
    except StopIteration:
        device, dtype = torch.device("cpu"), torch.float32
    with features(model, list(modules)) as feats, torch.no_grad():
        model(torch.zeros(1, 3, side, side, device=device, dtype=dtype))
    out = [(n, tuple(feats[n].shape[1:])) for n in modules if isinstance(feats.get(n), torch.Tensor)]
    cache[side] = tuple(out)
    return out


__all__ = ["features", "layer_names", "layer_modules"]
