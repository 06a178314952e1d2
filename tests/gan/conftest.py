"""Tiny pictures and models for the GAN tests: shapes on white, a 16 px GAN, a feature network of a few weights."""

import numpy as np
import pytest
import torch
from PIL import Image


def shape_pictures(n: int = 24, size: int = 24, seed: int = 0) -> list[np.ndarray]:
    """Coloured squares and discs on white, ``(size, size, 3)`` uint8, all different."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    out = []
    for i in range(n):
        img = np.full((size, size, 3), 255, np.uint8)
        c = rng.integers(0, 200, 3)
        r = rng.integers(3, size // 3)
        cy, cx = rng.integers(r, size - r, 2)
        mask = (np.abs(yy - cy) <= r) & (np.abs(xx - cx) <= r) if i % 2 else (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        img[mask] = c
        out.append(img)
    return out


def write_folder(folder, pictures) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, pic in enumerate(pictures):
        sub = folder / ("a" if i % 3 else "b")
        sub.mkdir(exist_ok=True)
        Image.fromarray(pic).save(sub / f"p{i:03d}.png")


@pytest.fixture(scope="session")
def picture_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gan") / "pictures"
    write_folder(folder, shape_pictures(40))
    return folder


class TinyFeatures(torch.nn.Module):
    """A fixed random conv net standing in for EfficientNet-Lite0 (``(N, 3, H, W)`` -> ``(N, 16)``)."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 16, 5, stride=2)
        with torch.no_grad():
            self.conv.weight.copy_(torch.randn(self.conv.weight.shape, generator=g) * 0.2)
            self.conv.bias.zero_()

    def forward(self, x):
        return torch.tanh(self.conv(x)).mean(dim=(2, 3)) * 10


@pytest.fixture()
def tiny_features():
    return TinyFeatures().eval()


@pytest.fixture(scope="session")
def pictures_kit():
    """The helpers above, for tests that make their own folders: ``kit.shapes(n, size)``, ``kit.write(folder, pics)``."""
    from types import SimpleNamespace

    return SimpleNamespace(shapes=shape_pictures, write=write_folder)
