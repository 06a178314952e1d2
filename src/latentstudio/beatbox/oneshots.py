"""Labelled drum one-shots from the installed Hydrogen kits, for training and judging the classifier.

Every sample of every instrument whose name maps to a drum class (``latentstudio.assets.drum_class``)
becomes one example: mono, 16 kHz, leading silence trimmed, peak-normalised, cut or padded to
:data:`STORE_SAMPLES` (room for pitch shifts downwards). Whole kits are held out so that judging
uses a kit the classifier never heard.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentstudio.assets import DRUM_CLASSES
from latentstudio.beatbox.features import SR
from latentstudio.errors import ParameterError

#: Kits never used for training the shipped classifier (one acoustic, one electronic).
HELD_OUT_KITS = ("The Black Pearl 1.0", "HardElectro1")
STORE_SAMPLES = SR  # one second
CLASSES = DRUM_CLASSES


@dataclass
class OneShots:
    """``audio`` (n, STORE_SAMPLES) float32 at 16 kHz, ``labels`` (n,) class indices, ``kits`` / ``names``."""

    audio: np.ndarray
    labels: np.ndarray
    kits: list[str]
    names: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, mask: np.ndarray) -> OneShots:
        idx = np.flatnonzero(mask)
        return OneShots(self.audio[idx], self.labels[idx], [self.kits[i] for i in idx],
                        [self.names[i] for i in idx])


def trim_leading(y: np.ndarray, *, threshold_db: float = -40.0) -> np.ndarray:
    """Drop the samples before ``y`` first reaches ``threshold_db`` relative to its peak (less 2 ms)."""
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak == 0.0:
        return y
    first = int(np.argmax(np.abs(y) >= peak * 10 ** (threshold_db / 20)))
    return y[max(0, first - int(0.002 * SR)):]


def load_sample(path, *, sr: int = SR, n: int = STORE_SAMPLES) -> np.ndarray:
    """One drum sample: mono at ``sr``, leading silence trimmed, peak 1, cut or padded to ``n`` samples."""
    from latentstudio.core.audio import load

    y, _ = load(path, sr=sr, duration=3.0)
    y = trim_leading(y)
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > 0:
        y = y / peak
    return (y[:n] if len(y) >= n else np.pad(y, (0, n - len(y)))).astype(np.float32)


def load_oneshots(*, kits: list[str] | None = None, exclude: tuple[str, ...] = ()) -> OneShots:
    """Load every classifiable one-shot of the installed kits (or of ``kits``), minus ``exclude``.

    Raises
    ------
    AssetMissingError : no Hydrogen kits installed
    ParameterError : an unknown kit name, or no samples left
    """
    from latentstudio.assets import drumkits

    installed = drumkits()
    names = {k.name.lower(): k for k in installed} | {k.path.name.lower(): k for k in installed}
    chosen = installed if kits is None else []
    for name in kits or []:
        if name.lower() not in names:
            raise ParameterError(f"kit {name!r} is not installed; installed: {', '.join(k.name for k in installed)}")
        chosen.append(names[name.lower()])
    skip = {e.lower() for e in exclude}
    audio, labels, kit_names, sample_names = [], [], [], []
    for kit in chosen:
        if kit.name.lower() in skip or kit.path.name.lower() in skip:
            continue
        for inst in kit.instruments:
            if inst.drum_class not in CLASSES:
                continue
            for f in inst.files:
                try:
                    y = load_sample(f)
                except ParameterError:
                    continue  # a broken sample in a kit is skipped, not fatal
                if not np.any(y):
                    continue
                audio.append(y)
                labels.append(CLASSES.index(inst.drum_class))
                kit_names.append(kit.name)
                sample_names.append(f"{inst.name}/{f.name}")
    if not audio:
        raise ParameterError(f"no drum one-shots found in kits={kits!r} (excluding {list(exclude)})")
    return OneShots(np.stack(audio), np.array(labels, dtype=np.int64), kit_names, sample_names)
