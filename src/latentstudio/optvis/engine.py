"""The optimisation engine: a classifier prepared for many forward/backward passes on its input.

:class:`FeatureModel` wraps any classifier (a zoo model or a user's ``nn.Module``) and does only the work
an objective needs:

* **truncated forward** - the pass stops as soon as every layer the objective reads has been computed, so
  a DeepDream on ``blocks.5`` never runs blocks 6-15, the head or the classifier;
* **BatchNorm folded** into the preceding convolution (eval-mode BN is an affine map, so the function and
  its gradients are unchanged; one fewer pass over every feature map, forward and backward);
* **channels_last** memory format where it helps the backend's convolutions;
* parameters never require gradients, so backward computes the gradient of the input only.

The wrapped model is a copy; the caller's model is left untouched.

Example
-------
>>> import torch
>>> from torch import nn
>>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 2, 3)).eval()
>>> fm = FeatureModel(net)
>>> acts = fm(torch.rand(1, 3, 16, 16), layers={"2"})
>>> acts["2"].shape
torch.Size([1, 4, 14, 14])
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import torch
from torch import nn

from latentstudio.errors import ParameterError
from latentstudio.optvis.objectives import INPUT, LOGITS
from latentstudio.zoo.hooks import layer_modules


class _Done(Exception):
    """Raised from a forward hook once every requested activation is captured."""


def fold_batchnorm(model: nn.Module, *, check_size: int = 64) -> tuple[nn.Module, int]:
    """Fold each eval-mode ``BatchNorm2d`` that directly follows a ``Conv2d`` into that convolution.

    The pairs are found by running the model once and matching each BN's input tensor with the output
    tensor of a convolution. The folded copy is checked against the original on a random input; if it
    differs (an unusual graph), the original is returned unchanged.

    Returns
    -------
    (model, n_folded) : a folded deep copy (or ``model`` itself when nothing folds) and the pair count
    """
    convs: dict[int, str] = {}
    pairs: list[tuple[str, str]] = []
    handles = []
    named = dict(model.named_modules())

    def conv_hook(name):
        return lambda m, i, o: convs.__setitem__(id(o), name)

    def bn_hook(name):
        def hook(m, i, o):
            src = convs.get(id(i[0]))
            if src is not None:
                pairs.append((src, name))
        return hook

    for name, m in named.items():
        if type(m) is nn.Conv2d:
            handles.append(m.register_forward_hook(conv_hook(name)))
        elif type(m) is nn.BatchNorm2d and not m.training and m.track_running_stats:
            handles.append(m.register_forward_hook(bn_hook(name)))
    x = torch.rand(1, 3, check_size, check_size, generator=torch.Generator().manual_seed(0),
                   device=_device_of(model))
    try:
        with torch.no_grad():
            ref = model(x)
    finally:
        for h in handles:
            h.remove()
    if not pairs:
        return model, 0
    folded = copy.deepcopy(model)
    fnamed = dict(folded.named_modules())
    for conv_name, bn_name in pairs:
        conv, bn = fnamed[conv_name], fnamed[bn_name]
        with torch.no_grad():
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            w = conv.weight * scale.view(-1, 1, 1, 1)
            b = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
            b = (b - bn.running_mean) * scale + bn.bias
            conv.weight = nn.Parameter(w, requires_grad=False)
            conv.bias = nn.Parameter(b, requires_grad=False)
        parent_name, _, attr = bn_name.rpartition(".")
        setattr(fnamed[parent_name] if parent_name else folded, attr, nn.Identity())
    with torch.no_grad():
        out = folded(x)
    if out.shape != ref.shape or not torch.allclose(out, ref, rtol=1e-3, atol=1e-3 * float(ref.abs().max()) + 1e-5):
        return model, 0
    return folded, len(pairs)


def _device_of(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


class FeatureModel:
    """A classifier ready for optimisation on its input; call it with the layers an objective needs.

    Parameters
    ----------
    model : a classifier taking ``(N, 3, H, W)`` RGB in [0, 1] (zoo classifiers normalise inside)
    fold_bn : fold BatchNorm into convolutions (exact in eval mode)
    channels_last : convert the network to channels_last memory format (None: keep the model's own choice;
        zoo classifiers already pick the faster format for their device)

    Attributes
    ----------
    name, input_size, labels : copied from the zoo model when present
    n_folded : how many conv+BN pairs were folded

    Example
    -------
    >>> from latentstudio import zoo                                    # doctest: +SKIP
    >>> fm = FeatureModel(zoo.load_classifier("efficientnet_lite0"))   # doctest: +SKIP
    >>> fm(torch.rand(1, 3, 224, 224), layers={"blocks.5"})["blocks.5"].shape   # doctest: +SKIP
    torch.Size([1, 80, 14, 14])
    """

    def __init__(self, model: nn.Module, *, fold_bn: bool = True, channels_last: bool | None = None):
        if not isinstance(model, nn.Module):
            raise ParameterError(f"model must be a torch nn.Module, got {type(model).__name__}")
        self.source = model
        self.name = getattr(model, "name", type(model).__name__)
        self.input_size = int(getattr(model, "input_size", 224))
        self.labels = getattr(model, "labels", None)
        net = model.eval()
        if fold_bn:
            net, self.n_folded = fold_batchnorm(net)
        else:
            self.n_folded = 0
        if net is model:
            net = copy.deepcopy(model)
        for p in net.parameters():
            p.requires_grad_(False)
        self.device = _device_of(net)
        self.channels_last = bool(getattr(model, "channels_last", False)) if channels_last is None \
            else bool(channels_last)
        if channels_last:
            net = net.to(memory_format=torch.channels_last)
        self.net = net
        # zoo classifiers name their layers ("blocks.5"); other modules use named_modules paths
        self._modules = {k: v for k, v in layer_modules(net).items() if k != LOGITS}

    # -- layers ----------------------------------------------------------------------------------
    def layer_names(self) -> list[str]:
        """Names of the layers an objective can read: the friendly names of a zoo classifier (or every
        module's name for other models), plus ``input`` and ``logits``."""
        return [INPUT, *self._modules, LOGITS]

    def check_layers(self, layers: Iterable[str]) -> None:
        """Raise ParameterError naming the valid layers when one of ``layers`` is unknown."""
        bad = [name for name in layers if name not in (INPUT, LOGITS) and name not in self._modules]
        if bad:
            import difflib

            valid = self.layer_names()
            shown = ", ".join(valid[:40]) + (f" ... ({len(valid)} in all)" if len(valid) > 40 else "")
            close = difflib.get_close_matches(bad[0], valid, n=4)
            hint = f" (close: {', '.join(close)})" if close else ""
            raise ParameterError(f"unknown layer {bad[0]!r} for model {self.name}{hint}; valid layers: "
                                 f"{shown}")

    # -- forward ---------------------------------------------------------------------------------
    def prepare_input(self, x: torch.Tensor) -> torch.Tensor:
        """Move ``x`` to the model's device and memory format."""
        x = x.to(self.device)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def __call__(self, x: torch.Tensor, *, layers: Iterable[str]) -> dict[str, torch.Tensor]:
        """Run the model on ``x`` and return the activations of ``layers`` (kept in the autograd graph).

        The forward pass stops once the last requested layer is computed; ``logits`` needs the full pass.
        """
        wanted = set(layers)
        self.check_layers(wanted)
        acts: dict[str, torch.Tensor] = {}
        if INPUT in wanted:
            acts[INPUT] = x
        inner = wanted - {INPUT, LOGITS}
        if not inner and LOGITS not in wanted:
            return acts
        xin = self.prepare_input(x)
        handles = []
        pending = set(inner)

        def hook(name):
            def fn(module, inputs, output):
                acts[name] = output
                pending.discard(name)
                if not pending and LOGITS not in wanted:
                    raise _Done
            return fn

        for name in inner:
            handles.append(self._modules[name].register_forward_hook(hook(name)))
        try:
            out = self.net(xin)
            if LOGITS in wanted:
                acts[LOGITS] = out
        except _Done:
            pass
        finally:
            for h in handles:
                h.remove()
        missing = inner - set(acts)
        if missing:
            raise ParameterError(f"layers {sorted(missing)} of model {self.name} were not reached by the forward pass")
        return acts


def as_feature_model(model) -> FeatureModel:
    """``model`` itself when already a :class:`FeatureModel`, else a new one wrapping it."""
    return model if isinstance(model, FeatureModel) else FeatureModel(model)


__all__ = ["FeatureModel", "fold_batchnorm", "as_feature_model"]
