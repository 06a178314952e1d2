"""Checks that a mix is beat-matched: from the plan and analyses, and on the rendered audio.

* :func:`check_plan` maps both tracks' beats in every crossfade through their time maps and measures how
  far apart the two grids are (ms) and how much their tempi differ (%), beat by beat.
* :func:`check_audio` runs the beat tracker on each time-stretched track (before gains, so a faded
  track is still heard) around every crossfade and compares the beats it finds with each other and
  with the planned master grid.

Targets: grids within 15 ms over the whole crossfade, tempo error below 0.5 %.

Example
-------
>>> report = check_plan(plan, analyses)            # doctest: +SKIP
>>> report["ok"]                                   # doctest: +SKIP
True
"""

from __future__ import annotations

import numpy as np

MAX_OFFSET_MS = 15.0
MAX_TEMPO_ERROR = 0.005


def _mapped_beats(plan: dict, index: int, analysis: dict) -> np.ndarray:
    from latentstudio.dj.mix import effective_beats, time_map

    out_t, src_t = time_map(plan, index, analysis)
    b, _ = effective_beats(analysis, plan["tracks"][index]["beat_multiplier"])
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


def check_audio(plan: dict, stems: dict[int, tuple[int, np.ndarray]], *, sr: int, context: float = 4.0) -> dict:
    """Beat-track each stretched stem around every crossfade; compare with the other stem and the master grid."""
    from latentstudio.dj.beatnet import track_beats

    master = np.asarray(plan["master_beats"])
    rows = []
    for i, tr in enumerate(plan["transitions"]):
        found = []
        for k in (i, i + 1):
            if k not in stems:
                found.append(np.zeros(0))
                continue
            start, z = stems[k]
            t0 = max(start / sr, tr["start"] - context)
            t1 = min((start + z.shape[1]) / sr, tr["end"] + context)
            seg = z[:, int(round(t0 * sr)) - start: int(round(t1 * sr)) - start].mean(axis=0)
            if seg.size < sr:
                found.append(np.zeros(0))
                continue
            res = track_beats(seg, sr=sr)
            bt = res.beats + t0
            found.append(bt[(bt >= tr["start"] - 0.05) & (bt <= tr["end"] + 0.05)])
        a, b = found
        grid = master[(master >= tr["start"] - 1e-6) & (master <= tr["end"] + 1e-6)]
        if len(a) < 2 or len(b) < 2:
            rows.append({"transition": i, "ok": False, "note": "too few beats found on the stems"})
            continue
        # compare where both stems have beats (an edge beat the tracker trims on one stem is not an offset)
        lo, hi = max(a[0], b[0]) - 0.05, min(a[-1], b[-1]) + 0.05
        a, b = a[(a >= lo) & (a <= hi)], b[(b >= lo) & (b <= hi)]
        if len(a) < 2 or len(b) < 2:
            rows.append({"transition": i, "ok": False, "note": "the stems' beats do not overlap"})
            continue
        n_out, n_in = len(a), len(b)
        if len(a) > 1.5 * len(b) or len(b) > 1.5 * len(a):
            # the tracker heard one stem at half (or double) time: every beat of the sparser grid must still
            # fall on a beat of the denser one
            a, b = (b, a) if len(b) < len(a) else (a, b)
        d_ab = np.array([np.min(np.abs(b - x)) for x in a]) * 1000
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
                     "max_offset_ms": float(d_ab.max()), "median_grid_offset_ms": float(np.median(d_grid)),
                     "tempo_error": float(tempo_error),
                     "ok": bool(np.percentile(d_ab, 90) <= MAX_OFFSET_MS and tempo_error <= MAX_TEMPO_ERROR)})
    return {"transitions": rows, "ok": all(r.get("ok") for r in rows)}
