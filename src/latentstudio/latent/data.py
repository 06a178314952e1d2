"""Labelled data for the latent-space works: texts or images, each with a label that colours its dot.

Sources (all offline):

* ``"wordnet"`` — WordNet noun glosses labelled by their lexicographer file (``wordnet-base``); the 12 largest
  classes by default (~70k texts: the closest offline match to Latent Pulsations' ~300k complaints).
* ``"fortunes"`` — fortune-cookie texts labelled by their file (``fortunes``; 38 categories, 12 largest kept).
* ``"fashion-mnist"`` — 28x28 clothing images, 10 labels (``dataset-fashion-mnist``).
* a ``.csv`` file — a text column and a label column; the CFPB consumer-complaints export is recognised by its
  published column names (``Consumer complaint narrative``, ``Product``), the original piece's data.
* an image folder — one sub-folder per label.

Items are deduplicated by content (normalised text, or pixel bytes) and split into train / validation / test
by a hash of that content, so a text and its duplicate never straddle the splits.

Example
-------
>>> data = load_data("fortunes", max_items=500, seed=0)           # doctest: +SKIP
>>> data.kind, len(data), data.label_names[:2]                     # doctest: +SKIP
('text', 500, ['fortunes', 'literature'])
"""

from __future__ import annotations

import csv
import hashlib
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latentstudio.core.image import image_files
from latentstudio.errors import ParameterError

SOURCES = ("wordnet", "fortunes", "fashion-mnist")
#: Column names of the CFPB consumer-complaints export (https://www.consumerfinance.gov/data-research/
#: consumer-complaints/), tried first when a CSV is given without ``text_column`` / ``label_column``.
CFPB_TEXT, CFPB_LABEL = "Consumer complaint narrative", "Product"
_TEXT_COLUMNS = (CFPB_TEXT, "text", "Text", "body", "content", "narrative", "sentence", "document")
_LABEL_COLUMNS = (CFPB_LABEL, "label", "Label", "category", "Category", "class", "topic", "product")
#: Fractions of the content-hash space for validation and test.
SPLIT_FRACTIONS = {"validation": 0.1, "test": 0.1}


@dataclass
class LatentData:
    """Items with integer labels.

    ``items``: list of texts (``kind="text"``) or a float32 array ``(N, C, H, W)`` in [0, 1] (``"image"``);
    ``labels``: int64 ``(N,)`` indexing ``label_names``; ``split``: ``"train"``/``"validation"``/``"test"``
    per item; ``source``: what was loaded (for provenance).
    """

    kind: str
    items: list[str] | np.ndarray
    labels: np.ndarray
    label_names: list[str]
    split: np.ndarray
    source: str
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, mask_or_index) -> "LatentData":
        idx = np.flatnonzero(mask_or_index) if np.asarray(mask_or_index).dtype == bool else np.asarray(mask_or_index)
        items = [self.items[i] for i in idx] if self.kind == "text" else self.items[idx]
        return LatentData(self.kind, items, self.labels[idx], self.label_names, self.split[idx], self.source,
                          dict(self.info))

    def part(self, name: str) -> "LatentData":
        """The items of one split (``"train"``, ``"validation"``, ``"test"``)."""
        if name not in ("train", "validation", "test"):
            raise ParameterError(f"split={name!r} must be 'train', 'validation' or 'test'")
        return self.subset(self.split == name)


def _norm_text(text: str) -> str:
    return " ".join(text.lower().split())


def content_hash(item) -> str:
    """SHA-1 of an item's content: whitespace- and case-normalised text, or an image's pixel bytes."""
    if isinstance(item, str):
        return hashlib.sha1(_norm_text(item).encode("utf-8")).hexdigest()
    return hashlib.sha1(np.ascontiguousarray(item).tobytes()).hexdigest()


