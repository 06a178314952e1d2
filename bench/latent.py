"""Latent Pulsations / Latent Landscapes: clustering through training, beat-locked pulses, geometry checks, speed.

Figures (``../shared/EVALUATION.md``):

* **clusters** — VAEs trained by the project's own code (``latentstudio latent train wordnet``: WordNet noun
  glosses, 12 lexicographer classes, split by content hash) for each seed; silhouette by label of the first
  snapshot against the final one (the film's dots: the train split) and of the held-out test texts; the
  unsupervised VAE (``--label-weight 0``) beside the default as the baseline. Median and range over seeds.
* **pulses** — three tracks of the project's generator (``dj.music`` at 172 / 128 / 97 bpm) and four real
  grooves (MMA songs of the DJ's test-split style families, FluidR3 with a record chain), each time-stretched
  to whole frames at 24 fps; each pulse peak's distance in frames from the nearest beat tracked again on the
  stretched audio, and from the true beats.
* **geometry** — the measures against analytic values: a linear decoder ``A z`` (``sqrt det A^T A`` and the
  mean of ``|A u|`` over the circle) and the warp ``(z1, z2, |z|^2)`` (``sqrt(1 + 4|z|^2)``); max relative error.
* **landscape** — a 512 x 512 magnification map of the trained VAE (exact Jacobians, 2 threads), its cartogram
  (coefficient of variation before / after, total area kept) and velocity-field picture, timed.
* **render** — frames per second of a 300,000-dot film at 1920 x 1080, drawing only and with H.264 encoding.

Run:  python -m bench latent [--seeds 0 1 2] [--steps 3000] [--models out/latent/wordnet ...]
Prints one JSON object (progress on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

try:  # python -m bench NAME
    from bench._stats import spread
except ImportError:  # python bench/latent.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench._stats import spread


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def clusters(seeds, steps: int, models: list[str], out: Path) -> dict:
    """Train (or reuse) one VAE per seed and label weight; silhouettes first -> final, held-out."""
    from latentstudio.latent.pipeline import train_run
    from latentstudio.latent.training import load_film

    res = {}
    for weight in (10.0, 0.0):
        rows = []
        for seed in seeds:
            folder = out / f"wordnet_lw{weight:g}_s{seed}"
            if weight == 10.0 and models:
                folder = Path(models[seeds.index(seed)]) if seeds.index(seed) < len(models) else folder
            if not (folder / "snapshots.npy").is_file():
                log(f"clusters: training {folder} ({steps} steps)")
                train_run("wordnet", folder, steps=steps, seed=seed, label_weight=weight,
                          command="python -m bench latent")
            meta = load_film(folder).meta
            rows.append({"seed": seed, **meta["silhouette"], "seconds": meta.get("train_seconds"),
                         "validation_nelbo": meta["validation_nelbo"], "model": str(folder)})
        res[f"label_weight_{weight:g}"] = {
            "silhouette_first": spread([r["first"] for r in rows]),
            "silhouette_final": spread([r["final"] for r in rows]),
            "silhouette_final_held_out": spread([r["final_test"] for r in rows]),
            "validation_nelbo": spread([r["validation_nelbo"] for r in rows]),
            "models": [r["model"] for r in rows]}
    return res


def pulses() -> dict:
    """Pulse peaks against the beats tracked on the stretched audio."""
    from latentstudio.core.rhythm import beat_envelope
    from latentstudio.core.stretch import time_stretch
    from latentstudio.dj.beatnet import track_beats
    from latentstudio.dj.music import TrackSpec, render_track
    from latentstudio.latent.pulsations import PulseStyle, fit_tempo

    from latentstudio.dj.realmusic import family, mma_grooves, mma_pieces, render, split_of

    rows = []
    fps = 24.0
    tracks = []
    for bpm, style in ((172.0, "breaks"), (128.0, "house"), (97.0, "rock")):
        tr = render_track(TrackSpec(bpm=bpm, style=style, bars=12, seed=7, intro_bars=0), sr=22050)
        tracks.append((f"generator {style} {bpm:g}", tr.audio, tr.sr, np.asarray(tr.beats)))
    # real grooves: MMA songs of the DJ's test-split style families, FluidR3 with a record chain
    fams = sorted({family(stem) for stem in mma_grooves() if split_of(f"mma:{family(stem)}") == "test"})[:4]
    for piece in mma_pieces(set(fams), songs_per_style=1, seed=0)[::3][:4]:
        ex = render(piece, renderer="fluidr3", seed=0, sr=22050, max_seconds=30.0)
        tracks.append((piece.name, ex.audio, ex.sr, np.asarray(ex.beats)))
    for name, audio, sr, true_beats in tracks:
        res = track_beats(audio, sr=sr)
        played = fit_tempo(res.bpm, fps)
        rate = played / res.bpm
        y = time_stretch(audio, sr=sr, rate=rate)
        beats = np.asarray(res.beats) / rate
        frames = int(len(y) / sr * fps)
        env, _, _ = beat_envelope(beats, None, frames=frames, fps=fps, decay_beats=PulseStyle().decay_beats)
        peaks = np.flatnonzero((env[1:-1] > env[:-2]) & (env[1:-1] >= env[2:])) + 1
        again = np.asarray(track_beats(y, sr=sr).beats) * fps
        inner = peaks[(peaks > fps) & (peaks < frames - fps)]            # the tracker's edges aside
        off = np.array([np.min(np.abs(again - p)) for p in inner]) if again.size else np.full(inner.size, np.inf)
        truth = true_beats / rate * fps
        off_true = np.array([np.min(np.abs(truth - p)) for p in inner])
        rows.append({"track": name, "tracked_bpm": round(float(res.bpm), 2), "played_bpm": round(played, 2),
                     "frames_per_beat": round(60 * fps / played, 3), "pulses": int(inner.size),
                     "max_offset_frames_vs_retracked": round(float(off.max()), 3),
                     "within_one_frame": round(float(np.mean(off <= 1.0)), 4),
                     "max_offset_frames_vs_true_beats": round(float(off_true.max()), 3)})
    return {"tracks": rows, "all_within_one_frame": all(r["within_one_frame"] == 1.0 for r in rows)}


def geometry() -> dict:
    import torch

    from latentstudio.latent import geometry as g

    torch.manual_seed(0)
    A = torch.randn(50, 2, dtype=torch.float32)
    lin = lambda z: z @ A.T                                             # noqa: E731
    z = torch.rand(400, 2) * 4 - 2
    true = float(torch.sqrt(torch.det(A.T @ A)))
    th = np.linspace(0, 2 * np.pi, 20000, endpoint=False)
    circle = float(np.mean(np.linalg.norm(np.stack([np.cos(th), np.sin(th)], 1) @ A.numpy().T, axis=1)))

    def warp(z):
        return torch.stack([z[:, 0], z[:, 1], (z ** 2).sum(1)], 1)

    tw = np.sqrt(1 + 4 * (z ** 2).sum(1).numpy())
    err = lambda v, t: float(np.max(np.abs(np.asarray(v) / t - 1)))    # noqa: E731
    return {"linear": {"exact": err(g.magnification(lin, z), true), "fd": err(g.magnification_fd(lin, z), true),
                       "step_distance": err(g.step_distance(lin, z, directions=64), circle)},
            "warp": {"exact": err(g.magnification(warp, z), tw), "fd": err(g.magnification_fd(warp, z, eps=1e-3), tw)},
            "criterion": "max relative error <= 0.01"}


def landscape(model: str) -> dict:
    import torch

    from latentstudio.latent import cartogram as carto
    from latentstudio.latent.landscape import add_cartogram, compute_landscape, decoder_map, fit_bounds, render_flow
    from latentstudio.latent.training import load_film, load_vae

    torch.set_num_threads(2)
    vae = load_vae(model)
    film = load_film(model)
    f, d = decoder_map(vae)
    bounds = fit_bounds(np.asarray(film.snapshots[-1], dtype=np.float32))
    t0 = time.perf_counter()
    land = compute_landscape(f, latent_dim=d, bounds=bounds, resolution=512)
    t_map = time.perf_counter() - t0
    t0 = time.perf_counter()
    add_cartogram(land, cells=128)
    t_carto = time.perf_counter() - t0
    areas = carto.cell_areas(land.cartogram.grid_x, land.cartogram.grid_y)
    box = (bounds[1] - bounds[0]) * (bounds[3] - bounds[2])
    t0 = time.perf_counter()
    render_flow(land)
    t_flow = time.perf_counter() - t0
    return {"model": model, "vocabulary": len(vae.vocabulary), "map_512_seconds": round(t_map, 2),
            "cartogram_128_seconds": round(t_carto, 2), "flow_512_seconds": round(t_flow, 2),
            "total_seconds": round(t_map + t_carto + t_flow, 2), "threads": 2,
            "magnification_range": [float(land.values.min()), float(land.values.max())],
            "cartogram": {**land.equalisation, "area_error": float(abs(areas.sum() / box - 1)),
                          "folded_cells": int((areas <= 0).sum())}}


def render(model: str, n: int = 300_000, seconds: float = 8.0) -> dict:
    from latentstudio.core.video import write_video
    from latentstudio.latent.pulsations import PulseStyle, iter_frames, plan_pulsations
    from latentstudio.latent.training import Filmed, load_film

    film = load_film(model)
    snaps = np.asarray(film.snapshots, dtype=np.float32)
    reps = int(np.ceil(n / snaps.shape[1]))
    rng = np.random.default_rng(0)
    jitter = rng.normal(scale=0.02, size=(reps * snaps.shape[1], 2)).astype(np.float32)
    big = (np.tile(snaps, (1, reps, 1)) + jitter[None])[:, :n].astype(np.float16)
    labels = np.tile(np.asarray(film.labels), reps)[:n]
    fat = Filmed(big, film.steps, labels, film.label_names, {})
    plan = plan_pulsations(fat, seconds=seconds, fps=24, beats=np.arange(0, seconds, 60 / 160),
                           style=PulseStyle(title="WordNet x6"))
    t0 = time.perf_counter()
    for _ in iter_frames(fat, plan):
        pass
    draw = plan.frames / (time.perf_counter() - t0)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_video(Path(tmp) / "p.mp4", iter_frames(fat, plan), fps=24)
        enc = plan.frames / (time.perf_counter() - t0)
    return {"dots": n, "size": "1920x1080", "frames": plan.frames, "draw_fps": round(draw, 2),
            "draw_and_encode_fps": round(enc, 2), "criterion": ">= 10 fps"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--models", nargs="*", default=[], help="trained wordnet models (label weight 10) per seed")
    ap.add_argument("--out", default="out/bench/latent", help="where models trained here go")
    ap.add_argument("--only", nargs="*", default=None,
                    choices=["clusters", "pulses", "geometry", "landscape", "render"])
    args = ap.parse_args()
    os.environ.setdefault("LATENTSTUDIO_QUIET", "1")
    import torch

    torch.set_num_threads(2)
    out = Path(args.out)
    result = {}
    want = lambda name: not args.only or name in args.only                # noqa: E731
    model = args.models[0] if args.models else None
    if want("clusters") or (model is None and (want("landscape") or want("render"))):
        result["clusters"] = clusters(list(args.seeds), args.steps, list(args.models), out)
        model = result["clusters"]["label_weight_10"]["models"][0]
        if not want("clusters"):
            result.pop("clusters")
    for name, fn in (("pulses", pulses), ("geometry", geometry)):
        if want(name):
            t0 = time.perf_counter()
            result[name] = fn()
            result[name]["bench_seconds"] = round(time.perf_counter() - t0, 1)
    if want("landscape"):
        result["landscape"] = landscape(model)
    if want("render"):
        result["render"] = render(model)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
