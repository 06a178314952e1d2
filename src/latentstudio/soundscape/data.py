"""Where (image, sound) pairs come from, and how they are split.

Three sources, one result (:class:`PairSet`): every item is a mono waveform at the student's rate,
its teacher distributions over several views (augmented crops of an image, or the frames of a video
window), and a *group* so that a held-out split never puts the same sound on both sides.

* :func:`tuxpaint_pairs` — the offline default: Tux Paint stamps that have their own sound.
* :func:`manifest_pairs` — a CSV (``image,sound`` columns) or JSON list of ``{"image", "sound"}``.
* :func:`video_pairs` — a folder of videos: audio cut into windows, frames of each window.

:func:`reference_logits` gives the teacher's view of pictures without sound (the reference queries of hubness).

Teacher outputs are cached (logits, keyed by the image's content hash (SHA-256) and the view settings) under
``assets.cache_dir()/soundscape`` because they are deterministic and slow to recompute.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latentstudio.catalog import hash_file
from latentstudio.core.fileio import atomic_path
from latentstudio.core.video import VIDEO_EXTENSIONS
from latentstudio.core.image import load as load_image
from latentstudio.errors import ParameterError
from latentstudio.soundscape.augment import augment_image
from latentstudio.soundscape.features import MelSpec, audio_hash, load_sound
from latentstudio.soundscape.teacher import Teacher, softmax

Progress = Callable[[int, int], None] | None


@dataclass
class PairSet:
    """Paired training material.

    Attributes
    ----------
    names : a readable name per item
    groups : items with the same group (same sound content, same video) are split together
    waveforms : mono float32 signals at the student's sample rate
    logits : ``(views, classes)`` teacher logits per item (temperature is applied at training time)
    images, sounds : where each item came from
    skipped : ``(path, reason)`` of inputs that could not be read
    """

    names: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    waveforms: list[np.ndarray] = field(default_factory=list)
    logits: list[np.ndarray] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    sounds: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.names)

    def subset(self, index) -> PairSet:
        """The items at ``index`` (a list of ints or a boolean mask)."""
        idx = np.flatnonzero(index) if np.asarray(index).dtype == bool else list(index)
        pick = lambda xs: [xs[i] for i in idx]  # noqa: E731
        return PairSet(pick(self.names), pick(self.groups), pick(self.waveforms), pick(self.logits),
                       pick(self.images), pick(self.sounds), list(self.skipped))

    def distributions(self, *, temperature: float, view: int | None = 0) -> np.ndarray:
        """Teacher distributions ``(N, classes)`` of one view per item (view 0 = the plain image)."""
        if view is None:
            return np.stack([softmax(lg, temperature=temperature).mean(axis=0) for lg in self.logits])
        return np.stack([softmax(lg[min(view, len(lg) - 1)], temperature=temperature) for lg in self.logits])


@dataclass
class LabelSet:
    """Labelled sounds without pictures: each with its teacher-space target from WordNet (:mod:`.targets`).

    Attributes
    ----------
    names : a readable name per sound
    groups : the label's synset (sounds of one label are never each other's negatives)
    waveforms : mono float32 signals at the student's sample rate
    targets : ``(N, classes)`` float32 target distributions
    packages : the package (origin) of each sound
    """

    names: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    waveforms: list[np.ndarray] = field(default_factory=list)
    targets: np.ndarray = field(default_factory=lambda: np.zeros((0, 1000), np.float32))
    packages: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.names)


def image_views(image: np.ndarray, *, views: int, seed: int, size: int = 224) -> list[np.ndarray]:
    """``views`` views of an image: the plain image first, then random augmented crops."""
    rng = np.random.default_rng(seed)
    return [image] + [augment_image(image, rng=rng, size=size) for _ in range(views - 1)]


def _cached_view_logits(image_path: Path, teacher: Teacher, *, views: int, seed: int,
                        cache: Path | None) -> np.ndarray:
    h = hash_file(image_path)
    # the teacher's own views (centre crop, or crop and whole picture) change its logits: they key the cache too
    looks = "" if teacher.views == "crop" else f"|{teacher.views}"
    key = hashlib.sha1(f"{h}|{teacher.name}|{views}|{seed}|v2{looks}".encode()).hexdigest()
    file = cache / f"{key}.npy" if cache is not None else None
    if file is not None and file.exists():
        try:
            arr = np.load(file, allow_pickle=False)
            if arr.shape == (views, teacher.num_classes):
                return arr
        except (OSError, ValueError):
            pass
    img = load_image(image_path)
    view_seed = (int(seed) * 1_000_003 + int(h[:8], 16)) % 2**32      # views follow the image, not its position
    logits = teacher.logits(image_views(img, views=views, seed=view_seed)).astype(np.float32)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(file) as tmp, open(tmp, "wb") as f:
            np.save(f, logits, allow_pickle=False)
    return logits


def _default_cache() -> Path:
    from latentstudio import assets

    return assets.cache_dir() / "soundscape" / "teacher"


def _image_sound_pairs(pairs: list[tuple[str, Path, Path]], teacher: Teacher, *, spec: MelSpec, views: int,
                       seed: int, progress: Progress, cache: Path | None) -> PairSet:
    out = PairSet()
    for i, (name, image, sound) in enumerate(pairs):
        try:
            y = load_sound(sound, spec=spec)
            group = audio_hash(y)                  # copies of one sound (any file, any encoding) split together
        except ParameterError as exc:
            out.skipped.append((str(sound), str(exc)))
            continue
        try:
            logits = _cached_view_logits(Path(image), teacher, views=views, seed=seed, cache=cache)
        except ParameterError as exc:
            out.skipped.append((str(image), str(exc)))
            continue
        out.names.append(name)
        out.groups.append(group)
        out.waveforms.append(y)
        out.logits.append(logits)
        out.images.append(str(image))
        out.sounds.append(str(sound))
        if progress is not None:
            progress(i + 1, len(pairs))
    return out


def reference_logits(images, teacher: Teacher, *, progress: Progress = None, cache: Path | None | str = "default"
                     ) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Teacher logits ``(N, classes)`` of plain (unaugmented) ``images``, cached like the pairs' views, and the
    ``(path, reason)`` of images that could not be read (skipped). The reference queries of hubness
    (:func:`~.index.hub_scores`) are their distributions."""
    cache = _default_cache() if cache == "default" else cache
    rows, skipped = [], []
    images = list(images)
    for i, image in enumerate(images):
        try:
            rows.append(_cached_view_logits(Path(image), teacher, views=1, seed=0, cache=cache)[0])
        except ParameterError as exc:
            skipped.append((str(image), str(exc)))
        if progress is not None:
            progress(i + 1, len(images))
    out = np.stack(rows).astype(np.float32) if rows else np.zeros((0, teacher.num_classes), np.float32)
    return out, skipped


