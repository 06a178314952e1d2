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


# ------------------------------------------------------------------------------------------ intervals
def bootstrap_recall(scores: np.ndarray, *, positives: np.ndarray | None = None, ks: tuple[int, ...] = (1, 5, 10),
                     resamples: int = 2000, seed: int = 0, level: float = 0.95) -> dict[int, tuple[float, float]]:
    """Percentile bootstrap interval of recall@k over queries (the gallery is kept whole).

    Example
    -------
    >>> lo, hi = bootstrap_recall(np.eye(20), ks=(1,))[1]
    >>> lo, hi
    (1.0, 1.0)
    """
    s = np.asarray(scores, dtype=np.float64)
    pos = np.eye(*s.shape, dtype=bool) if positives is None else np.asarray(positives, dtype=bool)
    per_query = {k: np.array([recall_at_k(s[i:i + 1], ks=(k,), positives=pos[i:i + 1])[k]
                              for i in range(s.shape[0])]) for k in ks}
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, s.shape[0], size=(resamples, s.shape[0]))
    a = (1 - level) / 2
    return {k: (float(np.quantile(v[idx].mean(axis=1), a)), float(np.quantile(v[idx].mean(axis=1), 1 - a)))
            for k, v in per_query.items()}


# -------------------------------------------------------------------------------------- photographs
from dataclasses import dataclass  # noqa: E402


@dataclass(frozen=True)
class Picture:
    """A picture without its own sound, what it shows, and which kinds of sound are right for it.

    ``source`` is ``"sample"`` (scikit-image / scikit-learn photographs) or ``"tuxpaint"`` (a stamp,
    ``name`` = ``category/stamp``); ``subject`` the WordNet synset of what it shows; ``kinds`` the synsets
    a fitting sound's label must fall under (for a place: the sounds that belong there).
    """

    source: str
    name: str
    subject: str
    kinds: tuple[str, ...]

    def load(self) -> np.ndarray:
        from latentstudio import assets
        from latentstudio.core.image import load

        if self.source == "sample":
            return load(assets.sample_image(self.name))
        category, _, stamp = self.name.rpartition("/")
        for s in assets.tuxpaint_stamps():
            if s.category == category and s.name == stamp:
                return load(s.image)
        raise ParameterError(f"Tux Paint stamp {self.name!r} not found")


_BIRD, _BOVID, _MOTOR, _INSTRUMENT = "n01503061", "n02401031", "n03791235", "n03800933"

