"""FAISS indexes: build one from vectors (flat, IVF, IVF-PQ or HNSW), search it, keep it on disk as a derived cache.

Every index built here maps FAISS labels to the caller's integer ids (the catalog's item ids), so a
search answers with ids directly. Metrics: ``"cosine"`` (inner product of L2-normalised vectors; the
default), ``"ip"`` (raw inner product) and ``"l2"`` (squared Euclidean distance, smaller is nearer).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from latentstudio.core.fileio import atomic_path, atomic_write_text
from latentstudio.errors import ParameterError

METRICS = ("cosine", "ip", "l2")
KINDS = ("auto", "flat", "ivf", "ivfpq", "hnsw")
#: Above this many vectors ``kind="auto"`` builds an IVF index instead of an exact flat one.
IVF_THRESHOLD = 50_000
#: Above this many vectors ``kind="auto"`` builds IVF-PQ (compressed codes, filled shard by shard): past a
#: few million, the float vectors of a space no longer fit comfortably in one machine's RAM.
PQ_THRESHOLD = 2_000_000
#: IVF-PQ answers are re-scored exactly on this many times ``k`` candidates (see :func:`rerank_candidates`).
PQ_RERANK = 10


def _faiss():
    import faiss

    return faiss


def normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), float32 contiguous."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x / np.maximum(norms, 1e-12), dtype=np.float32)


def prepare(x: np.ndarray, metric: str) -> np.ndarray:
    """Vectors as the index sees them under ``metric`` (normalised for cosine)."""
    return normalise(x) if metric == "cosine" else np.ascontiguousarray(x, dtype=np.float32)


def ivf_params(n: int, *, nlist: int | None = None, nprobe: int | None = None) -> tuple[int, int]:
    """Default (nlist, nprobe) for ``n`` vectors: nlist ~ 2 sqrt(n) (>= 39 training points per list),
    nprobe = nlist / 8 (at least 16), which keeps recall@10 near 1 on clustered (embedding-like) data;
    structureless data needs a larger nprobe (see bench/catalog.py)."""
    if nlist is None:
        nlist = int(min(2 * math.sqrt(max(n, 1)), max(1, n // 39)))
    nlist = max(1, int(nlist))
    if nprobe is None:
        nprobe = max(16, nlist // 8)
    return nlist, max(1, min(int(nprobe), nlist))


def pq_params(d: int) -> int:
    """Sub-quantizers ``m`` of an IVF-PQ code for ``d`` dims: the divisor of ``d`` nearest ``d / 4`` (8-bit
    codes: ``m`` bytes a vector, about 16x smaller than float32); 0 when ``d`` has no divisor in
    ``[2, d / 2]`` (a prime dimension: scalar 8-bit codes instead)."""
    divisors = [m for m in range(2, d // 2 + 1) if d % m == 0]
    return min(divisors, key=lambda m: (abs(m - d / 4), m)) if divisors else 0


def empty_ivfpq(d: int, *, n: int, metric: str, nlist: int | None = None, nprobe: int | None = None):
    """An untrained IVF-PQ index for about ``n`` vectors of ``d`` dims (train it on :func:`pq_training_size`
    of them, then add shards). Codes have 8 bits per sub-quantizer when the training set holds 39 points per
    centroid, fewer bits (down to 4) for smaller sets."""
    faiss = _faiss()
    fmetric = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
    nl, npb = ivf_params(n, nlist=nlist, nprobe=nprobe)
    quantizer = faiss.IndexFlat(d, fmetric)
    m = pq_params(d)
    if m:
        bits = int(np.clip(np.floor(np.log2(max(pq_training_size(n, nl), 1) / 39)), 4, 8))
        index = faiss.IndexIVFPQ(quantizer, d, nl, m, bits, fmetric)
    else:
        index = faiss.IndexIVFScalarQuantizer(quantizer, d, nl, faiss.ScalarQuantizer.QT_8bit, fmetric)
    index.nprobe = npb
    index.__dict__["_quantizer"] = quantizer
    return index


def pq_training_size(n: int, nlist: int) -> int:
    """Vectors to train IVF-PQ on: 40 per list and 40 per PQ centroid (256), at most ``n``."""
    return int(min(n, max(40 * nlist, 40 * 256)))


def build_index(vectors, *, kind: str = "auto", metric: str = "cosine", ids=None,
                threshold: int = IVF_THRESHOLD, nlist: int | None = None, nprobe: int | None = None,
                hnsw_m: int = 32, ef_search: int = 128, seed: int = 0):
    """Build a FAISS index over ``vectors`` whose labels are ``ids``.

    Parameters
    ----------
    vectors : ``(n, d)`` float array (``n`` may be 0)
    kind : ``"flat"`` (exact), ``"ivf"`` (IndexIVFFlat, approximate, fast on large sets), ``"ivfpq"``
        (IVF with product-quantised codes: ~16x smaller; search it with re-ranking, see
        :func:`rerank_candidates`), ``"hnsw"`` (graph, approximate; cannot remove ids), or ``"auto"``:
        flat up to ``threshold`` vectors, else IVF
    metric : ``"cosine"`` (vectors are L2-normalised, inner product), ``"ip"`` or ``"l2"``
    ids : ``(n,)`` int64 labels (default ``0..n-1``)
    nlist, nprobe : IVF lists and lists visited per query (defaults from :func:`ivf_params`)
    hnsw_m, ef_search : HNSW links per node and search breadth
    seed : seed of the IVF training sample and k-means

    Returns
    -------
    faiss.Index whose ``search`` answers with ``ids``; search it through :func:`search` so queries
    get the same normalisation.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(100, 8)).astype(np.float32)
    >>> index = build_index(x, ids=np.arange(1000, 1100))
    >>> scores, found = search(index, x[:2], k=1, metric="cosine")
    >>> found[:, 0].tolist()
    [1000, 1001]
    """
    faiss = _faiss()
    if kind not in KINDS:
        raise ParameterError(f"kind={kind!r} must be one of {', '.join(KINDS)}")
    if metric not in METRICS:
        raise ParameterError(f"metric={metric!r} must be one of {', '.join(METRICS)}")
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ParameterError(f"vectors must have shape (n, d) with d > 0, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ParameterError("vectors contain NaN or infinite values")
    n, d = x.shape
    labels = np.arange(n, dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)
    if labels.shape != (n,):
        raise ParameterError(f"ids must have shape ({n},) to match vectors, got {labels.shape}")
    if kind == "auto":
        kind = "ivf" if n > threshold else "flat"
    x = prepare(x, metric)
    fmetric = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
    if kind == "ivfpq" and n >= 256:
        index = empty_ivfpq(d, n=n, metric=metric, nlist=nlist, nprobe=nprobe)
        index.cp.seed = seed
        size = pq_training_size(n, index.nlist)
        index.train(x if size >= n else x[np.random.default_rng(seed).choice(n, size, replace=False)])
        index.add_with_ids(x, labels)
        return index
    if kind in ("ivf", "ivfpq") and n >= 39:
        nl, npb = ivf_params(n, nlist=nlist, nprobe=nprobe)
        quantizer = faiss.IndexFlat(d, fmetric)
        index = faiss.IndexIVFFlat(quantizer, d, nl, fmetric)
        index.cp.seed = seed
        train = x
        if n > 40 * nl:                                      # k-means on a sample: seconds, not minutes
            train = x[np.random.default_rng(seed).choice(n, 40 * nl, replace=False)]
        index.train(train)
        index.nprobe = npb
        index.add_with_ids(x, labels)
        index.__dict__["_quantizer"] = quantizer               # keep the quantizer alive with the index
        return index
    if kind == "hnsw":
        inner = faiss.IndexHNSWFlat(d, int(hnsw_m), fmetric)
        inner.hnsw.efSearch = int(ef_search)
        inner.hnsw.efConstruction = max(40, int(ef_search))
    else:                                                    # flat, or ivf with too few vectors to train
        inner = faiss.IndexFlat(d, fmetric)
    index = faiss.IndexIDMap2(inner)
    index.__dict__["_inner"] = inner
    if n:
        index.add_with_ids(x, labels)
    return index


def index_kind(index) -> str:
    """``"flat"``, ``"ivf"``, ``"ivfpq"`` or ``"hnsw"`` for an index built by :func:`build_index`."""
    faiss = _faiss()
    if isinstance(index, (faiss.IndexIVFPQ, faiss.IndexIVFScalarQuantizer)):
        return "ivfpq"
    if isinstance(index, faiss.IndexIVF):
        return "ivf"
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap) else index
    return "hnsw" if isinstance(inner, faiss.IndexHNSW) else "flat"


def add(index, vectors: np.ndarray, ids: np.ndarray, *, metric: str) -> None:
    """Add vectors with their ids (normalised like the index's metric)."""
    index.add_with_ids(prepare(np.atleast_2d(vectors), metric), np.asarray(ids, dtype=np.int64))


def remove(index, ids) -> bool:
    """Remove ids; False when the index kind cannot remove (HNSW): rebuild it instead."""
    if index_kind(index) == "hnsw":
        return False
    index.remove_ids(np.asarray(ids, dtype=np.int64))
    return True


_THREADS_LOCK = threading.Lock()
#: Searches comparing fewer (queries x vectors) pairs than this run on one thread: FAISS's OpenMP start-up
#: and spin-waiting cost far more than the work (on a busy 2-core machine a 1-query flat search over 2000
#: vectors took 28 ms on 2 threads and 0.02 ms on 1).
SMALL_WORK = 4_000_000


@contextlib.contextmanager
def faiss_threads(threads: int | None) -> Iterator[None]:
    """Run the block with FAISS's OpenMP thread count set to ``threads`` (None: leave it), then restore it."""
    if threads is None:
        yield
        return
    faiss = _faiss()
    with _THREADS_LOCK:
        before = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(int(threads))
        try:
            yield
        finally:
            faiss.omp_set_num_threads(before)


def search(index, queries: np.ndarray, *, k: int, metric: str,
           threads: int | None = -1) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, ids)`` of shape ``(m, k)``; missing neighbours have id -1. Scores: similarity for
    cosine/ip (larger is nearer), squared distance for l2 (smaller is nearer).

    ``threads``: FAISS threads for this search; -1 (default) means 1 for searches under :data:`SMALL_WORK`
    query-vector pairs and FAISS's own setting otherwise; None leaves FAISS's setting."""
    q = prepare(np.atleast_2d(queries), metric)
    k = int(min(k, max(index.ntotal, 1)))
    if threads == -1:
        threads = 1 if len(q) * index.ntotal < SMALL_WORK else None
    with faiss_threads(threads):
        return index.search(q, k)


def rerank_candidates(k: int, ntotal: int) -> int:
    """How many candidates an IVF-PQ search fetches so that exact re-scoring can return the true top ``k``."""
    return int(min(max(ntotal, 1), max(PQ_RERANK * k, k + 64)))


def exact_scores(queries: np.ndarray, vectors: np.ndarray, *, metric: str) -> np.ndarray:
    """``(m, n)`` exact scores of prepared ``queries`` against raw ``vectors`` under ``metric``."""
    x = prepare(vectors, metric)
    if metric == "l2":
        return ((queries[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    return queries @ x.T


# ------------------------------------------------------------------------------------ on-disk cache
def save(index, path: Path, meta: dict) -> None:
    """Write the index and then its ``.json`` meta, each atomically (a stale pair never claims fresh)."""
    faiss = _faiss()
    with atomic_path(path) as tmp:
        faiss.write_index(index, str(tmp))
    meta = dict(meta, nbytes=path.stat().st_size, ntotal=int(index.ntotal))
    atomic_write_text(meta_path(path), json.dumps(meta, indent=1))


def meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def load(path: Path, expect: dict):
    """``(index, meta)`` from ``path`` if its meta matches every key of ``expect`` and its file is whole,
    else None (missing, stale, truncated or corrupt files are all just a cache miss)."""
    faiss = _faiss()
    try:
        meta = json.loads(meta_path(path).read_text())
        if any(meta.get(k) != v for k, v in expect.items()) or meta.get("nbytes") != path.stat().st_size:
            return None
        index = faiss.read_index(str(path))
    except (OSError, ValueError, RuntimeError):
        return None
    if index.ntotal != meta.get("ntotal"):
        return None
    if isinstance(index, faiss.IndexIVF) and "nprobe" in meta:
        index.nprobe = int(meta["nprobe"])
    return index, meta


def remove_files(path: Path) -> None:
    for p in (path, meta_path(path)):
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass
