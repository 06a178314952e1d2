"""Choosing the next track: tempo and key compatibility, similarity to a drifting theme, a novelty dial.

Like Qosmo's AI DJ, the selector listens to what has been played: a *theme* vector follows the recent
history's embeddings (an exponential moving average, so it drifts slowly), and the next track is the
unplayed one that best combines

* tempo: reachable within ``stretch_limit`` (half or double time allowed),
* key: Camelot distance (same key, relative, or a fifth away are good),
* similarity: cosine between its embedding and the theme,
* novelty: noise added to the theme (Qosmo added noise when the crowd stopped dancing) and to the scores.

Every choice carries its reasons (the numbers behind each term) for the mix plan.

Example
-------
>>> import numpy as np
>>> lib = [{"path": f"t{i}.wav", "bpm": b, "camelot": c, "embedding": [1.0, i / 10], "beats_per_bar": 4}
...        for i, (b, c) in enumerate([(120, "8B"), (122, "9B"), (90, "3A"), (240, "8A")])]
>>> sel = Selector(lib, seed=0)
>>> first = sel.played.append(lib[0]["path"]) or lib[0]
>>> sel.choose(first)["path"]
't1.wav'
"""

from __future__ import annotations

import numpy as np

from latentstudio.errors import ParameterError

#: Output beats per source beat tried when matching tempi (half time, same, double time).
MULTIPLIERS = (0.5, 1.0, 2.0)


def tempo_match(bpm_from: float, bpm_to: float) -> tuple[float, float]:
    """``(multiplier, rate)``: the incoming track (``bpm_to``) played ``rate`` times faster, with
    ``multiplier`` output beats per source beat, matches ``bpm_from``; the multiplier minimising |log rate|."""
    if not (bpm_from > 0 and bpm_to > 0):
        raise ParameterError(f"tempi must be positive, got {bpm_from!r} and {bpm_to!r}")
    best = min(MULTIPLIERS, key=lambda m: abs(np.log(bpm_from / (bpm_to * m))))
    return best, float(bpm_from / (bpm_to * best))


