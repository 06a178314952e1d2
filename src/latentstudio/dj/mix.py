"""Beat-matched mixing: a plan (order, cue points, tempo map, transitions, reasons) and its rendering.

The plan lives on a *master beat grid*. Each track maps its own (regularised) beats onto consecutive
master beats; in a transition the last ``transition_bars`` bars of the outgoing track and the first
bars of the incoming track share the same master beats, downbeat on downbeat. While one track plays
alone the master tempo is that track's own, so it plays unstretched; across a transition the master
beat interval glides from the outgoing track's to the incoming track's, so the outgoing track is eased
towards the new tempo and the incoming one starts at the old tempo and arrives at its own. Half- and
double-time matches map one source beat to two master beats or two to one.

Rendering time-stretches only the stretched stretches (phase vocoder along each track's time map,
:mod:`latentstudio.core.stretch`), copies the rest, matches loudness (LUFS), and crossfades with an EQ
swap: the incoming highs fade in over the first half, the bass is handed over on the middle downbeat,
the outgoing highs fade out over the second half.

Example
-------
>>> from latentstudio.dj.mix import plan_mix, render_mix                 # doctest: +SKIP
>>> plan = plan_mix(analyses, n_tracks=4, seed=0)                        # doctest: +SKIP
>>> y, sr = render_mix(plan, sr=44100)                                   # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from latentstudio.errors import ParameterError

PLAN_VERSION = 1
TARGET_LUFS = -14.0


# ------------------------------------------------------------------------------------------------ grids
def effective_beats(a: dict, multiplier: float) -> tuple[np.ndarray, np.ndarray]:
    """A track's beat grid as seen on the master grid (``multiplier`` master beats per source beat) and
    a mask of which of those are downbeats."""
    b = np.asarray(a["beats"], dtype=np.float64)
    d = np.asarray(a["downbeats"], dtype=np.float64)
    isdown = np.isin(np.round(b, 4), np.round(d, 4))
    if multiplier == 2.0:
        mid = (b[:-1] + b[1:]) / 2
        out = np.empty(2 * len(b) - 1)
        out[0::2], out[1::2] = b, mid
        down = np.zeros(len(out), bool)
        down[0::2] = isdown
        return out, down
    if multiplier == 0.5:
        first = int(np.argmax(isdown)) if isdown.any() else 0
        out = b[first % 2::2]
        return out, np.isin(np.round(out, 4), np.round(d, 4))
    return b, isdown


def _downbeat_indices(down: np.ndarray) -> np.ndarray:
    return np.nonzero(down)[0]


# ------------------------------------------------------------------------------------------------- plan
def plan_mix(library: list[dict], *, n_tracks: int = 4, start: str | None = None, order: list[str] | None = None,
             transition_bars: int = 8, max_play_bars: int | None = None, novelty: float = 0.2,
             stretch_limit: float = 0.08, seed: int = 0, selector=None) -> dict:
    """Choose the tracks (unless ``order`` gives them) and lay out a beat-matched mix.

    Parameters
    ----------
    library : analyses (dicts from :mod:`latentstudio.dj.analysis`)
    n_tracks : tracks in the mix (capped by the library's size)
    start : first track (path or file name); default: chosen at random with ``seed``
    order : explicit track order (paths or names) — the back-to-back mode passes the human's and AI's picks
    transition_bars : bars of each crossfade (shortened when a track is too short)
    max_play_bars : play at most this many bars of each track before mixing out (None = whole track)
    novelty, stretch_limit, seed : the selector's settings (:class:`latentstudio.dj.select.Selector`)
    selector : an existing Selector to continue (its history is respected)

    Returns
    -------
    dict : the plan (JSON-ready): ``tracks`` (path, reasons, beat multiplier, master beat offset, cue
    points, gain) and ``transitions`` (start/end/swap times, tempi, rates), ``master_beats``.

    Raises
    ------
    ParameterError : empty library, unknown track names, bad settings
    """
    from latentstudio.dj.select import Selector, tempo_match

    if not library:
        raise ParameterError("the library is empty: analyse a folder with audio files first (dj analyze)")
    if not isinstance(n_tracks, int) or n_tracks < 1:
        raise ParameterError(f"n_tracks={n_tracks!r} must be a positive integer")
    check_layout(transition_bars, max_play_bars)
    sel = selector or Selector(library, novelty=novelty, stretch_limit=stretch_limit, seed=seed)
    rng = np.random.default_rng(seed)
    chosen: list[tuple[dict, dict]] = []
    if order:
        for i, name in enumerate(order):
            a = sel.find(name)
            if a["path"] in [c[0]["path"] for c in chosen]:
                raise ParameterError(f"track {name!r} appears twice in the order; the DJ never repeats a track")
            why = {"picked_by": "order"} if i == 0 else {"picked_by": "order",
                                                         **sel.score(chosen[-1][0], a, _theme(sel, chosen[-1][0]))[1]}
            chosen.append((a, why))
            sel.mark_played(a)
    else:
        first = sel.find(start) if start else library[int(rng.integers(len(library)))]
        chosen.append((first, {"picked_by": "start" if start else "random start"}))
        sel.mark_played(first)
        current = first                      # as heard: its tempo after half/double matching
        while len(chosen) < min(n_tracks, len(library)):
            pick = sel.choose(current)
            a = sel.by_path[pick["path"]]
            chosen.append((a, {"picked_by": "ai", "score": pick["score"], **pick["reasons"]}))
            sel.mark_played(a)
            current = {**a, "bpm": a["bpm"] * pick["reasons"]["tempo"]["beat_multiplier"]}
    return layout(chosen, transition_bars=transition_bars, max_play_bars=max_play_bars, tempo_match=tempo_match)


def _theme(sel, current: dict) -> np.ndarray:
    return sel.theme if sel.theme is not None else np.asarray(current["embedding"], dtype=np.float64)


def check_layout(transition_bars, max_play_bars) -> None:
    """``transition_bars`` a whole number 1..64 and ``max_play_bars`` None or a whole number >= 1, else
    ParameterError (a negative one reached an array index; 0 meant "no limit" without saying so)."""
    def whole(v) -> bool:
        return not isinstance(v, bool) and isinstance(v, (int, np.integer))
    if not whole(transition_bars) or not 1 <= transition_bars <= 64:
        raise ParameterError(f"transition_bars={transition_bars!r} must be an integer within 1..64")
    if max_play_bars is not None and (not whole(max_play_bars) or max_play_bars < 1):
        raise ParameterError(f"max_play_bars={max_play_bars!r} must be a whole number of bars >= 1 (or none)")


def layout(chosen: list[tuple[dict, dict]], *, transition_bars: int = 8, max_play_bars: int | None = None,
           tempo_match=None) -> dict:
    """Place chosen ``(analysis, reasons)`` pairs on the master beat grid (see the module docstring)."""
    from latentstudio.dj.select import tempo_match as _tm

    check_layout(transition_bars, max_play_bars)
    tempo_match = tempo_match or _tm
    tracks = []
    master_ibi: list[float] = []          # interval after each master beat
    pos = 0                               # master beat index where the next track's first beat lands
    prev = None
    transitions = []
    for i, (a, why) in enumerate(chosen):
        mult = 1.0 if prev is None else tempo_match(prev["bpm_eff"], a["bpm"])[0]
        b, down = effective_beats(a, mult)
        dix = _downbeat_indices(down)
        if len(b) < 8 or dix.size < 2:
            raise ParameterError(f"track {a['path']!r} has too few beats to mix ({len(b)})")
        bpb = int(round(np.median(np.diff(dix)))) if dix.size > 1 else a.get("beats_per_bar", 4)
        # entry: first downbeat at/after cue_in; exit: last downbeat at/before cue_out
        s = int(dix[np.argmax(b[dix] >= a.get("cue_in", 0.0) - 1e-6)]) if np.any(b[dix] >= a.get("cue_in", 0) - 1e-6) \
            else int(dix[0])
        cue_out = a.get("cue_out", b[-1])
        outs = dix[b[dix] <= cue_out + 1e-6]
        e = int(outs[-1]) if outs.size else int(dix[-1])
        if max_play_bars is not None:
            e = min(e, int(s + max_play_bars * bpb))
        L = 0
        if prev is not None:
            # crossfade length in master beats: whole bars, leaving the outgoing track at least one bar of its
            # own after its incoming crossfade, and using at most half of the incoming track
            pb = prev["bpb"]
            free = (prev["e"] - prev["s"]) - prev["L_in"] - pb
            L = min(transition_bars * pb, free, (e - s) // 2)
            L = max(pb, (L // pb) * pb)
            pos = prev["m0"] + (prev["e"] - prev["s"]) - L
        ibi = np.diff(b)
        # master intervals for this track's beats s..e-1
        for k in range(s, e):
            j = pos + (k - s)
            own = ibi[k] if k < len(ibi) else ibi[-1]
            if j < len(master_ibi):       # inside the transition: glide from the outgoing to the incoming
                u = (j - pos + 0.5) / max(1, L)
                master_ibi[j] = (1 - u) * master_ibi[j] + u * own
            else:
                master_ibi.append(own)
        rec = {"path": a["path"], "name": a["path"].rsplit("/", 1)[-1], "bpm": a["bpm"], "beat_multiplier": mult,
               "bpm_eff": a["bpm"] * mult, "camelot": a["camelot"], "key": a["key"], "lufs": a["lufs"],
               "first_beat": s, "last_beat": e, "master_start_beat": pos, "reasons": why,
               "gain_db": float(np.clip(TARGET_LUFS - a["lufs"], -24, 24)), "duration": a["duration"],
               "cue_in": float(b[s]), "cue_out": float(b[e]), "intro_end": a.get("intro_end"),
               "outro_start": a.get("outro_start")}
        if prev is not None:
            transitions.append({"from": prev["rec"]["name"], "to": rec["name"], "master_start_beat": pos,
                                "master_end_beat": pos + L, "beats": L,
                                "swap_beat": pos + (L // (2 * prev["bpb"])) * prev["bpb"] if L >= 2 * prev["bpb"]
                                else pos, "beat_multiplier": mult})
        tracks.append(rec)
        prev = {"bpm_eff": a["bpm"] * mult, "s": s, "e": e, "m0": pos, "bpb": bpb, "rec": rec, "L_in": L}
    # master beat times: the first track's entry beat plays at its own source time (its intro before it)
    t0 = float(effective_beats(chosen[0][0], 1.0)[0][tracks[0]["first_beat"]])
    master = t0 + np.concatenate([[0.0], np.cumsum(master_ibi)])
    for tr in transitions:
        tr["start"] = float(master[tr["master_start_beat"]])
        tr["end"] = float(master[tr["master_end_beat"]])
        tr["swap"] = float(master[tr["swap_beat"]])
        seg = np.diff(master[tr["master_start_beat"]: tr["master_end_beat"] + 1])
        tr["bpm_start"] = float(60 / seg[0])
        tr["bpm_end"] = float(60 / seg[-1])
    for tr in tracks:
        tr["start"] = float(master[tr["master_start_beat"]])
        tr["end"] = float(master[tr["master_start_beat"] + tr["last_beat"] - tr["first_beat"]])
    return {"version": PLAN_VERSION, "tracks": tracks, "transitions": transitions,
            "master_beats": master.tolist(), "transition_bars": transition_bars,
            "duration": float(master[-1] + _tail(chosen[-1][0], tracks[-1]))}


def _tail(a: dict, rec: dict) -> float:
    """Seconds the last track keeps playing after its exit beat (to its end, at most 8 s)."""
    return float(min(8.0, max(0.0, a["duration"] - rec["cue_out"])))


# -------------------------------------------------------------------------------------------- time maps
def time_map(plan: dict, index: int, analysis: dict) -> tuple[np.ndarray, np.ndarray]:
    """Anchors ``(output_times, source_times)`` of track ``index`` of the plan (beats pinned to master beats)."""
    tr = plan["tracks"][index]
    b, _ = effective_beats(analysis, tr["beat_multiplier"])
    master = np.asarray(plan["master_beats"])
    ks = np.arange(tr["first_beat"], tr["last_beat"] + 1)
    out = master[tr["master_start_beat"] + ks - tr["first_beat"]]
    src = b[ks]
    if index == 0 and src[0] > 0:                           # the first track's intro plays before its entry
        out = np.concatenate([[out[0] - src[0]], out])
        src = np.concatenate([[0.0], src])
    if index == len(plan["tracks"]) - 1:                    # the last track plays out unstretched
        tail = _tail(analysis, tr)
        if tail > 0:
            out = np.concatenate([out, [out[-1] + tail]])
            src = np.concatenate([src, [src[-1] + tail]])
    return out, src


def _envelopes(plan: dict, index: int, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gains of the (low, high) bands of track ``index`` at output times ``t``."""
    low = np.ones_like(t)
    high = np.ones_like(t)
    trs = plan["transitions"]
    ramp = 0.03
    if index > 0:                                          # fading in
        tr = trs[index - 1]
        high *= np.clip((t - tr["start"]) / max(1e-3, tr["swap"] - tr["start"]), 0, 1) ** 0.5
        low *= np.clip((t - tr["swap"]) / ramp, 0, 1)
    if index < len(plan["tracks"]) - 1:                    # fading out
        tr = trs[index]
        high *= np.clip((tr["end"] - t) / max(1e-3, tr["end"] - tr["swap"]), 0, 1) ** 0.5
        low *= np.clip((tr["swap"] - t) / ramp, 0, 1)
    else:
        end = plan["duration"]
        high *= np.clip((end - t) / 2.0, 0, 1)
        low *= np.clip((end - t) / 2.0, 0, 1)
    return low, high


def _split_bands(y: np.ndarray, sr: int, cutoff: float = 180.0) -> tuple[np.ndarray, np.ndarray]:
    """Zero-phase low/high split (low = 4th-order Butterworth low pass run forward and back; high = rest)."""
    from scipy.signal import butter, sosfiltfilt

    sos = butter(2, cutoff, btype="low", fs=sr, output="sos")
    low = sosfiltfilt(sos, y, axis=-1).astype(np.float32)
    return low, (y - low).astype(np.float32)


def render_track(plan: dict, index: int, analysis: dict, y: np.ndarray, *, sr: int,
                 stretch: str = "pv") -> tuple[int, np.ndarray]:
    """Track ``index`` time-mapped onto the output: ``(start sample, audio (channels, n))``, unscaled.

    Only the stretches where the map's rate differs from 1 go through the phase vocoder.
    """
    from latentstudio.core.stretch import rubberband_map, stretch_map

    out_t, src_t = time_map(plan, index, analysis)
    o0 = out_t[0]
    n_total = int(round((out_t[-1] - o0) * sr))
    res = np.zeros((y.shape[0], n_total), dtype=np.float32)
    rate = np.diff(src_t) / np.diff(out_t)
    unit = np.abs(rate - 1.0) < 1e-4
    # runs of stretched segments, padded by one unit segment each side for a seamless crossfade
    seg = 0
    nseg = len(rate)
    pad = 0.05
    while seg < nseg:
        j = seg
        while j < nseg and unit[j] == unit[seg]:
            j += 1
        a_out, b_out = out_t[seg], out_t[j]
        i0, i1 = int(round((a_out - o0) * sr)), int(round((b_out - o0) * sr))
        if unit[seg]:
            s0 = int(round(src_t[seg] * sr))
            chunk = y[:, s0: s0 + (i1 - i0)]
            res[:, i0: i0 + chunk.shape[1]] += chunk * _fade(chunk.shape[1], sr, pad, seg > 0, j < nseg)
        else:
            lo_t, hi_t = max(out_t[0], a_out - pad), min(out_t[-1], b_out + pad)
            m_out = np.concatenate([[lo_t], out_t[seg: j + 1], [hi_t]])
            m_src = np.interp(m_out, out_t, src_t)
            keep = np.concatenate([[True], np.diff(m_out) > 1e-9])
            m_out, m_src = m_out[keep], m_src[keep]
            fn = rubberband_map if stretch == "rubberband" else stretch_map
            z = fn(y, sr=sr, out_times=m_out, src_times=m_src)
            k0 = int(round((lo_t - o0) * sr))
            z = z[:, : max(0, n_total - k0)]
            n = z.shape[1]
            w = np.ones(n, dtype=np.float32)
            f = int(pad * sr)
            if lo_t < a_out and f > 0:
                w[:f] = np.linspace(0, 1, f)[: n]
            if hi_t > b_out and f > 0:
                w[-f:] = np.linspace(1, 0, f)[-n:] if n >= f else w[-f:]
            res[:, k0: k0 + n] += z * w
        seg = j
    return int(round(o0 * sr)), res


def _fade(n: int, sr: int, pad: float, fade_in: bool, fade_out: bool) -> np.ndarray:
    """Complementary linear fades over ``pad`` seconds at the ends of a copied run that meets a stretched run."""
    w = np.ones(n, dtype=np.float32)
    f = min(n // 2, int(pad * sr))
    if fade_in and f > 0:
        # the stretched run's padding overlaps this run's first ``pad`` seconds, fading out
        w[:f] = np.linspace(0, 1, f)
    if fade_out and f > 0:
        w[-f:] = np.linspace(1, 0, f)
    return w


def render_mix(plan: dict, analyses: dict[str, dict] | None = None, *, sr: int = 44100, stretch: str = "auto",
               audio: dict[str, tuple[np.ndarray, int]] | None = None, keep_stems: bool = False):
    """Render a plan to stereo audio ``(2, n)`` at ``sr``; returns ``(y, stems)``.

    ``analyses`` maps path -> analysis (default: the plan's own copies are not stored, so pass them);
    ``audio`` may supply already loaded ``path -> (y, sr)``. ``stems`` (when ``keep_stems``) maps track
    index -> ``(start sample, (2, n) time-mapped audio before gains and envelopes)`` for verification.
    ``stretch`` is ``"pv"`` (the project's phase vocoder), ``"rubberband"`` (the rubberband program) or
    ``"auto"`` (rubberband when installed, else pv).
    Files that fail to load are replaced by silence and reported in ``plan["warnings"]``: nothing stops mid-mix.
    """
    from latentstudio.core.audio import check_sample_rate, load, resample
    from latentstudio.core.stretch import has_rubberband

    if stretch not in ("auto", "pv", "rubberband"):
        raise ParameterError(f"stretch={stretch!r} must be 'auto', 'pv' or 'rubberband'")
    if stretch == "auto":
        stretch = "rubberband" if has_rubberband() else "pv"
    plan["stretcher"] = stretch

    if not plan.get("tracks"):
        raise ParameterError("the plan has no tracks")
    check_sample_rate(sr)
    analyses = analyses or {}
    n_out = int(round(plan["duration"] * sr)) + 1
    mix = np.zeros((2, n_out), dtype=np.float32)
    stems = {}
    plan.setdefault("warnings", [])
    for i, tr in enumerate(plan["tracks"]):
        a = analyses.get(tr["path"])
        if a is None:
            raise ParameterError(f"no analysis given for track {tr['path']!r}")
        try:
            if audio and tr["path"] in audio:
                y, fsr = audio[tr["path"]]
            else:
                y, fsr = load(tr["path"], mono=False)
            y = np.atleast_2d(y)
            if y.shape[0] > 2:
                y = y[:2]
            if fsr != sr:
                y = resample(y, orig_sr=fsr, target_sr=sr)
            start, z = render_track(plan, i, a, y, sr=sr, stretch=stretch)
        except (ParameterError, OSError) as exc:  # a file vanished or broke since analysis: keep the mix going
            plan["warnings"].append(f"track {tr['name']!r} could not be rendered ({exc}); silence in its place")
            continue
        if keep_stems:
            stems[i] = (start, z)
        t = (start + np.arange(z.shape[1])) / sr
        low_g, high_g = _envelopes(plan, i, t)
        # lo * low_g + hi * high_g = z * high_g + lo * (low_g - high_g): the band split is needed only where
        # the two gains differ (inside crossfades)
        out = z * high_g.astype(np.float32)
        diff = np.nonzero(np.abs(low_g - high_g) > 1e-6)[0]
        if diff.size:
            pad = int(0.25 * sr)
            i0, i1 = max(0, diff[0] - pad), min(z.shape[1], diff[-1] + pad)
            lo, _ = _split_bands(z[:, i0:i1], sr)
            out[:, i0:i1] += lo * (low_g[i0:i1] - high_g[i0:i1]).astype(np.float32)
        out *= np.float32(10 ** (tr["gain_db"] / 20))
        s0 = max(0, start)
        out = out[:, s0 - start:]
        n = min(out.shape[1], n_out - s0)
        mix[:, s0: s0 + n] += out[:, :n]           # a mono track broadcasts to both channels
    peak = float(np.max(np.abs(mix))) if mix.size else 0.0
    if peak > 0.98:                                    # keep headroom without a limiter: one gain for the mix
        mix *= 0.98 / peak
        plan["master_gain_db"] = float(20 * np.log10(0.98 / peak))
    return mix, stems
