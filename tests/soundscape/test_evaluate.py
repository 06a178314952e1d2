import numpy as np
import pytest

from latentstudio.soundscape.data import split_three
from latentstudio.soundscape.evaluate import (chance_recall, name_baseline_scores, name_label_vectors, name_words,
                                              recall_at_k)


def test_recall_perfect_and_random_ties():
    assert recall_at_k(np.eye(5), ks=(1, 5)) == {1: 1.0, 5: 1.0}
    # all scores tied: expected recall equals chance, not 1 (the gallery order must not matter)
    r = recall_at_k(np.zeros((10, 10)), ks=(1, 5, 10))
    assert r == pytest.approx(chance_recall(10))


def test_recall_counts_duplicate_sounds_as_hits():
    s = np.array([[0.1, 0.9, 0.0], [0.9, 0.1, 0.0], [0.0, 0.0, 1.0]])
    pos = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]], bool)
    assert recall_at_k(s, ks=(1,), positives=pos)[1] == 1.0
    assert recall_at_k(s, ks=(1,))[1] == pytest.approx(1 / 3)


def test_name_baseline_matches_label_words():
    labels = ["tiger", "tiger cat", "ox", "espresso"]
    assert name_words("cow_white") == ["cow", "white"]
    v = name_label_vectors(["tiger", "cow"], labels)
    assert v[0].tolist() == [0.5, 0.5, 0, 0] and v[1].sum() == 0
    probs = np.array([[0.9, 0.0, 0.1, 0.0]])
    assert name_baseline_scores(probs, ["tiger", "cow"], labels)[0].tolist() == pytest.approx([0.45, 0.0])


def test_split_keeps_groups_together():
    groups = ["a", "a", "b", "c", "c", "d", "e", "f"]
    train, _, test = split_three(groups, validation=0.0, test=0.34, seed=3)
    for g in set(groups):
        sides = {bool(test[i]) for i, x in enumerate(groups) if x == g}
        assert len(sides) == 1
    assert 0 < test.sum() < len(groups)


def test_picture_sets_are_fixed_disjoint_and_soundless():
    from latentstudio import assets
    from latentstudio.soundscape.evaluate import TEST_PICTURES, VALIDATION_PICTURES

    assert len(TEST_PICTURES) == 7
    assert not {p.name for p in TEST_PICTURES} & {p.name for p in VALIDATION_PICTURES}
    with_sound = {f"{s.category}/{s.name}" for s in assets.tuxpaint_stamps(with_sound=True)}
    for p in TEST_PICTURES + VALIDATION_PICTURES:
        assert p.source in ("sample", "tuxpaint") and p.kinds
        assert p.source == "sample" or p.name not in with_sound          # no picture has its own sound


def test_picture_sets_name_real_pictures_and_synsets():
    """Every picture exists (no two the same content) and its subject and kinds are WordNet noun synsets."""
    from latentstudio.soundscape.evaluate import TEST_PICTURES, VALIDATION_PICTURES
    from latentstudio.zoo.wordnet import wordnet

    wn = wordnet()
    pictures = TEST_PICTURES + VALIDATION_PICTURES
    assert len({p.name for p in pictures}) == len(pictures)
    contents = set()
    for p in pictures:
        img = p.load()
        assert img.ndim == 3 and min(img.shape[:2]) >= 32, p.name
        contents.add(img.tobytes())
        assert p.subject in wn and all(k in wn for k in p.kinds), p.name
    assert len(contents) == len(pictures)
