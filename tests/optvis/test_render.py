import importlib.util
from pathlib import Path

import pytest
import torch

from latentstudio.errors import ParameterError
from latentstudio.optvis import channel, compose, fft_image, jitter, pad, pixel_image, random_rotate, random_scale, render, roll

_spec = importlib.util.spec_from_file_location("_nets", Path(__file__).with_name("_nets.py"))
_nets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_nets)


def test_render_raises_the_objective():
    net = _nets.tiny_net()
    res = render(net, channel("5", 2), size=32, steps=40, lr=0.05, seed=0)
    assert res.images.shape == (1, 3, 32, 32)
    assert float(res.images.min()) >= 0 and float(res.images.max()) <= 1
    assert sum(res.scores[-5:]) > 3 * sum(res.scores[:5]) + 0.01


def test_render_is_seeded():
    net = _nets.tiny_net()
    a = render(net, "5:1", size=24, steps=5, seed=3).images
    b = render(net, "5:1", size=24, steps=5, seed=3).images
    assert torch.equal(a, b)


def test_pixel_param_and_ensemble():
    nets = [_nets.tiny_net(0), _nets.tiny_net(1)]
    res = render(nets, "logits:3", param=pixel_image((1, 3, 20, 20)), steps=30, lr=0.1,
                 transforms=lambda x, g: x)
    assert res.scores[-1] > res.scores[0]


def test_transforms_keep_channels_and_are_differentiable():
    g = torch.Generator().manual_seed(0)
    t = compose([pad(4), jitter(3), random_scale([0.9, 1.1]), random_rotate([-10, 10]), roll(5)])
    x = torch.rand(2, 3, 30, 30, requires_grad=True)
    y = t(x, g)
    assert y.shape[:2] == (2, 3)
    y.mean().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_bad_render_inputs():
    with pytest.raises(ParameterError, match="steps=0"):
        render(_nets.tiny_net(), "5:1", steps=0)
    with pytest.raises(ParameterError, match="shape"):
        fft_image((1, 4, 8, 8))
