"""core.loudness: BS.1770 integrated loudness and the energy curve."""

import numpy as np
import pytest

from latentstudio.core.loudness import energy_curve, integrated_lufs
from latentstudio.errors import ParameterError


def test_sine_reference_and_gain():
    sr = 48000
    y = (0.1 * np.sin(2 * np.pi * 1000 * np.arange(4 * sr) / sr)).astype(np.float32)
    ref = integrated_lufs(y, sr=sr)
    assert abs(ref + 23.0) < 0.2
    assert abs(integrated_lufs(2 * y, sr=sr) - ref - 6.02) < 0.05
    assert abs(integrated_lufs(np.stack([y, y]), sr=sr) - ref - 3.01) < 0.05   # two channels add power


def test_silence_and_energy():
    sr = 22050
    assert integrated_lufs(np.zeros(sr, dtype=np.float32), sr=sr) == -70.0
    y = np.concatenate([np.zeros(sr), 0.5 * np.ones(sr)]).astype(np.float32)
    e = energy_curve(y, sr=sr, hop_seconds=0.5, smooth=1)
    assert e.shape == (4,) and e[0] < -80 and abs(e[-1] + 6.02) < 0.1


def test_bad_input():
    with pytest.raises(ParameterError):
        integrated_lufs(np.ones(10, dtype=np.float32), sr=0)
    with pytest.raises(ParameterError):
        energy_curve(np.ones(10, dtype=np.float32), sr=10, hop_seconds=0)
