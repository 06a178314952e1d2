"""Image -> the sounds it evokes, scored in both spaces, hubs suppressed, the top k kept diverse.

The teacher gives the image a class distribution ``p``. Each sound of the library has the student's
embedding ``e`` and class distribution ``s``. A sound's score blends

* the embedding cosine ``cos(normalize(p @ W), e)`` (the student's learned geometry) and
* the class-space Bhattacharyya coefficient ``sum(sqrt(p * s))`` (what teacher and student "see"),

``score = blend * cos + (1 - blend) * bc``, each term minus ``hub`` times the sound's hubness (its mean
similarity to its 10 nearest class prototypes, as CSLS does: a sound that is everyone's neighbour
loses its free lead). The top k are then picked greedily by maximal marginal relevance: each next
sound maximises ``(1 - diversity) * score - diversity * (its highest cosine to the sounds already
picked)``, so five takes of one wolf do not fill a list. Defaults (:class:`QueryConfig`) were chosen
on the validation pairs and pictures (``bench/soundscape.py --select``).

A wide image (panorama) is looked at heading by heading; each heading queries on its own and its
matches carry the heading's stereo pan, so :mod:`.render` can place them where they belong.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from latentstudio.catalog import Catalog
from latentstudio.core.image import valid_image
from latentstudio.errors import ParameterError
from latentstudio.soundscape.index import class_space_name, library_size, space_name
from latentstudio.soundscape.student import SoundscapeStudent
from latentstudio.soundscape.teacher import Teacher, heading_crops, softmax


@dataclass(frozen=True)
class QueryConfig:
    """How sounds are ranked for an image (see the module docstring).

    Parameters
    ----------
    blend : weight of the embedding cosine against the class-space coefficient (1 = embedding only)
    hub : strength of the hubness penalty (0 = none; 1 = CSLS)
    diversity : maximal-marginal-relevance trade-off (0 = plain ranking)
    candidates : neighbours fetched from each space before re-ranking
    """

    blend: float = 0.5
    hub: float = 1.0
    diversity: float = 0.3
    candidates: int = 200

    def __post_init__(self) -> None:
        for name, lo, hi in (("blend", 0.0, 1.0), ("hub", 0.0, 4.0), ("diversity", 0.0, 0.95)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
                raise ParameterError(f"{name}={v!r} must be a number in [{lo}, {hi}]")
        if not isinstance(self.candidates, int) or self.candidates < 1:
            raise ParameterError(f"candidates={self.candidates!r} must be a positive integer")


def blended_scores(q_emb: np.ndarray, q_cls: np.ndarray, emb: np.ndarray, cls: np.ndarray, hub: np.ndarray, *,
                   config: QueryConfig) -> np.ndarray:
    """``(queries, sounds)`` scores: blend of embedding cosine and class coefficient, hubness subtracted.

    ``q_emb`` unit query vectors ``(Q, D)``; ``q_cls`` square roots of the image distributions ``(Q, C)``;
    ``emb`` unit sound embeddings ``(N, D)``; ``cls`` square roots of the sounds' distributions ``(N, C)``;
    ``hub`` ``(N, 2)`` hubness per space (:func:`~.index.hubness`).
    """
    cos = np.asarray(q_emb, np.float32) @ np.asarray(emb, np.float32).T
    bc = np.asarray(q_cls, np.float32) @ np.asarray(cls, np.float32).T
    hub = np.asarray(hub, np.float32).reshape(-1, 2)
    b, h = config.blend, config.hub
    return b * (cos - h * hub[:, 0][None]) + (1 - b) * (bc - h * hub[:, 1][None])


def diverse_top(scores: np.ndarray, emb: np.ndarray, *, top: int, diversity: float) -> list[int]:
    """Indices of ``top`` items picked greedily by maximal marginal relevance (``diversity`` = 0: plain top)."""
    order = np.argsort(-scores, kind="stable")
    if diversity <= 0 or top <= 1:
        return [int(i) for i in order[:top]]
    pool = order[: max(top * 20, 50)]
    chosen: list[int] = []
    best_sim = np.full(len(pool), -np.inf, dtype=np.float32)
    for _ in range(min(top, len(pool))):
        gain = (1 - diversity) * scores[pool] - diversity * np.where(np.isfinite(best_sim), best_sim, 0.0)
        gain[[pool.tolist().index(c) for c in chosen]] = -np.inf
        j = int(np.argmax(gain))
        chosen.append(int(pool[j]))
        best_sim = np.maximum(best_sim, emb[pool] @ emb[pool[j]])
    return chosen


@dataclass
class Match:
    """One sound found for an image: file, cosine score, where it sits (pan) and what the student hears."""

    path: str
    score: float
    pan: float = 0.0
    duration: float | None = None
    heard_as: list = field(default_factory=list)
    label: str = ""
    package: str = ""


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


def rank_library(catalog: Catalog, model_id: str, q_emb: np.ndarray, q_cls: np.ndarray, *, top: int,
                 config: QueryConfig) -> list[tuple[object, float]]:
    """The ``top`` library items for one query, ``(item, blended score)``, ranked as the module describes.

    Candidates are the nearest ``config.candidates`` of each space (exact or IVF, as the catalog holds
    them); both vectors of every candidate are then scored exactly.
    """
    space, cspace = space_name(model_id), class_space_name(model_id)
    k = max(int(config.candidates), int(top))
    hits = {item.id: item for item, _ in catalog.search(space, q_emb, k=k)[0]}
    if cspace in catalog.spaces():
        hits.update({item.id: item for item, _ in catalog.search(cspace, q_cls, k=k)[0]})
    items, emb, cls, hub = [], [], [], []
    for item in hits.values():
        e, c = catalog.vector(item, space), catalog.vector(item, cspace)
        if e is None:
            continue
        items.append(item)
        emb.append(e / max(float(np.linalg.norm(e)), 1e-8))
        cls.append(c if c is not None else np.zeros(len(q_cls), np.float32))
        hub.append((item.analysis.get("soundscape") or {}).get("hub") or [0.0, 0.0])
    if not items:
        return []
    emb_a = np.stack(emb).astype(np.float32)
    scores = blended_scores(q_emb[None], q_cls[None], emb_a, np.stack(cls), np.asarray(hub), config=config)[0]
    pick = diverse_top(scores, emb_a, top=int(top), diversity=config.diversity)
    return [(items[i], float(scores[i])) for i in pick]


def query_image(image: np.ndarray, *, model: SoundscapeStudent, model_id: str, catalog: Catalog,
                teacher: Teacher | None = None, top: int = 5, headings: int | None = 1,
                config: QueryConfig | None = None) -> QueryResult:
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
    config : ranking settings (:class:`QueryConfig`; default: the validated defaults)

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
    _check_library(catalog, model_id)
    teacher = teacher or Teacher(model.teacher_name, temperature=model.temperature)
    config = config or QueryConfig()
    views = heading_crops(image, headings=headings)
    logits = teacher.logits([v for v, _ in views] + ([image] if len(views) > 1 else []))
    probs = softmax(logits, temperature=teacher.temperature)
    whole = softmax(logits[-1], temperature=1.0)           # labels shown at the classifier's own confidence
    queries = model.query_vectors(probs[:len(views)]).detach().cpu().numpy()
    results = [[Match(path=str(item.path), score=round(score, 4), pan=round(pan, 3), duration=item.duration,
                      heard_as=(item.analysis.get("soundscape") or {}).get("labels", []),
                      label=((item.analysis.get("library") or {}).get("label") or ""),
                      package=((item.analysis.get("library") or {}).get("package") or ""))
                for item, score in rank_library(catalog, model_id, queries[i], np.sqrt(probs[i]), top=int(top),
                                                config=config)]
               for i, (_, pan) in enumerate(views)]
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


__all__ = ["query_image", "rank_library", "blended_scores", "diverse_top", "QueryConfig", "QueryResult", "Match"]
