"""Subprocess for the kill -9 test: ingest every file of a folder into a catalog, slowly enough to be killed.

Usage: python _ingest_script.py DB_FOLDER MEDIA_FOLDER CALLS_LOG [WORKERS]
Each call of the analysis function is appended to CALLS_LOG (so the test can tell what was recomputed);
the FAISS index is built after 10 items and flushed every 25 so a stale index file lies on disk when the kill lands.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from latentstudio.catalog import Catalog, hash_file

DIM = 24


def vector_of(path: Path) -> np.ndarray:
    seed = int(hash_file(path)[:8], 16)
    return np.random.default_rng(seed).normal(size=DIM).astype(np.float32)


class Analyse:
    """The analysis (picklable, so worker processes can run it); logs each call."""

    def __init__(self, log: Path) -> None:
        self.log = log

    def __call__(self, path: Path) -> dict:
        with self.log.open("a") as fh:
            fh.write(path.name + "\n")
        time.sleep(0.002)
        return {"kind": "audio", "duration": float(len(path.name)), "tags": ["t"],
                "analysis": {"name": path.name}, "vectors": {"a": vector_of(path), "b": vector_of(path)[:8]}}


def main() -> None:
    db, media, log = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    workers = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    cat = Catalog(db)
    paths = sorted(media.glob("*.bin"))
    done = [0]

    def progress(n: int = 1) -> None:
        done[0] += n
        if done[0] == 10:                       # build the live FAISS index; adds then update it in place
            cat.search("a", np.ones(DIM), k=1)
        if done[0] % 25 == 0:
            cat.flush()

    cat.ingest(paths, Analyse(log), progress=progress, workers=workers)
    cat.close()


if __name__ == "__main__":
    main()
