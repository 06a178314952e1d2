import numpy as np
import pytest

from latentstudio.errors import ParameterError
from latentstudio.seeing.see import Seer, plan_size
from latentstudio.seeing.training import load_seer_model


def test_plan_size_pads_to_multiples_of_16():
    p = plan_size(100, 150, 64)
    assert (p.sh, p.sw) == (64, 96) and (p.ph, p.pw) == (64, 96)
    q = plan_size(70, 70, None)
    assert (q.sh, q.sw, q.ph, q.pw) == (70, 70, 80, 80)


@pytest.mark.parametrize("hw", [(100, 150), (64, 64), (37, 53)])
def test_seer_returns_frames_of_the_input_size(tiny_model, hw):
    seer = Seer(load_seer_model(tiny_model), size=48)
    rng = np.random.default_rng(0)
    out = seer(rng.random((*hw, 3)).astype(np.float32))
    assert out.shape == (*hw, 3) and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    assert seer((rng.random((*hw, 3)) * 255).astype(np.uint8)).shape == (*hw, 3)


def test_frozen_network_matches_the_eager_one(tiny_model):
    m = load_seer_model(tiny_model)
    frame = np.random.default_rng(1).random((64, 96, 3)).astype(np.float32)
    fast, eager = Seer(m, size=64, fast=True)(frame), Seer(m, size=64, fast=False)(frame)
    assert np.abs(fast - eager).max() < 1e-4


def test_smoothing_reduces_flicker_and_models_switch(tiny_model):
    from latentstudio.seeing.temporal import flicker

    m = load_seer_model(tiny_model)
    rng = np.random.default_rng(2)
    base = rng.random((64, 64, 3)).astype(np.float32)
    clip = [np.clip(base + rng.normal(0, 0.15, base.shape).astype(np.float32), 0, 1) for _ in range(12)]
    raw = [Seer(m, size=64)(f) for f in clip]
    smoothed_seer = Seer(m, size=64, smooth=0.7)
    smoothed = [smoothed_seer(f) for f in clip]
    assert flicker(smoothed) < 0.7 * flicker(raw)
    two = Seer([m, m], size=64)
    two.switch(1)
    assert two.index == 1
    with pytest.raises(ParameterError, match="index"):
        two.switch(2)


def test_seer_rejects_bad_arguments(tiny_model):
    m = load_seer_model(tiny_model)
    with pytest.raises(ParameterError, match="smooth"):
        Seer(m, smooth=1.0)
    with pytest.raises(ParameterError, match="size"):
        Seer(m, size=8)
    with pytest.raises(ParameterError):
        Seer(m, pre="sharpen:3")
    with pytest.raises(ParameterError, match="frame"):
        Seer(m, size=32)(np.zeros((16, 16), np.float32))
    with pytest.raises(ParameterError, match="trained models"):
        Seer([])
