"""One worker thread for the studio's heavy jobs: a FIFO queue, progress, cancellation.

A job is a function ``fn(progress)`` run on the single worker thread, in submission order. It reports
with ``progress(done, total, message)``; that call is also where cancellation lands: once :meth:`JobQueue.cancel`
was asked for a running job, its next ``progress`` call raises :class:`JobCancelled`. A queued job that is
cancelled never starts. Every change bumps the job's ``version`` so that a watcher (the SSE route) sends only
news.

Example
-------
>>> q = JobQueue()                                                # doctest: +SKIP
>>> job = q.submit("count", lambda progress: [progress(i, 3) for i in range(3)] and {"n": 3})  # doctest: +SKIP
>>> q.wait(job.id, timeout=5).status                             # doctest: +SKIP
'done'
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from latentstudio.errors import LatentStudioError

log = logging.getLogger("latentstudio.web")

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
TERMINAL = (DONE, FAILED, CANCELLED)


class JobCancelled(Exception):
    """Raised inside a job's ``progress`` call once the job was cancelled."""


@dataclass
class Job:
    """A heavy job's public state (``to_dict`` is what the pages see)."""

    id: str
    kind: str
    fn: Callable[[Callable[..., None]], Any] = field(repr=False)
    status: str = QUEUED
    done: float = 0
    total: float | None = None
    message: str = "queued"
    result: Any = None
    error: str | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    version: int = 0
    cancel_requested: bool = False

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "status": self.status, "done": self.done, "total": self.total,
                "message": self.message, "result": self.result, "error": self.error,
                "seconds": round((self.finished or time.time()) - (self.started or self.created), 2)}


class JobQueue:
    """A FIFO of jobs run one at a time by one daemon worker thread (started on the first submit).

    Parameters
    ----------
    keep : finished jobs kept for the pages to read (the oldest are forgotten first)
    on_start : called on the worker thread before its first job (e.g. to set torch threads)
    """

    def __init__(self, *, keep: int = 200, on_start: Callable[[], None] | None = None):
        self._jobs: dict[str, Job] = {}
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.Condition()
        self._ids = itertools.count(1)
        self._keep = keep
        self._on_start = on_start
        self._thread: threading.Thread | None = None
        self._stopping = False

    # ------------------------------------------------------------------------------------------ public
    def submit(self, kind: str, fn: Callable[[Callable[..., None]], Any]) -> Job:
        """Queue ``fn(progress)``; returns the job (status ``queued``)."""
        with self._lock:
            if self._stopping:
                raise RuntimeError("the job queue is shut down")
            job = Job(id=f"{next(self._ids)}", kind=kind, fn=fn)
            self._jobs[job.id] = job
            self._forget_old()
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="studio-worker", daemon=True)
                self._thread.start()
        self._queue.put(job.id)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def jobs(self) -> list[Job]:
        """Every known job, newest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: int(j.id), reverse=True)

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a queued job (it never runs) or ask a running one to stop at its next progress report.
        A finished job is left as it is. Returns the job, or None when unknown."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.status in TERMINAL:
                return job
            job.cancel_requested = True
            if job.status == QUEUED:
                self._finish(job, CANCELLED, message="cancelled before it started")
            else:
                job.message = "cancelling ..."
                self._bump(job)
            return job

    def wait(self, job_id: str, *, timeout: float | None = None, after: int = -1) -> Job | None:
        """Block until the job changes past version ``after`` (or finishes, with ``after=-1``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while True:
                job = self._jobs.get(job_id)
                if job is None or job.status in TERMINAL or (after >= 0 and job.version > after):
                    return job
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return job
                self._lock.wait(left)

    def pending(self) -> int:
        """How many jobs wait or run."""
        with self._lock:
            return sum(j.status in (QUEUED, RUNNING) for j in self._jobs.values())

    def busy(self) -> bool:
        """True while a job runs or waits."""
        return self.pending() > 0

    def shutdown(self, *, timeout: float = 5.0) -> None:
        """Cancel everything and stop the worker (it finishes the running job's current step first)."""
        with self._lock:
            self._stopping = True
            ids = [j.id for j in self._jobs.values() if j.status not in TERMINAL]
        for i in ids:
            self.cancel(i)
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

    # ----------------------------------------------------------------------------------------- worker
    def _bump(self, job: Job) -> None:
        job.version += 1
        self._lock.notify_all()

    def _finish(self, job: Job, status: str, *, message: str, result: Any = None, error: str | None = None) -> None:
        job.status, job.message, job.result, job.error = status, message, result, error
        job.finished = time.time()
        self._bump(job)

    def _forget_old(self) -> None:
        old = [j for j in sorted(self._jobs.values(), key=lambda j: int(j.id)) if j.status in TERMINAL]
        for j in old[: max(0, len(self._jobs) - self._keep)]:
            del self._jobs[j.id]

    def _progress(self, job: Job) -> Callable[..., None]:
        def progress(done: float | None = None, total: float | None = None, message: str | None = None) -> None:
            with self._lock:
                if job.cancel_requested:
                    raise JobCancelled(job.id)
                if done is not None:
                    job.done = done
                if total is not None:
                    job.total = total
                if message is not None:
                    job.message = message
                self._bump(job)
        return progress

    def _work(self) -> None:
        if self._on_start is not None:
            self._on_start()
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            with self._lock:
                job = self._jobs.get(job_id)
                if job is None or job.status != QUEUED:
                    continue
                job.status, job.started, job.message = RUNNING, time.time(), "started"
                self._bump(job)
            try:
                result = job.fn(self._progress(job))
            except JobCancelled:
                with self._lock:
                    self._finish(job, CANCELLED, message="cancelled")
            except LatentStudioError as exc:          # bad input found by a pipeline: the page shows it
                with self._lock:
                    self._finish(job, FAILED, message="failed", error=str(exc))
            except Exception as exc:                  # a bug or the system refused: one line, log the rest
                log.error("job %s (%s) failed:\n%s", job.id, job.kind, traceback.format_exc())
                with self._lock:
                    self._finish(job, FAILED, message="failed", error=f"{type(exc).__name__}: {exc}")
            else:
                with self._lock:
                    if job.cancel_requested:          # asked to stop after its last report: keep the result
                        job.cancel_requested = False
                    self._finish(job, DONE, message="done", result=result)
