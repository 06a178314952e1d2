"""Walks: interpolation, easing, loops, constant perceived speed on a path of known uneven speed, beats."""

import numpy as np
import pytest
import torch

from latentstudio.errors import ParameterError
from latentstudio.gan.walk import (LatentPath, beat_accents, beat_key_coordinates, constant_speed_positions,
                                   evenness, peak_offsets, plain_positions, seed_latents, slerp, step_distances,
                                   truncate)


def test_slerp_keeps_norms():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(1, 64, generator=g), torch.randn(1, 64, generator=g)
    b = b / b.norm() * a.norm()
    u = torch.linspace(0, 1, 11)[:, None]
    mid = slerp(a.expand(11, -1), b.expand(11, -1), u)
    torch.testing.assert_close(mid.norm(dim=1), a.norm().expand(11), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(mid[0], a[0])
    torch.testing.assert_close(mid[-1], b[0], rtol=1e-5, atol=1e-5)
    lerped = a + u * (b - a)
    assert float(lerped.norm(dim=1).min()) < 0.8 * float(a.norm())    # lerp cuts through the middle


def test_slerp_moves_lengths_linearly_and_survives_parallel_rows():
    a = torch.tensor([[3.0, 0.0]])
    out = slerp(a, 2 * a, torch.tensor([[0.5]]))
    torch.testing.assert_close(out, torch.tensor([[4.5, 0.0]]))


def test_path_hits_keys_loops_and_eases():
    keys = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    path = LatentPath(keys, interpolation="lerp", loop=True, easing="smooth")
    assert path.span == 3
    torch.testing.assert_close(path.at([0.0, 1.0, 2.0, 3.0]), keys[[0, 1, 2, 0]])
    torch.testing.assert_close(path.at([0.5]), (keys[0:1] + keys[1:2]) / 2)    # smoothstep(0.5) = 0.5
    lin = LatentPath(keys, interpolation="lerp").at([0.25])
    eased = LatentPath(keys, interpolation="lerp", easing="smooth").at([0.25])
    assert float((eased - keys[0]).norm()) < float((lin - keys[0]).norm())      # slower near the key
    pos = plain_positions(6, 3, loop=True)
    assert pos[-1] < 3 and np.allclose(np.diff(pos), 0.5)


def test_condition_part_is_blended_linearly():
    keys = torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]])
    mid = LatentPath(keys, interpolation="slerp", noise_dim=2).at([0.5])
    torch.testing.assert_close(mid[0, 2:], torch.tensor([0.5, 0.5]))
    torch.testing.assert_close(mid[0, :2].norm(), torch.tensor(1.0))


def test_constant_speed_evens_a_path_of_known_uneven_speed():
    # position p in [0, 2]; the "picture" moves along a line as p^3 (slow start, fast end) and features are exact
    def measure(p):
        x = np.asarray(p, dtype=np.float64) ** 3
        return np.stack([x, 0.5 * x], axis=1)

    coords = plain_positions(40, 2, loop=False)
    plain = evenness(step_distances(measure(coords)))
    pos, info = constant_speed_positions(measure, span=2, coords=coords)
    even = evenness(step_distances(measure(pos)))
    assert plain["max_over_median"] > 2.0
    assert even["max_over_median"] < 1.05 and even["min_over_median"] > 0.95
    assert pos[0] == 0 and pos[-1] == pytest.approx(2.0) and np.all(np.diff(pos) > 0)
    assert info["length"] == pytest.approx(8.0 * np.hypot(1, 0.5), rel=1e-3)


def test_constant_speed_spreads_a_jump_the_samples_miss():
    # a step of height 5 between p = 0.50 and 0.51, between samples of the first pass
    def measure(p):
        p = np.asarray(p, dtype=np.float64)
        return (p + 5 * np.clip((p - 0.5) / 0.01, 0, 1))[:, None]

    coords = plain_positions(20, 1, loop=False)
    pos, _ = constant_speed_positions(measure, span=1, coords=coords, oversample=1, refine=3)
    assert evenness(step_distances(measure(pos)))["max_over_median"] < 2.0
    assert evenness(step_distances(measure(coords)))["max_over_median"] > 10


def test_segment_pace_keeps_keys_at_their_times():
    def measure(p):
        p = np.asarray(p, dtype=np.float64)
        return np.where(p < 1, p, 1 + 9 * (p - 1))[:, None]     # segment 2 is 9 x longer

    coords = plain_positions(21, 2, loop=False)
    pos, _ = constant_speed_positions(measure, span=2, coords=coords, pace="segment")
    assert pos[10] == pytest.approx(1.0)
    glob, _ = constant_speed_positions(measure, span=2, coords=coords, pace="global")
    assert glob[2] > 1.0 - 1e-9                                  # the short segment gets about 2 frames


def test_a_walk_that_starts_inside_a_segment_is_even_there_too():
    # a beat-locked walk starts between keys 0 and 1 (its first key lies before the music)
    def measure(p):
        x = np.asarray(p, dtype=np.float64) ** 3
        return x[:, None]

    coords = np.linspace(0.5, 2.0, 31)
    pos, _ = constant_speed_positions(measure, span=2, coords=coords, pace="segment")
    assert pos[0] == pytest.approx(0.5 ** (1 / 3), rel=1e-3)         # half of segment 0's arc length
    steps = step_distances(measure(pos))
    first, second = steps[:10], steps[10:]
    assert first.max() / first.min() < 1.05 and second.max() / second.min() < 1.05


def test_beat_keys_and_accents_land_on_beats():
    fps, beats = 24.0, np.arange(0.5, 8.0, 0.5)
    coords, key_times = beat_key_coordinates(beats, frames=8 * 24, fps=fps, beats_per_key=2)
    assert np.allclose(np.diff(key_times), 1.0) and key_times[0] <= 0 < key_times[1]
    for k, t in enumerate(key_times[1:-1], start=1):
        assert coords[int(round(t * fps))] == pytest.approx(k, abs=1e-9)
    offsets, env = beat_accents(beats, beats[::4], frames=8 * 24, fps=fps, dim=16, seed=0)
    assert offsets.shape == (192, 16) and np.all(peak_offsets(env, beats, fps=fps) <= 1)
    assert env[int(0.5 * fps)] == pytest.approx(1.6)            # a downbeat
    with pytest.raises(ParameterError):
        beat_key_coordinates(beats[:1], frames=10, fps=fps)


def test_seeds_truncation_and_bad_input():
    from latentstudio.zoo.pretrained_gans import DCGANGenerator

    g = DCGANGenerator(noise_dim=6, cond_dim=2, width=2, image_size=8, condition_names=["a", "b"])
    w = seed_latents(g, [3, 3, 4], truncation=0.5, condition="b")
    assert torch.equal(w[0], w[1]) and not torch.equal(w[0], w[2])
    assert torch.equal(w[:, 6:], torch.tensor([[0.0, 1.0]] * 3))
    t = truncate(w, g.mean_latent(), 0.0, noise_dim=6)
    assert torch.equal(t[:, :6], torch.zeros(3, 6)) and torch.equal(t[:, 6:], w[:, 6:])
    with pytest.raises(ParameterError):
        seed_latents(g, [-1])
    with pytest.raises(ParameterError):
        LatentPath(torch.randn(1, 4))
    with pytest.raises(ParameterError):
        LatentPath(torch.randn(2, 4), interpolation="cubic")
