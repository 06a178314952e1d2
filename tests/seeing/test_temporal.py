"""seeing.temporal: exponential smoothing (plain and flow-guided) and the flicker measure."""

import numpy as np
import pytest
from scipy import ndimage

from latentstudio.errors import ParameterError
from latentstudio.seeing.temporal import TemporalSmoother, flicker


def _texture(h, w, sigma, seed):
    t = ndimage.gaussian_filter(np.random.default_rng(seed).random((h, w, 3)), (sigma, sigma, 0))
    return ((t - t.min()) / (t.max() - t.min())).astype(np.float32)


def _noisy_still(n=60, size=32, noise=0.05, seed=0):
    rng = np.random.default_rng(seed)
    return [np.clip(0.5 + noise * rng.standard_normal((size, size, 3)), 0, 1).astype(np.float32) for _ in range(n)]


def _moving_square(n=20, size=128, side=48, step=(2, 3)):
    """A textured square gliding over a textured background: the true frames."""
    background = 0.5 * _texture(size, size, 3, seed=1) + 0.25
    square = _texture(side, side, 2, seed=2)
    frames = []
    for t in range(n):
        f = background.copy()
        y, x = 20 + step[0] * t, 16 + step[1] * t
        f[y:y + side, x:x + side] = square
        frames.append(f)
    return frames


def _ghosting(smoother, frames, guides=None, skip=5):
    """Mean absolute error of the smoothed frames against the true ones, after the first ``skip``."""
    errors = []
    for t, frame in enumerate(frames):
        out = smoother(frame, guide=None if guides is None else guides[t])
        if t >= skip:
            errors.append(np.abs(out - frame).mean())
    return float(np.mean(errors))


def test_first_frame_passes_and_then_frames_blend_by_weight():
    smoother = TemporalSmoother(0.5)
    black, white = np.zeros((4, 4, 3), np.float32), np.ones((4, 4, 3), np.float32)
    assert np.array_equal(smoother(black), black)
    assert np.allclose(smoother(white), 0.5)
    assert np.allclose(smoother(white), 0.75)
    assert np.allclose(TemporalSmoother(0.8)(white), 1.0)


def test_smoothing_reduces_flicker_of_a_noisy_still_by_the_expected_factor():
    frames = _noisy_still()
    for weight in (0.5, 0.8):
        smoother = TemporalSmoother(weight)
        out = [smoother(f) for f in frames]
        ratio = flicker(out[15:]) / flicker(frames[15:])
        expected = (1 - weight) / np.sqrt(1 + weight)   # 0.41 at 0.5, 0.15 at 0.8
        assert ratio == pytest.approx(expected, rel=0.12)


def test_weight_zero_passes_frames_through():
    frames = _noisy_still(n=5)
    smoother = TemporalSmoother(0.0, flow=True)
    assert all(np.array_equal(smoother(f), f) for f in frames)


def test_reset_and_a_change_of_size_start_over():
    smoother = TemporalSmoother(0.6)
    smoother(np.zeros((8, 8, 3), np.float32))
    white = np.ones((8, 8, 3), np.float32)
    smoother.reset()
    assert np.array_equal(smoother(white), white)
    bigger = np.full((8, 12, 3), 0.2, np.float32)
    assert np.array_equal(smoother(bigger), bigger)          # no crash, no blend with the 8x8 frame
    assert np.allclose(smoother(np.zeros((8, 12, 3), np.float32)), 0.6 * 0.2)
    flowing = TemporalSmoother(0.6, flow=True)
    flowing(_texture(32, 32, 2, seed=0))
    other = _texture(40, 24, 2, seed=1)
    assert np.array_equal(flowing(other), other)


def test_the_returned_frame_is_the_callers_own():
    smoother = TemporalSmoother(0.5)
    out = smoother(np.zeros((4, 4, 3), np.float32))
    out[:] = 1.0                                              # scribbling on it ...
    assert np.allclose(smoother(np.zeros((4, 4, 3), np.float32)), 0.0)  # ... does not reach the state


