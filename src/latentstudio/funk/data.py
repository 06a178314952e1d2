"""NeuralFunk's samples: every drum and one-shot source the project has, deduped and split by source.

The drum one-shots come from :mod:`latentstudio.beatbox.oneshots` (Hydrogen kits, LMMS one-shots and rendered
DrumSynth presets, Sonic Pi, FluidR3's GM kits, user folders), already deduplicated by decoded-audio hash and
near-copy fingerprint and split by origin: train on Hydrogen + LMMS (+ the user's folders), choose on
Sonic Pi + the Millo kits, judge on FluidR3 GM. The Tux Paint stamps' own sounds (effects, animals,
instruments: one-shots that are not drums) join the train split unlabelled (class -1), so the latent space
knows more than drums. Every sound is mono 16 kHz, leading silence trimmed, peak 1, :data:`SECONDS` long.

Example
-------
>>> data = load_samples()                                    # doctest: +SKIP
>>> sorted(set(data.split)), data.audio.shape[1]             # doctest: +SKIP
(['test', 'train', 'validation'], 16000)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from latentstudio.assets import DRUM_CLASSES as CLASSES
from latentstudio.errors import AssetMissingError, ParameterError

SECONDS = 1.0
__all__ = ["CLASSES", "SECONDS", "Samples", "load_samples"]


@dataclass
class Samples:
    """``audio`` (n, samples) float32 at 16 kHz; ``labels`` (n,) drum class index or -1; ``split``, ``sources``
    and ``names`` per sound."""

    audio: np.ndarray
    labels: np.ndarray
    split: np.ndarray
    sources: list[str]
    names: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def part(self, name: str) -> "Samples":
        if name not in ("train", "validation", "test"):
            raise ParameterError(f"split={name!r} must be 'train', 'validation' or 'test'")
        idx = np.flatnonzero(self.split == name)
        return Samples(self.audio[idx], self.labels[idx], self.split[idx], [self.sources[i] for i in idx],
                       [self.names[i] for i in idx])


def _tuxpaint_sounds(seen: set[str]) -> tuple[list[np.ndarray], list[str]]:
    from latentstudio.assets import tuxpaint_stamps
    from latentstudio.beatbox.oneshots import content_hash, load_sample

    audio, names = [], []
    try:
        stamps = tuxpaint_stamps(with_sound=True)
    except AssetMissingError:
        return audio, names
    for st in stamps:
        if st.sound is None:
            continue
        try:
            y = load_sample(st.sound)
        except ParameterError:
            continue
        h = content_hash(y)
        if not np.any(y) or h in seen:
            continue
        seen.add(h)
        audio.append(y)
        names.append(f"tuxpaint/{st.category}/{st.name}")
    return audio, names


def load_samples(*, folders: tuple[str | os.PathLike, ...] = (), tuxpaint: bool = True) -> Samples:
    """Every installed sample source (and the user's ``folders``, which train), split by origin.

    Raises
    ------
    ParameterError : no drum sources installed
    """
    from latentstudio.beatbox.oneshots import load_splits

    splits, _ = load_splits(folders=tuple(str(f) for f in folders))
    audio, labels, split, sources, names = [], [], [], [], []
    seen: set[str] = set()
    for name, part in splits.items():
        audio.append(part.audio)
        labels.append(part.labels)
        split += [name] * len(part)
        sources += list(part.sources)
        names += list(part.names)
        seen.update(part.hashes)
    if tuxpaint:
        tux, tux_names = _tuxpaint_sounds(seen)
        if tux:
            audio.append(np.stack(tux))
            labels.append(np.full(len(tux), -1, dtype=np.int64))
            split += ["train"] * len(tux)
            sources += ["tuxpaint-stamps-default"] * len(tux)
            names += tux_names
    if not audio or sum(len(a) for a in audio) == 0:
        raise ParameterError("no samples: install hydrogen-data, lmms-common or sonic-pi-samples (make test does)")
    return Samples(np.concatenate(audio).astype(np.float32), np.concatenate(labels).astype(np.int64),
                   np.array(split), sources, names)
