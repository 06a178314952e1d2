"""The sound library: embed every sound once and keep its vector in the catalog.

Each student model gets its own vector space in the catalog (``soundscape-<weights id>``), so
vectors of different models never mix. Indexing is incremental: a file already embedded by this
model and unchanged since is skipped without being read; unreadable, silent or corrupt files are
reported and leave the library untouched.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latentstudio.catalog import Catalog, hash_file
from latentstudio.core.audio import AUDIO_EXTENSIONS
from latentstudio.errors import LatentStudioError, ParameterError
from latentstudio.soundscape.features import load_sound
from latentstudio.soundscape.student import SoundscapeStudent


def space_name(model_id: str) -> str:
    """The catalog space of a student model's embeddings: ``"soundscape-<model id>"``."""
    return f"soundscape-{model_id}"


def class_space_name(model_id: str) -> str:
    """The catalog space of its class distributions (square roots, so cosine = Bhattacharyya coefficient)."""
    return f"soundscape-{model_id}-classes"


#: How many class prototypes a sound's hubness averages over (CSLS's neighbourhood size).
HUB_NEIGHBOURS = 10


def hubness(model: SoundscapeStudent, vec: np.ndarray, probs: np.ndarray) -> list[float]:
    """How much a sound is everyone's neighbour: mean similarity to its ``HUB_NEIGHBOURS`` closest classes.

    Two numbers, one per space: the embedding's cosine to the class prototypes (the head's rows, the
    query vector of an image that is surely that class) and the class space's Bhattacharyya coefficient
    with those same sure images (``sqrt(p[c])``). CSLS subtracts them from a query's scores (:mod:`.query`).
    """
    import torch

    with torch.no_grad():
        w = torch.nn.functional.normalize(model.head.weight.detach().float(), dim=1).cpu().numpy()
    k = HUB_NEIGHBOURS
    r_emb = float(np.sort(w @ np.asarray(vec, np.float32))[-k:].mean())
    r_cls = float(np.sort(np.sqrt(np.clip(probs, 0, None)))[-k:].mean())
    return [round(r_emb, 5), round(r_cls, 5)]


def embed_into_catalog(catalog: Catalog, *, model: SoundscapeStudent, model_id: str, items,
                       top_labels: int = 3, flush: bool = True) -> tuple[int, int]:
    """Embed decoded sounds and store them: ``items`` = ``[(path, y, extra analysis)]`` -> (added, already there).

    Each item gets its embedding (space :func:`space_name`), its class distribution (square roots, space
    :func:`class_space_name`), the student's top class guesses and its hubness (:func:`hubness`).
    """
    from latentstudio.zoo import imagenet_labels

    space, cspace = space_name(model_id), class_space_name(model_id)
    labels = imagenet_labels()
    added = already = 0
    for path, y, extra in items:
        p = Path(path)
        old = catalog.get(p)
        if old is not None and catalog.vector(old, space) is not None and catalog.vector(old, cspace) is not None \
                and old.size == p.stat().st_size and p.stat().st_mtime <= old.updated:
            already += 1
            continue
        vec, probs = model.embed_sound(y)
        guess = [[labels[i], round(float(probs[i]), 4)] for i in np.argsort(-probs)[:top_labels]] \
            if len(labels) == probs.shape[0] else []
        analysis = {"soundscape": {"model": model_id, "labels": guess, "hub": hubness(model, vec, probs)},
                    **(extra or {})}
        vectors = {space: vec, cspace: np.sqrt(np.clip(probs, 0, None)).astype(np.float32)}
        item = catalog.add(p, kind="audio", duration=len(y) / model.mel.sr, tags=["sound"], analysis=analysis,
                           vectors=vectors)
        if catalog.vector(item, space) is None or catalog.vector(item, cspace) is None:
            catalog.update(item, analysis=analysis, merge_analysis=True, vectors=vectors)
        added += 1
    if flush:
        catalog.flush()
    return added, already


