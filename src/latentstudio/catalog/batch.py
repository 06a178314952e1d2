"""Batch work over many files: one function mapped over a list, on a local process pool or on a Ray cluster.

Every command that takes a folder or a catalog (``dj analyze``, ``soundscape index``, ``soundscape library
build``, ``funk library index``) runs its per-file work through :func:`map_items`, so the same command runs
on a laptop or on a cluster:

* **local** (the embedded default): ``workers`` processes of this machine (one process: in this process).
* **Ray** (``cluster="auto"``, ``"ray://HOST:PORT"``, ``"HOST:PORT"``, or the ``RAY_ADDRESS`` environment
  variable): Ray Data ``map_batches`` over an actor pool, each actor keeping the job (and its model) loaded;
  actors ask for a GPU when the cluster has some and the job can use one. Ray is an optional extra
  (``pip install latentstudio[cluster]``); nothing changes for a user without it.

A *job* is a picklable callable ``job(item) -> value`` (an item is a JSON value: a path string, a list ...;
a value is anything :func:`latentstudio.catalog.codec.dumps` stores: JSON values and numpy arrays). An
optional ``job.setup(device)`` runs once per worker before its first item (load the model there), and an
optional ``job.item_errors`` tuple names the exceptions that mean "this one item is bad" (default: the
catalog's :data:`~latentstudio.catalog.store.INGEST_ERRORS`); those become the item's ``error``, anything
else is a bug and stops the run.

Outcomes come back **in input order**, one per item, as they complete, so the driver writes each one into
the catalog at once (one transaction per item): a run killed at any point resumes where it stopped, because
the commands skip what the catalog already holds (content-hash keys, idempotent writes). A worker that dies
(killed, out of memory, a decoder crash) loses nothing: its unfinished items run again on another worker,
and an item that kills workers again and again ends as an error instead of stopping the run.

Example
-------
>>> from latentstudio.catalog.batch import map_items
>>> [o.value for o in map_items(len, ["a", "bb", "ccc"], workers=1)]
[1, 2, 3]
"""

from __future__ import annotations

import collections
import json
import logging
import os
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from latentstudio.errors import LatentStudioError, ParameterError

log = logging.getLogger(__name__)

#: Times a batch (then a single item) is retried after the worker running it died.
MAX_ATTEMPTS = 3
#: Values of ``cluster`` that mean the local process pool even when ``RAY_ADDRESS`` is set.
LOCAL = ("local", "none", "off")


class BatchJobError(RuntimeError):
    """A job raised an unexpected exception (a bug) in a Ray worker; the message carries its traceback."""


@dataclass(frozen=True)
class Outcome:
    """One item's result: ``value`` (None on error) or ``error`` (the reason, one line)."""

    index: int
    item: Any
    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def resolve_cluster(cluster: str | None) -> str | None:
    """The Ray address to use, or None for the local pool.

    ``None`` / ``""``: ``RAY_ADDRESS`` when set, else local; ``"local"``: local even with ``RAY_ADDRESS``;
    ``"auto"``: Ray (``RAY_ADDRESS``, a running cluster, or a new local Ray instance);
    ``"ray://HOST:PORT"`` or ``"HOST:PORT"``: that cluster.
    """
    if cluster is None or cluster == "":
        return os.environ.get("RAY_ADDRESS") or None
    if not isinstance(cluster, str):
        raise ParameterError(f"cluster={cluster!r} must be a string (auto, local, ray://HOST:PORT or HOST:PORT)")
    if cluster.lower() in LOCAL:
        return None
    if cluster == "auto" or cluster.startswith("ray://"):
        return cluster
    host, sep, port = cluster.rpartition(":")
    if sep and host and port.isdigit():
        return cluster
    raise ParameterError(f"cluster={cluster!r} must be auto, local, ray://HOST:PORT or HOST:PORT")


def backend_name(cluster: str | None) -> str:
    """``"ray"`` or ``"local"`` for a ``cluster`` value (see :func:`resolve_cluster`)."""
    return "local" if resolve_cluster(cluster) is None else "ray"


def workers_for(workers: int | None, cluster: str | None, local_default: int) -> int:
    """A command's ``--workers``: as given, else ``local_default`` on this machine and 0 (one actor per CPU of
    the cluster) on Ray."""
    if workers is not None:
        return workers
    return local_default if resolve_cluster(cluster) is None else 0


