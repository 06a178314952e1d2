import importlib.util
from pathlib import Path

import pytest
import torch

from latentstudio.errors import ParameterError
from latentstudio.optvis import FeatureModel, deepdream, fold_batchnorm

_spec = importlib.util.spec_from_file_location("_nets", Path(__file__).with_name("_nets.py"))
_nets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_nets)


def test_fold_batchnorm_is_exact_and_leaves_original():
    net = _nets.tiny_net()
    folded, n = fold_batchnorm(net)
    assert n == 2
    assert isinstance(net[1], torch.nn.BatchNorm2d)          # original untouched
    assert isinstance(folded[1], torch.nn.Identity)
    x = torch.rand(2, 3, 20, 20)
    assert torch.allclose(folded(x), net(x), atol=1e-5)


def test_truncated_forward_stops_early_and_gradients_match():
    net = _nets.tiny_net()
    fm = FeatureModel(net)
    calls = []
    fm.net[6].register_forward_hook(lambda m, i, o: calls.append("late"))
    x = torch.rand(1, 3, 16, 16, requires_grad=True)
    acts = fm(x, layers={"2"})
    assert "late" not in calls                                 # layers after "2" never ran
    (g_engine,) = torch.autograd.grad(deepdream("2")(acts).sum(), x)
    # the same gradient through the plain, unfolded network
    x2 = x.detach().clone().requires_grad_(True)
    out = {}
    h = net[2].register_forward_hook(lambda m, i, o: out.__setitem__("a", o))
    net(x2)
    h.remove()
    (g_plain,) = torch.autograd.grad(out["a"].pow(2).mean(), x2)
    assert torch.allclose(g_engine, g_plain, atol=1e-5, rtol=1e-4)


def test_logits_and_input_available():
    fm = FeatureModel(_nets.tiny_net())
    x = torch.rand(3, 3, 12, 12)
    acts = fm(x, layers={"logits", "input", "5"})
    assert acts["logits"].shape == (3, 5) and acts["input"] is x and acts["5"].shape == (3, 8, 12, 12)


def test_unknown_layer_lists_valid_ones():
    fm = FeatureModel(_nets.tiny_net())
    with pytest.raises(ParameterError, match="valid layers: input, 0, 1"):
        fm(torch.rand(1, 3, 8, 8), layers={"nope"})
    with pytest.raises(ParameterError, match="nn.Module"):
        FeatureModel("efficientnet_lite0")
