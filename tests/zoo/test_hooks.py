"""latentstudio.zoo.layer_names / features: layers by name, shapes, gradients through hooks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from latentstudio import zoo
from latentstudio.errors import ParameterError


@pytest.fixture(scope="module")
def model():
    return zoo.load_classifier("efficientnet_lite0")


def test_layer_names_and_shapes(model):
    names = zoo.layer_names(model)
    d = dict(names)
    assert names[0] == ("stem", (32, 112, 112)) and names[-1] == ("logits", (1000,))
    assert [n for n, _ in names if n.startswith("blocks.")] == [f"blocks.{i}" for i in range(16)]
    assert d["blocks.5"] == (80, 14, 14) and d["blocks.15"] == (320, 7, 7) and d["head"] == (1280, 7, 7)
    big = dict(zoo.layer_names(model, size=320))
    assert big["stem"] == (32, 160, 160) and big["head"] == (1280, 10, 10) and big["logits"] == (1000,)
    with pytest.raises(ParameterError, match="size"):
        zoo.layer_names(model, size=0)


@pytest.mark.parametrize("name, n_blocks", [("efficientnet_lite1", 21), ("efficientnet_lite2", 21)])
def test_layer_names_of_larger_models(name, n_blocks):
    m = zoo.load_classifier(name)
    names = dict(zoo.layer_names(m))
    assert f"blocks.{n_blocks - 1}" in names and f"blocks.{n_blocks}" not in names
    assert names["stem"][1] == m.input_size // 2


def test_features_match_layer_names_and_hooks_go_away(model):
    shapes = dict(zoo.layer_names(model))
    x = torch.rand(2, 3, 224, 224)
    with zoo.features(model, ["stem", "blocks.5", "head", "logits"]) as feats, torch.no_grad():
        logits = model(x)
    for name in ("stem", "blocks.5", "head"):
        assert tuple(feats[name].shape) == (2, *shapes[name])
    assert torch.equal(feats["logits"], logits)
    assert all(not m._forward_hooks for m in model.modules())


def test_gradients_flow_through_features(model):
    x = torch.rand(1, 3, 128, 128, requires_grad=True)
    with zoo.features(model, "blocks.5") as feats:
        model(x)
    loss = feats["blocks.5"][:, 12].mean()
    loss.backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    # gradient ascent on that channel raises it: the DeepDream step works
    step = x.detach() + 0.05 * x.grad / x.grad.abs().mean()
    with zoo.features(model, "blocks.5") as feats, torch.no_grad():
        model(step)
    assert feats["blocks.5"][:, 12].mean() > loss.detach()


def test_unknown_layer_lists_valid_ones(model):
    with pytest.raises(ParameterError, match="blocks.99.*valid: stem, blocks.0"):
        with zoo.features(model, ["blocks.5", "blocks.99"]):
            pass
    with pytest.raises(ParameterError):
        with zoo.features(model, []):
            pass
    assert all(not m._forward_hooks for m in model.modules())


def test_hooks_on_any_module():
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    assert zoo.layer_names(net, size=16) == [("0", (4, 16, 16)), ("1", (4, 16, 16)), ("2", (4, 1, 1)),
                                              ("3", (4,))]
    with zoo.features(net, "1") as feats:
        net(torch.rand(1, 3, 8, 8))
    assert feats["1"].shape == (1, 4, 8, 8)
    with pytest.raises(ParameterError, match="valid: 0, 1, 2, 3"):
        with zoo.features(net, "conv"):
            pass
