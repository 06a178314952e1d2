"""Image -> the sounds it evokes: teacher distribution -> query vector -> nearest sounds in the library.

A wide image (panorama) is looked at heading by heading; each heading queries on its own and its
matches carry the heading's stereo pan, so :mod:`.render` can place them where they belong.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from latentstudio.catalog import Catalog
from latentstudio.core.image import valid_image
from latentstudio.errors import ParameterError
from latentstudio.soundscape.index import library_size, space_name
from latentstudio.soundscape.student import SoundscapeStudent
from latentstudio.soundscape.teacher import Teacher, heading_crops, softmax


@dataclass
class Match:
    """One sound found for an image: file, cosine score, where it sits (pan) and what the student hears."""

    path: str
    score: float
    pan: float = 0.0
    duration: float | None = None
    heard_as: list = field(default_factory=list)


@dataclass
class QueryResult:
    """Ranked matches of an image, the teacher's top labels, and per-heading results for wide images."""

    matches: list[Match]
    teacher_labels: list[tuple[str, float]]
    headings: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"teacher_labels": [[lab, round(p, 4)] for lab, p in self.teacher_labels],
                "matches": [asdict(m) for m in self.matches], "headings": self.headings}


def _check_library(catalog: Catalog, model_id: str) -> str:
    space = space_name(model_id)
    if library_size(catalog, model_id) == 0:
        raise ParameterError(f"the sound library in {str(catalog.path)!r} is empty for model {model_id}: "
                             f"index sounds first with `latentstudio soundscape index SOUND_DIR`")
    return space


def query_image(image: np.ndarray, *, model: SoundscapeStudent, model_id: str, catalog: Catalog,
                teacher: Teacher | None = None, top: int = 5, headings: int | None = 1) -> QueryResult:
    """The ``top`` sounds of the library that best fit ``image``.

    Parameters
    ----------
    image : ``(H, W, 3)`` RGB in [0, 1] (``core.image.load`` handles RGBA, greyscale, 16-bit files)
    model, model_id : the student and its weights id (``load_student()``)
    catalog : the catalog holding the library (see :func:`.index.index_sounds`)
    teacher : the classifier (default: the model's own teacher at its training temperature)
    top : matches to return
    headings : 1 = the whole image; None = split wide images automatically; N = N headings
        left to right (matches are interleaved across headings, each with its pan)

    Raises
    ------
    ParameterError : bad image or ``top``, an empty library

    Example
    -------
    >>> from latentstudio.core.image import load
    >>> from latentstudio import assets
    >>> res = query_image(load(assets.sample_image("chelsea")), model=model, model_id=mid,
    ...                   catalog=cat, top=3)                                  # doctest: +SKIP
    >>> [m.path for m in res.matches]                                          # doctest: +SKIP
    """
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or not 1 <= top <= 1000:
        raise ParameterError(f"top={top!r} must be an integer from 1 to 1000")
    image = valid_image(image)
    space = _check_library(catalog, model_id)
    teacher = teacher or Teacher(model.teacher_name, temperature=model.temperature)
    views = heading_crops(image, headings=headings)
    logits = teacher.logits([v for v, _ in views] + ([image] if len(views) > 1 else []))
    probs = softmax(logits, temperature=teacher.temperature)
    whole = softmax(logits[-1], temperature=1.0)           # labels shown at the classifier's own confidence
    queries = model.query_vectors(probs[:len(views)]).detach().cpu().numpy()
    per_heading = catalog.search(space, queries, k=int(top))
    results: list[list[Match]] = []
    for (_, pan), hits in zip(views, per_heading):
        results.append([Match(path=str(item.path), score=round(score, 4), pan=round(pan, 3),
                              duration=item.duration,
                              heard_as=(item.analysis.get("soundscape") or {}).get("labels", []))
                        for item, score in hits])
    matches: list[Match] = []
    seen: set[str] = set()
    for rank in range(int(top)):                         # interleave headings: each gets its best first
        for row in results:
            if rank < len(row) and row[rank].path not in seen:
                seen.add(row[rank].path)
                matches.append(row[rank])
    matches = matches[: int(top)] if len(views) > 1 else matches
    heads = [] if len(views) == 1 else [
        {"pan": pan, "teacher_labels": [[lab, round(p, 4)] for lab, p in teacher.top_labels(softmax(lg), top=3)],
         "matches": [m.path for m in row]} for (_, pan), lg, row in zip(views, logits, results)]
    return QueryResult(matches=matches, teacher_labels=teacher.top_labels(whole, top=5), headings=heads)


__all__ = ["query_image", "QueryResult", "Match"]
