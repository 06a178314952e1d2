"""Checks that a mix is beat-matched: from the plan and analyses, and on the rendered audio.

* :func:`check_plan` maps both tracks' beats in every crossfade through their time maps and measures how
  far apart the two grids are (ms) and how much their tempi differ (%), beat by beat.
* :func:`check_audio` runs the beat tracker on each time-stretched track (before gains, so a faded
  track is still heard) around every crossfade and compares the beats it finds with each other and
  with the planned master grid.
* :func:`check_truth` maps each track's *true* beats (known when the audio was rendered from MIDI) through
  the same time maps: where the listener's beats really land, free of the tracker's own jitter.

Targets: grids within 15 ms over the whole crossfade, tempo error below 0.5 %.

Example
-------
>>> report = check_plan(plan, analyses)            # doctest: +SKIP
>>> report["ok"]                                   # doctest: +SKIP
True
"""

from __future__ import annotations

import numpy as np

from latentstudio.errors import ParameterError

MAX_OFFSET_MS = 15.0
MAX_TEMPO_ERROR = 0.005


def _mapped_beats(plan: dict, index: int, analysis: dict, times: np.ndarray | None = None) -> np.ndarray:
    """Track ``index``'s beats (its analysed ones, or ``times`` in its own seconds) at their mix times."""
    from latentstudio.dj.mix import effective_beats, time_map

    out_t, src_t = time_map(plan, index, analysis)
    if times is None:
        b, _ = effective_beats(analysis, plan["tracks"][index]["beat_multiplier"])
    else:
        b = np.asarray(times, dtype=np.float64)
    b = b[(b >= src_t[0] - 1e-9) & (b <= src_t[-1] + 1e-9)]
    return np.interp(b, src_t, out_t)


def check_plan(plan: dict, analyses: dict[str, dict]) -> dict:
    """Per transition: max beat offset (ms) and max tempo error (fraction) between the two mapped grids."""
    rows = []
    for i, tr in enumerate(plan["transitions"]):
        a = _mapped_beats(plan, i, analyses[plan["tracks"][i]["path"]])
        b = _mapped_beats(plan, i + 1, analyses[plan["tracks"][i + 1]["path"]])
        lo, hi = tr["start"] - 1e-6, tr["end"] + 1e-6
        a, b = a[(a >= lo) & (a <= hi)], b[(b >= lo) & (b <= hi)]
        n = min(len(a), len(b))
        if n < 2:
            rows.append({"transition": i, "beats": n, "max_offset_ms": None, "max_tempo_error": None, "ok": False})
            continue
        off = np.abs(a[:n] - b[:n]) * 1000
        tempo_err = np.abs(np.diff(a[:n]) / np.diff(b[:n]) - 1.0)
        rows.append({"transition": i, "beats": int(n), "max_offset_ms": float(off.max()),
                     "max_tempo_error": float(tempo_err.max()),
                     "ok": bool(off.max() <= MAX_OFFSET_MS and tempo_err.max() <= MAX_TEMPO_ERROR)})
    return {"transitions": rows, "ok": all(r["ok"] for r in rows)}


#: Half-width (beats) of the grid fitted to each stem's re-tracked beats by :func:`check_audio`
#: (:func:`latentstudio.core.beats.smooth_beats`): a DJ's beat grid, not the tracker's per-beat jitter.
#: Chosen on 10 validation mixes (``bench/dj_mix.py --real --split validation``; transitions whose largest
#: offset exceeds 15 ms: raw 9/20, half-width 6: 1/20 (worst 34 ms), 8: 1/20 (27 ms), 12: 1/20 (18 ms),
#: 16: 2/20, the whole transition: 3/20).
GRID_FIT = 12


