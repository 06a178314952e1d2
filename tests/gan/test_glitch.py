"""Glitch: seeded, leaves the original alone, chosen layers only, refusals."""

import pytest
import torch

from latentstudio.errors import ParameterError
from latentstudio.gan.glitch import glitch, glitch_layers
from latentstudio.gan.models import Generator


def gen():
    torch.manual_seed(0)
    return Generator(image_size=16, latent_dim=8, width=4, max_channels=16).eval()


def test_glitch_is_seeded_and_leaves_the_original_alone():
    g = gen()
    before = {k: v.clone() for k, v in g.state_dict().items()}
    a = glitch(g, layers=["blocks.0"], scale=0.5, seed=3)
    b = glitch(g, layers="blocks.0", scale=0.5, seed=3)
    c = glitch(g, layers=["blocks.0"], scale=0.5, seed=4)
    for k, v in g.state_dict().items():
        assert torch.equal(v, before[k])
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    changed = [k for k in sa if not torch.equal(sa[k], before[k])]
    assert changed and all(k.startswith("blocks.0.") for k in changed)
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert any(not torch.equal(sa[k], sc[k]) for k in changed)
    w = torch.randn(2, 8)
    assert not torch.allclose(a(w), g(w))


def test_modes_and_layer_listing():
    g = gen()
    names = [n for n, _ in glitch_layers(g)]
    assert names[0] == "input" and "to_rgb" in names
    dropped = glitch(g, layers=["to_rgb"], scale=1.0, mode="drop", seed=0)
    assert torch.equal(dropped.to_rgb.weight, torch.zeros_like(g.to_rgb.weight))
    same = glitch(g, layers=["input"], scale=0.0, mode="scale", seed=0)
    assert torch.equal(same.input.weight, g.input.weight)


def test_refusals():
    g = gen()
    with pytest.raises(ParameterError, match="valid: input"):
        glitch(g, layers=["nope"])
    with pytest.raises(ParameterError, match="mode"):
        glitch(g, mode="melt")
    with pytest.raises(ParameterError, match="scale"):
        glitch(g, scale=-1)
    with pytest.raises(ParameterError, match="drop"):
        glitch(g, scale=2, mode="drop")
