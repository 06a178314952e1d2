import numpy as np
import pytest

from latentstudio.errors import ParameterError
from latentstudio.latent.pulsations import (PulseStyle, fit_tempo, frame_points, iter_frames, plan_pulsations,
                                            points_at, pulse_alignment)
from latentstudio.latent.training import Filmed


def film(n: int = 600, snapshots: int = 12, d: int = 2, seed: int = 0) -> Filmed:
    """Dots that start as one blob and end as three clusters far apart."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    start = rng.standard_normal((n, d)) * 0.3
    centres = np.zeros((3, d))
    centres[:, :2] = [[-4, 0], [4, 0], [0, 5]]
    end = centres[labels] + rng.standard_normal((n, d)) * 0.3
    t = np.linspace(0, 1, snapshots) ** 0.3
    snaps = np.stack([(1 - a) * start + a * end for a in t]).astype(np.float16)
    return Filmed(snaps, np.arange(snapshots) * 10, labels, ["a", "b", "c"], {})


def test_fit_tempo_gives_whole_frames():
    assert fit_tempo(172, 24, prefer="slower") == pytest.approx(160.0)        # the original's choice
    assert fit_tempo(172, 24) == pytest.approx(180.0)                         # nearest: 8 frames a beat
    for bpm in (87.0, 128.0, 174.5):
        per = 60 * 30 / fit_tempo(bpm, 30)
        assert per == pytest.approx(round(per))
    with pytest.raises(ParameterError, match="prefer"):
        fit_tempo(120, 24, prefer="odd")


def test_plan_follows_the_dots_and_pulses_on_beats():
    f = film()
    beats = np.arange(0.5, 6.0, 0.5)
    plan = plan_pulsations(f, seconds=6, fps=20, beats=beats, downbeats=beats[::4],
                           style=PulseStyle(width=320, height=180, camera_seconds=0.3))
    assert plan.frames == 120
    assert np.all(np.diff(plan.position) >= -1e-12) and plan.position[-1] == pytest.approx(len(f.snapshots) - 1)
    # the hold: the last 12 % of the film rests on the final snapshot
    assert np.all(plan.position[-10:] == plan.position[-1])
    # the camera widens as the clusters move apart, and always frames most dots
    width0 = plan.bounds[0, 1] - plan.bounds[0, 0]
    width1 = plan.bounds[-1, 1] - plan.bounds[-1, 0]
    assert width1 > 3 * width0
    final = points_at(f, plan.position[-1])
    x0, x1, y0, y1 = plan.bounds[-1]
    inside = (final[:, 0] > x0) & (final[:, 0] < x1) & (final[:, 1] > y0) & (final[:, 1] < y1)
    assert inside.mean() > 0.98
    offsets = pulse_alignment(plan, beats)
    assert offsets.size == len(beats) and offsets.max() <= 1.0
    # the dots really move on a beat frame and are back (almost) before the next
    fb = int(plan.beat_frames[2])
    base = points_at(f, plan.position[fb])
    moved = np.abs(frame_points(f, plan, fb) - base).mean()
    later = np.abs(frame_points(f, plan, fb + 9) - points_at(f, plan.position[fb + 9])).mean()
    assert moved > 5 * later > 0


def test_frames_render_with_legend():
    f = film(n=300)
    plan = plan_pulsations(f, seconds=1, fps=10, beats=np.array([0.2, 0.7]), style=PulseStyle(width=320, height=180))
    frames = list(iter_frames(f, plan))
    assert len(frames) == 10 and frames[0].shape == (180, 320, 3) and frames[0].dtype == np.uint8
    assert frames[0].std() > 0


def test_wider_latents_are_projected():
    f = film(d=5)
    plan = plan_pulsations(f, seconds=1, fps=10, style=PulseStyle(width=64, height=64))
    assert plan.projection.shape == (5, 2)
    assert frame_points(f, plan, 0).shape == (600, 2)


def test_bad_plans_raise():
    f = film()
    with pytest.raises(ParameterError, match="seconds"):
        plan_pulsations(f, seconds=0)
    with pytest.raises(ParameterError, match="pulse"):
        plan_pulsations(f, seconds=1, style=PulseStyle(pulse=1.5))
    one = Filmed(f.snapshots[:1], f.steps[:1], f.labels, f.label_names, {})
    with pytest.raises(ParameterError, match="fewer than 2"):
        plan_pulsations(one, seconds=1)
