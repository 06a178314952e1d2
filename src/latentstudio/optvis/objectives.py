"""Objectives: functions of a model's activations that an optimisation *raises*.

An :class:`Objective` maps the captured activations ``acts`` (a dict from layer name to tensor, plus
``"input"`` for the image and ``"logits"`` for the output) to one score per image, shape ``(N,)``.
Objectives combine with ``+ - *`` and scalars, so ``deepdream("blocks.5") - 0.05 * total_variation()``
is itself an objective. The render loop maximises the score (it minimises ``-score``).

A string shorthand names common objectives (see :func:`as_objective`):

* ``"blocks.5"``    -> :func:`deepdream` of that layer (mean squared activation)
* ``"blocks.5:12"`` -> :func:`channel` 12 of that layer (mean activation)
* ``"logits:207"``  -> :func:`class_logit` 207

Example
-------
>>> obj = as_objective("blocks.5:12") - 0.1 * total_variation()
>>> sorted(obj.layers)
['blocks.5', 'input']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import torch

from latentstudio.errors import ParameterError

Acts = Mapping[str, torch.Tensor]

#: Pseudo-layer names every engine provides.
INPUT = "input"
LOGITS = "logits"


class Objective:
    """A score to maximise, computed from activations; combine with ``+ - *``.

    Parameters
    ----------
    fn : ``fn(acts) -> Tensor`` of shape ``(N,)``, one score per image in the batch
    layers : the layer names ``fn`` reads (the engine captures these and may stop the forward
        pass once all of them are computed)
    name : a readable description

    Example
    -------
    >>> import torch
    >>> o = Objective(lambda acts: acts["input"].mean(dim=(1, 2, 3)), layers={"input"}, name="brightness")
    >>> float((2 * o)({"input": torch.ones(1, 3, 4, 4)})[0])
    2.0
    """

    def __init__(self, fn: Callable[[Acts], torch.Tensor], *, layers: Iterable[str] = (), name: str = "objective"):
        self.fn = fn
        self.layers = frozenset(layers)
        self.name = name

    def __call__(self, acts: Acts) -> torch.Tensor:
        return self.fn(acts)

    def __repr__(self) -> str:
        return f"Objective({self.name})"

    # -- algebra ---------------------------------------------------------------------------------
    def __add__(self, other):
        if isinstance(other, (int, float)):
            return Objective(lambda a: self(a) + other, layers=self.layers, name=f"{self.name} + {other:g}")
        other = _check(other)
        return Objective(lambda a: self(a) + other(a), layers=self.layers | other.layers,
                         name=f"{self.name} + {other.name}")

    __radd__ = __add__

    def __neg__(self):
        return -1 * self

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def __mul__(self, other):
        if isinstance(other, (int, float)):
            return Objective(lambda a: other * self(a), layers=self.layers, name=f"{other:g} * ({self.name})")
        other = _check(other)
        return Objective(lambda a: self(a) * other(a), layers=self.layers | other.layers,
                         name=f"({self.name}) * ({other.name})")

    __rmul__ = __mul__

    def __truediv__(self, other):
        if not isinstance(other, (int, float)) or other == 0:
            raise ParameterError(f"an objective can only be divided by a non-zero number, got {other!r}")
        return self * (1.0 / other)


def _check(other) -> Objective:
    if not isinstance(other, Objective):
        raise ParameterError(f"cannot combine an objective with {type(other).__name__} {other!r}")
    return other


def _spatial(t: torch.Tensor, layer: str) -> torch.Tensor:
    if t.ndim != 4:
        raise ParameterError(f"layer {layer!r} has activations of shape {tuple(t.shape)}, "
                             f"a spatial (N, C, H, W) layer is needed")
    return t


def _channel_index(t: torch.Tensor, layer: str, n: int) -> int:
    if not 0 <= int(n) < t.shape[1]:
        raise ParameterError(f"channel={n} out of range for layer {layer!r} with {t.shape[1]} channels")
    return int(n)


def deepdream(layer: str, *, channels: Sequence[int] | None = None) -> Objective:
    """DeepDream's objective: the mean squared activation of ``layer`` (optionally only ``channels``).

    Example
    -------
    >>> import torch
    >>> float(deepdream("a")({"a": torch.full((1, 2, 3, 3), 2.0)})[0])
    4.0
    """
    chans = None if channels is None else [int(c) for c in channels]

    def fn(acts: Acts) -> torch.Tensor:
        t = _spatial(acts[layer], layer)
        if chans is not None:
            for c in chans:
                _channel_index(t, layer, c)
            t = t[:, chans]
        return t.pow(2).mean(dim=(1, 2, 3))

    label = f"deepdream({layer}" + (f", channels={chans})" if chans is not None else ")")
    return Objective(fn, layers={layer}, name=label)


def channel(layer: str, n: int) -> Objective:
    """Mean activation of channel ``n`` of ``layer`` over all positions."""
    def fn(acts: Acts) -> torch.Tensor:
        t = _spatial(acts[layer], layer)
        return t[:, _channel_index(t, layer, n)].mean(dim=(1, 2))

    return Objective(fn, layers={layer}, name=f"channel({layer}:{n})")


def neuron(layer: str, n: int, *, x: int | None = None, y: int | None = None) -> Objective:
    """Activation of channel ``n`` at one position (the centre by default)."""
    def fn(acts: Acts) -> torch.Tensor:
        t = _spatial(acts[layer], layer)
        c = _channel_index(t, layer, n)
        xx = t.shape[3] // 2 if x is None else x
        yy = t.shape[2] // 2 if y is None else y
        return t[:, c, yy, xx]

    return Objective(fn, layers={layer}, name=f"neuron({layer}:{n})")


def class_logit(index: int) -> Objective:
    """The logit of class ``index``."""
    return Objective(lambda a: a[LOGITS][:, int(index)], layers={LOGITS}, name=f"logit({index})")


def class_log_prob(index: int) -> Objective:
    """The log-probability (log-softmax) of class ``index``."""
    return Objective(lambda a: torch.log_softmax(a[LOGITS], dim=1)[:, int(index)], layers={LOGITS},
                     name=f"log_prob({index})")


def direction(layer: str, vector) -> Objective:
    """Dot product of each activation vector of ``layer`` with ``vector`` (length C), mean over positions."""
    vec = torch.as_tensor(vector, dtype=torch.float32).flatten()

    def fn(acts: Acts) -> torch.Tensor:
        t = acts[layer]
        if t.shape[1] != vec.numel():
            raise ParameterError(f"direction has {vec.numel()} values but layer {layer!r} has {t.shape[1]} channels")
        v = vec.to(t.device, t.dtype).view(1, -1, *([1] * (t.ndim - 2)))
        s = (t * v).sum(dim=1)
        return s.flatten(1).mean(dim=1)

    return Objective(fn, layers={layer}, name=f"direction({layer})")


def total_variation(layer: str = INPUT) -> Objective:
    """Mean absolute difference of neighbouring values (of the image by default); subtract it to smooth."""
    def fn(acts: Acts) -> torch.Tensor:
        t = _spatial(acts[layer], layer)
        dx = (t[..., :, 1:] - t[..., :, :-1]).abs().mean(dim=(1, 2, 3))
        dy = (t[..., 1:, :] - t[..., :-1, :]).abs().mean(dim=(1, 2, 3))
        return dx + dy

    return Objective(fn, layers={layer}, name=f"tv({layer})")


def as_objective(spec: str | Objective) -> Objective:
    """An objective from the shorthand ``"layer"``, ``"layer:channel"`` or ``"logits:class"``.

    Raises
    ------
    ParameterError : an empty spec or a channel that is not an integer

    Example
    -------
    >>> as_objective("blocks.5:3").name
    'channel(blocks.5:3)'
    """
    if isinstance(spec, Objective):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise ParameterError(f"objective {spec!r} must be an Objective or a 'layer[:channel]' string")
    layer, sep, rest = spec.strip().partition(":")
    if not sep:
        return deepdream(layer)
    try:
        idx = int(rest)
    except ValueError:
        raise ParameterError(f"objective {spec!r}: channel {rest!r} is not an integer") from None
    return class_logit(idx) if layer == LOGITS else channel(layer, idx)


__all__ = ["Objective", "deepdream", "channel", "neuron", "class_logit", "class_log_prob", "direction",
           "total_variation", "as_objective", "INPUT", "LOGITS"]
