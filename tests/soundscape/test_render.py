import numpy as np
import pytest

from latentstudio.errors import ParameterError
from latentstudio.soundscape.render import Layer, loop_to_length, render_soundscape
from latentstudio.soundscape.teacher import heading_crops


def test_loop_crossfades_without_gaps():
    y = np.ones(1000, np.float32)
    out = loop_to_length(y, n=5000, crossfade=100)
    assert out.shape == (5000,)
    # equal-power crossfade of a constant never drops to silence between repeats
    assert out[50:].min() > 0.7


def test_pan_and_levels(tone):
    sr = 8000
    left = Layer(tone(300, 5.0, sr), score=0.9, pan=-1.0)
    right = Layer(tone(500, 5.0, sr), score=0.3, pan=1.0)
    out = render_soundscape([left, right], seconds=6, sr=sr, seed=0)
    assert out.shape == (2, 6 * sr)
    assert np.abs(out).max() == pytest.approx(0.89, abs=1e-3)
    rms = np.sqrt((out[:, sr:-sr] ** 2).mean(axis=1))
    assert rms[0] > 3 * rms[1]              # the better match on the left is louder than the weaker one


def test_render_is_seeded(tone):
    layers = [Layer(tone(300, 0.5, 8000), 0.8), Layer(tone(600, 0.4, 8000), 0.7)]
    a = render_soundscape(layers, seconds=4, sr=8000, seed=1)
    b = render_soundscape(layers, seconds=4, sr=8000, seed=1)
    np.testing.assert_array_equal(a, b)


def test_bad_render_input(tone):
    with pytest.raises(ParameterError, match="layers"):
        render_soundscape([], seconds=3)
    with pytest.raises(ParameterError, match="seconds"):
        render_soundscape([Layer(tone(300), 1.0)], seconds=0)


def test_wide_images_split_into_headings():
    views = heading_crops(np.zeros((100, 350, 3), np.float32), headings=None)
    assert len(views) == 4 and views[0][1] == -1.0 and views[-1][1] == 1.0
    assert len(heading_crops(np.zeros((100, 120, 3), np.float32), headings=None)) == 1
    with pytest.raises(ParameterError, match="headings"):
        heading_crops(np.zeros((10, 10, 3), np.float32), headings=0)
