"""A real kill -9 in the middle of an ingest: nothing committed is lost, no half item, FAISS consistent,
and the ingest resumes without duplicates or recomputation."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from latentstudio.catalog import Catalog, batch

sys.path.insert(0, str(Path(__file__).parent))
from _ingest_script import DIM, vector_of  # noqa: E402

N_FILES = 800
KILL_AFTER = 200


def _committed(db: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("workers", [1, 2])
def test_kill_9_mid_ingest(tmp_path, workers):
    media = tmp_path / "media"
    media.mkdir()
    for i in range(N_FILES):
        (media / f"f{i:05d}.bin").write_bytes(f"sound number {i} ".encode() * 5)
    dbdir, log = tmp_path / "db", tmp_path / "calls.log"
    script = Path(__file__).with_name("_ingest_script.py")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, str(script), str(dbdir), str(media), str(log), str(workers)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    db = dbdir / "catalog.sqlite"
    deadline = time.monotonic() + 90
    while _committed(db) < KILL_AFTER:
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "ingest subprocess too slow"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 30                                    # its worker processes follow it
    while subprocess.run(["pgrep", "-f", str(dbdir)], capture_output=True).returncode == 0:
        assert time.monotonic() < deadline, "worker processes outlived their killed driver"
        time.sleep(0.1)
    assert (dbdir / "catalog.a.faiss").is_file()                      # a stale index lies on disk

    with Catalog(dbdir) as cat:
        con = cat._conn()
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        n = len(cat)
        assert KILL_AFTER <= n < N_FILES, n                             # killed mid-way, nothing lost
        # no half rows: every committed item has both vectors and its analysis
        for space, dim in (("a", DIM), ("b", 8)):
            missing = con.execute("SELECT COUNT(*) FROM items WHERE id NOT IN "
                                  "(SELECT item_id FROM vectors WHERE space=?)", (space,)).fetchone()[0]
            assert missing == 0
            assert cat.spaces()[space].count == n and cat.spaces()[space].dim == dim
        items = cat.items()
        for it in items:
            assert it.analysis == {"name": it.path.name} and it.tags == ("t",)
            np.testing.assert_array_equal(cat.vector(it, "a"), vector_of(it.path))
        # FAISS agrees with SQLite: each item finds itself first
        queries = np.stack([vector_of(it.path) for it in items])
        hits = cat.search("a", queries, k=1)
        assert [row[0][0].id for row in hits] == [it.id for it in items]
        assert cat.verify() == {"integrity": "ok", "items": n, "orphan_vectors": 0,
                                "spaces": {"a": {"sqlite": n, "faiss": n}, "b": {"sqlite": n, "faiss": n}}}

        calls_before = log.read_text().split()
        calls = []

        def analyse(path):
            calls.append(path.name)
            return {"kind": "audio", "duration": float(len(path.name)), "tags": ["t"],
                    "analysis": {"name": path.name}, "vectors": {"a": vector_of(path), "b": vector_of(path)[:8]}}

        report = cat.ingest(sorted(media.glob("*.bin")), analyse)
        assert len(report.skipped) == n and len(report.added) == N_FILES - n and not report.failed
        assert len(cat) == N_FILES
        paths = [str(it.path) for it in cat.items()]
        hashes = [it.hash for it in cat.items()]
        assert len(set(paths)) == N_FILES and len(set(hashes)) == N_FILES
        twice = [name for name, c in Counter(calls_before + calls).items() if c > 1]
        in_flight = 1 if workers == 1 else 2 * workers * batch._auto_batch(N_FILES, workers) + N_FILES // 10
        assert len(twice) <= in_flight                                  # at most those in flight
        assert not set(calls) & {it.path.name for it in items}          # committed ones never recomputed
        assert len(cat.search("a", queries[0], k=N_FILES)[0]) == N_FILES
