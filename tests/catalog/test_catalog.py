"""Catalog: add/update/remove/search consistency, re-ingest no-op, caches, FAISS as a derived cache, bad input."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from latentstudio.catalog import Catalog, build_index, hash_file
from latentstudio.errors import ParameterError


def _files(folder: Path, n: int, *, start: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(start, start + n):
        p = folder / f"clip{i:04d}.bin"
        p.write_bytes(f"content {i}".encode() * 3)
        out.append(p)
    return out


def _vec(path: Path, dim: int = 16) -> np.ndarray:
    seed = int(hash_file(path)[:8], 16)
    return np.random.default_rng(seed).normal(size=dim).astype(np.float32)


@pytest.fixture()
def cat(tmp_path):
    with Catalog(tmp_path / "db") as c:
        yield c


def test_add_get_and_no_op_readd(cat, tmp_path):
    (p,) = _files(tmp_path / "media", 1)
    item = cat.add(p, kind="audio", duration=1.5, tags=["drum", "kick"], analysis={"bpm": 120.0},
                   vectors={"dj": _vec(p)})
    assert item.hash == hash_file(p) and item.path == p.resolve() and item.tags == ("drum", "kick")
    assert cat.get(item.id) == item == cat.get(p) == cat.find_hash(item.hash)
    again = cat.add(p, kind="image", vectors={"dj": np.zeros(16)})          # unchanged file: no-op
    assert again == item and again.kind == "audio" and len(cat) == 1
    np.testing.assert_array_equal(cat.vector(item, "dj"), _vec(p))
    copy = tmp_path / "media" / "copy.bin"
    copy.write_bytes(p.read_bytes())
    assert cat.add(copy, kind="audio") == item and len(cat) == 1          # same content: the same item
    assert cat.spaces()["dj"].count == 1


def test_moved_and_changed_files(cat, tmp_path):
    (p,) = _files(tmp_path / "media", 1)
    item = cat.add(p, kind="audio", vectors={"dj": _vec(p)})
    moved = p.with_name("moved.bin")
    p.rename(moved)
    assert cat.add(moved, kind="audio").id == item.id and cat.get(item.id).path == moved.resolve()
    moved.write_bytes(b"new content entirely")
    changed = cat.add(moved, kind="audio", vectors={"other": np.ones(3)})
    assert changed.id == item.id and changed.hash != item.hash
    assert cat.vector(changed, "dj") is None                     # stale vector of the old content dropped
    assert cat.spaces()["dj"].count == 0 and cat.spaces()["other"].count == 1


def test_search_consistent_through_add_update_remove(cat, tmp_path):
    paths = _files(tmp_path / "media", 40)
    items = [cat.add(p, kind="audio", vectors={"dj": _vec(p)}) for p in paths]
    queries = np.stack([_vec(p) for p in paths[:5]])
    res = cat.search("dj", queries, k=3)
    assert [r[0][0].id for r in res] == [it.id for it in items[:5]]
    assert all(abs(r[0][1] - 1.0) < 1e-5 for r in res)              # cosine of a vector with itself
    assert all(r[0][1] >= r[1][1] >= r[2][1] for r in res)

    cat.remove(items[0])
    assert items[0].id not in [hit.id for hit, _ in cat.search("dj", queries[0], k=40)[0]]
    assert len(cat.search("dj", queries[0], k=100)[0]) == 39

    target = -_vec(paths[1])
    cat.update(items[2], vectors={"dj": target}, tags=["moved"], analysis={"x": 1})
    hit, score = cat.search("dj", target, k=1)[0][0]
    assert hit.id == items[2].id and hit.tags == ("moved",) and hit.analysis == {"x": 1}
    cat.update(items[2], analysis={"y": np.arange(3)}, merge_analysis=True)
    got = cat.get(items[2].id).analysis
    assert got["x"] == 1 and np.array_equal(got["y"], np.arange(3))
    cat.update(items[3], vectors={"dj": None})
    assert cat.spaces()["dj"].count == 38
    assert items[3].id not in {h.id for h, _ in cat.search("dj", queries[3], k=50)[0]}

    # a fresh process sees exactly the same answers (index loaded or rebuilt from SQLite)
    expect = [[(h.id, round(s, 5)) for h, s in row] for row in cat.search("dj", queries, k=5)]
    cat.close()
    with Catalog(cat.path) as again:
        got = [[(h.id, round(s, 5)) for h, s in row] for row in again.search("dj", queries, k=5)]
    assert got == expect


def test_two_writers_stay_consistent(tmp_path):
    paths = _files(tmp_path / "media", 6)
    a, b = Catalog(tmp_path / "db"), Catalog(tmp_path / "db")
    for p in paths[:3]:
        a.add(p, kind="audio", vectors={"s": _vec(p)})
    assert len(a.search("s", _vec(paths[0]), k=10)[0]) == 3          # a's live index is now built
    for p in paths[3:]:
        b.add(p, kind="audio", vectors={"s": _vec(p)})
    b.remove(paths[0])
    ids = {h.id for h, _ in a.search("s", _vec(paths[4]), k=10)[0]}    # a notices b's writes
    assert ids == {it.id for it in b.items()} and len(ids) == 5
    a.close(), b.close()


def test_items_filters(cat, tmp_path):
    paths = _files(tmp_path / "media", 4)
    for i, p in enumerate(paths):
        cat.add(p, kind="audio" if i % 2 else "image", tags=["even"] if i % 2 == 0 else [])
    assert [it.path for it in cat.items()] == [p.resolve() for p in paths]
    assert len(cat.items("audio")) == 2 and len(cat.items(tag="even")) == 2
    assert cat.remove(paths[0]) and not cat.remove(paths[0]) and paths[0] not in cat


def test_metrics(tmp_path):
    paths = _files(tmp_path / "media", 3)
    with Catalog(tmp_path / "l2.sqlite", metric="l2") as c:
        for p, v in zip(paths, ([0, 0], [1, 0], [5, 5])):
            c.add(p, kind="x", vectors={"s": v})
        hits = c.search("s", [0.9, 0.0], k=3)[0]
        assert [h.path.name for h, _ in hits] == ["clip0001.bin", "clip0000.bin", "clip0002.bin"]
        assert hits[0][1] == pytest.approx(0.01, abs=1e-6)            # squared distance
        assert c.spaces()["s"].metric == "l2"


def test_cached_analysis(cat, tmp_path):
    (p,) = _files(tmp_path / "media", 1)
    calls = []

    def analyse(path):
        calls.append(path)
        return {"onsets": np.array([0.5, 1.25]), "bpm": 98.0}

    first = cat.cached_analysis(p, "rhythm", analyse)
    copy = tmp_path / "copy.bin"
    copy.write_bytes(p.read_bytes())
    second = cat.cached_analysis(copy, "rhythm", analyse)            # same content: cache hit
    assert len(calls) == 1 and second["bpm"] == 98.0
    np.testing.assert_array_equal(second["onsets"], first["onsets"])
    p.write_bytes(b"edited")
    cat.cached_analysis(p, "rhythm", analyse)
    assert len(calls) == 2
    with pytest.raises(ParameterError, match="cannot be stored"):
        cat.cached_analysis(copy, "bad", lambda path: object())


def test_ingest_skips_unreadable_and_resumes(cat, tmp_path):
    paths = _files(tmp_path / "media", 8)
    bad = tmp_path / "media" / "broken.bin"
    bad.write_bytes(b"broken")
    calls = []

    def fn(path):
        calls.append(path.name)
        if path.name == "broken.bin":
            raise ParameterError(f"audio file {str(path)!r} is corrupt")
        return {"kind": "audio", "duration": 1.0, "vectors": {"s": _vec(path)}}

    ticks = []
    report = cat.ingest(paths[:5] + [bad, tmp_path / "missing.wav"], fn, progress=lambda n=1: ticks.append(n))
    assert len(report.added) == 5 and len(ticks) == 7
    assert {p.name for p, _ in report.failed} == {"broken.bin", "missing.wav"}
    assert "corrupt" in dict((p.name, m) for p, m in report.failed)["broken.bin"]
    calls.clear()
    report = cat.ingest(paths, fn)
    assert len(report.added) == 3 and len(report.skipped) == 5 and calls == [p.name for p in paths[5:]]
    assert len(cat) == 8 and cat.spaces()["s"].count == 8
    assert json.dumps(report.summary())


def test_faiss_is_a_derived_cache(tmp_path):
    paths = _files(tmp_path / "media", 20)
    db = tmp_path / "cat.sqlite"
    with Catalog(db) as c:
        for p in paths:
            c.add(p, kind="a", vectors={"s": _vec(p)})
        c.search("s", _vec(paths[0]), k=1)
    index_file = tmp_path / "cat.s.faiss"
    assert index_file.is_file() and (tmp_path / "cat.s.faiss.json").is_file()
    meta = json.loads((tmp_path / "cat.s.faiss.json").read_text())
    assert meta["ntotal"] == 20 and meta["kind"] == "flat"

    index_file.write_bytes(b"garbage" * 10)                           # corrupt cache: rebuilt
    with Catalog(db) as c:
        assert c.search("s", _vec(paths[3]), k=1)[0][0][0].path.name == paths[3].name
    # an index written by another catalog (different db uuid) is never trusted
    other = tmp_path / "other"
    with Catalog(other) as c:
        c.add(paths[0], kind="a", vectors={"s": np.ones(16)})
        c.search("s", np.ones(16), k=1)
    os.replace(other / "catalog.s.faiss", index_file)
    os.replace(other / "catalog.s.faiss.json", tmp_path / "cat.s.faiss.json")
    with Catalog(db) as c:
        assert len(c.search("s", _vec(paths[5]), k=50)[0]) == 20


def test_index_kinds_in_catalog(tmp_path):
    paths = _files(tmp_path / "media", 120)
    with Catalog(tmp_path / "db", ivf_threshold=50) as c:
        for p in paths:
            c.add(p, kind="a", vectors={"s": _vec(p)})
        hits = c.search("s", np.stack([_vec(p) for p in paths[:10]]), k=1)
        assert sum(row[0][0].path.name == p.name for row, p in zip(hits, paths)) >= 9
        meta = json.loads((tmp_path / "db" / "catalog.s.faiss.json").read_text())
        assert meta["kind"] == "ivf"
    with Catalog(tmp_path / "db", index_kind="hnsw") as c:
        assert c.rebuild_index("s").count == 120
        c.remove(paths[0])                                          # HNSW cannot remove: rebuilt on search
        assert paths[0].name not in {h.path.name for h, _ in c.search("s", _vec(paths[0]), k=5)[0]}


# ------------------------------------------------------------------------------------------ bad input
def test_wrong_dims_name_space_and_sizes(cat, tmp_path):
    a, b = _files(tmp_path / "media", 2)
    cat.add(a, kind="audio", vectors={"dj": np.ones(8)})
    with pytest.raises(ParameterError, match=r"vectors\['dj'\] has 5 dims but space 'dj' holds 8-dim"):
        cat.add(b, kind="audio", vectors={"dj": np.ones(5)})
    assert b not in cat                                              # nothing half-written
    with pytest.raises(ParameterError, match="query_vectors have 3 dims but space 'dj' holds 8-dim"):
        cat.search("dj", np.ones(3))
    with pytest.raises(ParameterError, match="space='nope' has no vectors"):
        cat.search("nope", np.ones(3))
    with pytest.raises(ParameterError, match="NaN"):
        cat.add(b, kind="audio", vectors={"dj": np.full(8, np.nan)})
    with pytest.raises(ParameterError, match="k=0"):
        cat.search("dj", np.ones(8), k=0)
    with pytest.raises(ParameterError, match="space='bad/name'"):
        cat.add(b, kind="audio", vectors={"bad/name": np.ones(8)})
    with pytest.raises(ParameterError, match="kind=''"):
        cat.add(b, kind="")
    with pytest.raises(ParameterError, match="does not exist"):
        cat.add(tmp_path / "nope.wav", kind="audio")
    with pytest.raises(ParameterError, match="duration=-1"):
        cat.add(b, kind="audio", duration=-1)
    with pytest.raises(ParameterError, match="not in catalog"):
        cat.update(12345, tags=["x"])
    with pytest.raises(ParameterError, match="must be one of"):
        Catalog(tmp_path / "x", metric="dot")


def test_corrupt_or_foreign_database(tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(os.urandom(4096))
    with pytest.raises(ParameterError, match="junk.sqlite.*not a readable SQLite database"):
        Catalog(junk)
    foreign = tmp_path / "foreign.sqlite"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE songs(x)")
    con.commit(), con.close()
    with pytest.raises(ParameterError, match="not a latentstudio catalog"):
        Catalog(foreign)


def test_default_path_under_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTSTUDIO_CACHE", str(tmp_path / "cache"))
    with Catalog() as c:
        assert c.path == (tmp_path / "cache" / "catalog" / "catalog.sqlite").resolve()


def test_build_index_reusable():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 12)).astype(np.float32)
    ids = np.arange(500) * 7 + 3
    for kind in ("flat", "ivf", "hnsw"):
        index = build_index(x, kind=kind, ids=ids, nlist=8, nprobe=8)
        _, found = index.search(x[:20] / np.linalg.norm(x[:20], axis=1, keepdims=True), 1)
        assert (found[:, 0] == ids[:20]).mean() >= 0.95, kind
    with pytest.raises(ParameterError, match="kind='pq'"):
        build_index(x, kind="pq")
    with pytest.raises(ParameterError, match=r"ids must have shape \(500,\)"):
        build_index(x, ids=[1, 2])
    assert build_index(np.zeros((0, 4))).ntotal == 0
