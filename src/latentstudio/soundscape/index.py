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
    """The catalog space of its class distributions (compared by cosine)."""
    return f"soundscape-{model_id}-classes"


def unit(x) -> np.ndarray:
    """``x / |x|`` as float32 (rows of a matrix, or one vector); zero stays zero."""
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def label_space_name(model_id: str) -> str:
    """The space of each sound's teacher-space position from its label (:func:`.targets.label_position`: its
    WordNet target, halfway to it for a loose label; the student's own distribution without a usable label).
    Versioned: a catalog that holds older positions re-indexes its sounds."""
    return f"soundscape-{model_id}-labels2"


#: How many reference queries a sound's hubness averages over (CSLS's neighbourhood size). Chosen on
#: validation (3 seeds, hub lists without the test images, default query) with the training images and the
#: Tux Paint stamps without sound as references (about 720, ``pipeline.REFERENCE_DEFAULT``): median
#: recall@10 + share of pictures 1.33 at 20 neighbours, 1.45 at 40, 1.50 at 80, 1.58 at 120 and 160, 1.54 at
#: 320; 160 is the best on its worst seed (6 of 8 pictures on every seed); largest hub 6.7 % from 40 up,
#: 10.5 % at 20. (With the 74 training images alone, 20 had been best: recall@10 0.78, 5 of 8 pictures: 1.41.)
HUB_NEIGHBOURS = 160


def hub_scores(model: SoundscapeStudent, emb: np.ndarray, cls: np.ndarray, lab: np.ndarray | None = None, *,
               k: int = HUB_NEIGHBOURS) -> np.ndarray:
    """``(N, 3)``: each sound's mean similarity to its ``k`` nearest *reference queries*, per space.

    The reference queries are the teacher distributions of the model's training images and of pictures
    without sound that stand for what users ask about (``model.reference``; :func:`.pipeline.reference_images`):
    a sound close to many of them (a flat class distribution, a generic texture)
    is a hub that would top every list; CSLS subtracts this from its scores (:mod:`.query`). Spaces:
    the embedding (``emb``, against the images' query vectors), the student's class distribution
    (``cls``) and the label position (``lab``, default ``cls``), all unit rows. Zero without references.
    """
    emb = np.asarray(emb, np.float32).reshape(-1, model.embedding_dim)
    out = np.zeros((len(emb), 3), dtype=np.float32)
    ref = getattr(model, "reference", None)
    if ref is None or len(ref) == 0 or len(emb) == 0:
        return out
    kk = min(k, len(ref))
    q_emb = model.query_vectors(ref).detach().cpu().numpy()
    q_cls = unit(ref)
    cls = np.asarray(cls, np.float32).reshape(len(emb), -1)
    lab = cls if lab is None else np.asarray(lab, np.float32).reshape(len(emb), -1)
    for j, (x, q) in enumerate(((emb, q_emb), (cls, q_cls), (lab, q_cls))):
        out[:, j] = np.sort(x @ q.T, axis=1)[:, -kk:].mean(axis=1)
    return out


def sound_record(model: SoundscapeStudent, model_id: str, y: np.ndarray, extra: dict | None = None, *,
                 top_labels: int = 3) -> dict:
    """What the catalog keeps of one decoded sound: the keyword arguments of ``Catalog.add``.

    Its embedding (space :func:`space_name`), its class distribution (square roots, space
    :func:`class_space_name`), its label's position (space :func:`label_space_name`), and in its analysis the
    student's top class guesses and its hubness (:func:`hub_scores`), beside ``extra``.
    """
    from latentstudio.zoo import imagenet_labels

    from latentstudio.soundscape.targets import label_position

    labels = imagenet_labels()
    vec, probs = model.embed_sound(y)
    guess = [[labels[i], round(float(probs[i]), 4)] for i in np.argsort(-probs)[:top_labels]] \
        if len(labels) == probs.shape[0] else []
    analysis = {"soundscape": {"model": model_id, "labels": guess, "hub": [0.0, 0.0, 0.0]}, **(extra or {})}
    synset = ((extra or {}).get("library") or {}).get("synset")
    dist = unit(probs)
    lab = label_position(synset, dist)
    analysis["soundscape"]["hub"] = [round(float(v), 5) for v in hub_scores(model, vec, dist, lab)[0]]
    return {"kind": "audio", "duration": len(y) / model.mel.sr, "tags": ["sound"], "analysis": analysis,
            "vectors": {space_name(model_id): vec, class_space_name(model_id): dist,
                        label_space_name(model_id): lab}}


