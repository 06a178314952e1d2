"""Image sets for the GAN: offline sources or any folder, square, deduplicated and split by content.

Sources:

* ``"tuxpaint"`` — Tux Paint's raster stamps (``tuxpaint-stamps-default``, ~800 PNG), alpha composited on white;
* ``"fashion-mnist"`` — 28 x 28 clothes (``dataset-fashion-mnist``), greyscale as RGB;
* a folder — every image below it (png, jpeg, bmp, gif, tiff, webp), recursively.

Every picture is made square (``fit="pad"``: padded with white around the whole picture, the default for stamps
and drawings; ``"crop"``: the central square, for photographs) and resized to ``image_size``.
Exact duplicates (same decoded pixels) are dropped. The split follows a perceptual fingerprint (an 8 x 8
average hash of the resized picture), so a picture and its near-copies (a recoloured stamp, a re-encoded photo)
land in the same split: ``SPLIT_FRACTIONS`` of the hash space go to validation and test.

Example
-------
>>> data = load_images("tuxpaint", image_size=32)                  # doctest: +SKIP
>>> data.part("train").shape                                       # doctest: +SKIP
(640, 3, 32, 32)
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latentstudio.core.image import image_files
from latentstudio.errors import ParameterError

SOURCES = ("tuxpaint", "fashion-mnist")
#: Fractions of the fingerprint-hash space for validation and test.
SPLIT_FRACTIONS = {"validation": 0.1, "test": 0.1}
FITS = ("pad", "crop")


@dataclass
class ImageSet:
    """Square images ``(N, 3, S, S)`` uint8 with their split and origin.

    ``split[i]`` is ``"train"``, ``"validation"`` or ``"test"``; ``names[i]`` says where image ``i`` came from.
    """

    images: np.ndarray
    split: np.ndarray
    names: list[str]
    source: str
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_size(self) -> int:
        return int(self.images.shape[-1])

    def part(self, name: str) -> np.ndarray:
        """The images of one split."""
        if name not in ("train", "validation", "test"):
            raise ParameterError(f"split={name!r} must be 'train', 'validation' or 'test'")
        return self.images[self.split == name]

    def counts(self) -> dict[str, int]:
        return {s: int((self.split == s).sum()) for s in ("train", "validation", "test")}


def to_float(images: np.ndarray):
    """uint8 ``(N, 3, S, S)`` -> float32 torch tensor in [0, 1]."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(images)).float().div_(255.0)


def fingerprint(image: np.ndarray) -> str:
    """An 8 x 8 average hash of an ``(3, S, S)`` uint8 image (hex): near-copies share it."""
    grey = image.astype(np.float32).mean(axis=0)
    s = grey.shape[0]
    k = max(1, s // 8)
    small = grey[: k * 8, : k * 8].reshape(8, k, 8, k).mean(axis=(1, 3))
    bits = (small > small.mean()).astype(np.uint8).ravel()
    return np.packbits(bits).tobytes().hex()


def split_of(key: str) -> str:
    """The split of an item with this fingerprint (a fixed function of its hash)."""
    u = int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) / 0x100000000
    if u < SPLIT_FRACTIONS["test"]:
        return "test"
    if u < SPLIT_FRACTIONS["test"] + SPLIT_FRACTIONS["validation"]:
        return "validation"
    return "train"


def square(arr: np.ndarray, *, image_size: int, fit: str = "pad") -> np.ndarray:
    """An ``(H, W, 3)`` float image in [0, 1] -> ``(3, S, S)`` uint8, padded with white or centre-cropped."""
    from PIL import Image

    if fit not in FITS:
        raise ParameterError(f"fit={fit!r} must be one of {', '.join(FITS)}")
    h, w = arr.shape[:2]
    if fit == "pad":
        side = max(h, w)
        canvas = np.ones((side, side, 3), dtype=np.float32)
        top, left = (side - h) // 2, (side - w) // 2
        canvas[top:top + h, left:left + w] = arr
    else:
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        canvas = arr[top:top + side, left:left + side]
    img = Image.fromarray((np.clip(canvas, 0, 1) * 255 + 0.5).astype(np.uint8))
    if side != image_size:
        img = img.resize((image_size, image_size), Image.LANCZOS)
    return np.asarray(img, dtype=np.uint8).transpose(2, 0, 1).copy()


