"""GAN latent walks: even steps, projection, FID/KID with its floor, training speed.

Figures (``../shared/EVALUATION.md``):

* **walks** — for every generator at hand (the pretrained ``omniart-eyes`` and ``digiface`` when their wheels are
  installed, and the models given or trained here), walks through 4 seeded keyframes (96 frames) per seed; the
  max / median of the frame-to-frame EfficientNet-Lite0 feature distances (128 px) of a plain walk (lerp, and
  slerp) against the constant-speed walk (same keys, re-parametrised by feature arc length). Target: <= 2.
* **projection** — pictures the generator never saw, projected (pixel + feature loss, 4 restarts): the trained
  model on the *test* split of its own source; ``digiface`` on scikit-image's LFW faces (real photographs, 25 px
  greyscale, an independent source). Median feature distance, against the mean latent's picture (the baseline).
* **fid** — FID/KID (EfficientNet-Lite0 features) of each trained model against its source's *test* split, with
  the real-vs-real floor (the other half of the same split); the metric is not comparable with Inception FIDs.
* **speed** — seconds per training step (CLI defaults: batch 32, width 16) at 32 and 64 px, 2 threads.

Run:  python -m bench gan [--seeds 0 1 2] [--models out/gan/tux32_s0 ...] [--train-steps 3000]
      [--source tuxpaint] [--image-size 32] [--only walks projection fid speed]
Prints one JSON object (progress on stderr). ``--train-steps N`` trains one model per seed first (hours on a CPU
at the defaults; that is the figure's honest cost).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

try:  # python -m bench NAME
    from bench._stats import spread
except ImportError:  # python bench/gan.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench._stats import spread


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def generators(models: list[str]) -> dict[str, str]:
    from latentstudio.zoo.pretrained_gans import list_pretrained_generators

    found = {name: name for name in list_pretrained_generators()}
    found.update({Path(m).name: m for m in models})
    return found


def walk_evenness(model: str, seeds, *, keys: int = 4, frames: int = 96) -> dict:
    """max / median of frame steps: plain lerp, plain slerp, constant-speed slerp and lerp; per seed."""
    from latentstudio.gan.pipeline import load_generator
    from latentstudio.gan.walk import (LatentPath, constant_speed_positions, evenness, feature_measure,
                                       plain_positions, seed_latents, step_distances)

    g, _ = load_generator(model)
    rows = {k: [] for k in ("plain_lerp", "plain_slerp", "constant_lerp", "constant_slerp")}
    t0 = time.perf_counter()
    for seed in seeds:
        ss = np.random.SeedSequence(seed).generate_state(keys)
        w = seed_latents(g, [int(s) for s in ss])
        for interp in ("lerp", "slerp"):
            path = LatentPath(w, interpolation=interp, noise_dim=g.noise_dim)
            measure = feature_measure(g, path, size=128)
            coords = plain_positions(frames, path.span, loop=False)
            rows[f"plain_{interp}"].append(evenness(step_distances(measure(coords)))["max_over_median"])
            pos, _ = constant_speed_positions(measure, span=path.span, coords=coords)
            rows[f"constant_{interp}"].append(evenness(step_distances(measure(pos)))["max_over_median"])
        log(f"walks {model} seed {seed}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in rows.items()))
    return {"keys": keys, "frames": frames, "metric": "max/median frame-to-frame EfficientNet-Lite0 feature "
            "distance (128 px)", **{k: spread(v, digits=3) for k, v in rows.items()},
            "criterion": "constant <= 2", "seconds": round(time.perf_counter() - t0, 1)}


def projection(model: str, pictures: list[np.ndarray], *, steps: int, seed: int) -> dict:
    from latentstudio.gan.pipeline import load_generator
    from latentstudio.gan.project import project, reconstruction_figures

    g, _ = load_generator(model)
    t0 = time.perf_counter()
    res = [project(g, p, steps=steps, restarts=4, seed=seed + i) for i, p in enumerate(pictures)]
    return {**reconstruction_figures(res), "steps": steps, "restarts": 4,
            "seconds_per_picture": round((time.perf_counter() - t0) / len(res), 1)}


def held_out(source: str, image_size: int, n: int, seed: int) -> list[np.ndarray]:
    from latentstudio.gan.data import load_images

    test = load_images(source, image_size=image_size).part("test")
    pick = np.random.default_rng(seed).choice(len(test), size=min(n, len(test)), replace=False)
    return [test[i].transpose(1, 2, 0) for i in sorted(pick)]


def lfw_faces(n: int) -> list[np.ndarray]:
    from latentstudio import assets

    faces = assets.faces(100)[:n]                                        # the first 100 are faces
    return [np.repeat(f[..., None], 3, axis=2) for f in faces]


def speed(steps: int = 6) -> dict:
    import torch

    from latentstudio.gan.models import GAN

    out = {}
    for size in (32, 64):
        torch.manual_seed(0)
        gan = GAN(image_size=size)
        opt = torch.optim.AdamW([p for p in gan.parameters() if p.requires_grad], lr=2e-4, betas=(0.0, 0.99))
        real = torch.rand(32, 3, size, size)
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            loss, _ = gan(real, torch.randn(32, gan.latent_dim))
            opt.zero_grad()
            loss.backward()
            opt.step()
            times.append(time.perf_counter() - t0)
        out[f"{size}px"] = {"seconds_per_step": round(float(np.median(times[1:])), 3),
                            "parameters_G": sum(p.numel() for p in gan.G.parameters()),
                            "parameters_D": sum(p.numel() for p in gan.D.parameters())}
    return {**out, "batch_size": 32, "threads": torch.get_num_threads()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--models", nargs="*", default=[], help="folders from `latentstudio gan train`")
    ap.add_argument("--source", default="tuxpaint", help="the trained models' picture source")
    ap.add_argument("--image-size", type=int, default=32)
    ap.add_argument("--train-steps", type=int, default=0, help="train one model per seed first")
    ap.add_argument("--project-pictures", type=int, default=8)
    ap.add_argument("--project-steps", type=int, default=150)
    ap.add_argument("--out", default="out/bench/gan")
    ap.add_argument("--only", nargs="*", default=None, choices=["walks", "projection", "fid", "speed"])
    args = ap.parse_args()
    os.environ.setdefault("LATENTSTUDIO_QUIET", "1")
    from latentstudio.cli._common import set_threads

    set_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    want = lambda name: not args.only or name in args.only                # noqa: E731
    models = list(args.models)
    result: dict = {}
    if args.train_steps:
        from latentstudio.gan.pipeline import train_run

        for seed in args.seeds:
            folder = Path(args.out) / f"{args.source}{args.image_size}_s{seed}"
            log(f"training {folder} ({args.train_steps} steps)")
            train_run(args.source, folder, image_size=args.image_size, steps=args.train_steps, seed=seed,
                      command="python -m bench gan")
            models.append(str(folder))
    if want("speed"):
        result["speed"] = speed()
    if want("walks"):
        result["walks"] = {name: walk_evenness(spec, args.seeds) for name, spec in generators(models).items()}
    if want("projection"):
        proj = {}
        for m in models:
            proj[Path(m).name] = {"pictures_from": f"{args.source} test split",
                                  **projection(m, held_out(args.source, args.image_size, args.project_pictures, 0),
                                               steps=args.project_steps, seed=0)}
        if "digiface" in generators([]):
            proj["digiface"] = {"pictures_from": "scikit-image LFW faces (real photographs, 25 px grey)",
                                **projection("digiface", lfw_faces(args.project_pictures), steps=args.project_steps,
                                             seed=0)}
        result["projection"] = proj
    if want("fid"):
        from latentstudio.gan.pipeline import evaluate_run

        rows = [evaluate_run(m, args.source, split="test", seed=0).summary() for m in models]
        result["fid"] = {"models": rows,
                         "kid": spread([r.get("kid", float("nan")) for r in rows]),
                         "kid_floor": spread([r.get("kid_floor", float("nan")) for r in rows]),
                         "fid": spread([r.get("fid", float("nan")) for r in rows], digits=1),
                         "fid_floor": spread([r.get("fid_floor", float("nan")) for r in rows], digits=1)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
