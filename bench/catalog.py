"""Catalog throughput: adds/s (one transaction per item, with a vector) against plain SQLite inserts
committed one by one; the resume scan (files already catalogued) per second; search queries/s of the
catalog (flat FAISS) against numpy brute force; IVF against flat at scale (recall@10 and speed-up).

Run:  nice -n 10 .venv/bin/python bench/catalog.py [--items 2000] [--dim 128] [--scale 100000] [--repeats 5]
Prints one JSON object. Ratios > 1 mean faster than the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np

try:  # python -m bench NAME
    from bench._stats import median_time
except ImportError:  # python bench/NAME.py
    from _stats import median_time


def _cold_median_time(fn, repeats: int) -> float:
    return median_time(fn, repeats, warm_up=False)


def _clustered(rng, n: int, dim: int, n_clusters: int = 300) -> np.ndarray:
    centres = rng.normal(size=(n_clusters, dim)).astype(np.float32)
    return (centres[rng.integers(0, n_clusters, n)] + rng.normal(size=(n, dim))).astype(np.float32)


def bench_add(n_items: int, dim: int, rng) -> dict:
    from latentstudio.catalog import Catalog

    with tempfile.TemporaryDirectory() as tmp:
        media = Path(tmp) / "media"
        media.mkdir()
        paths = []
        for i in range(n_items):
            p = media / f"f{i:06d}.bin"
            p.write_bytes(rng.bytes(2048))
            paths.append(p)
        vecs = rng.normal(size=(n_items, dim)).astype(np.float32)

        cat = Catalog(Path(tmp) / "db")
        cat.add(paths[0], kind="audio", vectors={"s": vecs[0]})
        cat.search("s", vecs[0], k=1)                       # live index: adds also update FAISS
        t0 = time.perf_counter()
        for p, v in zip(paths[1:], vecs[1:]):
            cat.add(p, kind="audio", duration=1.0, tags=["x"], vectors={"s": v})
        add_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = cat.ingest(paths, lambda p: {"kind": "audio"})
        resume_s = time.perf_counter() - t0
        assert len(report.skipped) == n_items
        cat.close()

        con = sqlite3.connect(Path(tmp) / "plain.sqlite", isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, path TEXT UNIQUE, vec BLOB)")
        t0 = time.perf_counter()
        for p, v in zip(paths[1:], vecs[1:]):
            con.execute("BEGIN")
            con.execute("INSERT INTO t(path, vec) VALUES (?, ?)", (str(p), v.tobytes()))
            con.execute("COMMIT")
        plain_s = time.perf_counter() - t0
        con.close()
    n = n_items - 1
    return {"items": n, "dim": dim, "adds_per_s": round(n / add_s, 1),
            "plain_sqlite_inserts_per_s": round(n / plain_s, 1),
            "add_vs_plain_sqlite": round(plain_s / add_s, 3),
            "resume_skips_per_s": round(n_items / resume_s, 1)}


def bench_search(n_items: int, dim: int, rng, repeats: int) -> dict:
    from latentstudio.catalog import Catalog
    from latentstudio.catalog.index import normalise, search

    with tempfile.TemporaryDirectory() as tmp:
        media = Path(tmp) / "media"
        media.mkdir()
        x = _clustered(rng, n_items, dim)
        cat = Catalog(Path(tmp) / "db")
        for i in range(n_items):
            p = media / f"f{i:06d}.bin"
            p.write_bytes(i.to_bytes(4, "little") * 16)
            cat.add(p, kind="audio", vectors={"s": x[i]})
        q = x[rng.choice(n_items, 64, replace=False)] + 0.1 * rng.normal(size=(64, dim)).astype(np.float32)
        cat.search("s", q[:1], k=10)
        t_cat = _cold_median_time(lambda: cat.search("s", q, k=10), repeats)
        xn = normalise(x)

        def brute():
            sims = normalise(q) @ xn.T
            top = np.argpartition(-sims, 10, axis=1)[:, :10]
            return np.take_along_axis(sims, top, axis=1)

        t_np = _cold_median_time(brute, repeats)

        def one_each(fn):
            def run():
                for i in range(len(q)):
                    fn(i)
            return _cold_median_time(run, repeats) / len(q)

        t_one = one_each(lambda i: cat.search("s", q[i], k=10))
        q1 = normalise(q)
        t_one_np = one_each(lambda i: np.argpartition(-(xn @ q1[i]), 10)[:10])
        live = cat._live["s"].index
        t_faiss = _cold_median_time(lambda: search(live, q, k=10, metric="cosine"), repeats)
        t_one_faiss = one_each(lambda i: search(live, q[i], k=10, metric="cosine"))
        cat.close()
    return {"items": n_items, "batch": 64,
            "faiss_flat_vs_numpy_batch": round(t_np / t_faiss, 3),
            "faiss_flat_vs_numpy_single": round(t_one_np / t_one_faiss, 3),
            "numpy_single_query_ms": round(1000 * t_one_np, 4),
            "catalog_single_query_ms": round(1000 * t_one, 3),
            "catalog_batch_queries_per_s": round(64 / t_cat, 1),
            "note": "catalog_* are end to end: validation, FAISS, and the Items fetched from SQLite"}


def bench_ivf(n: int, dim: int, rng, repeats: int) -> dict:
    from latentstudio.catalog import build_index
    from latentstudio.catalog.index import search

    out = {}
    for name, x in (("clustered", _clustered(rng, n, dim)),
                    ("structureless", rng.normal(size=(n, dim)).astype(np.float32))):
        q = x[rng.choice(n, 200, replace=False)] + 0.3 * rng.normal(size=(200, dim)).astype(np.float32)
        flat = build_index(x, kind="flat")
        t0 = time.perf_counter()
        ivf = build_index(x, kind="ivf")
        build_s = time.perf_counter() - t0
        _, truth = search(flat, q, k=10, metric="cosine")
        _, got = search(ivf, q, k=10, metric="cosine")
        recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, truth)]))
        t_flat = _cold_median_time(lambda: search(flat, q, k=10, metric="cosine"), repeats)
        t_ivf = _cold_median_time(lambda: search(ivf, q, k=10, metric="cosine"), repeats)
        out[name] = {"vectors": n, "dim": dim, "nlist": int(ivf.nlist), "nprobe": int(ivf.nprobe),
                     "ivf_build_s": round(build_s, 2), "recall_at_10": round(recall, 4),
                     "ivf_vs_flat_speedup": round(t_flat / t_ivf, 2)}
    return out


def run(*, items: int = 2000, dim: int = 128, scale: int = 100_000, repeats: int = 5, seed: int = 0) -> dict:
    import faiss

    rng = np.random.default_rng(seed)
    return {"faiss": faiss.__version__, "sqlite": sqlite3.sqlite_version, "seed": seed,
            "add": bench_add(items, dim, rng), "search": bench_search(items, dim, rng, repeats),
            "ivf": bench_ivf(scale, dim, rng, repeats) if scale else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=2000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--scale", type=int, default=100_000, help="vectors for the IVF comparison (0: skip)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(json.dumps(run(items=args.items, dim=args.dim, scale=args.scale, repeats=args.repeats,
                         seed=args.seed), indent=2))


if __name__ == "__main__":
    main()
