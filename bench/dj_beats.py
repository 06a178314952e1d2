"""Beat tracking on rendered music with exact beats: the DJ's tracker vs librosa's plain beat_track.

Renders ``--tracks`` random pieces (FluidSynth GM instruments and Hydrogen kits; tempi 60-190 bpm, 2/3/4
meters, swing, tempo ramps, weak or no drums; seeds disjoint from the training set's) and runs, on the
same audio in the same process, (1) ``latentstudio.dj.beatnet.track_beats`` with the trained network,
(2) the same decoder on the model-free onset flux, (3) ``librosa.beat.beat_track`` with its defaults.
F-measure is mir_eval's (70 ms window); tempo is correct when within 2 % of the truth (median
inter-beat interval); speed is CPU seconds per minute of audio on one thread, after a warm-up.

Run:  nice -n 10 .venv/bin/python bench/dj_beats.py [--tracks 40] [--seed 1000]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time


def run(*, tracks: int = 40, seed: int = 1000, bars: int = 24) -> dict:
    import librosa
    import mir_eval
    import numpy as np
    import torch

    from latentstudio import assets
    from latentstudio.dj import beatnet
    from latentstudio.dj.music import random_spec, render_track

    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    try:
        kits = tuple(k.name for k in assets.drumkits())
    except Exception:
        kits = ()
    sr = 22050
    methods = {"net": lambda y: beatnet.track_beats(y, sr=sr, backend="net"),
               "flux": lambda y: beatnet.track_beats(y, sr=sr, backend="flux"),
               "librosa": lambda y: librosa.beat.beat_track(y=y, sr=sr, units="time")[1]}
    if not beatnet.has_beatnet():
        methods.pop("net")
    warm = render_track(random_spec(np.random.default_rng(seed + 1), bars=4), sr=sr).audio
    for fn in methods.values():
        fn(warm)
    res = {m: {"f": [], "tempo_ok": [], "down_f": [], "cpu": [], "wall": []} for m in methods}
    audio_s = []
    for _ in range(tracks):
        spec = random_spec(rng, bars=bars, kits=kits)
        tr = render_track(spec, sr=sr)
        audio_s.append(len(tr.audio) / sr)
        true_bpm = 60.0 / np.median(np.diff(tr.beats))
        for m, fn in methods.items():
            c0, w0 = time.process_time(), time.perf_counter()
            out = fn(tr.audio)
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
            beats = out if isinstance(out, np.ndarray) else out.beats
            r = res[m]
            r["f"].append(mir_eval.beat.f_measure(tr.beats, beats) if len(beats) else 0.0)
            bpm = 60.0 / np.median(np.diff(beats)) if len(beats) > 1 else 0.0
            r["tempo_ok"].append(abs(bpm / true_bpm - 1) <= 0.02)
            if not isinstance(out, np.ndarray):
                r["down_f"].append(mir_eval.beat.f_measure(tr.downbeats, out.downbeats) if len(out.downbeats) else 0.0)
            r["cpu"].append(cpu * 60.0 / audio_s[-1])
            r["wall"].append(wall * 60.0 / audio_s[-1])
    out = {"tracks": tracks, "audio_minutes": round(sum(audio_s) / 60, 2), "seed": seed, "methods": {}}
    for m, r in res.items():
        out["methods"][m] = {
            "f_measure_mean": round(float(np.mean(r["f"])), 4),
            "f_measure_median": round(float(np.median(r["f"])), 4),
            "tracks_f_at_least_0.95": round(float(np.mean(np.array(r["f"]) >= 0.95)), 4),
            "tempo_within_2pct": round(float(np.mean(r["tempo_ok"])), 4),
            "downbeat_f_mean": round(float(np.mean(r["down_f"])), 4) if r["down_f"] else None,
            "cpu_seconds_per_audio_minute": round(statistics.median(r["cpu"]), 4),
            "x_realtime_per_core": round(60.0 / statistics.median(r["cpu"]), 1),
            "wall_seconds_per_audio_minute": round(statistics.median(r["wall"]), 4),
        }
    if "librosa" in out["methods"]:
        base = out["methods"]["librosa"]
        for m in out["methods"]:
            out["methods"][m]["speed_vs_librosa"] = round(base["cpu_seconds_per_audio_minute"]
                                                          / out["methods"][m]["cpu_seconds_per_audio_minute"], 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--bars", type=int, default=24)
    a = ap.parse_args()
    print(json.dumps(run(tracks=a.tracks, seed=a.seed, bars=a.bars), indent=2))


if __name__ == "__main__":
    main()
