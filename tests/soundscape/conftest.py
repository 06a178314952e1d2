"""Shared fixtures: a tiny untrained student saved as a checkpoint, small sound and image files."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from latentstudio.soundscape.student import SoundscapeStudent
from latentstudio.zoo.checkpoint import save_checkpoint

TINY = {"channels": [4, 8], "embedding_dim": 16, "num_classes": 1000, "dropout": 0.0}


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("student")
    save_checkpoint(d, SoundscapeStudent(**TINY).eval(), config=TINY, meta={"heldout": {"names": [], "groups": []}})
    return d


def tone(freq: float, seconds: float = 1.0, sr: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture(name="tone")
def tone_fixture():
    """``tone(freq, seconds=1.0, sr=16000)`` -> a sine wave."""
    return tone


@pytest.fixture(name="tiny_config")
def tiny_config_fixture():
    return dict(TINY)


@pytest.fixture()
def sound_dir(tmp_path):
    d = tmp_path / "sounds"
    d.mkdir()
    sf.write(d / "low.wav", tone(220), 16000)
    sf.write(d / "high.wav", tone(1760, 3.5), 16000)
    sf.write(d / "silent.wav", np.zeros(16000, np.float32), 16000)
    (d / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage")
    return d