def sound_files(folder: str | os.PathLike) -> list[Path]:
    """Audio files under ``folder`` (recursive, sorted; ``.wav .flac .ogg .mp3 ...``).

    Raises ParameterError when the folder does not exist or is not a folder.
    """
    root = Path(folder)
    if not root.exists():
        raise ParameterError(f"sound folder {str(root)!r} does not exist")
    if not root.is_dir():
        raise ParameterError(f"sound folder {str(root)!r} is not a folder")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)


@dataclass
class IndexReport:
    """What :func:`index_sounds` did.

    Attributes
    ----------
    added : files embedded now
    skipped : files already embedded by this model (unchanged)
    failed : ``(path, reason)`` of files that could not be read
    audio_seconds : duration of the audio embedded now
    seconds : wall time
    space : the catalog space written
    """

    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    audio_seconds: float = 0.0
    seconds: float = 0.0
    space: str = ""

    @property
    def realtime_factor(self) -> float:
        """Seconds of audio embedded per second of wall time."""
        return self.audio_seconds / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> dict:
        return {"space": self.space, "added": len(self.added), "skipped": len(self.skipped),
                "failed": len(self.failed), "failures": [{"path": p, "reason": r} for p, r in self.failed],
                "audio_seconds": round(self.audio_seconds, 2), "seconds": round(self.seconds, 3),
                "realtime_factor": round(self.realtime_factor, 1)}


def _up_to_date(catalog: Catalog, path: Path, space: str) -> bool:
    item = catalog.get(path)
    if item is None:                       # a copy of a catalogued file is catalogued under its first path
        item = catalog.find_hash(hash_file(path))
        return item is not None and catalog.vector(item, space) is not None
    if catalog.vector(item, space) is None:
        return False
    st = path.stat()
    return item.size == st.st_size and st.st_mtime <= item.updated


def index_sounds(paths: Iterable[str | os.PathLike], *, catalog: Catalog, model: SoundscapeStudent, model_id: str,
                 progress: Callable[[int], None] | None = None, top_labels: int = 3) -> IndexReport:
    """Embed sounds with ``model`` and store them in ``catalog`` under :func:`space_name`.

    Parameters
    ----------
    paths : sound files (see :func:`sound_files` for a folder)
    catalog : the catalog to write
    model, model_id : the student and the id of its weights (``load_student()[1]["id"]``)
    progress : called as ``progress(1)`` after each file
    top_labels : how many of the student's own class guesses to keep in the item's analysis

    Returns
    -------
    IndexReport

    Example
    -------
    >>> import tempfile
    >>> from latentstudio.soundscape.student import load_student
    >>> model, info = load_student()
    >>> files = sound_files("/usr/share/tuxpaint/stamps/animals/birds")[:2]
    >>> with Catalog(tempfile.mkdtemp()) as cat:
    ...     report = index_sounds(files, catalog=cat, model=model, model_id=info["id"])
    >>> len(report.added)
    2
    """
    space = space_name(model_id)
    report = IndexReport(space=space)
    t0 = time.perf_counter()
    for raw in paths:
        p = Path(raw)
        try:
            if not p.is_file():
                raise ParameterError(f"sound file {str(p)!r} does not exist")
            if _up_to_date(catalog, p, space) and _up_to_date(catalog, p, class_space_name(model_id)):
                report.skipped.append(str(p))
                continue
            y = load_sound(p, spec=model.mel)
            embed_into_catalog(catalog, model=model, model_id=model_id, items=[(p, y, None)], top_labels=top_labels,
                               flush=False)
            report.added.append(str(p))
            report.audio_seconds += len(y) / model.mel.sr
        except (LatentStudioError, OSError) as exc:
            report.failed.append((str(p), str(exc)))
        finally:
            if progress is not None:
                progress(1)
    catalog.flush()
    report.seconds = time.perf_counter() - t0
    return report


def library_size(catalog: Catalog, model_id: str) -> int:
    """Number of sounds this model has embedded in ``catalog`` (0 when none)."""
    info = catalog.spaces().get(space_name(model_id))
    return 0 if info is None else info.count


__all__ = ["index_sounds", "sound_files", "space_name", "class_space_name", "hubness", "embed_into_catalog",
           "HUB_NEIGHBOURS", "library_size", "IndexReport"]