def tuxpaint_pairs(teacher: Teacher, *, spec: MelSpec, views: int = 16, seed: int = 0, progress: Progress = None,
                   cache: Path | None | str = "default") -> PairSet:
    """The Tux Paint stamps that have their own sound, as (image, sound) pairs (about 130).

    Example
    -------
    >>> pairs = tuxpaint_pairs(Teacher(), spec=MelSpec(), views=2)     # doctest: +SKIP
    >>> len(pairs) > 100
    True
    """
    from latentstudio import assets

    stamps = assets.tuxpaint_stamps(with_sound=True, raster_only=True)
    pairs = [(s.name, s.image, s.sound) for s in stamps]
    return _image_sound_pairs(pairs, teacher, spec=spec, views=views, seed=seed, progress=progress,
                              cache=_default_cache() if cache == "default" else cache)


def read_manifest(path: str | os.PathLike) -> list[tuple[str, Path, Path]]:
    """``(name, image, sound)`` rows of a CSV (header ``image,sound[,name]``) or JSON manifest.

    Relative paths are relative to the manifest's folder.
    """
    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"manifest {str(p)!r} does not exist")
    rows: list[dict] = []
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ParameterError(f"manifest {str(p)!r} is not valid JSON ({exc})") from None
        rows = data.get("pairs", []) if isinstance(data, dict) else data
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ParameterError(f"manifest {str(p)!r} must be a list of {{\"image\", \"sound\"}} objects")
    else:
        with open(p, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    out = []
    for i, r in enumerate(rows):
        if not r.get("image") or not r.get("sound"):
            raise ParameterError(f"manifest {str(p)!r} row {i + 1} needs 'image' and 'sound' (got {sorted(r)})")
        image, sound = (p.parent / str(r["image"]).strip(), p.parent / str(r["sound"]).strip())
        out.append((str(r.get("name") or Path(sound).stem), image, sound))
    if not out:
        raise ParameterError(f"manifest {str(p)!r} lists no pairs")
    return out


def manifest_pairs(path: str | os.PathLike, teacher: Teacher, *, spec: MelSpec, views: int = 16, seed: int = 0,
                   progress: Progress = None, cache: Path | None | str = "default") -> PairSet:
    """Pairs from a manifest (see :func:`read_manifest`); unreadable files are skipped and reported."""
    return _image_sound_pairs(read_manifest(path), teacher, spec=spec, views=views, seed=seed, progress=progress,
                              cache=_default_cache() if cache == "default" else cache)


def video_pairs(folder: str | os.PathLike, teacher: Teacher, *, spec: MelSpec, frames_per_window: int = 4,
                progress: Progress = None) -> PairSet:
    """A folder of videos -> one item per audio window; its views are the frames inside that window.

    Audio is extracted with the bundled ffmpeg and cut into non-overlapping windows of
    ``spec.window_seconds``; ``frames_per_window`` frames spread over each window are shown to the
    teacher. Items of one video share a group, so a split never divides a video.
    """
    from latentstudio.core import video as core_video

    from latentstudio.core.fileio import files_under

    files = files_under(folder, VIDEO_EXTENSIONS, kind="videos")
    out = PairSet()
    win = spec.window_samples
    for k, f in enumerate(files):
        try:
            y, _ = core_video.extract_audio(f, sr=spec.sr)
            y = np.asarray(y, dtype=np.float32)
            y = y.mean(axis=0) if y.ndim == 2 else y
            n_win = len(y) // win
            if n_win == 0:
                raise ParameterError(f"video {str(f)!r} has under {spec.window_seconds} s of audio")
            times = [(w + (j + 0.5) / frames_per_window) * spec.window_seconds
                     for w in range(n_win) for j in range(frames_per_window)]
            frames = core_video.read_video_frames(f, times=times)
        except ParameterError as exc:
            out.skipped.append((str(f), str(exc)))
            continue
        group = hash_file(f)
        logits = teacher.logits(list(frames))
        for w in range(n_win):
            seg = y[w * win:(w + 1) * win]
            if np.max(np.abs(seg)) < 1e-3:
                continue
            out.names.append(f"{f.stem}@{w * spec.window_seconds:.0f}s")
            out.groups.append(group)
            out.waveforms.append(seg)
            out.logits.append(logits[w * frames_per_window:(w + 1) * frames_per_window])
            out.images.append(str(f))
            out.sounds.append(str(f))
        if progress is not None:
            progress(k + 1, len(files))
    return out


def split_three(groups: list[str], *, validation: float, test: float, seed: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean masks (train, validation, test) with whole groups on one side; fractions are of groups.

    Example
    -------
    >>> tr, va, te = split_three(list("aabcdefghij"), validation=0.2, test=0.2, seed=0)
    >>> bool((tr ^ va ^ te).all()), int(va.sum()) >= 2, int(te.sum()) >= 2
    (True, True, True)
    """
    if not (0.0 <= validation < 1.0 and 0.0 <= test < 1.0 and validation + test < 1.0):
        raise ParameterError(f"validation={validation}, test={test} must be fractions summing below 1")
    unique = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(unique))
    n_test, n_val = int(round(test * len(unique))), int(round(validation * len(unique)))
    test_g = {unique[i] for i in order[:n_test]}
    val_g = {unique[i] for i in order[n_test:n_test + n_val]}
    te = np.array([g in test_g for g in groups], dtype=bool)
    va = np.array([g in val_g for g in groups], dtype=bool)
    return ~(te | va), va, te


__all__ = ["PairSet", "LabelSet", "split_three", "tuxpaint_pairs", "reference_logits", "manifest_pairs", "video_pairs",
           "read_manifest", "image_views"]