def store_record(catalog: Catalog, path, record: dict):
    """Write a :func:`sound_record` for the file at ``path`` (one transaction; re-writing is harmless)."""
    item = catalog.add(Path(path), **record)
    if any(catalog.vector(item, sp) is None for sp in record["vectors"]):    # the file was catalogued before
        catalog.update(item, analysis=record["analysis"], merge_analysis=True, vectors=record["vectors"])
    return item


def embedded_item(catalog: Catalog, p: Path, spaces):
    """The catalog's item of the file at ``p`` when it holds a vector in every one of ``spaces`` and the file
    has not changed since; else None."""
    item = catalog.get(p)
    if item is None or any(catalog.vector(item, sp) is None for sp in spaces):
        return None
    st = p.stat()
    return item if item.size == st.st_size and st.st_mtime <= item.updated else None


class EmbedSound:
    """The batch job of :func:`index_sounds` (see :func:`latentstudio.catalog.batch.map_items`): a sound file
    in, its :func:`sound_record` out (the model travels with the job and stays loaded in each worker)."""

    item_errors = (LatentStudioError, OSError)
    uses_gpu = True

    def __init__(self, model: SoundscapeStudent, model_id: str, *, top_labels: int = 3) -> None:
        self.model, self.model_id, self.top_labels = model, model_id, top_labels

    def setup(self, device: str) -> None:
        self.model.to(device).eval()         # one GPU per Ray actor when the cluster has them

    def __call__(self, path: str) -> dict:
        y = load_sound(Path(path), spec=self.model.mel)
        return sound_record(self.model, self.model_id, y, top_labels=self.top_labels)


def sound_files(folder: str | os.PathLike) -> list[Path]:
    """Audio files under ``folder`` (recursive, sorted; ``.wav .flac .ogg .mp3 ...``).

    Raises ParameterError when the folder does not exist or is not a folder.
    """
    from latentstudio.core.fileio import files_under

    return files_under(folder, AUDIO_EXTENSIONS, what="sound folder", allow_empty=True)


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
                 progress: Callable[[int], None] | None = None, top_labels: int = 3, workers: int = 1,
                 cluster: str | None = None) -> IndexReport:
    """Embed sounds with ``model`` and store them in ``catalog`` under :func:`space_name`.

    Parameters
    ----------
    paths : sound files (see :func:`sound_files` for a folder)
    catalog : the catalog to write
    model, model_id : the student and the id of its weights (``load_student()[1]["id"]``)
    progress : called as ``progress(1)`` after each file
    top_labels : how many of the student's own class guesses to keep in the item's analysis
    workers, cluster : where the embedding runs: ``workers`` local processes (1: this process), or a Ray
        cluster (see :func:`latentstudio.catalog.batch.map_items`); each sound is stored as soon as it is done

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
    from latentstudio.catalog.batch import map_items

    space = space_name(model_id)
    report = IndexReport(space=space)
    t0 = time.perf_counter()
    todo: list[str] = []
    for raw in paths:
        p = Path(raw)
        try:
            if not p.is_file():
                raise ParameterError(f"sound file {str(p)!r} does not exist")
            if _up_to_date(catalog, p, space) and _up_to_date(catalog, p, class_space_name(model_id)):
                report.skipped.append(str(p))
            else:
                todo.append(str(p))
                continue
        except (LatentStudioError, OSError) as exc:
            report.failed.append((str(p), str(exc)))
        if progress is not None:
            progress(1)
    job = EmbedSound(model, model_id, top_labels=top_labels)
    for out in map_items(job, todo, cluster=cluster, workers=workers, progress=progress):
        if not out.ok:
            report.failed.append((out.item, out.error))
            continue
        store_record(catalog, out.item, out.value)
        report.added.append(out.item)
        report.audio_seconds += out.value["duration"]
    catalog.flush()
    report.seconds = time.perf_counter() - t0
    return report


def library_size(catalog: Catalog, model_id: str) -> int:
    """Number of sounds this model has embedded in ``catalog`` (0 when none)."""
    info = catalog.spaces().get(space_name(model_id))
    return 0 if info is None else info.count


__all__ = ["index_sounds", "sound_files", "space_name", "class_space_name", "label_space_name", "hub_scores",
           "sound_record", "store_record", "embedded_item", "EmbedSound", "unit",
           "HUB_NEIGHBOURS", "library_size", "IndexReport"]