def _grid_offsets(a: np.ndarray, b: np.ndarray, *, ratio: float = 1.5
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """Two grids of beats (at least 2 each) compared where both have beats (an edge beat one grid lacks is not
    an offset): ``(a, b, ms, (n_a, n_b))``, ``ms`` the distance from each beat of ``a`` to the nearest of ``b``.
    When one grid holds more than ``ratio`` times the other's beats (one heard at half or double time), ``a``
    is the sparser one, so each of its beats must fall on one of the denser grid. ``n_a, n_b``: the beats of
    the two grids, in the order given, within the shared span."""
    lo, hi = max(a[0], b[0]) - 0.05, min(a[-1], b[-1]) + 0.05
    a, b = a[(a >= lo) & (a <= hi)], b[(b >= lo) & (b <= hi)]
    counts = (len(a), len(b))
    if len(a) < 2 or len(b) < 2:
        return a, b, np.zeros(0), counts
    if len(a) > ratio * len(b) or len(b) > ratio * len(a):
        a, b = (b, a) if len(b) < len(a) else (a, b)
    return a, b, np.array([np.min(np.abs(b - x)) for x in a]) * 1000, counts


def check_audio(plan: dict, stems: dict[int, tuple[int, np.ndarray]], *, sr: int, context: float = 4.0,
                grid_fit: int = GRID_FIT) -> dict:
    """Beat-track each stretched stem around every crossfade; compare with the other stem and the master grid.

    Per transition: the offsets between the beats the tracker finds on the two stems (``*_offset_ms``), and
    between the beat grids fitted to them (``grid_*_offset_ms``: :func:`~latentstudio.core.beats.smooth_beats`
    with half-width ``grid_fit``), the median offset from the planned master grid and the tempo error.
    ``ok`` asks the per-beat p90 offset and the tempo error to be within :data:`MAX_OFFSET_MS` and
    :data:`MAX_TEMPO_ERROR`.
    """
    from latentstudio.core.beats import smooth_beats
    from latentstudio.dj.beatnet import track_beats

    master = np.asarray(plan["master_beats"])
    rows = []
    for i, tr in enumerate(plan["transitions"]):
        found, fitted = [], []
        for k in (i, i + 1):
            if k not in stems:
                found.append(np.zeros(0))
                fitted.append(np.zeros(0))
                continue
            start, z = stems[k]
            t0 = max(start / sr, tr["start"] - context)
            t1 = min((start + z.shape[1]) / sr, tr["end"] + context)
            seg = z[:, int(round(t0 * sr)) - start: int(round(t1 * sr)) - start].mean(axis=0)
            if seg.size < sr:
                found.append(np.zeros(0))
                fitted.append(np.zeros(0))
                continue
            res = track_beats(seg, sr=sr)
            inside = lambda t: t[(t >= tr["start"] - 0.05) & (t <= tr["end"] + 0.05)]  # noqa: E731
            found.append(inside(res.beats + t0))
            fitted.append(inside(smooth_beats(res.beats, half_window=grid_fit) + t0))
        grid = master[(master >= tr["start"] - 1e-6) & (master <= tr["end"] + 1e-6)]
        if min(len(found[0]), len(found[1])) < 2:
            rows.append({"transition": i, "ok": False, "note": "too few beats found on the stems"})
            continue
        a, b, d_ab, (n_out, n_in) = _grid_offsets(*found)
        if d_ab.size == 0:
            rows.append({"transition": i, "ok": False, "note": "the stems' beats do not overlap"})
            continue
        d_fit = _grid_offsets(*fitted)[2] if min(len(fitted[0]), len(fitted[1])) >= 2 else np.zeros(0)
        d_grid = np.array([np.min(np.abs(grid - x)) for x in np.concatenate([a, b])]) * 1000
        # tempo: the span of the beats both stems share (matched within half a beat), one against the other
        half = 0.5 * np.median(np.diff(b))
        pairs = [(x, b[np.argmin(np.abs(b - x))]) for x in a if np.min(np.abs(b - x)) < half]
        if len(pairs) >= 2 and pairs[-1][0] > pairs[0][0]:
            span_a, span_b = pairs[-1][0] - pairs[0][0], pairs[-1][1] - pairs[0][1]
            tempo_error = abs(span_b / span_a - 1.0)
        else:
            tempo_error = float("inf")
        rows.append({"transition": i, "beats_out": int(n_out), "beats_in": int(n_in), "matched": len(pairs),
                     "median_offset_ms": float(np.median(d_ab)), "p90_offset_ms": float(np.percentile(d_ab, 90)),
                     "max_offset_ms": float(d_ab.max()),
                     "grid_p90_offset_ms": float(np.percentile(d_fit, 90)) if d_fit.size else float("nan"),
                     "grid_max_offset_ms": float(d_fit.max()) if d_fit.size else float("nan"),
                     "median_grid_offset_ms": float(np.median(d_grid)),
                     "tempo_error": float(tempo_error),
                     "ok": bool(np.percentile(d_ab, 90) <= MAX_OFFSET_MS and tempo_error <= MAX_TEMPO_ERROR)})
    return {"transitions": rows, "ok": all(r.get("ok") for r in rows)}


def check_truth(plan: dict, analyses: dict[str, dict], truth: dict[str, np.ndarray]) -> dict:
    """Per transition: how far apart the two tracks' true beats (``truth``: path -> beat times in the track's
    own seconds, e.g. from the MIDI it was rendered from) land in the mix, over the span where both play
    beats. A track whose analysis chose another metrical level is compared beat for beat of the sparser grid."""
    rows = []
    for i, tr in enumerate(plan["transitions"]):
        grids = []
        for k in (i, i + 1):
            path = plan["tracks"][k]["path"]
            if path not in truth:
                raise ParameterError(f"check_truth: no true beats given for track {path!r}")
            m = _mapped_beats(plan, k, analyses[path], truth[path])
            grids.append(m[(m >= tr["start"] - 1e-6) & (m <= tr["end"] + 1e-6)])
        off = _grid_offsets(*grids, ratio=1.0)[2] if min(len(grids[0]), len(grids[1])) >= 2 else np.zeros(0)
        if off.size == 0:
            rows.append({"transition": i, "ok": False, "note": "the tracks' true beats do not overlap"})
            continue
        rows.append({"transition": i, "beats": int(off.size), "median_offset_ms": float(np.median(off)),
                     "max_offset_ms": float(off.max()), "ok": bool(off.max() <= MAX_OFFSET_MS)})
    return {"transitions": rows, "ok": all(r["ok"] for r in rows)}
