"""The studio's job queue on its own: one job at a time in order, progress, cancellation, errors."""

import threading
import time

import pytest

from latentstudio.errors import ParameterError
from latentstudio.web.jobs import JobQueue


@pytest.fixture()
def q():
    queue = JobQueue()
    yield queue
    queue.shutdown(timeout=2)


def test_jobs_run_one_at_a_time_in_order(q):
    running, peak, order = [0], [0], []
    lock = threading.Lock()

    def job(i):
        def fn(progress):
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            for k in range(3):
                progress(k + 1, 3, f"step {k + 1}")
                time.sleep(0.01)
            with lock:
                running[0] -= 1
            order.append(i)
            return {"i": i}
        return fn

    jobs = [q.submit("count", job(i)) for i in range(5)]
    final = [q.wait(j.id, timeout=10) for j in jobs]
    assert [j.status for j in final] == ["done"] * 5
    assert order == list(range(5)) and peak[0] == 1
    assert final[2].result == {"i": 2} and (final[2].done, final[2].total) == (3, 3)


def test_cancel_a_queued_job_it_never_runs(q):
    gate = threading.Event()
    ran = []
    first = q.submit("block", lambda progress: gate.wait(5))
    second = q.submit("never", lambda progress: ran.append(1))
    assert q.cancel(second.id).status == "cancelled"
    gate.set()
    assert q.wait(first.id, timeout=5).status == "done"
    time.sleep(0.1)
    assert q.get(second.id).status == "cancelled" and not ran


def test_cancel_a_running_job_at_its_next_progress_report(q):
    started, steps = threading.Event(), [0]

    def long(progress):
        for i in range(1000):
            started.set()
            progress(i, 1000)
            steps[0] += 1
            time.sleep(0.005)
        return "finished"

    job = q.submit("long", long)
    assert started.wait(5)
    q.cancel(job.id)
    final = q.wait(job.id, timeout=5)
    assert final.status == "cancelled" and final.result is None and steps[0] < 1000
    # the worker goes on with the next job
    assert q.wait(q.submit("next", lambda progress: 7).id, timeout=5).result == 7


def test_failures_keep_a_clear_message(q):
    def bad_input(progress):
        raise ParameterError("layer='nope' is not a layer")

    def crash(progress):
        raise RuntimeError("boom")

    a, b = q.submit("bad", bad_input), q.submit("crash", crash)
    fa, fb = q.wait(a.id, timeout=5), q.wait(b.id, timeout=5)
    assert (fa.status, fa.error) == ("failed", "layer='nope' is not a layer")
    assert (fb.status, fb.error) == ("failed", "RuntimeError: boom")
    assert "Traceback" not in fb.error


def test_wait_returns_on_each_change(q):
    gate = threading.Event()

    def fn(progress):
        progress(1, 2, "half")
        gate.wait(5)
        return 1

    job = q.submit("w", fn)
    seen = q.wait(job.id, timeout=5, after=0)
    assert seen.version >= 1
    gate.set()
    assert q.wait(job.id, timeout=5).status == "done"
