"""core.key: Camelot codes and key detection."""

import numpy as np
import pytest

from latentstudio.core.key import camelot, camelot_distance, detect_key
from latentstudio.errors import ParameterError


def test_camelot_wheel():
    assert camelot(0, minor=False) == "8B"      # C major
    assert camelot(9, minor=True) == "8A"       # A minor
    assert camelot(7, minor=False) == "9B"      # G major
    assert camelot(11, minor=False) == "1B"     # B major
    assert camelot_distance("8B", "8A") == 1 and camelot_distance("8B", "9B") == 1
    assert camelot_distance("12A", "1A") == 1 and camelot_distance("8B", "2B") == 6


@pytest.mark.parametrize("tonic", [0, 7, 3])
def test_detects_a_major_scale(tonic):
    sr = 11025
    t = np.arange(3 * sr) / sr
    f0 = 261.63 * 2 ** (tonic / 12)
    y = sum(np.sin(2 * np.pi * f0 * 2 ** (n / 12) * t) for n in (0, 2, 4, 5, 7, 9, 11, 0, 7, 4)).astype(np.float32)
    k = detect_key(y, sr=sr)
    assert (k.tonic, k.minor) == (tonic, False)


def test_bad_input():
    with pytest.raises(ParameterError):
        detect_key(np.zeros(11025, dtype=np.float32), sr=11025)
    with pytest.raises(ParameterError):
        camelot_distance("13B", "1A")
    with pytest.raises(ParameterError):
        camelot(12, minor=False)


def test_custom_profiles_and_bad_profiles():
    C = np.zeros((12, 4))
    C[[0, 4, 7]] = 1.0                                   # a C major triad
    assert detect_key(C=C).name == "C major"
    from latentstudio.core.key import _MAJOR_PROFILE, _MINOR_PROFILE

    shifted = detect_key(C=C, profiles=(np.roll(_MAJOR_PROFILE, 2), _MINOR_PROFILE))   # profiles are used as given
    assert shifted.name == "Bb major", shifted.name
    with pytest.raises(ParameterError, match="12 pitch-class"):
        detect_key(C=C, profiles=(np.ones(11), np.ones(12)))
