"""The calibrated voice space: a recording is standardised by its own statistics, shrunk to the examples'."""

import numpy as np

from latentstudio.beatbox.classifier import VoiceSpace


def _space(examples, owner, shrink):
    mean = examples.mean(0)
    std = examples.std(0) + 1e-3 * (np.abs(mean) + 1.0)
    space = VoiceSpace(mean, std, np.zeros(0), np.asarray(owner), shrink=shrink)
    space.examples = space.project(examples)
    return space


def _voice(rng, centres, per_class, offset=0.0, scale=1.0):
    feats = np.concatenate([c + 0.15 * rng.standard_normal((per_class, centres.shape[1])) for c in centres])
    return scale * feats + offset, np.repeat(np.arange(len(centres)), per_class)


def test_another_voice_shifted_and_scaled_is_recognised_only_with_its_own_statistics():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((3, 12))
    ex, owner = _voice(rng, centres, 4)
    # another voice: every feature shifted and stretched (a different vocal tract, microphone, room)
    offset = 1.5 * rng.standard_normal(12)
    feats, truth = _voice(rng, centres, 16, offset=offset, scale=1.8)
    acc = {}
    for shrink in (np.inf, 32.0):
        pred = np.nanargmax(_space(ex, owner, shrink).scores(feats, 3), axis=1)
        acc[shrink] = float(np.mean(pred == truth))
    assert acc[32.0] >= 0.95 and acc[np.inf] <= 0.8


def test_a_single_sound_or_infinite_shrink_keeps_the_examples_statistics():
    rng = np.random.default_rng(1)
    ex, owner = _voice(rng, rng.standard_normal((2, 8)), 4)
    space = _space(ex, owner, 32.0)
    one = ex[:1] + 5.0
    mean, std = space.recording_stats(one)
    assert np.array_equal(mean, space.mean) and np.array_equal(std, space.std)
    feats = ex + 0.3
    inf_space = _space(ex, owner, np.inf)
    sim = inf_space.project(feats) @ inf_space.examples.T            # the examples' statistics only
    expected = np.stack([sim[:, owner == c].max(1) for c in (0, 1)], axis=1)
    assert np.allclose(inf_space.scores(feats, 2), expected)
    m, s = inf_space.recording_stats(feats)
    assert np.array_equal(m, inf_space.mean) and np.array_equal(s, inf_space.std)