def map_items(job: Callable[[Any], Any], items: Iterable[Any], *, cluster: str | None = None, workers: int = 2,
              batch_size: int | None = None, progress: Callable[[int], Any] | None = None) -> Iterator[Outcome]:
    """Run ``job`` on every item; yield one :class:`Outcome` per item, in input order.

    Parameters
    ----------
    job : picklable callable ``job(item) -> value``; optional ``job.setup(device)`` and ``job.item_errors``
    items : JSON values (paths as strings)
    cluster : None/"local" for this machine, or a Ray address (see :func:`resolve_cluster`)
    workers : local processes (1: in this process), or Ray actors (0: one per CPU of the cluster)
    batch_size : items per task (default: enough for about 4 tasks per worker, at most 64)
    progress : called as ``progress(1)`` after each outcome
    """
    items = list(items)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 0:
        raise ParameterError(f"workers={workers!r} must be an integer >= 0")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ParameterError(f"batch_size={batch_size!r} must be a positive integer")
    address = resolve_cluster(cluster)
    if not items:
        return
    for item in items:
        _check_item(item)
    if address is None:
        source = _local(job, items, workers=max(1, workers), batch_size=batch_size)
    else:
        source = _ray(job, items, address=address, workers=workers, batch_size=batch_size)
    for outcome in source:
        yield outcome
        if progress is not None:
            progress(1)


def _check_item(item: Any) -> None:
    try:
        json.dumps(item)
    except (TypeError, ValueError):
        raise ParameterError(f"batch item {item!r} must be a JSON value (paths as strings)") from None


