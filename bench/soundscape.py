"""Imaginary Soundscapes: held-out retrieval, photographs -> sounds, indexing speed, 1M-vector index latency.

* Retrieval: image -> own sound recall@1/5/10 on the Tux Paint pairs the shipped model never saw
  (the split recorded in its checkpoint, grouped by sound content), next to chance and next to the
  baseline that matches images and sounds by teacher labels of the stamp names alone; also against
  the whole library (held-out images, all sounds) as a harder setting.
* Photographs: the top sounds of a few sample photos (whole Tux Paint library).
* Indexing: seconds of audio embedded per second (real-time factor), next to decoding alone.
* Scale: 1,000,000 random unit vectors of the model's embedding width; IVF (nlist, nprobe) against
  exact flat search: p50/p95 single-query latency on 2 threads and recall@10.

Run:  nice -n 10 .venv/bin/python bench/soundscape.py [--model DIR] [--scale 1000000] [--queries 200]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

PHOTOS = ("chelsea", "coffee", "horse", "motorcycle", "rocket", "china", "astronaut", "camera")


def _pairs_and_split(model, info):
    from latentstudio.soundscape.data import tuxpaint_pairs
    from latentstudio.soundscape.teacher import Teacher

    teacher = Teacher(model.teacher_name, temperature=model.temperature)
    pairs = tuxpaint_pairs(teacher, spec=model.mel, views=1)
    held = set(info["meta"]["heldout"]["groups"])
    mask = np.array([g in held for g in pairs.groups])
    return teacher, pairs, mask


def bench_retrieval(model, info) -> dict:
    from latentstudio.soundscape.evaluate import (chance_recall, name_baseline_scores, recall_at_k,
                                                  retrieval_scores)

    teacher, pairs, mask = _pairs_and_split(model, info)
    test = pairs.subset(mask)
    scores, pos = retrieval_scores(model, test)
    student = recall_at_k(scores, positives=pos)
    base = recall_at_k(name_baseline_scores(test.distributions(temperature=1.0), test.names, teacher.labels),
                       positives=pos)
    # the distributions alone (Bhattacharyya coefficient of teacher and student class distributions)
    sprobs = np.stack([model.embed_sound(y)[1] for y in test.waveforms])
    tprobs = test.distributions(temperature=model.temperature)
    bhatt = recall_at_k(np.sqrt(tprobs) @ np.sqrt(sprobs).T, positives=pos)
    # harder: held-out images against every sound of the library
    all_scores, all_pos = retrieval_scores(model, pairs)
    lib = recall_at_k(all_scores[mask], positives=all_pos[mask])
    train_scores, train_pos = retrieval_scores(model, pairs.subset(~mask))
    return {"heldout_pairs": int(mask.sum()), "heldout_sound_groups": len(set(test.groups)),
            "recall": student, "chance": chance_recall(len(test)), "name_baseline": base,
            "class_distribution_match": bhatt,
            "whole_library": {"gallery": len(pairs), "recall": lib, "chance": chance_recall(len(pairs))},
            "train_pairs_recall": recall_at_k(train_scores, positives=train_pos),
            "goal_recall@10>=0.5": student[10] >= 0.5}


def bench_photos(model, info, top: int = 5) -> tuple[dict, float]:
    from latentstudio import assets
    from latentstudio.catalog import Catalog
    from latentstudio.core.audio import load
    from latentstudio.core.image import load as load_image
    from latentstudio.soundscape.index import index_sounds
    from latentstudio.soundscape.query import query_image

    sounds = [s.sound for s in assets.tuxpaint_stamps(with_sound=True)]
    t0 = time.perf_counter()
    decoded = sum(len(load(s, sr=model.mel.sr)[0]) for s in sounds) / model.mel.sr
    decode_s = time.perf_counter() - t0
    table = {}
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)                       # as `latentstudio soundscape index` does by default
    with tempfile.TemporaryDirectory() as tmp, Catalog(tmp) as cat:
        report = index_sounds(sounds, catalog=cat, model=model, model_id=info["id"])
        torch.set_num_threads(threads)
        for name in PHOTOS:
            res = query_image(load_image(assets.sample_image(name)), model=model, model_id=info["id"],
                              catalog=cat, top=top)
            table[name] = {"teacher": [lab for lab, _ in res.teacher_labels[:3]],
                           "sounds": [[Path(m.path).stem, round(m.score, 3)] for m in res.matches]}
    indexing = {"files": len(report.added), "failed": [Path(p).name for p, _ in report.failed],
                "audio_seconds": round(report.audio_seconds, 1), "index_seconds": round(report.seconds, 2),
                "realtime_factor": round(report.realtime_factor, 1),
                "decode_only_realtime_factor": round(decoded / decode_s, 1),
                "goal_realtime>=50": report.realtime_factor >= 50}
    return {"photos": table, "indexing": indexing}, report.realtime_factor


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
    ap.add_argument("--model", default=None, help="student checkpoint folder (default: the shipped one)")
    ap.add_argument("--scale", type=int, default=1_000_000, help="vectors in the scale test (0 = skip)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--nlist", type=int, default=1024)
    ap.add_argument("--nprobe", type=int, default=448)
    args = ap.parse_args()

    import torch

    from latentstudio.soundscape.student import load_student

    torch.set_num_threads(2)
    model, info = load_student(args.model)
    out = {"model": info["id"], "embedding_dim": model.embedding_dim, "temperature": model.temperature}
    t0 = time.perf_counter()
    out["retrieval"] = bench_retrieval(model, info)
    photos, _ = bench_photos(model, info)
    out.update(photos)
    if args.scale:
        out["scale"] = bench_scale(model.embedding_dim, args.scale, args.queries, args.nlist, args.nprobe)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