def split_of(digest: str) -> str:
    """The split an item of this content hash belongs to (a fixed function of the hash)."""
    u = int(digest[:8], 16) / 0x100000000
    if u < SPLIT_FRACTIONS["test"]:
        return "test"
    if u < SPLIT_FRACTIONS["test"] + SPLIT_FRACTIONS["validation"]:
        return "validation"
    return "train"


def _assemble(kind: str, items: list, labels: list[str], *, source: str, max_classes: int | None,
              max_items: int | None, seed: int, min_chars: int = 1) -> LatentData:
    """Dedupe by content, keep the largest classes, subsample, split by hash."""
    if kind == "text":
        keep = [i for i, t in enumerate(items) if isinstance(t, str) and len(t.strip()) >= min_chars]
    else:
        keep = list(range(len(items)))
    seen: dict[str, int] = {}
    hashes = []
    for i in keep:
        h = content_hash(items[i])
        if h not in seen:
            seen[h] = i
            hashes.append((i, h))
    counts = Counter(labels[i] for i, _ in hashes)
    if not counts:
        raise ParameterError(f"data {source!r} holds no items")
    if max_classes is not None:
        if max_classes < 1:
            raise ParameterError(f"max_classes={max_classes} must be at least 1")
        names = [n for n, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:max_classes]]
    else:
        names = sorted(counts)
    names = sorted(names, key=lambda n: (-counts[n], n))
    index = {n: k for k, n in enumerate(names)}
    hashes = [(i, h) for i, h in hashes if labels[i] in index]
    if max_items is not None:
        if max_items < 2:
            raise ParameterError(f"max_items={max_items} must be at least 2")
        if len(hashes) > max_items:
            rng = np.random.default_rng(seed)
            pick = np.sort(rng.choice(len(hashes), size=max_items, replace=False))
            hashes = [hashes[j] for j in pick]
    if kind == "text":
        out_items = [items[i] for i, _ in hashes]
    else:
        out_items = np.stack([items[i] for i, _ in hashes]).astype(np.float32)
    y = np.array([index[labels[i]] for i, _ in hashes], dtype=np.int64)
    split = np.array([split_of(h) for _, h in hashes])
    return LatentData(kind, out_items, y, names, split, source,
                      {"duplicates_removed": len(keep) - len(seen), "classes_available": len(counts)})


def wordnet_glosses(*, root: str | os.PathLike | None = None) -> tuple[list[str], list[str]]:
    """WordNet noun glosses (definition and examples) and their lexicographer files (``wordnet-base``)."""
    from latentstudio.zoo.wordnet import WordNet, wordnet

    wn = WordNet(root) if root is not None else wordnet()
    ids = wn.nouns()
    return [wn.gloss(s) for s in ids], [wn.lexname(s) for s in ids]


def read_csv_texts(path: str | os.PathLike, *, text_column: str | None = None,
                   label_column: str | None = None) -> tuple[list[str], list[str]]:
    """Texts and labels from a CSV file (the CFPB export's columns are found by name).

    Raises
    ------
    ParameterError : unreadable file, missing columns, no rows with both a text and a label
    """
    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"CSV {str(p)!r} does not exist")
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        with open(p, newline="", encoding="utf-8", errors="replace") as fh:
            reader = csv.DictReader(fh)
            fields = reader.fieldnames or []
            tcol = text_column or next((c for c in _TEXT_COLUMNS if c in fields), None)
            lcol = label_column or next((c for c in _LABEL_COLUMNS if c in fields), None)
            for name, col in (("text_column", tcol), ("label_column", lcol)):
                if col is None or col not in fields:
                    raise ParameterError(f"CSV {str(p)!r}: {name}={col!r} is not one of its columns "
                                         f"({', '.join(fields[:12]) or 'none'}); name it with --{name[:-7]}-column")
            texts, labels = [], []
            for row in reader:
                t, lab = (row.get(tcol) or "").strip(), (row.get(lcol) or "").strip()
                if t and lab:
                    texts.append(t)
                    labels.append(lab)
    except (UnicodeError, csv.Error) as exc:
        raise ParameterError(f"CSV {str(p)!r} cannot be read ({exc})") from None
    if not texts:
        raise ParameterError(f"CSV {str(p)!r} has no rows with both a text and a label")
    return texts, labels


