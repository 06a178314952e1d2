import pytest
import torch

from latentstudio.errors import ParameterError
from latentstudio.optvis import as_objective, channel, class_logit, deepdream, direction, neuron, total_variation


def _acts():
    g = torch.Generator().manual_seed(0)
    return {"a": torch.randn(2, 4, 5, 5, generator=g), "input": torch.rand(2, 3, 8, 8, generator=g),
            "logits": torch.randn(2, 10, generator=g)}


def test_algebra_combines_scores_and_layers():
    acts = _acts()
    a, b = deepdream("a"), channel("a", 1)
    combo = 2 * a - b + 1.5 - 0.5 * total_variation()
    want = 2 * a(acts) - b(acts) + 1.5 - 0.5 * total_variation()(acts)
    assert torch.allclose(combo(acts), want)
    assert combo.layers == {"a", "input"}
    assert torch.allclose((a * b)(acts), a(acts) * b(acts))
    assert torch.allclose((a / 4)(acts), a(acts) / 4)
    assert combo(acts).shape == (2,)


def test_values():
    acts = _acts()
    assert torch.allclose(deepdream("a")(acts), acts["a"].pow(2).mean(dim=(1, 2, 3)))
    assert torch.allclose(deepdream("a", channels=[1])(acts), acts["a"][:, 1].pow(2).mean(dim=(1, 2)))
    assert torch.allclose(neuron("a", 2)(acts), acts["a"][:, 2, 2, 2])
    assert torch.allclose(class_logit(3)(acts), acts["logits"][:, 3])
    vec = torch.tensor([1.0, 0, 0, 0])
    assert torch.allclose(direction("a", vec)(acts), acts["a"][:, 0].mean(dim=(1, 2)))


def test_shorthand():
    assert as_objective("a").name == "deepdream(a)"
    assert as_objective("a:2").name == "channel(a:2)"
    assert as_objective("logits:7").layers == {"logits"}
    with pytest.raises(ParameterError, match="not an integer"):
        as_objective("a:x")
    with pytest.raises(ParameterError):
        as_objective("")


def test_bad_inputs_raise():
    acts = _acts()
    with pytest.raises(ParameterError, match="channel=9"):
        channel("a", 9)(acts)
    with pytest.raises(ParameterError):
        deepdream("a") + "b"
    with pytest.raises(ParameterError):
        deepdream("a") / 0
    with pytest.raises(ParameterError, match="spatial"):
        deepdream("logits")(acts)
