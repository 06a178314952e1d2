"""Batch jobs for the execution-layer tests (registered with Ray's pickler by value: test modules are not
importable in Ray's workers)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np


class Square:
    """``x -> {"sq": x*x, "vec": arange(3) * x}``; 13 is a bad item; ``kill_at`` kills its worker once."""

    def __init__(self, marker: str | None = None, kill_at: int | None = None) -> None:
        self.marker, self.kill_at = marker, kill_at
        self.ready = False

    def setup(self, device: str) -> None:
        self.ready = True

    def __call__(self, x: int) -> dict:
        assert self.ready, "setup() was not called"
        if x == 13:
            raise ValueError("thirteen is unlucky")
        if self.kill_at is not None and x == self.kill_at and not Path(self.marker).exists():
            Path(self.marker).write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return {"sq": x * x, "vec": np.arange(3, dtype=np.float32) * x}


class KillsEveryWorker:
    """Kills its worker every time it meets ``poison``; squares everything else."""

    def __init__(self, poison: int) -> None:
        self.poison = poison

    def __call__(self, x: int) -> int:
        if x == self.poison:
            os.kill(os.getpid(), signal.SIGKILL)
        return x * x


class KillsBesideASlowItem(KillsEveryWorker):
    """As :class:`KillsEveryWorker`, and ``slow`` takes ``seconds``: it is still running in the other worker
    each time ``poison`` kills the pool."""

    def __init__(self, poison: int, slow: int, seconds: float = 1.0) -> None:
        super().__init__(poison)
        self.slow, self.seconds = slow, seconds

    def __call__(self, x: int) -> int:
        if x == self.slow:
            import time

            time.sleep(self.seconds)
        return super().__call__(x)


class Buggy:
    """Raises a KeyError (a bug, not a bad item) on 2."""

    def __call__(self, x: int) -> int:
        if x == 2:
            raise KeyError("a bug")
        return x


class Describe:
    """An ingest analysis: a file's size and a vector from its bytes; kills its worker once at ``kill_name``."""

    def __init__(self, marker: str | None = None, kill_name: str | None = None) -> None:
        self.marker, self.kill_name = marker, kill_name

    def __call__(self, path: Path) -> dict:
        data = path.read_bytes()
        if not data:
            raise ValueError(f"{path.name} is empty")
        if self.kill_name == path.name and not Path(self.marker).exists():
            Path(self.marker).write_text("killed")
            os.kill(os.getpid(), signal.SIGKILL)
        vec = np.frombuffer(data[:32].ljust(32, b"\0"), dtype=np.uint8).astype(np.float32)
        return {"kind": "blob", "duration": float(len(data)), "tags": ["t"], "analysis": {"name": path.name},
                "vectors": {"bytes": vec}}