def _auto_batch(n: int, workers: int) -> int:
    return int(max(1, min(64, n // max(1, 4 * workers))))


# ------------------------------------------------------------------------------- one item, any worker
def _setup(job, device: str) -> None:
    """In a worker process: one thread for torch and for BLAS/OpenMP (one core per worker, and the same
    arithmetic on every backend: thread counts change summation order), then the job's own set-up."""
    import torch

    torch.set_num_threads(1)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pass
    setup_job(job, device)


def setup_job(job, device: str) -> None:
    """Call ``job.setup(device)`` when the job has one (load its model, move it to ``device``)."""
    setup = getattr(job, "setup", None)
    if callable(setup):
        setup(device)


def _item_errors(job) -> tuple:
    errors = getattr(job, "item_errors", None)
    if errors is None:
        from latentstudio.catalog.store import INGEST_ERRORS

        errors = INGEST_ERRORS
    return tuple(errors)


def _run_one(job, item) -> tuple[str | None, str | None]:
    """``(value as codec text, None)`` or ``(None, reason)``; other exceptions propagate."""
    from latentstudio.catalog import codec

    try:
        return codec.dumps(job(item), name="batch result"), None
    except _item_errors(job) as exc:
        return None, _reason(exc)


def _reason(exc: BaseException) -> str:
    """One line: the project's own errors already name the input; others get their type in front."""
    return str(exc) if isinstance(exc, LatentStudioError) else f"{type(exc).__name__}: {exc}"


def _outcome(index: int, item, text: str | None, error: str | None) -> Outcome:
    from latentstudio.catalog import codec

    return Outcome(index, item, None if text is None else codec.loads(text), error)


# -------------------------------------------------------------------------------------- local pool
_WORKER_JOB: Any = None


def _init_worker(job) -> None:
    global _WORKER_JOB
    _WORKER_JOB = job
    _follow_parent()
    _setup(job, "cpu")


def _follow_parent(every: float = 0.5) -> None:
    """Exit when the driver dies (kill -9 included): a forked worker would otherwise wait forever on a task
    queue whose other end its siblings still hold open."""
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="follow-driver", daemon=True).start()


def _run_batch(batch: list[tuple[int, Any]]) -> list[tuple[int, str | None, str | None]]:
    return [(i, *_run_one(_WORKER_JOB, item)) for i, item in batch]


def _local(job, items: list, *, workers: int, batch_size: int | None) -> Iterator[Outcome]:
    if workers == 1 or len(items) == 1:
        setup_job(job, "cpu")
        for i, item in enumerate(items):
            yield _outcome(i, item, *_run_one(job, item))
        return
    size = batch_size or _auto_batch(len(items), workers)
    pairs = list(enumerate(items))
    # queue entries: (batch, attempt, solo); a solo batch runs alone, so that a death is its own
    queue = collections.deque([(pairs[s:s + size], 1, False) for s in range(0, len(pairs), size)])
    done: dict[int, tuple[str | None, str | None]] = {}
    nxt = 0
    while queue:
        with ProcessPoolExecutor(max_workers=min(workers, len(queue)), initializer=_init_worker,
                                 initargs=(job,), mp_context=_start_method()) as pool:
            running: dict = {}
            broken = False
            while (queue or running) and not broken:
                while queue and len(running) < 2 * workers and not (running and queue[0][2]):
                    batch, attempt, solo = queue.popleft()
                    running[pool.submit(_run_batch, batch)] = (batch, attempt)
                    if solo:
                        break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                alone = len(running) == 1                # a death now is this batch's own
                for fut in finished:
                    batch, attempt = running.pop(fut)
                    try:
                        for i, text, err in fut.result():
                            done[i] = (text, err)
                    except BrokenProcessPool:
                        broken = True
                        _requeue(queue, batch, attempt, done, charged=alone)
                while nxt in done:
                    yield _outcome(nxt, items[nxt], *done.pop(nxt))
                    nxt += 1
            if broken:                                  # the pool is gone: every batch still out runs again
                for fut, (batch, attempt) in running.items():
                    try:
                        for i, text, err in fut.result(timeout=0):
                            done[i] = (text, err)
                    except Exception:  # noqa: BLE001 - lost with the pool
                        _requeue(queue, batch, attempt, done, charged=False)
                log.warning("a worker process died; %d batch(es) run again on a new pool", len(queue))
    while nxt in done:
        yield _outcome(nxt, items[nxt], *done.pop(nxt))
        nxt += 1


def _start_method():
    """Fork (workers inherit loaded modules and models: fast), except in a process connected to Ray: a forked
    child inherits Ray's gRPC threads mid-lock and can hang, so workers are spawned fresh there."""
    import multiprocessing
    import sys

    ray = sys.modules.get("ray")
    connected = ray is not None and getattr(ray, "is_initialized", lambda: False)()
    return multiprocessing.get_context("spawn" if connected else None)


def _requeue(queue: collections.deque, batch: list, attempt: int, done: dict, *, charged: bool = True) -> None:
    """Put a lost batch back: whole, then item by item; an item that killed its worker MAX_ATTEMPTS
    times becomes an error.

    ``charged``: the batch ran alone when the pool died, so the death was its own. A batch lost beside
    others may be a bystander of another's death: it goes back *solo*, at the same attempt, and runs
    alone next, so that an innocent item is never counted as a killer (and a killer always is)."""
    if not charged:
        queue.appendleft((batch, attempt, True))
        return
    if len(batch) > 1 and attempt >= 2:
        for pair in batch:
            queue.appendleft(([pair], attempt, True))
        return
    if len(batch) == 1 and attempt >= MAX_ATTEMPTS:
        i, item = batch[0]
        done[i] = (None, f"WorkerDied: the worker process died on {item!r} {attempt} times")
        return
    queue.appendleft((batch, attempt + 1, True))


# ---------------------------------------------------------------------------------------------- Ray
class _RayWorker:
    """A Ray Data actor: the job set up once, then batches of ``{"i", "item"}`` rows."""

    def __init__(self, job, device: str) -> None:
        self.job = job
        _setup(job, device)

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        out_i, out_v, out_e, out_b = [], [], [], []
        for i, item in zip(batch["i"], batch["item"]):
            bug = ""
            try:
                text, err = _run_one(self.job, json.loads(str(item)))
            except Exception as exc:  # noqa: BLE001 - a bug: carried to the driver, which raises it there
                text, err, bug = None, None, "".join(traceback.format_exception(exc)).strip() or repr(exc)
            out_i.append(int(i))
            out_v.append(text or "")
            out_e.append(err or "")
            out_b.append(bug)
        return {"i": np.asarray(out_i, dtype=np.int64), "value": np.asarray(out_v, dtype=object),
                "error": np.asarray(out_e, dtype=object), "bug": np.asarray(out_b, dtype=object)}


def ray_connect(address: str) -> bool:
    """Make sure this process is connected to Ray; True when this call started the connection.

    An already initialised Ray (e.g. a test's local instance) is used as it is. ``"auto"`` joins
    ``RAY_ADDRESS`` or a running cluster, else starts a local instance bound to 127.0.0.1 without dashboard.
    """
    try:
        import ray
    except ImportError:
        raise ParameterError("a Ray cluster was asked for (--cluster / RAY_ADDRESS) but Ray is not installed: "
                             "pip install 'latentstudio[cluster]'") from None
    if ray.is_initialized():
        return False
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}
    if address == "auto":
        try:
            ray.init(address=os.environ.get("RAY_ADDRESS") or "auto", **quiet)
        except ConnectionError:
            log.info("no running Ray cluster; starting a local Ray instance on 127.0.0.1")
            ray.init(_node_ip_address="127.0.0.1", include_dashboard=False, **quiet)
        return True
    try:
        ray.init(address=address, **quiet)
    except ConnectionError as exc:
        raise ParameterError(f"cannot reach the Ray cluster at {address!r} ({exc})") from None
    return True


def ray_plan(job, resources: dict, *, workers: int, n_items: int) -> tuple[int, bool]:
    """``(actors, one GPU each?)`` for a job on a cluster with ``resources`` (``ray.cluster_resources()``).

    A job that says ``uses_gpu`` gets one actor per GPU when the cluster has GPUs; otherwise one actor per
    CPU. ``workers`` > 0 caps the count; never more actors than items.

    >>> class J: uses_gpu = True
    >>> ray_plan(J(), {"CPU": 64, "GPU": 4}, workers=0, n_items=1000), ray_plan(J(), {"CPU": 8}, workers=2, n_items=9)
    ((4, True), (2, False))
    """
    cpus = max(1, int(resources.get("CPU", 1)))
    gpus = int(resources.get("GPU", 0)) if getattr(job, "uses_gpu", False) else 0
    n = gpus or cpus
    if workers:
        n = min(n, workers)
    return max(1, min(n, n_items)), bool(gpus)


def _ray(job, items: list, *, address: str, workers: int, batch_size: int | None) -> Iterator[Outcome]:
    import ray

    started = ray_connect(address)
    try:
        n_actors, gpus = ray_plan(job, ray.cluster_resources(), workers=workers, n_items=len(items))
        size = batch_size or _auto_batch(len(items), n_actors)
        got: set[int] = set()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            todo = [i for i in range(len(items)) if i not in got]
            if not todo:
                break
            try:
                for i, text, err in _ray_pass(job, items, todo, n_actors=n_actors, size=size, gpus=gpus):
                    if i in got:                       # a retried task answering twice: keep the first
                        continue
                    got.add(i)
                    yield _outcome(i, items[i], text or None, err or None)
            except ray.exceptions.RayError as exc:
                if attempt == MAX_ATTEMPTS:
                    raise LatentStudioError(
                        f"the Ray run lost its workers {MAX_ATTEMPTS} times ({type(exc).__name__}); "
                        f"{len(items) - len(got)} of {len(items)} items are not done: run the command "
                        "again to resume (finished items are kept)") from None
                log.warning("the Ray run lost workers (%s); %d item(s) run again", type(exc).__name__,
                            len(items) - len(got))
    finally:
        if started:
            ray.shutdown()


#: Actors restart when they die and re-run the task they held, a bounded number of times (an item that kills
#: every worker must not loop forever; the driver then runs what is left again, see :func:`_ray`).
_ACTOR_RETRIES = {"max_restarts": -1, "max_task_retries": MAX_ATTEMPTS}


def _ray_pass(job, items: list, todo: list[int], *, n_actors: int, size: int, gpus: bool):
    import ray
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True       # outcomes in input order, as on the local pool
    ctx.enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    rows = [{"i": i, "item": json.dumps(items[i])} for i in todo]
    ds = ray.data.from_items(rows, override_num_blocks=max(1, -(-len(rows) // size)))
    with warnings.catch_warnings():                   # the retry options have no named parameter yet
        warnings.simplefilter("ignore", DeprecationWarning)
        ds = ds.map_batches(_RayWorker, fn_constructor_args=(job, "cuda" if gpus else "cpu"), batch_size=size,
                            compute=ray.data.ActorPoolStrategy(size=n_actors), num_cpus=1,
                            num_gpus=1 if gpus else 0, **_ACTOR_RETRIES)
    for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
        for i, text, err, bug in zip(batch["i"], batch["value"], batch["error"], batch["bug"]):
            if bug:
                raise BatchJobError(f"the batch job {type(job).__name__} failed on item {items[int(i)]!r} "
                                    f"(a bug, not a bad item):\n{bug}")
            yield int(i), str(text), str(err)


__all__ = ["Outcome", "BatchJobError", "map_items", "setup_job", "workers_for", "resolve_cluster", "backend_name",
           "ray_connect", "ray_plan", "MAX_ATTEMPTS"]