def read_image_folder(path: str | os.PathLike, *, size: int = 32, grey: bool = False
                      ) -> tuple[list[np.ndarray], list[str]]:
    """Images of a folder with one sub-folder per label, centre-cropped and resized to ``size`` px."""
    from PIL import Image, UnidentifiedImageError

    root = Path(path)
    files = image_files(root)
    images, labels = [], []
    for f in files:
        rel = f.relative_to(root)
        label = rel.parts[0] if len(rel.parts) > 1 else "unlabelled"
        try:
            with Image.open(f) as im:
                im = im.convert("L" if grey else "RGB")
                w, h = im.size
                s = min(w, h)
                im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
                arr = np.asarray(im.resize((size, size), Image.Resampling.LANCZOS), dtype=np.float32) / 255.0
        except (OSError, UnidentifiedImageError, ValueError):
            continue                                   # one unreadable picture does not stop the folder
        images.append(arr[None] if grey else arr.transpose(2, 0, 1))
        labels.append(label)
    if not images:
        raise ParameterError(f"image folder {str(root)!r}: none of its {len(files)} images could be read")
    return images, labels


def load_data(source: str | os.PathLike, *, max_classes: int | None = 12, max_items: int | None = None,
              seed: int = 0, text_column: str | None = None, label_column: str | None = None,
              image_size: int = 32) -> LatentData:
    """Load a labelled source by name (:data:`SOURCES`) or path (``.csv`` or an image folder).

    Parameters
    ----------
    source : ``"wordnet"``, ``"fortunes"``, ``"fashion-mnist"``, a CSV file or an image folder
    max_classes : keep the largest classes (12 colours, as the original); None keeps all
    max_items : random subset of this many items after deduplication (seeded); None keeps all
    seed : subset seed
    text_column, label_column : CSV columns (default: found by name, the CFPB export's first)
    image_size : side of images read from a folder

    Raises
    ------
    ParameterError : unknown source, empty data, unreadable files
    AssetMissingError : a Debian data package is missing (names the package)
    """
    name = str(source)
    if name == "wordnet":
        texts, labels = wordnet_glosses()
        return _assemble("text", texts, labels, source=name, max_classes=max_classes, max_items=max_items,
                         seed=seed, min_chars=8)
    if name == "fortunes":
        from latentstudio.assets import fortunes

        pairs = fortunes()
        return _assemble("text", [t for _, t in pairs], [c for c, _ in pairs], source=name,
                         max_classes=max_classes, max_items=max_items, seed=seed, min_chars=8)
    if name == "fashion-mnist":
        from latentstudio.assets import FASHION_MNIST_CLASSES, fashion_mnist

        x, y = fashion_mnist("train")
        items = [x[i][None].astype(np.float32) / 255.0 for i in range(len(x))]
        data = _assemble("image", items, [FASHION_MNIST_CLASSES[int(v)] for v in y], source=name,
                         max_classes=max_classes, max_items=max_items, seed=seed)
        return data
    p = Path(name)
    if p.suffix.lower() == ".csv":
        texts, labels = read_csv_texts(p, text_column=text_column, label_column=label_column)
        return _assemble("text", texts, labels, source=str(p), max_classes=max_classes, max_items=max_items,
                         seed=seed, min_chars=8)
    if p.is_dir():
        images, labels = read_image_folder(p, size=image_size)
        return _assemble("image", images, labels, source=str(p), max_classes=max_classes, max_items=max_items,
                         seed=seed)
    raise ParameterError(f"source={name!r} is neither one of {', '.join(SOURCES)}, a .csv file nor a folder")

