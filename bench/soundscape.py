"""Imaginary Soundscapes: held-out pairs, sound-less pictures against the Debian sound library, hubs, 1M-vector latency.

Every figure follows ``../shared/EVALUATION.md``:

* **Splits.** Tux Paint pairs are split by decoded sound content into train / validation / test
  (``split_seed`` 0, fixed); the labelled library sounds the student learns from come from
  ``LABEL_TRAIN_PACKAGES``; ``openttd-opensfx`` is never trained on. Query defaults were chosen with
  ``--select`` on the validation pairs and ``VALIDATION_PICTURES`` (gallery without the held-out package);
  the default run reads the test pairs and ``TEST_PICTURES`` once per seed.
* **Seeds.** Each seed trains a student with the project's own code (``soundscape.pipeline``, as
  ``latentstudio soundscape train`` does); figures are the median and range over seeds.
* **Baselines beside every figure.** Chance, and the name baseline (the teacher's probability mass on
  the ImageNet classes whose names share a word with the sound's file name).
* **Held-out pairs**: image -> own sound recall@1/5/10 among the test pairs' sounds, with a bootstrap
  interval over the test images (median seed); the same images against the whole library as well.
* **Pictures without their own sound**: the top 5 of the whole library (about 800 sounds from 7
  packages), a hit when a sound's WordNet label is of a right kind; the table lists the sounds.
  Also with audio alone (``label=0``: the library's names unused), to show what the student hears.
* **Hubs**: the largest share of top-5 lists one sound appears in: on test, every pair image and every
  test picture; on validation, the pair images outside the test split and the validation pictures.
* **Scale**: 1,000,000 random unit vectors; IVF against exact flat search, p50/p95 latency, recall@10.

Run:  python -m bench soundscape [--seeds 0 1 2] [--steps 800] [--scale 1000000]
      python -m bench soundscape --select --seeds 0 1 2    (validation only: choose the query defaults)
Prints one JSON object (progress on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

try:  # python -m bench NAME
    from bench._stats import spread
except ImportError:  # python bench/NAME.py
    from _stats import spread

TOP = 5


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _train(seed: int, steps: int, labels: bool, out: Path):
    from latentstudio.soundscape.pipeline import train_soundscape
    from latentstudio.soundscape.training import DistillConfig
    cfg = DistillConfig(steps=steps, seed=seed, label_weight=1.0 if labels else 0.0)
    t0 = time.perf_counter()
    run = train_soundscape("tuxpaint", config=cfg, labels=labels)
    run.save(out)
    _log(f"seed {seed} labels={labels}: trained in {time.perf_counter() - t0:.0f} s, "
         f"validation recall@10 {run.report.get('validation_recall', {}).get(10)}")
    return out


class Gallery:
    """The library embedded by one model, held as arrays (and in a catalog, for the user's query path)."""

    def __init__(self, model, model_id: str, catalog) -> None:
        from latentstudio.soundscape.index import class_space_name, label_space_name, space_name
        from latentstudio.soundscape.library import build_library, library_sounds

        t0 = time.perf_counter()
        self.report = build_library(catalog, model=model, model_id=model_id)
        self.seconds = time.perf_counter() - t0
        rows = library_sounds(catalog, model_id)
        self.items = [it for it, _ in rows]
        self.records = [rec for _, rec in rows]
        self.emb = np.stack([catalog.vector(it, space_name(model_id)) for it in self.items])
        self.emb /= np.linalg.norm(self.emb, axis=1, keepdims=True)
        self.cls = np.stack([catalog.vector(it, class_space_name(model_id)) for it in self.items])
        self.lab = np.stack([catalog.vector(it, label_space_name(model_id)) for it in self.items])
        self.hub = np.array([it.analysis["soundscape"]["hub"] for it in self.items], dtype=np.float32)
        self.names = [rec["name"] for rec in self.records]
        self.synsets = [rec["synset"] for rec in self.records]
        self.packages = [rec["package"] for rec in self.records]
        self.synset_of_hash = {rec["audio_hash"]: rec["synset"] for rec in self.records}


def _queries(model, logits, config):
    """Embedding queries at the model's temperature, class-space queries at the config's."""
    from latentstudio.soundscape.index import unit
    from latentstudio.soundscape.teacher import softmax

    q = model.query_vectors(softmax(logits, temperature=model.temperature)).detach().cpu().numpy()
    return q, unit(softmax(logits, temperature=config.class_temperature))


_PICTURE_LOGITS: dict = {}


def _picture_logits(teacher, pictures) -> np.ndarray:
    """Teacher logits of the pictures (computed once per teacher and picture list)."""
    key = (teacher.name, tuple(p.name for p in pictures))
    if key not in _PICTURE_LOGITS:
        _PICTURE_LOGITS[key] = teacher.logits([p.load() for p in pictures])
    return _PICTURE_LOGITS[key]


def _logits(pairs) -> np.ndarray:
    """The teacher logits of each pair's plain image (view 0)."""
    return np.stack([lg[0] for lg in pairs.logits])


def _pair_eval(model, pairs, config, labels, synset_of_hash) -> dict:
    """Recall of images among their own split's sounds, blended scores, with interval and baselines.

    Hubness is measured among these sounds; a sound's label position comes from its stamp name's label
    (:func:`~latentstudio.soundscape.targets.label_position`).
    """
    from latentstudio.soundscape.evaluate import (bootstrap_recall, chance_recall, name_baseline_scores,
                                                  recall_at_k)
    from latentstudio.soundscape.index import hub_scores, unit
    from latentstudio.soundscape.query import blended_scores
    from latentstudio.soundscape.targets import label_position

    q_emb, q_cls = _queries(model, _logits(pairs), config)
    emb, cls, lab = [], [], []
    for y, g in zip(pairs.waveforms, pairs.groups):
        e, p = model.embed_sound(y)
        emb.append(e)
        cls.append(unit(p))
        lab.append(label_position(synset_of_hash.get(g), cls[-1]))
    emb, cls, lab = np.stack(emb), np.stack(cls), np.stack(lab)
    hub = hub_scores(model, emb, cls, lab)
    groups = np.asarray(pairs.groups)
    pos = groups[:, None] == groups[None, :]
    scores = blended_scores(q_emb, q_cls, emb, cls, hub, config=config, lab=lab)
    audio_only = blended_scores(q_emb, q_cls, emb, cls, hub, config=replace(config, label=0.0))
    base = name_baseline_scores(pairs.distributions(temperature=1.0), pairs.names, labels)
    return {"n": len(pairs), "recall": recall_at_k(scores, positives=pos),
            "interval95": bootstrap_recall(scores, positives=pos), "chance": chance_recall(len(pairs)),
            "audio_only_recall": recall_at_k(audio_only, positives=pos),
            "audio_only_interval95": bootstrap_recall(audio_only, positives=pos),
            "name_baseline": recall_at_k(base, positives=pos)}


def _picture_eval(model, gallery: Gallery, pictures, config, teacher, labels, *, keep=None) -> dict:
    """Top 5 of the gallery for each picture: hits of the right kind, relatedness, name baseline, chance."""
    from latentstudio.soundscape.evaluate import (chance_of_kind, name_label_vectors, relatedness, right_kind)
    from latentstudio.soundscape.query import blended_scores, diverse_top
    from latentstudio.soundscape.teacher import softmax
    from latentstudio.zoo.wordnet import wordnet

    wn = wordnet()
    keep = np.ones(len(gallery.items), bool) if keep is None else keep
    idx = np.flatnonzero(keep)
    logits = _picture_logits(teacher, pictures)
    q_emb, q_cls = _queries(model, logits, config)
    scores = blended_scores(q_emb, q_cls, gallery.emb[idx], gallery.cls[idx], gallery.hub[idx], config=config,
                            lab=gallery.lab[idx])
    base = softmax(logits) @ name_label_vectors([gallery.names[i] for i in idx], labels).T
    rows, hits, base_hits, chance = [], 0, 0, 0.0
    for j, pic in enumerate(pictures):
        top = [idx[i] for i in diverse_top(scores[j], gallery.emb[idx], top=TOP, diversity=config.diversity)]
        btop = [idx[i] for i in np.argsort(-base[j], kind="stable")[:TOP]]
        ok = [right_kind(gallery.synsets[i], pic, wn) for i in top]
        n_right = sum(right_kind(gallery.synsets[i], pic, wn) for i in idx)
        hits += any(ok)
        base_hits += any(right_kind(gallery.synsets[i], pic, wn) for i in btop)
        chance += chance_of_kind(len(idx), n_right, top=TOP)
        rows.append({"picture": pic.name, "subject": wn.name(pic.subject),
                     "kinds": [wn.name(k) for k in pic.kinds], "hit": any(ok), "right_in_library": n_right,
                     "sounds": [[gallery.names[i], gallery.synsets[i] and wn.name(gallery.synsets[i]),
                                 gallery.packages[i], round(relatedness(gallery.synsets[i], pic, wn), 2), k]
                                for i, k in zip(top, ok)],
                     "name_baseline_sounds": [gallery.names[i] for i in btop]})
    return {"hits": hits, "of": len(pictures), "name_baseline_hits": base_hits,
            "chance_hits": round(chance, 2), "table": rows,
            "mean_relatedness": round(float(np.mean([s[3] for r in rows for s in r["sounds"]])), 3)}


def _hub_eval(model, gallery: Gallery, pairs, pictures, config, teacher) -> dict:
    from latentstudio.soundscape.evaluate import hub_share
    from latentstudio.soundscape.query import blended_scores, diverse_top

    logits = np.concatenate([_logits(pairs), _picture_logits(teacher, pictures)])
    q_emb, q_cls = _queries(model, logits, config)
    scores = blended_scores(q_emb, q_cls, gallery.emb, gallery.cls, gallery.hub, config=config, lab=gallery.lab)
    lists = [[gallery.names[i] for i in diverse_top(row, gallery.emb, top=TOP, diversity=config.diversity)]
             for row in scores]
    share, sound = hub_share(lists)
    return {"lists": len(lists), "max_share": round(share, 3), "worst_hub": sound, "goal_max_share<=0.10": share <= 0.10}


def _whole_library_recall(model, pairs, gallery: Gallery, config) -> dict:
    """Held-out pair images against every library sound (their own sound is in the library once)."""
    from latentstudio.soundscape.evaluate import chance_recall, recall_at_k
    from latentstudio.soundscape.query import blended_scores

    hashes = [r["audio_hash"] for r in gallery.records]
    pos = np.array([[h == g for h in hashes] for g in pairs.groups])
    ok = pos.any(axis=1)
    q_emb, q_cls = _queries(model, _logits(pairs)[ok], config)
    scores = blended_scores(q_emb, q_cls, gallery.emb, gallery.cls, gallery.hub, config=config, lab=gallery.lab)
    return {"n": int(ok.sum()), "gallery": len(hashes), "recall": recall_at_k(scores, positives=pos[ok]),
            "chance": chance_recall(len(hashes))}


class Context:
    """One model with its pairs, its embedded library (in an open temporary catalog) and its teacher."""

    def __init__(self, model_dir: Path, *, split: str) -> None:
        from latentstudio.catalog import Catalog
        from latentstudio.soundscape.data import tuxpaint_pairs
        from latentstudio.soundscape.pipeline import HELDOUT_PACKAGES
        from latentstudio.soundscape.student import load_student
        from latentstudio.soundscape.teacher import Teacher

        self.split = split
        self.model, self.info = load_student(model_dir)
        self.teacher = Teacher.of_student(self.model)
        self.pairs = tuxpaint_pairs(self.teacher, spec=self.model.mel, views=1)
        wanted = set(self.info["meta"]["validation" if split == "validation" else "heldout"]["groups"])
        self.part = self.pairs.subset([g in wanted for g in self.pairs.groups])
        self._tmp = tempfile.TemporaryDirectory()
        self.catalog = Catalog(self._tmp.name)
        self.gallery = Gallery(self.model, self.info["id"], self.catalog)
        self.keep = np.array([p not in HELDOUT_PACKAGES for p in self.gallery.packages]) \
            if split == "validation" else None
        # hub lists: every pair image (and picture) the split may see; validation never sees the test images
        test = set(self.info["meta"]["heldout"]["groups"])
        self.hub_pairs = self.pairs if split == "test" else self.pairs.subset([g not in test for g in self.pairs.groups])

    def close(self) -> None:
        self.catalog.close()
        self._tmp.cleanup()

    def evaluate(self, config, pictures) -> dict:
        m, g, t = self.model, self.gallery, self.teacher
        out = {"model": self.info["id"], "pairs": _pair_eval(m, self.part, config, t.labels, g.synset_of_hash),
               "pictures": _picture_eval(m, g, pictures, config, t, t.labels, keep=self.keep),
               "pictures_audio_only": {k: v for k, v in _picture_eval(
                   m, g, pictures, replace(config, label=0.0), t, t.labels, keep=self.keep).items() if k != "table"},
               "hubs": _hub_eval(m, g, self.hub_pairs, pictures, config, t),
               "library": {"sounds": len(g.items), "embed_seconds": round(g.seconds, 1),
                           "per_package": g.report.per_package, "duplicates_dropped": len(g.report.duplicates)}}
        if self.split == "test":
            out["whole_library"] = _whole_library_recall(m, self.part, g, config)
            out["user_path"] = _user_path_check(m, self.info, self.catalog, g, pictures[:2], config)
        return out


def _evaluate(model_dir: Path, *, split: str, config, pictures) -> dict:
    ctx = Context(model_dir, split=split)
    try:
        return ctx.evaluate(config, pictures)
    finally:
        ctx.close()


def _user_path_check(model, info, cat, gallery: Gallery, pictures, config) -> dict:
    """`soundscape query`'s path (catalog search + re-ranking) gives the same top 5 as the arrays here."""
    from latentstudio.soundscape.query import query_image

    same = []
    for pic in pictures:
        t0 = time.perf_counter()
        res = query_image(pic.load(), model=model, model_id=info["id"], catalog=cat, top=TOP, config=config)
        same.append({"picture": pic.name, "ms": round((time.perf_counter() - t0) * 1e3, 1),
                     "sounds": [Path(m.path).stem for m in res.matches]})
    return {"queries": same}


def _print_table(name: str, pictures: dict) -> None:
    """The picture table on stderr: each picture's top 5 with label, package, relatedness, right kind (*)."""
    _log(f"\n{name}: right kind of sound in the top {TOP} for {pictures['hits']} of {pictures['of']} pictures "
         f"(name baseline {pictures['name_baseline_hits']}, chance {pictures['chance_hits']})")
    for row in pictures["table"]:
        _log(f"  {row['picture']} ({row['subject']}; right: {', '.join(row['kinds'])})")
        for sound, label, package, rel, ok in row["sounds"]:
            _log(f"    {'*' if ok else ' '} {sound[:40]:40s} {label or '-':22s} {package:24s} {rel:.2f}")


def _median_range(values) -> dict | None:
    return spread(values, digits=3, runs=False)


def _summary(runs: list[dict]) -> dict:
    pick = lambda f: [f(r) for r in runs]  # noqa: E731
    mid = int(np.argsort(pick(lambda r: r["pairs"]["recall"][10]))[len(runs) // 2])
    return {"seeds": len(runs),
            "heldout_recall": {str(k): _median_range(pick(lambda r, k=k: r["pairs"]["recall"][k])) for k in (1, 5, 10)},
            "heldout_interval95_median_seed": runs[mid]["pairs"]["interval95"],
            "heldout_chance": runs[0]["pairs"]["chance"], "heldout_name_baseline": runs[0]["pairs"]["name_baseline"],
            "heldout_pairs": runs[0]["pairs"]["n"],
            "picture_hits": _median_range(pick(lambda r: r["pictures"]["hits"])),
            "picture_hits_audio_only": _median_range(pick(lambda r: r["pictures_audio_only"]["hits"])),
            "heldout_recall_audio_only": {str(k): _median_range(pick(lambda r, k=k: r["pairs"]["audio_only_recall"][k]))
                                          for k in (1, 5, 10)},
            "picture_of": runs[0]["pictures"]["of"],
            "picture_name_baseline_hits": runs[0]["pictures"]["name_baseline_hits"],
            "picture_chance_hits": runs[0]["pictures"]["chance_hits"],
            "hub_max_share": _median_range(pick(lambda r: r["hubs"]["max_share"])),
            "goal_pictures>=6of7": float(np.median(pick(lambda r: r["pictures"]["hits"]))) >= 6,
            "goal_recall@10>=0.7": float(np.median(pick(lambda r: r["pairs"]["recall"][10]))) >= 0.7,
            "goal_hub<=0.10": max(pick(lambda r: r["hubs"]["max_share"])) <= 0.10}


def select(model_dirs: list[Path]) -> dict:
    """Validation only: every query setting on every seed's model; the setting with the best median validation
    score (recall@10 + share of pictures hit) among those whose largest hub stays <= 10 % on *every* seed."""
    from latentstudio.soundscape.evaluate import VALIDATION_PICTURES
    from latentstudio.soundscape.query import QueryConfig

    grid = [QueryConfig(blend=b, label=lam, hub=h, class_temperature=t, diversity=d)
            for b in (0.0, 0.25, 0.5, 1.0) for lam in (0.0, 0.5, 1.0) for h in (0.5, 1.0, 2.0)
            for t in (1.0, 2.0) for d in (0.0, 0.3)]
    rows = []
    for d in model_dirs:
        ctx = Context(d, split="validation")
        for cfg in grid:
            r = ctx.evaluate(cfg, VALIDATION_PICTURES)
            score = r["pairs"]["recall"][10] + r["pictures"]["hits"] / r["pictures"]["of"]
            rows.append({"model": str(d), "blend": cfg.blend, "label": cfg.label, "hub": cfg.hub,
                         "class_temperature": cfg.class_temperature, "diversity": cfg.diversity,
                         "val_recall@10": round(r["pairs"]["recall"][10], 3), "val_picture_hits": r["pictures"]["hits"],
                         "hub_share": r["hubs"]["max_share"], "score": round(score, 3)})
            _log(json.dumps(rows[-1]))
        ctx.close()
    by_setting: dict = {}
    for r in rows:
        by_setting.setdefault(tuple(r[k] for k in _SETTING), []).append(r)
    summary = [dict(zip(_SETTING, key), score=float(np.median([r["score"] for r in rs])),
                    val_recall10=float(np.median([r["val_recall@10"] for r in rs])),
                    val_picture_hits=[r["val_picture_hits"] for r in rs], hub_share_max=max(r["hub_share"] for r in rs),
                    seeds=len(rs)) for key, rs in by_setting.items()]
    ok = [r for r in summary if r["hub_share_max"] <= 0.10] or summary
    return {"grid": rows, "chosen": max(ok, key=lambda r: (r["score"], -r["hub_share_max"]))}


_SETTING = ("blend", "label", "hub", "class_temperature", "diversity")


def bench_scale(dim: int, n: int, n_queries: int, nlist: int, nprobe: int, seed: int = 0) -> dict:
    from latentstudio.catalog import build_index
    from latentstudio.catalog.index import faiss_threads, search

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = rng.standard_normal((n_queries, dim), dtype=np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    t0 = time.perf_counter()
    flat = build_index(x, kind="flat")
    flat_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    ivf = build_index(x, kind="ivf", nlist=nlist, nprobe=nprobe, seed=seed)
    ivf_build = time.perf_counter() - t0

    def latencies(index, count, threads):
        out, found = [], []
        with faiss_threads(threads):
            for i in range(count):
                t = time.perf_counter()
                _, ids = search(index, q[i:i + 1], k=10, metric="cosine", threads=None)
                out.append(time.perf_counter() - t)
                found.append(ids[0])
        return np.array(out) * 1e3, found

    with faiss_threads(2):
        _, exact_all = search(flat, q, k=10, metric="cosine", threads=None)
    out = {"vectors": n, "dim": dim, "index": f"IVF{nlist},Flat nprobe={nprobe}", "queries": n_queries,
           "build_seconds": {"ivf": round(ivf_build, 1), "flat": round(flat_build, 1)}}
    pct = lambda a, p: round(float(np.percentile(a, p)), 2)  # noqa: E731
    for threads in (2, 1):
        exact_ms, _ = latencies(flat, min(n_queries, 50), threads)
        ivf_ms, approx = latencies(ivf, n_queries, threads)
        recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(approx, exact_all)]))
        out[f"threads={threads}"] = {
            "p50_ms": pct(ivf_ms, 50), "p95_ms": pct(ivf_ms, 95),
            "exact_p50_ms": pct(exact_ms, 50), "exact_p95_ms": pct(exact_ms, 95),
            "speedup_vs_exact_p50": round(float(np.percentile(exact_ms, 50) / np.percentile(ivf_ms, 50)), 1),
            "recall@10_vs_exact": round(recall, 4),
            "goal_p95<=20ms": float(np.percentile(ivf_ms, 95)) <= 20.0, "goal_recall>=0.95": recall >= 0.95}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds (>= 3 for a figure)")
    ap.add_argument("--steps", type=int, default=800)
    ap.add_argument("--no-labels", action="store_true", help="train on the pairs only (the ablation)")
    ap.add_argument("--models", nargs="*", default=None, help="evaluate these student folders instead of training")
    ap.add_argument("--select", action="store_true", help="validation only: choose the query defaults")
    ap.add_argument("--workdir", default=None, help="where trained students are kept (default: a temp folder)")
    ap.add_argument("--scale", type=int, default=1_000_000, help="vectors in the scale test (0 = skip)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--nlist", type=int, default=1024)
    ap.add_argument("--nprobe", type=int, default=448)
    args = ap.parse_args()

    import torch

    from latentstudio.soundscape.evaluate import TEST_PICTURES
    from latentstudio.soundscape.query import QueryConfig

    torch.set_num_threads(2)
    t0 = time.perf_counter()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="soundscape-bench-"))
    if args.models:
        dirs = [Path(m) for m in args.models]
    else:
        dirs = []
        for seed in args.seeds:
            d = work / f"seed{seed}{'-nolabels' if args.no_labels else ''}"
            dirs.append(d if (d / "model.safetensors").exists() else _train(seed, args.steps, not args.no_labels, d))
    if args.select:
        print(json.dumps(select(dirs), indent=2))
        return
    config = QueryConfig()
    runs = [_evaluate(d, split="test", config=config, pictures=TEST_PICTURES) for d in dirs]
    for d, r in zip(dirs, runs):
        _print_table(d.name, r["pictures"])
    out = {"query_config": {"blend": config.blend, "label": config.label, "hub": config.hub,
                            "class_temperature": config.class_temperature, "diversity": config.diversity},
           "labels": not args.no_labels, "steps": args.steps, "summary": _summary(runs), "runs": runs}
    if args.scale:
        from latentstudio.soundscape.student import load_student

        model, _ = load_student(dirs[0])
        out["scale"] = bench_scale(model.embedding_dim, args.scale, args.queries, args.nlist, args.nprobe)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
