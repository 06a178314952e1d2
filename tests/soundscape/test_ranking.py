"""Blended scoring, hub suppression, diverse top k, and the evaluation helpers around them."""

import numpy as np
import pytest
import torch

from latentstudio.errors import ParameterError
from latentstudio.soundscape.evaluate import bootstrap_recall, chance_of_kind, hub_share
from latentstudio.soundscape.index import hub_scores, unit
from latentstudio.soundscape.query import QueryConfig, blended_scores, diverse_top
from latentstudio.soundscape.student import SoundscapeStudent


def _peaked(classes, n=1000):
    p = np.full(n, 1e-4, np.float32)
    p[list(classes)] = 1.0
    return p / p.sum()


def test_a_flat_sound_is_a_hub_and_csls_demotes_it():
    torch.manual_seed(0)
    net = SoundscapeStudent(channels=(4,), embedding_dim=8).eval()
    uniform = np.full(1000, 1e-3, np.float32)
    net.reference = np.stack([0.5 * _peaked([c, c + 1]) + 0.5 * uniform for c in range(0, 300, 10)])
    right, flat = _peaked([500, 501]), uniform                              # flat: hears nothing in particular
    cls = unit(np.stack([right, flat]))
    emb = unit(np.ones((2, 8), np.float32))
    hub = hub_scores(net, emb, cls)
    assert hub.shape == (2, 3) and hub[1, 1] > 10 * hub[0, 1]              # the flat one is near every image
    q = unit((0.04 * _peaked([500, 501]) + 0.96 * uniform)[None])           # a diffuse picture of class 500
    plain = blended_scores(emb[:1], q, emb, cls, hub, config=QueryConfig(blend=0.0, hub=0.0))
    csls = blended_scores(emb[:1], q, emb, cls, hub, config=QueryConfig(blend=0.0, hub=1.0))
    assert plain[0, 1] > plain[0, 0] and csls[0, 0] > csls[0, 1]             # CSLS turns the order round
    assert not hub_scores(SoundscapeStudent(channels=(4,), embedding_dim=8), emb, cls).any()   # no references


def test_label_weight_moves_the_class_score_to_the_label():
    q = unit(_peaked([5])[None])
    cls, lab = unit(np.stack([_peaked([9])])), unit(np.stack([_peaked([5])]))
    emb = unit(np.ones((1, 4), np.float32))
    hub = np.zeros((1, 3), np.float32)
    audio = blended_scores(emb, q, emb, cls, hub, config=QueryConfig(blend=0.0, label=0.0), lab=lab)
    named = blended_scores(emb, q, emb, cls, hub, config=QueryConfig(blend=0.0, label=1.0), lab=lab)
    assert named[0, 0] > 0.9 > 0.1 > audio[0, 0]


def test_diverse_top_skips_near_copies():
    emb = unit(np.array([[1, 0], [1, 0.01], [0, 1], [0.7, 0.7]], np.float32))
    scores = np.array([1.0, 0.99, 0.5, 0.6])
    assert diverse_top(scores, emb, top=2, diversity=0.0) == [0, 1]
    assert diverse_top(scores, emb, top=2, diversity=0.5) == [0, 2]
    assert len(set(diverse_top(scores, emb, top=4, diversity=0.3))) == 4


def test_query_config_is_checked():
    with pytest.raises(ParameterError, match="blend"):
        QueryConfig(blend=1.5)
    with pytest.raises(ParameterError, match="diversity"):
        QueryConfig(diversity=1.0)


def test_interval_hubs_and_chance():
    lo, hi = bootstrap_recall(np.eye(10), ks=(1,))[1]
    assert lo == hi == 1.0
    s = np.random.default_rng(0).random((40, 40))
    lo, hi = bootstrap_recall(s, ks=(10,))[10]
    assert 0.0 <= lo < 0.25 < hi <= 0.6                                  # chance 0.25 inside
    assert hub_share([["a", "b"], ["a", "c"], ["d", "a"], ["e", "f"]]) == (0.75, "a")
    assert chance_of_kind(10, 0) == 0.0 and chance_of_kind(10, 10) == 1.0
    assert chance_of_kind(100, 1, top=5) == pytest.approx(0.05)
