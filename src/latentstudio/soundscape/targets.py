"""Teacher-space targets from labels: a sound's WordNet synset -> a distribution over the 1000 ImageNet classes.

ImageNet's classes are WordNet synsets, so a labelled sound can be given the distribution a teacher
*would* output for a picture of its source, without any picture. Mass goes along the hierarchy:

* every class that *is a* kind of the label (label ``dog`` -> the 118 dog breeds) sits at distance 0;
  a class sits where its pictures are (ImageNet's "cock" and "hen" are chickens: ``IMAGENET_PICTURED``);
* every other class at its shortest WordNet path to the label (``cow`` -> ``ox`` is 2 steps);
* ``weight = exp(-(d - d_min) / scale)`` for the classes within ``window`` steps of the nearest
  ones, 0 beyond; normalised to sum to 1.

A label further than ``max_distance`` steps from every class (``applause``, ``beep``) gets no target:
the hierarchy says nothing about what it would look like.

Example
-------
>>> from latentstudio.zoo.wordnet import wordnet
>>> t = label_target("n02084071", wn=wordnet())            # dog            # doctest: +SKIP
>>> int((t > 0).sum()) >= 118                                                # doctest: +SKIP
True
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from latentstudio.errors import ParameterError
from latentstudio.soundscape.data import LabelSet
from latentstudio.zoo.wordnet import WordNet, imagenet_ancestors, imagenet_wnids, wordnet


@dataclass(frozen=True)
class TargetConfig:
    """How label mass spreads over classes (see the module docstring); defaults chosen on validation."""

    scale: float = 1.0
    window: int = 2
    max_distance: int = 4

    def __post_init__(self) -> None:
        if not self.scale > 0:
            raise ParameterError(f"scale={self.scale!r} must be positive")
        if self.window < 0 or self.max_distance < 0:
            raise ParameterError(f"window={self.window}, max_distance={self.max_distance} must be >= 0")


def class_distances(synset: str, *, wn: WordNet | None = None) -> np.ndarray:
    """``(1000,)`` WordNet steps from ``synset`` to every ImageNet class (0 for its hyponyms; -1 if unrelated)."""
    return _class_distances(synset, wn or wordnet())


@functools.lru_cache(maxsize=4096)
def _class_distances(synset: str, wn: WordNet) -> np.ndarray:
    mine = wn.ancestors(synset)
    out = np.full(1000, -1, dtype=np.int32)
    for c, wnid in enumerate(imagenet_wnids()):
        theirs = imagenet_ancestors(wnid, wn)
        if synset in theirs:
            out[c] = 0
            continue
        common = mine.keys() & theirs.keys()
        if common:
            out[c] = min(mine[a] + theirs[a] for a in common)
    out.setflags(write=False)
    return out


def label_target(synset: str, *, wn: WordNet | None = None, config: TargetConfig = TargetConfig()
                 ) -> np.ndarray | None:
    """The ``(1000,)`` float32 target distribution of a label, or None when it is too far from every class."""
    d = class_distances(synset, wn=wn).astype(np.float64)
    known = d >= 0
    if not known.any():
        return None
    d_min = d[known].min()
    if d_min > config.max_distance:
        return None
    use = known & (d <= d_min + config.window)
    w = np.where(use, np.exp(-(d - d_min) / config.scale), 0.0)
    return (w / w.sum()).astype(np.float32)


#: A label further than this many WordNet steps from every ImageNet class is a loose one (:func:`label_position`).
TRUST_DISTANCE = 3
#: How far a loose label moves its sound from what the student hears towards the label's target.
LOOSE_WEIGHT = 0.5


def label_position(synset: str | None, heard: np.ndarray, *, wn: WordNet | None = None) -> np.ndarray:
    """A sound's unit position in the class space for the query's label term (:mod:`.query`).

    ``heard`` is the student's unit class distribution of the sound. A label within :data:`TRUST_DISTANCE`
    steps of an ImageNet class places the sound at its target (:func:`label_target`). A loose one, further
    than that, places it only :data:`LOOSE_WEIGHT` of the way from ``heard`` to the target: ``caribou``
    (4 steps) spreads over 15 hoofed animals from llamas to hogs and would match every picture of them
    moderately. Without a usable label, ``heard``. Chosen on validation (3 seeds, default query): the largest
    hub 6.7 % (``caribou``) -> 5.7 % on every seed, pictures and their ranks unchanged; weight 0 (the student
    alone) 5.7-6.7 %, trusting labels to 2 steps the same hubs with slightly lower relatedness.
    """
    from latentstudio.soundscape.index import unit

    heard = unit(heard)
    if not synset:
        return heard
    target = label_target(synset, wn=wn)
    if target is None:
        return heard
    d = class_distances(synset, wn=wn)
    if d[d >= 0].min() <= TRUST_DISTANCE:
        return unit(target)
    return unit(LOOSE_WEIGHT * unit(target) + (1 - LOOSE_WEIGHT) * heard)


def label_targets(synsets: list[str], *, config: TargetConfig = TargetConfig(), wn: WordNet | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Targets of many labels: ``((N, 1000) float32, (N,) bool usable)``; unusable rows are zero."""
    wn = wn or wordnet()
    out = np.zeros((len(synsets), 1000), dtype=np.float32)
    ok = np.zeros(len(synsets), dtype=bool)
    cache: dict[str, np.ndarray | None] = {}
    for i, s in enumerate(synsets):
        if not s:
            continue
        if s not in cache:
            cache[s] = label_target(s, wn=wn, config=config)
        if cache[s] is not None:
            out[i], ok[i] = cache[s], True
    return out, ok


def library_labels(library, *, packages, config: TargetConfig = TargetConfig(), exclude_hashes=()) -> LabelSet:
    """The sounds of a :class:`~.library.LoadedLibrary` from ``packages`` whose label gives a target.

    ``exclude_hashes`` drops sounds by decoded-audio hash (e.g. the held-out pairs' own sounds).
    """
    packages, exclude = set(packages), set(exclude_hashes)
    keep = [i for i, s in enumerate(library.sounds)
            if s.package in packages and s.synset and library.hashes[i] not in exclude]
    targets, ok = label_targets([library.sounds[i].synset for i in keep], config=config)
    keep = [i for i, good in zip(keep, ok) if good]
    return LabelSet(names=[library.sounds[i].name for i in keep], groups=[library.sounds[i].synset for i in keep],
                    waveforms=[library.waveforms[i] for i in keep], targets=targets[ok],
                    packages=[library.sounds[i].package for i in keep])


__all__ = ["TargetConfig", "class_distances", "label_target", "label_targets", "library_labels", "label_position",
           "TRUST_DISTANCE", "LOOSE_WEIGHT"]