#: Pictures the defaults are chosen on (validation).
VALIDATION_PICTURES = (
    Picture("tuxpaint", "animals/mammals/dogs/dingo", "n02115641", ("n02083346",)),                 # canine
    Picture("tuxpaint", "vehicles/auto/sedan", "n04166281", (_MOTOR,)),
    Picture("tuxpaint", "animals/birds/peacock", "n01806143", (_BIRD,)),
    Picture("tuxpaint", "vehicles/locomotive/cartoon/toy_train", "n04468005", ("n04468005", "n03684823")),
    Picture("tuxpaint", "hobbies/music/string/guitar_electric", "n03467517", (_INSTRUMENT,)),
    Picture("tuxpaint", "animals/mammals/bovines/yak", "n02405302", (_BOVID,)),
    Picture("tuxpaint", "town/cartoon/docks", "n03933529", ("n04530566", "n02858304", "n02041246")),
    Picture("sample", "rocket", "n04099429", ("n04099429", "n04264914", "n03773504")),
    # a wider draw of raster Tux Paint stamps without sound, a few of each kind the test holds (animals,
    # vehicles, places, instruments), so that a choice rests on more than 8 pictures
    Picture("tuxpaint", "animals/mammals/cats/tiger_sumatran", "n02129604", ("n02120997",)),
    Picture("tuxpaint", "animals/mammals/cats/lion-2", "n02129165", ("n02120997",)),
    Picture("tuxpaint", "animals/mammals/equines/donkey_eating", "n02389559", ("n02374149",)),
    Picture("tuxpaint", "animals/mammals/deer/wapiti", "n02431785", ("n02430045",)),
    Picture("tuxpaint", "animals/mammals/wildboar", "n02396427", ("n02395003",)),
    Picture("tuxpaint", "animals/mammals/bovines/zebu", "n02404906", (_BOVID,)),
    Picture("tuxpaint", "animals/mammals/bears/european-bear", "n02131653", ("n02131653",)),
    Picture("tuxpaint", "animals/birds/chicken_profile", "n01791625", (_BIRD,)),
    Picture("tuxpaint", "animals/birds/silver-gull", "n02041246", (_BIRD,)),
    Picture("tuxpaint", "animals/birds/magpie", "n01582220", (_BIRD,)),
    Picture("tuxpaint", "animals/insects/fly", "n02190166", ("n02159955",)),
    Picture("tuxpaint", "animals/amphibians/frog-1", "n01639765", ("n01639765",)),
    Picture("tuxpaint", "vehicles/auto/beetle", "n02958343", (_MOTOR,)),
    Picture("tuxpaint", "vehicles/auto/sportscar2", "n04285008", (_MOTOR,)),
    Picture("tuxpaint", "vehicles/masstransit/cartoon/double_decker_bus", "n02924116", (_MOTOR,)),
    Picture("tuxpaint", "vehicles/farming/cartoon/tux_tractor", "n04465501", ("n04465501", _MOTOR)),
    Picture("tuxpaint", "vehicles/flight/cartoon/eddieCopter", "n03512147", ("n02686568",)),
    Picture("tuxpaint", "vehicles/ship/cartoon/tugboat", "n04495843", ("n04530566", "n02858304")),
    Picture("tuxpaint", "vehicles/locomotive/cartoon/caboose", "n02932523", ("n04468005", "n03684823")),
    Picture("tuxpaint", "town/houses/cartoon/stables", "n04294879", ("n02374149",)),             # horses
    Picture("tuxpaint", "town/houses/cartoon/cathedral", "n03028079", ("n02824448", "n03854065")),  # bells, organ
    Picture("tuxpaint", "town/houses/cartoon/fishery", "n03350880",                            # the sea shore
            ("n04530566", "n02858304", "n02041246")),
    Picture("tuxpaint", "hobbies/music/string/guitar_electric_bass", "n02804123", (_INSTRUMENT,)),
    Picture("tuxpaint", "hobbies/music/string/guitar_classical", "n03467517", (_INSTRUMENT,)),
)

#: The fixed test pictures (animals, vehicles, places, instruments); never used to choose anything.
TEST_PICTURES = (
    Picture("sample", "chelsea", "n02121620", ("n02120997",)),                                      # feline
    Picture("sample", "horse", "n02374451", ("n02374149",)),                                        # equine
    Picture("tuxpaint", "animals/birds/pigeon", "n01811909", (_BIRD,)),
    Picture("sample", "motorcycle", "n03790512", (_MOTOR,)),
    Picture("tuxpaint", "vehicles/flight/planes/747", "n02690373", ("n02686568",)),                # aircraft
    Picture("tuxpaint", "town/houses/cartoon/farm", "n03322099",                                     # farm animals
            (_BOVID, "n02395003", "n02374149", "n01791625", "n04465501")),
    Picture("tuxpaint", "hobbies/music/brass/trumpet", "n03110669", (_INSTRUMENT,)),
)


def right_kind(label_synset: str, picture: Picture, wn) -> bool:
    """True when a sound labelled ``label_synset`` is of a kind that fits ``picture``."""
    return bool(label_synset) and any(wn.is_a(label_synset, k) for k in picture.kinds)


def relatedness(label_synset: str, picture: Picture, wn) -> float:
    """Wu-Palmer similarity of the picture's subject and a sound's label (0 for an unlabelled sound)."""
    return wn.wup_similarity(picture.subject, label_synset) if label_synset else 0.0


def chance_of_kind(n_gallery: int, n_right: int, *, top: int = 5) -> float:
    """P(a random ``top`` of ``n_gallery`` sounds holds at least one of ``n_right`` fitting ones)."""
    return _p_first_positive_within(top, n_right, n_gallery - n_right) if n_right else 0.0


def hub_share(top_lists: list[list[str]]) -> tuple[float, str]:
    """The largest share of lists one sound appears in, and that sound (the worst hub)."""
    from collections import Counter

    counts = Counter(s for row in top_lists for s in set(row))
    if not counts:
        return 0.0, ""
    sound, n = counts.most_common(1)[0]
    return n / len(top_lists), sound


__all__ += ["bootstrap_recall", "Picture", "VALIDATION_PICTURES", "TEST_PICTURES", "right_kind", "relatedness",
            "chance_of_kind", "hub_share"]
