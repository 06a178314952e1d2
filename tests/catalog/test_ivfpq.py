"""IVF-PQ for catalogs past one machine's RAM: built from a sample and filled from SQLite shard by shard (the
space's vectors are never loaded at once), answers re-scored exactly so queries are unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from latentstudio.catalog import Catalog, store
from latentstudio.catalog import index as fidx

N, DIM = 3000, 32


@pytest.fixture(scope="module")
def vectors():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(40, DIM))
    return (centres[rng.integers(40, size=N)] + 0.35 * rng.normal(size=(N, DIM))).astype(np.float32)


def _fill(cat: Catalog, folder, vectors) -> None:
    folder.mkdir()
    for i, v in enumerate(vectors):
        p = folder / f"{i:05d}.bin"
        p.write_bytes(i.to_bytes(4, "little"))
        cat.add(p, kind="blob", vectors={"v": v})


def test_pq_params():
    assert fidx.pq_params(128) == 32 and fidx.pq_params(32) == 8 and fidx.pq_params(30) == 6
    assert fidx.pq_params(13) == 0                           # prime: scalar 8-bit codes instead


def test_ivfpq_sharded_build_and_exact_answers(tmp_path, vectors, monkeypatch):
    monkeypatch.setattr(store, "SHARD_SIZE", 700)
    monkeypatch.setattr(fidx, "pq_training_size", lambda n, nlist: min(n, 1200))
    reads = []
    real = Catalog._vectors_of
    monkeypatch.setattr(Catalog, "_vectors_of",
                        lambda self, space, ids: reads.append(len(ids)) or real(self, space, ids))
    with Catalog(tmp_path / "cat", ivf_threshold=500, pq_threshold=2000) as cat:
        _fill(cat, tmp_path / "files", vectors)
        monkeypatch.setattr(Catalog, "vectors", lambda *a, **k: pytest.fail("loaded every vector at once"))
        info = cat.rebuild_index("v")
        live = cat._live["v"]
        assert fidx.index_kind(live.index) == "ivfpq" and live.index.ntotal == info.count == N
        assert max(reads) == 1200                             # the training sample, not the space
        q = vectors[::150] + 0.05
        exact = fidx.normalise(vectors) @ fidx.normalise(q).T                   # (N, m)
        hits = cat.search("v", q, k=10)
        recall = np.mean([len({h.id - 1 for h, _ in row} & set(np.argsort(-exact[:, j])[:10])) / 10
                          for j, row in enumerate(hits)])
        assert recall >= 0.95, recall
        for j, row in enumerate(hits):                       # scores are the exact cosines, best first
            got = np.array([s for _, s in row])
            assert np.allclose(got, exact[[h.id - 1 for h, _ in row], j], atol=1e-5)
            assert np.all(np.diff(got) <= 1e-7)
        codes = cat._index_path("v").stat().st_size
        assert codes < 0.5 * N * DIM * 4                     # compressed: well under the float vectors
        p = tmp_path / "files" / "00007.bin"                  # removing and re-adding keeps the index in step
        assert cat.remove(p)
        assert all(h.id != 8 for h, _ in cat.search("v", vectors[7], k=5)[0])
        assert cat.verify()["spaces"]["v"] == {"sqlite": N - 1, "faiss": N - 1}


def test_auto_moves_to_ivfpq_past_the_threshold(tmp_path, vectors):
    with Catalog(tmp_path / "cat", ivf_threshold=100, pq_threshold=400) as cat:
        _fill(cat, tmp_path / "files", vectors[:300])
        cat.search("v", vectors[0], k=3)
        assert fidx.index_kind(cat._live["v"].index) == "ivf"
        more = tmp_path / "more"
        more.mkdir()
        for i, v in enumerate(vectors[300:600]):
            p = more / f"{i}.bin"
            p.write_bytes(b"m" + i.to_bytes(4, "little"))
            cat.add(p, kind="blob", vectors={"v": v})
        top = cat.search("v", vectors[450], k=1)[0][0]
        assert fidx.index_kind(cat._live["v"].index) == "ivfpq" and top[0].path.name == "150.bin"
