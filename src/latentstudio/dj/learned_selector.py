"""A learned next-track selector: a small GRU over the tracks played so far, trained on the user's playlists.

Each track is a feature vector from its analysis (:func:`track_features`: the similarity embedding, tempo
as log2 and folded onto the half/double-time circle, key as a point on the Camelot wheel plus its mode,
loudness, energy level/spread/slope, duration). :class:`SequenceSelectorNet` reads the history with a GRU
and scores every candidate with a dot product between the history's query and the candidate's key; it is
trained for next-track prediction with a softmax over the library (history masked; a sampled subset plus
the batch's true next tracks when the library is large) by :func:`latentstudio.train.fit`.

:class:`LearnedSelector` plugs the model into the rule-based :class:`~latentstudio.dj.select.Selector`:
the tempo stretch limit, Camelot compatibility and "never repeat" stay hard constraints (relaxed, with a
note, only when no candidate meets them), and the learned score (standardised over the candidates)
joins the rule scores. Every choice's reasons carry both.

Example
-------
>>> from latentstudio.dj.learned_selector import synthetic_library, synthetic_playlists, train_selector
>>> lib, themes = synthetic_library(n_themes=4, per_theme=3, seed=0)
>>> pls = synthetic_playlists(lib, themes, n_playlists=20, length=5, seed=1)
>>> import tempfile
>>> report = train_selector(tempfile.mkdtemp(), lib, pls, steps=20, seed=0)
>>> report["transitions"] > 0
True
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from latentstudio.dj.select import Selector
from latentstudio.errors import ParameterError
from latentstudio.zoo.checkpoint import register_model

#: Names of the non-embedding features that follow the embedding in :func:`track_features`.
EXTRA_FEATURES = ("log2_bpm", "bpm_fold_sin", "bpm_fold_cos", "camelot_sin", "camelot_cos", "minor",
                  "lufs", "energy_mean", "energy_std", "energy_slope", "log_duration")
MAX_KEY_DISTANCE = 2


def track_features(analysis: dict) -> np.ndarray:
    """The model's input vector for one analysis (embedding followed by :data:`EXTRA_FEATURES`)."""
    from latentstudio.core.key import parse_camelot

    try:
        emb = np.asarray(analysis["embedding"], dtype=np.float64).ravel()
        bpm = float(analysis["bpm"])
        number, letter = parse_camelot(analysis["camelot"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ParameterError(f"analysis of {analysis.get('path', '?')!r} lacks embedding/bpm/camelot ({exc})") \
            from None
    lb = math.log2(max(bpm, 1.0) / 120.0)
    fold = 2 * math.pi * (math.log2(max(bpm, 1.0)) % 1.0)
    ang = 2 * math.pi * (number - 1) / 12.0
    e = np.asarray(analysis.get("energy") or [-20.0], dtype=np.float64)
    third = max(1, len(e) // 3)
    extra = [lb, math.sin(fold), math.cos(fold), math.sin(ang), math.cos(ang), 1.0 if letter == "A" else 0.0,
             float(analysis.get("lufs", -14.0)) / 10.0, float(e.mean()) / 20.0, float(e.std()) / 10.0,
             float(e[-third:].mean() - e[:third].mean()) / 20.0,
             math.log(max(float(analysis.get("duration", 60.0)), 1.0))]
    return np.concatenate([emb, extra]).astype(np.float32)


def feature_matrix(library: list[dict]) -> np.ndarray:
    """``(n_tracks, n_features)`` features of a library; ParameterError when embeddings differ in size."""
    rows = [track_features(a) for a in library]
    sizes = {len(r) for r in rows}
    if len(sizes) != 1:
        raise ParameterError(f"the analyses have embeddings of different sizes {sorted(sizes)}; re-analyse the library")
    return np.stack(rows)


@register_model("dj_sequence_selector")
class SequenceSelectorNet(nn.Module):
    """GRU over the history's features -> a query; candidate features -> keys; score = query . key.

    Feature standardisation (``mean``, ``std`` of the training library) is stored with the weights.
    """

    def __init__(self, n_features: int, width: int = 64):
        super().__init__()
        self.n_features = int(n_features)
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("std", torch.ones(n_features))
        self.inp = nn.Sequential(nn.Linear(n_features, width), nn.GELU())
        self.gru = nn.GRU(width, width, batch_first=True)
        self.query = nn.Sequential(nn.Linear(2 * width, width), nn.GELU(), nn.Linear(width, width))
        self.key = nn.Sequential(nn.Linear(n_features, width), nn.GELU(), nn.Linear(width, width))

    def norm(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def forward(self, history: torch.Tensor, lengths: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
        """Scores ``(B, C)`` of ``candidates (C, F)`` after each of the ``history (B, L, F)`` (right-padded)."""
        x = self.inp(self.norm(history))
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, h = self.gru(packed)
        last = x[torch.arange(x.shape[0]), lengths - 1]
        q = self.query(torch.cat([h[-1], last], dim=1))
        k = self.key(self.norm(candidates))
        return q @ k.T / math.sqrt(q.shape[1])


def _history_tensor(rows: list[np.ndarray], history: int) -> tuple[torch.Tensor, torch.Tensor]:
    rows = [r[-history:] for r in rows]
    L = max(len(r) for r in rows)
    F = rows[0].shape[1]
    out = np.zeros((len(rows), L, F), dtype=np.float32)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return torch.from_numpy(out), torch.tensor([len(r) for r in rows], dtype=torch.long)


def train_selector(output: str | os.PathLike, library: list[dict], playlists: list[list[int]], *,
                   steps: int = 400, seed: int = 0, batch_size: int = 32, history: int = 8, width: int = 64,
                   lr: float = 3e-3, max_candidates: int = 1024, progress=None) -> dict:
    """Train :class:`SequenceSelectorNet` on ``playlists`` (lists of indices into ``library``).

    Writes the model to ``output`` (``model.safetensors`` + ``config.json``; training checkpoints in
    ``output/training``) and returns a report (steps, transitions, losses, seconds).

    Raises ParameterError when the playlists hold no transition (two consecutive distinct tracks).
    """
    from latentstudio.train import TrainConfig, fit
    from latentstudio.zoo.checkpoint import save_checkpoint

    if not isinstance(steps, int) or steps < 1:
        raise ParameterError(f"steps={steps!r} must be a positive integer")
    if not isinstance(history, int) or history < 1:
        raise ParameterError(f"history={history!r} must be a positive integer")
    X = feature_matrix(library)
    n = len(library)
    examples = []                    # (playlist, position): predict playlists[p][t] from the tracks before it
    for p, pl in enumerate(playlists):
        for t in range(1, len(pl)):
            if not (0 <= pl[t] < n) or any(not (0 <= i < n) for i in pl[:t]):
                raise ParameterError(f"playlist {p} refers to track index outside the library (size {n})")
            if pl[t] not in pl[:t]:
                examples.append((p, t))
    if not examples:
        raise ParameterError("the playlists hold no transition to learn from (each needs two different tracks)")
    torch.manual_seed(seed)
    cfg = {"n_features": int(X.shape[1]), "width": int(width)}
    model = SequenceSelectorNet(**cfg)
    Xt = torch.from_numpy(X)
    model.mean.copy_(Xt.mean(0))
    model.std.copy_(Xt.std(0, unbiased=False).clamp_min(1e-3))

    def make_batch(step, g):
        pick = torch.randint(len(examples), (batch_size,), generator=g).tolist()
        hist_idx = [playlists[examples[k][0]][: examples[k][1]] for k in pick]
        target = [playlists[examples[k][0]][examples[k][1]] for k in pick]
        if n <= max_candidates:
            cands = np.arange(n)
        else:
            extra = torch.randperm(n, generator=g)[:max_candidates].numpy()
            cands = np.unique(np.concatenate([extra, target]))
        pos = {int(c): j for j, c in enumerate(cands)}
        mask = np.zeros((batch_size, len(cands)), dtype=bool)
        for b, h in enumerate(hist_idx):
            for i in h:
                if int(i) in pos:
                    mask[b, pos[int(i)]] = True
        H, lengths = _history_tensor([X[h] for h in hist_idx], history)
        return (H, lengths, torch.from_numpy(X[cands]), torch.from_numpy(mask),
                torch.tensor([pos[int(t)] for t in target]))

    def loss_fn(m, batch):
        H, lengths, C, mask, target = batch
        logits = m(H, lengths, C).masked_fill(mask, -1e4)
        loss = nn.functional.cross_entropy(logits, target)
        acc = float((logits.argmax(1) == target).float().mean())
        return loss, {"accuracy": acc}

    out = Path(output)
    conf = TrainConfig(steps=steps, batch_size=batch_size, lr=lr, seed=seed, scheduler="cosine",
                       warmup_steps=min(20, steps // 10), weight_decay=1e-4, grad_clip=1.0, model_config=cfg,
                       checkpoint_dir=out / "training", checkpoint_every=max(1, steps // 2), keep_checkpoints=1,
                       resume=False, log_every=max(1, min(10, steps // 10)))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)             # a model this small trains fastest on one thread (no contention)
    try:
        result = fit(model, data=make_batch, loss_fn=loss_fn, config=conf, progress=progress)
    finally:
        torch.set_num_threads(threads)
    model.eval()
    k = max(1, min(50, steps // 5))
    report = {"tracks": n, "playlists": len(playlists), "transitions": len(examples), "steps": steps, "seed": seed,
              "history": history, "width": width, "first_loss": float(np.mean(result.losses[:k])),
              "final_loss": float(np.mean(result.losses[-k:])),
              "final_train_accuracy": float(np.mean(result.metrics["accuracy"][-k:])),
              "train_seconds": round(float(result.seconds), 3), "features": list(EXTRA_FEATURES)}
    save_checkpoint(out, model, config=cfg, meta={**report, "kind": "dj learned selector", "history": history})
    return report


class LearnedScorer:
    """A trained :class:`SequenceSelectorNet` as a function ``logits(history, candidates)`` of analyses."""

    def __init__(self, model: SequenceSelectorNet, *, history: int = 8, source: str = ""):
        self.model = model.eval()
        self.history = int(history)
        self.source = source

    @classmethod
    def load(cls, directory: str | os.PathLike) -> LearnedScorer:
        """Load a model written by :func:`train_selector` (ParameterError when it is not one)."""
        from latentstudio.zoo.checkpoint import load_checkpoint, read_config

        d = Path(directory)
        if not d.is_dir():
            raise ParameterError(f"selector model {str(d)!r} is not a folder (train one with dj train-selector)")
        record = read_config(d)
        if record["model"] != "dj_sequence_selector":
            raise ParameterError(f"selector model {str(d)!r} holds a {record['model']!r} model, "
                                 "not a dj_sequence_selector")
        model, info = load_checkpoint(d)
        return cls(model, history=int(info["meta"].get("history", 8)), source=str(d))

    @torch.no_grad()
    def logits(self, history: list[dict], candidates: list[dict]) -> np.ndarray:
        """Scores of ``candidates`` (analyses) as the next track after ``history`` (analyses, oldest first)."""
        if not history or not candidates:
            raise ParameterError("the learned selector needs a non-empty history and candidates")
        H = feature_matrix(history)
        C = feature_matrix(candidates)
        if H.shape[1] != self.model.n_features or C.shape[1] != self.model.n_features:
            raise ParameterError(f"selector model {self.source!r} expects {self.model.n_features} features, the "
                                 f"library's analyses give {C.shape[1]} (analysed with another version?)")
        Ht, lengths = _history_tensor([H], self.history)
        return self.model(Ht, lengths, torch.from_numpy(C))[0].numpy().astype(np.float64)


class LearnedSelector(Selector):
    """The rule-based :class:`Selector` with a learned score added (see the module docstring).

    Parameters
    ----------
    library : analyses
    scorer : a :class:`LearnedScorer` (or a model folder to load one from)
    learned_weight : weight of the learned score (standardised over the candidates) next to the rule scores
    max_key_distance : Camelot distance allowed (a hard constraint while any candidate meets it)
    novelty, stretch_limit, theme_rate, seed, weights : as :class:`Selector`
    """

    def __init__(self, library: list[dict], *, scorer: LearnedScorer | str | os.PathLike,
                 learned_weight: float = 3.0, max_key_distance: int = MAX_KEY_DISTANCE, **kwargs):
        super().__init__(library, **kwargs)
        self.scorer = scorer if isinstance(scorer, LearnedScorer) else LearnedScorer.load(scorer)
        if not (float(learned_weight) >= 0.0):
            raise ParameterError(f"learned_weight={learned_weight!r} must be >= 0")
        self.learned_weight = float(learned_weight)
        self.max_key_distance = int(max_key_distance)

    def choose(self, current: dict) -> dict:
        """Pick the next unplayed track after ``current``: hard constraints, then rule + learned score."""
        cands = self.candidates()
        if not cands:
            raise ParameterError(f"every track of the library has been played ({len(self.library)} tracks)")
        history = [self.by_path[p] for p in self.played if p in self.by_path] or [current]
        logits = self.scorer.logits(history, cands)
        z = (logits - logits.mean()) / (logits.std() + 1e-9) if len(cands) > 1 else np.zeros(1)
        prob = np.exp(logits - logits.max())
        prob /= prob.sum()
        order = np.argsort(-logits)
        rank = np.empty(len(cands), dtype=int)
        rank[order] = np.arange(1, len(cands) + 1)
        theme = self.theme if self.theme is not None else np.asarray(current["embedding"], dtype=np.float64)
        if self.novelty > 0:
            theme = theme + self.rng.normal(0.0, self.novelty * (np.linalg.norm(theme) + 1e-9) / np.sqrt(len(theme)),
                                            size=theme.shape)
        rows = []
        for i, c in enumerate(cands):
            s, r = self.score(current, c, theme)
            ok_tempo = r["tempo"]["within_limit"]
            ok_key = r["key"]["camelot_distance"] <= self.max_key_distance
            noise = float(self.rng.normal(0.0, self.novelty)) if self.novelty > 0 else 0.0
            rows.append((ok_tempo, ok_key, s + self.learned_weight * float(z[i]) + noise, s, i, c, r))
        pool, note = rows, None
        if any(r[0] and r[1] for r in rows):
            pool = [r for r in rows if r[0] and r[1]]
        elif any(r[0] for r in rows):
            pool = [r for r in rows if r[0]]
            note = f"no unplayed track is within Camelot distance {self.max_key_distance}; relaxed the key constraint"
        else:
            note = f"no unplayed track is within the +-{self.stretch_limit:.0%} stretch limit; took the best of all"
        _, _, total, rule, i, best, reasons = max(pool, key=lambda r: r[2])
        reasons = dict(reasons)
        reasons["learned"] = {"score": round(float(logits[i]), 4), "standardised": round(float(z[i]), 4),
                              "probability": round(float(prob[i]), 4), "rank": int(rank[i]),
                              "weight": self.learned_weight, "model": self.scorer.source}
        reasons["rule_score"] = round(float(rule), 4)
        reasons["selector"] = "learned + rules"
        reasons["novelty"] = self.novelty
        reasons["candidates"] = len(cands)
        reasons["eligible"] = len(pool)
        if note:
            reasons["note"] = note
        return {"path": best["path"], "score": round(float(total), 4), "reasons": reasons}


# ---------------------------------------------------------------------------------------- evaluation
def next_track_ranks(score, library: list[dict], playlists: list[list[int]]) -> list[tuple[int, int]]:
    """``(rank of the true next track, number of candidates)`` for every transition of ``playlists``.

    ``score(history_analyses, candidate_analyses) -> scores``; candidates are the tracks not yet played in
    that playlist (rank 1 = best).
    """
    out = []
    for pl in playlists:
        for t in range(1, len(pl)):
            if pl[t] in pl[:t]:
                continue
            played = set(pl[:t])
            cand_idx = [i for i in range(len(library)) if i not in played]
            s = np.asarray(score([library[i] for i in pl[:t]], [library[i] for i in cand_idx]), dtype=np.float64)
            true = s[cand_idx.index(pl[t])]
            out.append((1 + int(np.sum(s > true)), len(cand_idx)))
    return out


def hit_rates(ranks: list[tuple[int, int]], ks=(1, 5)) -> dict:
    """Hit@k of the ranks, chance hit@k (k / candidates), and the mean reciprocal rank."""
    if not ranks:
        raise ParameterError("no transitions to evaluate")
    r = np.array([a for a, _ in ranks], dtype=np.float64)
    n = np.array([b for _, b in ranks], dtype=np.float64)
    out = {}
    for k in ks:
        out[f"hit@{k}"] = round(float(np.mean(r <= k)), 4)
        out[f"chance_hit@{k}"] = round(float(np.mean(np.minimum(k, n) / n)), 4)
    out["mrr"] = round(float(np.mean(1.0 / r)), 4)
    out["chance_mrr"] = round(float(np.mean([np.mean(1.0 / np.arange(1, m + 1)) for m in n.astype(int)])), 4)
    out["transitions"] = len(ranks)
    return out


def rule_score_fn(library: list[dict], **kwargs):
    """The rule-based selector (no novelty) as a ``score(history, candidates)`` for :func:`next_track_ranks`."""
    def score(history, candidates):
        sel = Selector(library, novelty=0.0, **kwargs)
        for a in history:
            sel.mark_played(a)
        return [sel.score(history[-1], c, sel.theme)[0] for c in candidates]

    return score


def synthetic_library(*, n_themes: int = 6, per_theme: int = 6, dim: int = 16, spread: float = 0.5,
                      seed: int = 0) -> tuple[list[dict], list[int]]:
    """Analyses of a made-up library in ``n_themes`` themes (embedding clusters; theme t in Camelot 2t+1 A).

    Returns ``(analyses, theme of each track)``; for tests and benchmarks of the learned selector.
    """
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_themes, dim))
    lib, themes = [], []
    for t in range(n_themes):
        for j in range(per_theme):
            e = centres[t] / np.linalg.norm(centres[t]) + spread * rng.normal(size=dim) / np.sqrt(dim)
            lib.append({"path": f"/synthetic/theme{t}-{j}.wav", "bpm": float(122 + rng.uniform(-2, 2)),
                        "camelot": f"{(2 * t) % 12 + 1}A", "beats_per_bar": 4,
                        "embedding": (e / np.linalg.norm(e)).tolist(), "lufs": float(-10 + rng.normal()),
                        "energy": (-15 + 3 * rng.normal(size=20)).tolist(), "duration": 180.0})
            themes.append(t)
    return lib, themes


def synthetic_playlists(library: list[dict], themes: list[int], *, n_playlists: int, length: int = 8,
                        seed: int = 0) -> list[list[int]]:
    """Playlists that follow a hidden rule: each next track is a random unplayed track of the next theme
    in a fixed cyclic order (0 -> 1 -> ... -> n_themes-1 -> 0)."""
    rng = np.random.default_rng(seed)
    n_themes = max(themes) + 1
    by_theme = [[i for i, t in enumerate(themes) if t == k] for k in range(n_themes)]
    out = []
    for _ in range(n_playlists):
        pl = [int(rng.integers(len(library)))]
        while len(pl) < length:
            pool = [i for i in by_theme[(themes[pl[-1]] + 1) % n_themes] if i not in pl]
            if not pool:
                break
            pl.append(int(rng.choice(pool)))
        out.append(pl)
    return out
