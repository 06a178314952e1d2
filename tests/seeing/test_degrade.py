import numpy as np
import pytest
import torch

from latentstudio.errors import ParameterError
from latentstudio.seeing.degrade import (Degradation, degrade, down_up, grey, photo_tensor, random_crops,
                                         training_pair)


def _laplacian_energy(x: torch.Tensor) -> float:
    k = torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]).view(1, 1, 3, 3)
    return float(torch.nn.functional.conv2d(x, k).pow(2).mean())


def test_degrade_is_grey_and_removes_fine_detail():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 96, 96)
    y = degrade(x)
    assert y.shape == (2, 1, 96, 96)
    assert float(y.min()) >= 0 and float(y.max()) <= 1
    assert _laplacian_energy(y) < 0.02 * _laplacian_energy(grey(x))
    # the coarse structure survives: a half-dark picture stays half dark
    half = torch.zeros(1, 3, 96, 96)
    half[..., 48:] = 1
    d = degrade(half)
    assert float(d[..., :40].mean()) < 0.05 and float(d[..., 56:].mean()) > 0.95


def test_stronger_degradation_removes_more():
    x = torch.rand(1, 1, 128, 128, generator=torch.Generator().manual_seed(1))
    assert _laplacian_energy(down_up(x, 64)) < _laplacian_energy(down_up(x, 4))
    assert torch.equal(down_up(x, 1), x)


def test_degradation_rejects_bad_factor():
    with pytest.raises(ParameterError, match="area_factor"):
        Degradation(area_factor=0.5)
    with pytest.raises(ParameterError, match="area_factor"):
        Degradation(area_factor=float("nan"))
    with pytest.raises(ParameterError, match="N, 1|3"):
        grey(torch.rand(3, 8, 8))


def test_random_crops_are_seeded_and_sized():
    photos = [photo_tensor((np.random.default_rng(i).random((80, 120, 3)) * 255).astype(np.uint8)) for i in range(3)]
    a = random_crops(photos, 5, 32, torch.Generator().manual_seed(3))
    b = random_crops(photos, 5, 32, torch.Generator().manual_seed(3))
    c = random_crops(photos, 5, 32, torch.Generator().manual_seed(4))
    assert a.shape == (5, 3, 32, 32) and torch.equal(a, b) and not torch.equal(a, c)


def test_training_pair_jitters_exposure_around_the_degraded_picture():
    t = torch.full((64, 3, 32, 32), 0.5)
    t[..., :16] = 0.3
    x = training_pair(t, torch.Generator().manual_seed(0), brightness=0.2, contrast=0.3)
    assert x.shape == (64, 1, 32, 32)
    means = x.mean(dim=(1, 2, 3))
    base = float(degrade(t[:1]).mean())
    assert float(means.min()) < base * 0.9 and float(means.max()) > base * 1.1
    assert float(means.min()) > base * 0.75 and float(means.max()) < base * 1.25
    plain = training_pair(t, torch.Generator().manual_seed(0), brightness=0.0, contrast=0.0)
    assert torch.allclose(plain, degrade(t), atol=1e-6)
