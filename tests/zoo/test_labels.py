"""latentstudio.zoo.labels: the 1000 ImageNet names and lookup by name."""

from __future__ import annotations

import numpy as np
import pytest

from latentstudio.errors import ParameterError
from latentstudio.zoo import class_index, imagenet_labels


def test_thousand_distinct_names():
    labels = imagenet_labels()
    assert len(labels) == 1000
    assert len({name.lower() for name in labels}) == 1000
    assert all(name == name.strip() and name for name in labels)


@pytest.mark.parametrize("index, name", [
    (0, "tench"), (1, "goldfish"), (31, "tree frog"), (281, "tabby cat"), (282, "tiger cat"),
    (285, "Egyptian cat"), (504, "coffee mug"), (967, "espresso"), (968, "cup"), (409, "analog clock"),
    (530, "digital clock"), (920, "traffic light"), (999, "toilet paper"), (388, "giant panda"),
])
def test_known_indices(index, name):
    assert imagenet_labels()[index] == name
    assert class_index(name) == index


def test_lookup_case_substring_and_numbers():
    assert class_index("ESPRESSO") == 967
    assert class_index("  tabby   cat ") == 281
    assert class_index("tabby") == 281                       # unique substring
    assert class_index(504) == 504
    assert class_index(np.int64(7)) == 7
    assert class_index("968") == 968


def test_ambiguous_unknown_and_out_of_range():
    with pytest.raises(ParameterError, match="ambiguous.*crane bird.*construction crane"):
        class_index("crane")
    with pytest.raises(ParameterError, match="did you mean.*mitten"):
        class_index("mittten")
    with pytest.raises(ParameterError, match="out of range"):
        class_index(1000)
    with pytest.raises(ParameterError, match="out of range"):
        class_index(-1)
    with pytest.raises(ParameterError):
        class_index("")
    with pytest.raises(ParameterError):
        class_index(2.5)
    with pytest.raises(ParameterError):
        class_index(True)


def test_labels_are_a_copy():
    imagenet_labels()[0] = "changed"
    assert imagenet_labels()[0] == "tench"
