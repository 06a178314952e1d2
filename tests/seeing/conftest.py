"""Fixtures of the Learning-to-See tests: a tiny world folder of packaged sample photographs."""

import numpy as np
import pytest

from latentstudio import assets
from latentstudio.core import image as imageio


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory):
    """Three distinct photographs (and a byte-identical copy of one) as a world folder."""
    d = tmp_path_factory.mktemp("world")
    for name in ("coffee", "chelsea", "rocket"):
        imageio.save(d / f"{name}.png", imageio.load(assets.sample_image(name), size=96))
    (d / "copy.png").write_bytes((d / "coffee.png").read_bytes())
    return d


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, world_dir):
    """A tiny generator trained for a few steps by the project's own code."""
    from latentstudio.seeing.pipeline import train_run

    out = tmp_path_factory.mktemp("model") / "tiny"
    train_run(str(world_dir), out, steps=12, batch_size=2, size=32, base=4, blocks=1, sample_every=0,
              short_side=96, seed=0)
    return out


def textured(h: int = 64, w: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.random((h, w, 3)).astype(np.float32)
