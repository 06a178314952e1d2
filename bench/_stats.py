"""Helpers the bench scripts share (private: ``python -m bench list`` does not show it)."""

from __future__ import annotations

import statistics
import time


def spread(values, *, digits: int = 4, runs: bool = True) -> dict | None:
    """Median and range of ``values`` (one per seed or repeat; NaN left out), rounded to ``digits``, with the
    values themselves under ``runs``; None when nothing is left."""
    vals = [float(x) for x in values]
    v = [x for x in vals if x == x]
    if not v:
        return None
    out = {"median": round(statistics.median(v), digits), "min": round(min(v), digits), "max": round(max(v), digits)}
    if runs:
        out["runs"] = [round(x, digits) for x in vals]
    return out


def median_time(fn, repeats: int, *, warm_up: bool = True) -> float:
    """Median wall seconds of ``repeats`` calls of ``fn`` (after one warm-up call: caches, kernels)."""
    if warm_up:
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