class Selector:
    """Stateful track chooser over a library of analyses (dicts from :mod:`latentstudio.dj.analysis`).

    Parameters
    ----------
    library : analyses with ``path``, ``bpm``, ``camelot``, ``embedding``
    novelty : 0 = always the most fitting track; 1 = wander far (noise on theme and scores)
    stretch_limit : largest tempo change allowed, as a fraction (0.08 = +-8 %)
    theme_rate : how fast the theme follows the last played track (0..1)
    seed : random seed of the novelty noise
    """

    def __init__(self, library: list[dict], *, novelty: float = 0.2, stretch_limit: float = 0.08,
                 theme_rate: float = 0.3, seed: int = 0, weights: dict | None = None):
        if not library:
            raise ParameterError("the library is empty: no analysed tracks to choose from")
        if not (0.0 <= float(novelty) <= 1.0):
            raise ParameterError(f"novelty={novelty!r} must be within 0..1")
        if not (0.0 < float(stretch_limit) <= 0.5):
            raise ParameterError(f"stretch_limit={stretch_limit!r} must be within 0..0.5")
        if not (0.0 < float(theme_rate) <= 1.0):
            raise ParameterError(f"theme_rate={theme_rate!r} must be within 0..1")
        self.library = library
        self.by_path = {a["path"]: a for a in library}
        self.novelty = float(novelty)
        self.stretch_limit = float(stretch_limit)
        self.theme_rate = float(theme_rate)
        self.rng = np.random.default_rng(seed)
        self.weights = {"tempo": 1.0, "key": 1.0, "similarity": 1.5, "meter": 0.5, **(weights or {})}
        self.played: list[str] = []
        self.theme: np.ndarray | None = None

    def find(self, name: str) -> dict:
        """The analysis whose path or file name (with or without extension) is ``name``."""
        name = str(name).strip()
        for a in self.library:
            p = a["path"]
            if name in (p, p.rsplit("/", 1)[-1], p.rsplit("/", 1)[-1].rsplit(".", 1)[0]):
                return a
        names = ", ".join(sorted(a["path"].rsplit("/", 1)[-1] for a in self.library))
        raise ParameterError(f"track {name!r} is not in the library (tracks: {names})")

    def mark_played(self, analysis: dict) -> None:
        """Record a played track and move the theme towards it."""
        self.played.append(analysis["path"])
        v = np.asarray(analysis["embedding"], dtype=np.float64)
        self.theme = v if self.theme is None else (1 - self.theme_rate) * self.theme + self.theme_rate * v

    def candidates(self) -> list[dict]:
        return [a for a in self.library if a["path"] not in self.played]

    def score(self, current: dict, cand: dict, theme: np.ndarray) -> tuple[float, dict]:
        """Score of ``cand`` after ``current`` and the reasons (each term's value)."""
        from latentstudio.core.key import camelot_distance

        mult, rate = tempo_match(current["bpm"], cand["bpm"])
        stretch = abs(rate - 1.0)
        tempo_ok = stretch <= self.stretch_limit
        tempo_s = 1.0 - stretch / self.stretch_limit
        kd = camelot_distance(current["camelot"], cand["camelot"])
        key_s = {0: 1.0, 1: 0.8, 2: 0.3}.get(kd, 0.0)
        e = np.asarray(cand["embedding"], dtype=np.float64)
        sim = float(np.dot(e, theme) / (np.linalg.norm(e) * np.linalg.norm(theme) + 1e-9))
        meter_s = 1.0 if cand.get("beats_per_bar") == current.get("beats_per_bar") else 0.0
        w = self.weights
        total = w["tempo"] * tempo_s + w["key"] * key_s + w["similarity"] * sim + w["meter"] * meter_s
        reasons = {"tempo": {"from_bpm": round(current["bpm"], 2), "to_bpm": round(cand["bpm"], 2),
                             "beat_multiplier": mult, "stretch_rate": round(rate, 4),
                             "within_limit": bool(tempo_ok), "score": round(tempo_s, 3)},
                   "key": {"from": current["camelot"], "to": cand["camelot"], "camelot_distance": kd,
                           "score": key_s},
                   "similarity": round(sim, 4),
                   "meter": {"from": current.get("beats_per_bar"), "to": cand.get("beats_per_bar")}}
        return (total if tempo_ok else total - 10.0), reasons

    def choose(self, current: dict) -> dict:
        """Pick the next unplayed track after ``current``; returns ``{"path", "score", "reasons"}``.

        Raises ParameterError when every track has been played.
        """
        cands = self.candidates()
        if not cands:
            raise ParameterError(f"every track of the library has been played ({len(self.library)} tracks)")
        theme = self.theme if self.theme is not None else np.asarray(current["embedding"], dtype=np.float64)
        if self.novelty > 0:
            theme = theme + self.rng.normal(0.0, self.novelty * (np.linalg.norm(theme) + 1e-9) / np.sqrt(len(theme)),
                                            size=theme.shape)
        scored = []
        for c in cands:
            s, r = self.score(current, c, theme)
            noise = float(self.rng.normal(0.0, self.novelty)) if self.novelty > 0 else 0.0
            scored.append((s + noise, s, c, r))
        scored.sort(key=lambda x: -x[0])
        total, raw, best, reasons = scored[0]
        reasons = dict(reasons)
        reasons["novelty"] = self.novelty
        reasons["rank_without_noise"] = 1 + sorted([-x[1] for x in scored]).index(-raw)
        reasons["candidates"] = len(cands)
        if not reasons["tempo"]["within_limit"]:
            reasons["note"] = (f"no unplayed track is within the +-{self.stretch_limit:.0%} stretch limit; "
                               "took the closest")
        return {"path": best["path"], "score": round(float(total), 4), "reasons": reasons}
