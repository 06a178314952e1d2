from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from latentstudio.errors import ParameterError
from latentstudio.seeing.check import check_model
from latentstudio.seeing.degrade import Degradation, photo_tensor
from latentstudio.seeing.training import SeerModel
from latentstudio.seeing.worlds import load_world, unrelated_inputs


class Copier(torch.nn.Module):
    """Paints exactly what it is shown (the degraded grey input): follows the input perfectly."""

    def forward(self, x):
        return x.expand(-1, 3, -1, -1)


class Slideshow(torch.nn.Module):
    """Ignores its input and replays one training picture."""

    def __init__(self, picture: torch.Tensor):
        super().__init__()
        self.register_buffer("picture", picture[None])

    def forward(self, x):
        return F.interpolate(self.picture, size=x.shape[-2:], mode="bilinear", align_corners=False).expand(
            x.shape[0], -1, -1, -1)


@pytest.fixture(scope="module")
def setting(world_dir):
    w = load_world(world_dir, short_side=96)
    inputs = unrelated_inputs(n_faces=2, n_stamps=0, size=64)[:6]
    return w, inputs


def _model(net) -> SeerModel:
    return SeerModel(net.eval(), Degradation(), {"world": {"name": "world"}}, Path("test"))


def test_check_tells_a_copier_from_a_slideshow(setting):
    w, inputs = setting
    photos = (w.train, w.validation)
    copier = check_model(_model(Copier()), inputs, size=64, bank=32, world_photos=photos)
    slides = check_model(_model(Slideshow(photo_tensor(w.train[0].pixels))), inputs, size=64, bank=32,
                         world_photos=photos)
    assert copier.follows > 0.9 and copier.follows > copier.slideshow + 0.2
    assert slides.follows < slides.slideshow
    assert slides.copy_similarity > copier.copy_similarity
    assert copier.verdict.startswith(("re-sees", "follows"))
    assert not slides.verdict.startswith(("re-sees", "follows"))
    assert copier.outputs.shape == (6, 64, 64, 3) and copier.world_rate is None
    assert len(copier.summary()["items"]) == 6


def test_check_rejects_bad_inputs(setting):
    w, inputs = setting
    with pytest.raises(ParameterError, match="at least one"):
        check_model(_model(Copier()), [], size=64, world_photos=(w.train, w.validation))
    with pytest.raises(ParameterError, match="64, 64, 3"):
        check_model(_model(Copier()), [("x", np.zeros((32, 32, 3), np.float32))], size=64,
                    world_photos=(w.train, w.validation))
    with pytest.raises(ParameterError, match="--world"):
        check_model(_model(Copier()), inputs, size=64)
