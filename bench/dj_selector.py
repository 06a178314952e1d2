"""Learned DJ selector: held-out next-track hit@1/@5 on playlists with a hidden rule, vs the rules and chance.

A synthetic library (``--themes`` themes of ``--per-theme`` tracks: embedding clusters, ~122 bpm, theme t in
Camelot 2t+1 A) and playlists that follow a hidden rule: each next track is a random unplayed track of the
next theme in a fixed cyclic order. The model is trained (``train_selector``, the code behind
``latentstudio dj train-selector``) on ``--train`` playlists and scored on ``--held-out`` other playlists:

* ``learned``: the model's ranking of the true next track among the unplayed tracks (hit@1, hit@5, MRR);
* ``learned_plus_rules``: the pick of :class:`LearnedSelector` (novelty 0: hard tempo/Camelot constraints,
  learned + rule scores), as used by ``dj mix --selector``;
* ``rules``: the rule-based :class:`Selector`'s ranking (tempo, Camelot, similarity to the drifting theme);
* ``oracle``: knows the rule, picks at random within the true next theme;
* ``chance``: k / candidates.

``theme_hit@1`` is how often the top pick lies in the true next theme (the best any model can do on the
exact track is about 1 / tracks left in that theme). Medians over ``--seeds`` libraries.

Run:  nice -n 10 .venv/bin/python bench/dj_selector.py [--seeds 3] [--steps 400]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile


def one(seed: int, *, themes: int, per_theme: int, n_train: int, n_test: int, length: int, steps: int) -> dict:
    import numpy as np

    from latentstudio.dj.learned_selector import (LearnedScorer, LearnedSelector, hit_rates, next_track_ranks,
                                                  rule_score_fn, synthetic_library, synthetic_playlists,
                                                  train_selector)

    lib, th = synthetic_library(n_themes=themes, per_theme=per_theme, seed=seed)
    train = synthetic_playlists(lib, th, n_playlists=n_train, length=length, seed=1000 + seed)
    test = synthetic_playlists(lib, th, n_playlists=n_test, length=length, seed=2000 + seed)
    with tempfile.TemporaryDirectory() as d:
        report = train_selector(d, lib, train, steps=steps, seed=seed)
        scorer = LearnedScorer.load(d)
        learned = hit_rates(next_track_ranks(scorer.logits, lib, test))
        rules = hit_rates(next_track_ranks(rule_score_fn(lib), lib, test))
        top_theme, hybrid_hit, hybrid_theme, oracle = [], [], [], []
        for pl in test:
            for t in range(1, len(pl)):
                cand = [i for i in range(len(lib)) if i not in pl[:t]]
                oracle.append(1.0 / sum(th[i] == th[pl[t]] for i in cand))
                s = scorer.logits([lib[i] for i in pl[:t]], [lib[i] for i in cand])
                top_theme.append(th[cand[int(np.argmax(s))]] == th[pl[t]])
                sel = LearnedSelector(lib, scorer=scorer, novelty=0.0, seed=seed)
                for i in pl[:t]:
                    sel.mark_played(lib[i])
                pick = sel.choose(lib[pl[t - 1]])["path"]
                k = [a["path"] for a in lib].index(pick)
                hybrid_hit.append(k == pl[t])
                hybrid_theme.append(th[k] == th[pl[t]])
        rule_theme = []
        score = rule_score_fn(lib)
        for pl in test:
            for t in range(1, len(pl)):
                cand = [i for i in range(len(lib)) if i not in pl[:t]]
                s = score([lib[i] for i in pl[:t]], [lib[i] for i in cand])
                rule_theme.append(th[cand[int(np.argmax(s))]] == th[pl[t]])
    return {"learned": {**learned, "theme_hit@1": round(float(np.mean(top_theme)), 4)},
            "learned_plus_rules": {"hit@1": round(float(np.mean(hybrid_hit)), 4),
                                   "theme_hit@1": round(float(np.mean(hybrid_theme)), 4)},
            "rules": {**rules, "theme_hit@1": round(float(np.mean(rule_theme)), 4)},
            "oracle": {"hit@1": round(float(np.mean(oracle)), 4), "theme_hit@1": 1.0},
            "chance": {"hit@1": learned["chance_hit@1"], "hit@5": learned["chance_hit@5"],
                       "mrr": learned["chance_mrr"], "theme_hit@1": round(1.0 / themes, 4)},
            "train": {k: report[k] for k in ("transitions", "first_loss", "final_loss", "train_seconds")}}


def _median(rows: list[dict]) -> dict:
    import numpy as np

    out = {}
    for k, v in rows[0].items():
        if isinstance(v, dict):
            out[k] = _median([r[k] for r in rows])
        else:
            out[k] = round(float(np.median([r[k] for r in rows])), 4)
    return out


def run(*, seeds: int = 3, themes: int = 8, per_theme: int = 6, n_train: int = 80, n_test: int = 30,
        length: int = 10, steps: int = 400) -> dict:
    per_seed = [one(s, themes=themes, per_theme=per_theme, n_train=n_train, n_test=n_test, length=length,
                    steps=steps) for s in range(seeds)]
    return {"setup": {"themes": themes, "per_theme": per_theme, "train_playlists": n_train,
                      "held_out_playlists": n_test, "length": length, "steps": steps, "seeds": seeds},
            "median": _median(per_seed), "per_seed": per_seed}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--themes", type=int, default=8)
    p.add_argument("--per-theme", type=int, default=6)
    p.add_argument("--train", type=int, default=80)
    p.add_argument("--held-out", type=int, default=30)
    p.add_argument("--length", type=int, default=10)
    p.add_argument("--steps", type=int, default=400)
    a = p.parse_args()
    print(json.dumps(run(seeds=a.seeds, themes=a.themes, per_theme=a.per_theme, n_train=a.train,
                         n_test=a.held_out, length=a.length, steps=a.steps), indent=2))


if __name__ == "__main__":
    main()