def test_flow_guided_smoothing_ghosts_much_less_than_plain_smoothing():
    frames = _moving_square()
    plain = _ghosting(TemporalSmoother(0.6), frames)
    along_flow = _ghosting(TemporalSmoother(0.6, flow=True, tolerance=None), frames)
    with_check = _ghosting(TemporalSmoother(0.6, flow=True), frames)
    assert plain > 0.008                                      # the plain blend does ghost ...
    assert along_flow < 0.45 * plain                          # ... following the motion mostly does not
    assert with_check <= along_flow * 1.02


def test_the_flow_is_measured_on_the_guide():
    """The previous output moves as the guide (the camera frames) moves, whatever the frames themselves do."""
    picture = _texture(96, 96, 2, seed=3)
    guide0, guide1 = picture[10:74, 10:74], picture[10:74, 6:70]      # the camera view moved 4 px right
    output0 = _texture(64, 64, 2, seed=4)                             # what the network painted at first
    blank = np.zeros((64, 64, 3), np.float32)                         # a second output that shows nothing
    smoother = TemporalSmoother(0.5, flow=True)
    smoother(output0, guide=guide0)
    out = smoother(blank, guide=guide1)
    moved = np.zeros_like(output0)
    moved[:, 4:] = output0[:, :-4]
    inside = (slice(12, -12), slice(12, -12))
    assert np.abs(out - 0.5 * moved)[inside].mean() < 0.25 * np.abs(out - 0.5 * output0)[inside].mean()


def test_flow_with_a_tolerance_lets_a_cut_through():
    """At a cut the flow means nothing: the tolerance check drops the previous shot, trusting the flow does not."""
    from skimage import data

    from latentstudio.core.image import resize

    shot1, shot2 = (resize(pic.astype(np.float32) / 255, (96, 96)) for pic in (data.astronaut(), data.chelsea()))
    smoothers = {"plain": TemporalSmoother(0.7), "trusting": TemporalSmoother(0.7, flow=True, tolerance=None),
                 "checked": TemporalSmoother(0.7, flow=True, tolerance=0.2)}
    for _ in range(3):
        for smoother in smoothers.values():
            smoother(shot1)
    left = {name: np.abs(smoother(shot2) - shot2).mean() for name, smoother in smoothers.items()}
    assert left["checked"] < 0.3 * left["plain"]
    assert left["trusting"] > 0.6 * left["plain"]


def test_flicker_measures_frame_to_frame_change():
    assert flicker([np.zeros((2, 2, 3)), np.ones((2, 2, 3)), np.ones((2, 2, 3))]) == pytest.approx(0.5)
    still = np.full((5, 8, 8, 3), 0.3, np.float32)
    assert flicker(still) == 0.0
    assert flicker(_noisy_still(n=10, noise=0.1)) > flicker(_noisy_still(n=10, noise=0.02))


@pytest.mark.parametrize("frames, word", [([np.zeros((4, 4, 3))], "two frames"),
                                          ([np.zeros((4, 4, 3)), np.zeros((4, 5, 3))], r"frames\[1\]"),
                                          ("abc", "frames"), (3, "frames")])
def test_flicker_rejects_bad_sequences(frames, word):
    with pytest.raises(ParameterError, match=word):
        flicker(frames)


@pytest.mark.parametrize("kwargs, word", [({"weight": 1.0}, "weight"), ({"weight": -0.1}, "weight"),
                                          ({"weight": True}, "weight"), ({"weight": "0.5"}, "weight"),
                                          ({"flow": "yes"}, "flow"), ({"tolerance": 0}, "tolerance")])
def test_smoother_rejects_bad_settings(kwargs, word):
    with pytest.raises(ParameterError, match=word):
        TemporalSmoother(**kwargs)


def test_smoother_rejects_a_guide_of_another_size_and_bad_frames():
    smoother = TemporalSmoother(0.6, flow=True)
    with pytest.raises(ParameterError, match="guide is 16x16 but frame is 32x32"):
        smoother(np.zeros((32, 32, 3), np.float32), guide=np.zeros((16, 16, 3), np.float32))
    with pytest.raises(ParameterError, match="frame"):
        smoother(np.full((8, 8, 3), np.nan, np.float32))
