"""Retrieval metrics: image -> own sound recall@k, chance, and the stamp-name baseline.

Recall is computed with *expected* ranks under random tie-breaking, so a scorer that gives many
sounds the same score (the name baseline often does) is neither flattered nor punished by the order
of the gallery.
"""

from __future__ import annotations

import re

import numpy as np

from latentstudio.errors import ParameterError


def recall_at_k(scores: np.ndarray, *, ks: tuple[int, ...] = (1, 5, 10), positives: np.ndarray | None = None
                ) -> dict[int, float]:
    """Mean recall@k of a ``(queries, gallery)`` score matrix; query ``i``'s own item is gallery ``i``.

    ``positives`` (``(queries, gallery)`` bool) may mark several correct items per query (e.g. the
    same sound content twice); a query counts as a hit when its best-ranked positive is in the top k.
    Ties are broken at random in expectation.

    Example
    -------
    >>> recall_at_k(np.eye(3), ks=(1,))
    {1: 1.0}
    >>> recall_at_k(np.zeros((4, 4)), ks=(1, 2))
    {1: 0.25, 2: 0.5}
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] == 0 or s.shape[1] == 0:
        raise ParameterError(f"scores must be a non-empty (queries, gallery) matrix, got shape {s.shape}")
    pos = np.eye(*s.shape, dtype=bool) if positives is None else np.asarray(positives, dtype=bool)
    out = {}
    for k in ks:
        hits = []
        for i in range(s.shape[0]):
            p = np.flatnonzero(pos[i])
            best = s[i, p].max()
            greater = int((s[i][~pos[i]] > best).sum())
            ties = int((s[i][~pos[i]] == best).sum())
            n_best = int((s[i, p] == best).sum())
            # positives tied at the best score share the run of ties with the negatives
            slots = k - greater
            hits.append(0.0 if slots <= 0 else min(1.0, _p_first_positive_within(slots, n_best, ties)))
        out[k] = float(np.mean(hits))
    return out


def _p_first_positive_within(slots: int, n_pos: int, n_neg: int) -> float:
    """P(at least one of ``n_pos`` positives lands in the first ``slots`` places of a random order of n_pos+n_neg)."""
    total = n_pos + n_neg
    if slots >= total:
        return 1.0
    p_none = 1.0
    for j in range(slots):
        p_none *= (n_neg - j) / (total - j)
        if p_none <= 0:
            return 1.0
    return 1.0 - p_none


def chance_recall(n_gallery: int, *, ks: tuple[int, ...] = (1, 5, 10)) -> dict[int, float]:
    """Recall@k of a random ranking with one correct item among ``n_gallery``."""
    return {k: min(1.0, k / n_gallery) for k in ks}


def name_words(name: str) -> list[str]:
    """Words of a stamp or file name: ``"cow_white"`` -> ``["cow", "white"]`` (digits and 1-letter words dropped)."""
    return [w for w in re.split(r"[^a-z]+", name.lower()) if len(w) > 1]


def name_label_vectors(names: list[str], labels: list[str]) -> np.ndarray:
    """``(len(names), len(labels))``: uniform weight on the classes whose label contains a word of the name.

    The baseline's view of a sound: only its name, matched to the teacher's class names. Names that
    match no class get a zero row.
    """
    label_words = [set(re.split(r"[^a-z]+", lab.lower())) for lab in labels]
    out = np.zeros((len(names), len(labels)), dtype=np.float32)
    for i, name in enumerate(names):
        words = set(name_words(name))
        hit = [c for c, lw in enumerate(label_words) if words & lw]
        if hit:
            out[i, hit] = 1.0 / len(hit)
    return out


def name_baseline_scores(image_probs: np.ndarray, sound_names: list[str], labels: list[str]) -> np.ndarray:
    """Scores of the label-of-stamp-name baseline: teacher probability mass on the sound name's classes."""
    return np.asarray(image_probs, dtype=np.float64) @ name_label_vectors(sound_names, labels).T.astype(np.float64)


def retrieval_scores(model, pairs) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, positives)`` of every image of ``pairs`` against every sound of ``pairs``.

    Images are the plain (unaugmented) views at the model's temperature; sounds are embedded as
    in the index. Sounds of the same group (identical content) all count as correct.
    """
    probs = pairs.distributions(temperature=model.temperature, view=0)
    queries = model.query_vectors(probs).detach().cpu().numpy()
    sounds = np.stack([model.embed_sound(y)[0] for y in pairs.waveforms])
    groups = np.asarray(pairs.groups)
    return queries @ sounds.T, groups[:, None] == groups[None, :]


def heldout_recall(model, pairs, *, ks: tuple[int, ...] = (1, 5, 10)) -> dict[int, float]:
    """Image -> own sound recall@k of ``model`` among the sounds of ``pairs`` (see :func:`retrieval_scores`)."""
    scores, positives = retrieval_scores(model, pairs)
    return recall_at_k(scores, ks=ks, positives=positives)


__all__ = ["retrieval_scores", "heldout_recall", "recall_at_k", "chance_recall", "name_words", "name_label_vectors", "name_baseline_scores"]
