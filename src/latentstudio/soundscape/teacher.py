"""The teacher: a zoo ImageNet classifier giving a class distribution for an image or video frames.

The distribution is ``softmax(logits / temperature)``: a temperature above 1 spreads the teacher's
belief over related classes, which gives the student a richer target than a one-hot guess.
Preprocessing is deterministic, so one image always gives one distribution: the shorter side resized and
the centre cropped (``views="crop"``), or the mean of the logits of that view and of the whole image
letterboxed on white (``views="crop+whole"``), which keeps the ends of a wide picture (a bus, a car) that
the centre crop cuts off. Wide images (panoramas) can be looked at heading by heading (:func:`heading_crops`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from latentstudio.core.image import pad_square, valid_image
from latentstudio.errors import ParameterError
from latentstudio.zoo import load_classifier
from latentstudio.zoo.classifier import prepare_image


#: The teacher's ways of looking at an image (see the module docstring).
VIEWS = ("crop", "crop+whole")


def check_views(views: str, *, name: str = "views") -> str:
    """``views`` if it is one of :data:`VIEWS`, else a ParameterError naming ``name``."""
    if views not in VIEWS:
        raise ParameterError(f"{name}={views!r} must be one of {', '.join(VIEWS)}")
    return views


def _check_temperature(temperature: float) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not np.isfinite(temperature) \
            or temperature <= 0:
        raise ParameterError(f"temperature={temperature!r} must be a positive number")
    return float(temperature)


class Teacher:
    """Class distributions of images from a pretrained zoo classifier.

    Parameters
    ----------
    name : zoo classifier name (``efficientnet_lite0`` by default)
    temperature : softmax temperature of the distributions (1 = the classifier's own)
    views : ``"crop"`` (the centre crop) or ``"crop+whole"`` (its logits averaged with the whole image's,
        letterboxed): see the module
    device : torch device
    batch_size : images per forward pass

    Example
    -------
    >>> from latentstudio import assets
    >>> from latentstudio.core.image import load
    >>> teacher = Teacher(temperature=1.0)
    >>> p = teacher.distribution([load(assets.sample_image("coffee"))])
    >>> teacher.top_labels(p[0], top=1)[0][0]
    'espresso'
    """

    def __init__(self, name: str = "efficientnet_lite0", *, temperature: float = 1.0, views: str = "crop",
                 device: str = "cpu", batch_size: int = 32) -> None:
        self.name = name
        self.temperature = _check_temperature(temperature)
        self.views = check_views(views)
        self.device = device
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ParameterError(f"batch_size={batch_size!r} must be a positive integer")
        self.batch_size = batch_size
        self.model = load_classifier(name, device=device)
        self.labels: list[str] = list(self.model.labels)

    @classmethod
    def of_student(cls, model, **kwargs) -> "Teacher":
        """The teacher a student was distilled from, at its temperature and with its views."""
        return cls(model.teacher_name, temperature=model.temperature, views=model.teacher_views, **kwargs)

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    @torch.no_grad()
    def logits(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """``(N, classes)`` logits of ``(H, W, 3)`` images (any size; resized and centre-cropped)."""
        if len(images) == 0:
            raise ParameterError("images is empty: give at least one image")
        out = []
        for start in range(0, len(images), self.batch_size):
            chunk = [valid_image(im, name=f"images[{start + i}]")
                     for i, im in enumerate(images[start:start + self.batch_size])]
            x = torch.cat([prepare_image(self.model, im) for im in chunk])
            lg = self.model(x).float().cpu().numpy()
            # a square picture's whole view is its crop: only the others are looked at again
            wide = [i for i, im in enumerate(chunk) if im.shape[0] != im.shape[1]] if self.views == "crop+whole" else []
            if wide:
                whole = torch.cat([prepare_image(self.model, pad_square(chunk[i])) for i in wide])
                lg[wide] = (lg[wide] + self.model(whole).float().cpu().numpy()) / 2
            out.append(lg)
        return np.concatenate(out)

    def distribution(self, images: Sequence[np.ndarray], *, temperature: float | None = None) -> np.ndarray:
        """``(N, classes)`` probabilities ``softmax(logits / temperature)`` (default: the teacher's)."""
        t = self.temperature if temperature is None else _check_temperature(temperature)
        return softmax(self.logits(images), temperature=t)

    def frames_distribution(self, frames: Sequence[np.ndarray], *, temperature: float | None = None) -> np.ndarray:
        """One distribution for a run of video frames: the mean of the frames' distributions."""
        return self.distribution(frames, temperature=temperature).mean(axis=0)

    def top_labels(self, probs: np.ndarray, *, top: int = 5) -> list[tuple[str, float]]:
        """The ``top`` classes of one distribution as ``(label, probability)``, best first."""
        probs = np.asarray(probs, dtype=np.float64).reshape(-1)
        if probs.shape[0] != self.num_classes:
            raise ParameterError(f"probs has {probs.shape[0]} classes, the teacher {self.num_classes}")
        order = np.argsort(-probs, kind="stable")[:top]
        return [(self.labels[i], float(probs[i])) for i in order]


def softmax(logits: np.ndarray, *, temperature: float = 1.0) -> np.ndarray:
    """Row-wise ``softmax(logits / temperature)`` in float64, returned as float32."""
    z = np.asarray(logits, dtype=np.float64) / _check_temperature(temperature)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def heading_crops(image: np.ndarray, *, headings: int | None = None,
                  wide_ratio: float = 1.6) -> list[tuple[np.ndarray, float]]:
    """Split a wide image (panorama) into square views, each with its stereo pan in [-1, 1].

    Parameters
    ----------
    image : ``(H, W, 3)`` image
    headings : number of views; None = ``round(W / H)`` when ``W / H >= wide_ratio``, else 1
    wide_ratio : aspect ratio from which an image counts as wide

    Returns
    -------
    list of (crop, pan) : left to right; a single view has pan 0

    Example
    -------
    >>> views = heading_crops(np.zeros((100, 400, 3), np.float32))
    >>> [(v.shape[1], pan) for v, pan in views]
    [(100, -1.0), (100, -0.3333333333333333), (100, 0.3333333333333333), (100, 1.0)]
    """
    image = valid_image(image)
    h, w = image.shape[:2]
    if headings is None:
        headings = int(round(w / h)) if w / h >= wide_ratio else 1
    if isinstance(headings, bool) or not isinstance(headings, (int, np.integer)) or not 1 <= headings <= 64:
        raise ParameterError(f"headings={headings!r} must be an integer from 1 to 64")
    if headings == 1:
        return [(image, 0.0)]
    side = min(h, w)
    starts = np.linspace(0, w - side, headings).round().astype(int)
    pans = np.linspace(-1.0, 1.0, headings)
    return [(image[:, s:s + side], float(p)) for s, p in zip(starts, pans)]


__all__ = ["Teacher", "softmax", "heading_crops", "VIEWS", "check_views"]