def _load_files(files: list[Path], *, image_size: int, fit: str, names: list[str] | None = None,
                progress=None) -> tuple[list[np.ndarray], list[str], list[bytes], int]:
    from latentstudio.core.image import load

    from latentstudio.errors import LatentStudioError

    images, kept, digests, unreadable = [], [], [], 0
    for i, path in enumerate(files):
        try:
            arr = load(path, max_side=8192)
        except (LatentStudioError, OSError):
            unreadable += 1
            continue
        digests.append(hashlib.sha1(np.ascontiguousarray((arr * 255 + 0.5).astype(np.uint8)).tobytes()).digest())
        images.append(square(arr, image_size=image_size, fit=fit))
        kept.append(names[i] if names else str(path))
        if progress is not None:
            progress(i + 1, len(files))
    return images, kept, digests, unreadable


def load_images(source: str | os.PathLike, *, image_size: int = 64, fit: str | None = None,
                max_items: int | None = None, seed: int = 0, progress=None) -> ImageSet:
    """Load an image source as a square :class:`ImageSet`, deduplicated and split.

    Parameters
    ----------
    source : ``"tuxpaint"``, ``"fashion-mnist"`` or a folder of images
    image_size : side in pixels (8 .. 1024)
    fit : ``"pad"`` (white border, whole picture) or ``"crop"`` (central square); default pad for the named
        sources, crop for folders
    max_items : keep a seeded random subset of this many (after deduplication)
    seed : the subset
    progress : ``progress(done, total)`` while files are read

    Raises
    ------
    ParameterError : unknown source, an empty folder, fewer than 2 images, bad sizes
    AssetMissingError : a named source whose Debian package is missing (the message names it)
    """
    from latentstudio import assets

    if isinstance(image_size, bool) or not isinstance(image_size, int) or not 8 <= image_size <= 1024:
        raise ParameterError(f"image_size={image_size!r} must be an integer in 8..1024")
    if max_items is not None and (not isinstance(max_items, int) or max_items < 2):
        raise ParameterError(f"max_items={max_items!r} must be an integer >= 2")
    src = str(source)
    if src == "tuxpaint":
        stamps = assets.tuxpaint_stamps(raster_only=True)
        files = [s.image for s in stamps]
        names = [f"tuxpaint:{s.category}/{s.name}" for s in stamps]
        images, kept, digests, unreadable = _load_files(files, image_size=image_size, fit=fit or "pad", names=names,
                                                        progress=progress)
    elif src == "fashion-mnist":
        arrays = []
        for split in ("train", "test"):
            x, _ = assets.fashion_mnist(split)
            arrays.append(x)
        x = np.concatenate(arrays)
        order = np.arange(len(x))
        if max_items is not None and len(x) > 4 * max_items:    # no need to resize 70,000 pictures for a subset
            order = np.sort(np.random.default_rng(seed).choice(len(x), size=4 * max_items, replace=False))
        images, kept, digests = [], [], []
        for i in order:
            g = x[i].astype(np.float32) / 255.0 if x[i].dtype == np.uint8 else x[i].astype(np.float32)
            digests.append(hashlib.sha1(np.ascontiguousarray(x[i]).tobytes()).digest())
            images.append(square(np.repeat(g[..., None], 3, axis=2), image_size=image_size, fit=fit or "pad"))
            kept.append(f"fashion-mnist:{i}")
        unreadable = 0
    else:
        root = Path(source)
        if src in SOURCES or not root.exists():
            raise ParameterError(f"source={src!r} is neither {' nor '.join(SOURCES)} nor an existing folder")
        if not root.is_dir():
            raise ParameterError(f"source {src!r} is a file; give a folder of images")
        images, kept, digests, unreadable = _load_files(image_files(root), image_size=image_size,
                                                        fit=fit or "crop", progress=progress)
    seen: set[bytes] = set()
    keep = []
    for i, d in enumerate(digests):
        if d not in seen:
            seen.add(d)
            keep.append(i)
    if max_items is not None and len(keep) > max_items:
        pick = np.sort(np.random.default_rng(seed).choice(len(keep), size=max_items, replace=False))
        keep = [keep[j] for j in pick]
    if len(keep) < 2:
        raise ParameterError(f"source {src!r} gave {len(keep)} readable distinct image(s); at least 2 are needed")
    arr = np.stack([images[i] for i in keep])
    split = np.array([split_of(fingerprint(im)) for im in arr])
    info = {"duplicates_removed": len(digests) - len(seen), "unreadable": unreadable, "fit": fit or
            ("crop" if src not in SOURCES else "pad"), "image_size": image_size}
    return ImageSet(arr, split, [kept[i] for i in keep], src, info)


__all__ = ["ImageSet", "load_images", "fingerprint", "split_of", "square", "to_float", "SOURCES"]
