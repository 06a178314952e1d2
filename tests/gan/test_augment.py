"""DiffAugment: shapes, what each augmentation does, gradients pass through."""

import pytest
import torch

from latentstudio.errors import ParameterError
from latentstudio.gan.augment import cutout, diff_augment, parse_policy, translation


def test_translation_shifts_content_and_fills_with_zeros():
    x = torch.zeros(64, 1, 16, 16)
    x[:, :, 8, 8] = 1.0
    y = translation(x, generator=torch.Generator().manual_seed(0))
    where = y.flatten(1).argmax(1)
    assert len(set(where.tolist())) > 5                          # different shifts per picture
    assert torch.allclose(y.sum(dim=(1, 2, 3)), torch.ones(64))  # the dot moved, nothing else appeared
    rows, cols = where // 16, where % 16
    assert int((rows - 8).abs().max()) <= 2 and int((cols - 8).abs().max()) <= 2


def test_cutout_zeros_a_square_of_half_the_side():
    y = cutout(torch.ones(32, 3, 16, 16), generator=torch.Generator().manual_seed(0))
    zeros = (y[:, 0] == 0).flatten(1).sum(1)
    assert int(zeros.max()) == 64 and int(zeros.min()) > 0       # 8 x 8, clipped at the borders


def test_policy_keeps_shape_and_lets_gradients_through():
    x = torch.rand(4, 3, 16, 16, requires_grad=True)
    y = diff_augment(x * 2 - 1, "color,translation,cutout", generator=torch.Generator().manual_seed(0))
    assert y.shape == x.shape
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_unknown_policy_is_refused():
    assert parse_policy("") == ()
    with pytest.raises(ParameterError, match="blur"):
        parse_policy("color,blur")
