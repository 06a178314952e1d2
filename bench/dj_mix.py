"""Mix rendering speed and beat matching: the demo library mixed at 44.1 kHz stereo, checked on plan and audio.

Renders the six demo tracks (FluidSynth GM + Hydrogen kits, 119-128 bpm and a 63 bpm half-time track),
analyses them, plans a mix of ``--tracks`` tracks and renders it. Speed is audio seconds per CPU second of
the rendering (one thread), next to a plain baseline measured in the same run: copying the same tracks
into the output with linear crossfades and no stretching. Beat matching: for every transition, the largest
distance between the two time-mapped beat grids (plan + analyses) and, on the rendered stems, the beats the
tracker finds (90th percentile and max distance; ``grid``: between the beat grids fitted to them,
``dj.verify.GRID_FIT``) and the tempo error between the stems. With ``--real`` also
where the pieces' true beats (from their MIDI) land in the mix: the offsets a listener hears, free of the
re-tracking's own jitter.

Run:  nice -n 10 .venv/bin/python bench/dj_mix.py [--tracks 6] [--sr 44100]
``--real --tracks 3``: a mix of real pieces of the test split (MMA songs in held-out styles, test soundfont);
``--split validation``: of the validation split, where choices are made.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time


def write_real_library(folder, *, n: int, sr: int, seed: int = 0, split: str = "test") -> dict[str, object]:
    """``n`` real pieces of ``split`` (MMA songs of its styles, 50-60 s, played by the split's first
    soundfont) as WAVs: the test split's held-out styles and soundfont, or validation's for choices.
    Returns file name -> its true beats (seconds, from the MIDI)."""
    import numpy as np

    from latentstudio.core.audio import save
    from latentstudio.dj import realmusic

    ps = [p for p in realmusic.pieces(split) if p.origin.startswith("mma:")]
    rng = np.random.default_rng(seed)
    names = {}
    for i in rng.permutation(len(ps)):
        if len(names) >= n:
            break
        ex = realmusic.render(ps[i], renderer=realmusic.SPLITS[split]["renderers"][0], seed=seed, sr=sr,
                              strength=0.0, effects=False, max_seconds=60.0)
        if len(ex.audio) < 40 * sr:
            continue
        name = f"{len(names)}_{ps[i].name.replace('/', '_')}.wav"
        save(f"{folder}/{name}", ex.audio, sr)
        names[name] = ex.beats
    return names


def run(*, tracks: int = 6, sr: int = 44100, seed: int = 0, real: bool = False, split: str = "test") -> dict:
    import numpy as np
    import torch

    from latentstudio.dj.analysis import analyze_library, library_files
    from latentstudio.dj.mix import plan_mix, render_mix
    from latentstudio.dj.music import write_library
    from latentstudio.core.stretch import has_rubberband
    from latentstudio.dj.verify import check_audio, check_plan, check_truth

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="bench-dj-") as td:
        truth = {}
        if real:
            truth = {os.path.join(td, k): v for k, v in
                     write_real_library(td, n=tracks, sr=sr, seed=seed, split=split).items()}
        else:
            write_library(td, sr=sr)
        analyses, failures = analyze_library(library_files(td), workers=1)
        by_path = {a["path"]: a for a in analyses}
        plan = plan_mix(analyses, n_tracks=tracks, transition_bars=8, seed=seed)
        from latentstudio.core.audio import load

        audio = {p: load(p, mono=False) for p in by_path}
        speeds = {}
        for stretch in ("pv", "rubberband") if has_rubberband() else ("pv",):
            render_mix(plan, by_path, sr=sr, audio=audio, stretch=stretch)          # warm-up
            c0, w0 = _cpu(), time.perf_counter()
            y, stems = render_mix(plan, by_path, sr=sr, audio=audio, keep_stems=True, stretch=stretch)
            cpu, wall = _cpu() - c0, time.perf_counter() - w0
            speeds[stretch] = {"render_cpu_seconds": round(cpu, 3), "render_wall_seconds": round(wall, 3),
                               "render_x_realtime_per_core": round(y.shape[1] / sr / cpu, 1),
                               "audio": check_audio(plan, stems, sr=sr)}
        # baseline: unstretched copy + linear crossfades of the same spans
        c1 = _cpu()
        out = np.zeros((2, y.shape[1]), dtype=np.float32)
        for tr in plan["tracks"]:
            x, _ = audio[tr["path"]]
            x = np.atleast_2d(x)
            s0 = int(tr["start"] * sr)
            x, s0 = x[:, max(0, -s0):], max(0, s0)          # a track that starts before the mix (its intro)
            n = min(x.shape[1], out.shape[1] - s0)
            fade = np.minimum(1.0, np.minimum(np.arange(n), n - np.arange(n)) / (4.0 * sr)).astype(np.float32)
            out[:, s0:s0 + n] += x[:, :n] * fade
        base_cpu = _cpu() - c1
        seconds = y.shape[1] / sr
        plan_rep = check_plan(plan, by_path)
        truth_rep = check_truth(plan, by_path, truth) if truth else None
    out = {"library": f"real {split}-split pieces" if real else "demo library (generator)", "sr": sr, "seed": seed,
           "tracks": len(plan["tracks"]), "mix_seconds": round(seconds, 1),
           "analysis_failures": len(failures), "baseline_copy_x_realtime": round(seconds / max(base_cpu, 1e-6), 1),
           "transitions": len(plan["transitions"]),
           "plan_max_offset_ms": max((r["max_offset_ms"] for r in plan_rep["transitions"]), default=None),
           "plan_max_tempo_error": max((r["max_tempo_error"] for r in plan_rep["transitions"]), default=None),
           "plan_ok": plan_rep["ok"], **_truth_fields(truth_rep),
           "order": [t["name"] for t in plan["tracks"]], "stretchers": {}}
    for name, sp in speeds.items():
        rows = sp.pop("audio")
        out["stretchers"][name] = {
            **sp, "audio_ok": rows["ok"],
            "audio_p90_offset_ms": [round(r.get("p90_offset_ms", float("nan")), 2) for r in rows["transitions"]],
            "audio_max_offset_ms": [round(r.get("max_offset_ms", float("nan")), 2) for r in rows["transitions"]],
            "audio_grid_max_offset_ms": [round(r.get("grid_max_offset_ms", float("nan")), 2)
                                         for r in rows["transitions"]],
            "audio_median_grid_offset_ms": [round(r.get("median_grid_offset_ms", float("nan")), 2)
                                            for r in rows["transitions"]],
            "audio_tempo_error": [round(r.get("tempo_error", float("nan")), 5) for r in rows["transitions"]]}
    return out


def _truth_fields(rep: dict | None) -> dict:
    """The true beats' offsets per transition (real pieces: beats known from the MIDI), or nothing."""
    if rep is None:
        return {}
    return {"true_beats_max_offset_ms": [round(r.get("max_offset_ms", float("nan")), 2) for r in rep["transitions"]],
            "true_beats_median_offset_ms": [round(r.get("median_offset_ms", float("nan")), 2)
                                            for r in rep["transitions"]],
            "true_beats_ok": rep["ok"]}


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the rubberband program runs as one)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=6)
    ap.add_argument("--sr", type=int, default=44100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--real", action="store_true", help="mix real test-split pieces (dj.realmusic) instead")
    ap.add_argument("--split", default="test", choices=("validation", "test"),
                    help="with --real: the split whose pieces are mixed (validation for choices)")
    a = ap.parse_args()
    print(json.dumps(run(tracks=a.tracks, sr=a.sr, seed=a.seed, real=a.real, split=a.split), indent=2))


if __name__ == "__main__":
    main()
