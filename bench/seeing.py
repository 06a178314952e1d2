"""Learning to See: real-time speed on a CPU, following the input vs a slideshow, being of its world, flicker.

Figures (``../shared/EVALUATION.md``):

* **speed** — frames per second of the whole per-frame loop at 256 x 256 (resize, degradation, network,
  smoothing) with the shipped lean generator frozen in channels-last TorchScript (what `seeing run` does),
  beside the same network run eagerly and pix2pix's eager ``unet_256``; 2 threads, median of repeats.
* **check** — models trained by the project's own code (``latentstudio seeing train WORLD --seed S``) for each
  seed, judged on material unlike their world (``seeing.worlds.unrelated_inputs``: 12 scikit-image /
  scikit-learn sample photographs, 4 LFW faces, 8 Tux Paint stamps): edge-map correlation of input and
  output beside the oracle slideshow baseline (the training crop whose edges match each input best); the
  outputs' feature similarity to their nearest training crop beside that of new pictures of the world (the
  held-out photograph); for flowers, how often EfficientNet-Lite2 (never used in training) names a flower class
  (daisy, yellow lady's slipper, rapeseed, cardoon) in its top 5, beside the inputs' own rate and the held-out
  flower photograph's. Median and range over seeds.
* **flicker** — mean absolute frame-to-frame change of the output on a slow pan over a photograph with
  camera noise: no smoothing, smoothing 0.6, smoothing 0.6 flow-guided.

* **guide** — the same check for models trained with the world term (``seeing train --guide W``: -log P(world's
  ImageNet classes) under EfficientNet-Lite0, the judge's smaller sibling; Lite2 never enters training). Its
  weight is chosen on the validation inputs (``--inputs validation``), never on the test inputs.

Run:  python -m bench seeing [--world flowers] [--seeds 0 1 2] [--steps 1500] [--guide 5]
      [--guide-nets efficientnet_lite0,efficientnet_lite1] [--guide-jitter 0.3] [--off-guide 5 --off-keep 20]
      [--models DIR ...]
      [--inputs test|validation] [--only speed]
Prints one JSON object (progress on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

try:  # python -m bench NAME
    from bench._stats import median_time, spread
except ImportError:  # python bench/seeing.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench._stats import median_time, spread


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def speed(model_dir: str | None, repeats: int = 30) -> dict:
    import torch

    from latentstudio.core import image as imageio
    from latentstudio.assets import sample_image
    from latentstudio.seeing.degrade import Degradation
    from latentstudio.seeing.model import LeanUNet, Pix2PixUNet
    from latentstudio.seeing.see import Seer
    from latentstudio.seeing.training import SeerModel, load_seer_model

    frame = imageio.center_crop(imageio.load(sample_image("astronaut"), size=256), 256)
    if model_dir:
        lean = load_seer_model(model_dir)
    else:
        torch.manual_seed(0)
        lean = SeerModel(LeanUNet().eval(), Degradation(), {}, Path("untrained"))
    torch.manual_seed(0)
    p2p = SeerModel(Pix2PixUNet().eval(), Degradation(), {}, Path("pix2pix-unet_256"))
    rows = {}
    for name, model, fast, smooth in (("lean_frozen_channels_last", lean, True, 0.0),
                                      ("lean_frozen_smoothed_flow", lean, True, 0.6),
                                      ("lean_eager", lean, False, 0.0),
                                      ("pix2pix_unet256_eager", p2p, False, 0.0)):
        seer = Seer(model, size=256, fast=fast, smooth=smooth, flow=smooth > 0)
        n = repeats if "pix2pix" not in name else max(5, repeats // 4)
        sec = median_time(lambda: seer(frame), n)
        rows[name] = {"ms_per_frame": round(sec * 1000, 2), "fps": round(1 / sec, 1),
                      "params": int(sum(p.numel() for p in model.generator.parameters()))}
        _log(f"speed {name}: {rows[name]}")
    base = rows["lean_frozen_channels_last"]["fps"]
    rows["ratio_vs_lean_eager"] = round(base / rows["lean_eager"]["fps"], 2)
    rows["ratio_vs_pix2pix_eager"] = round(base / rows["pix2pix_unet256_eager"]["fps"], 2)
    rows["threads"] = torch.get_num_threads()
    return rows


def train_models(world: str, seeds: list[int], steps: int, out: Path, guide: float = 0.0,
                 guide_nets: str = "efficientnet_lite0", guide_jitter: float = 0.0, off_guide: float = 0.0,
                 off_keep: float = 0.0) -> list[str]:
    dirs = []
    tag = "" if not guide else f"_g{guide:g}" + (f"_n{guide_nets.count(',') + 1}" if "," in guide_nets else "") + \
        (f"_j{guide_jitter:g}" if guide_jitter else "")
    tag += f"_off{off_guide:g}_k{off_keep:g}" if off_guide or off_keep else ""
    for seed in seeds:
        d = out / f"{world}{tag}_s{seed}"
        if not (d / "model.safetensors").is_file():
            _log(f"training {world} seed {seed} ({steps} steps) -> {d}")
            subprocess.run([sys.executable, "-m", "latentstudio", "seeing", "train", world, "-o", str(d),
                            "--steps", str(steps), "--seed", str(seed), "--guide", str(guide),
                            "--guide-nets", guide_nets, "--guide-jitter", str(guide_jitter),
                            "--off-guide", str(off_guide), "--off-keep", str(off_keep), "--json"], check=True,
                           stdout=subprocess.DEVNULL)
        dirs.append(str(d))
    return dirs


def check(models: list[str], which: str = "test") -> dict:
    from latentstudio.seeing.check import check_model
    from latentstudio.seeing.training import load_seer_model
    from latentstudio.seeing.worlds import unrelated_inputs, validation_inputs

    inputs = unrelated_inputs(size=256, seed=0) if which == "test" else validation_inputs(size=256)
    reports = []
    for m in models:
        t0 = time.perf_counter()
        r = check_model(load_seer_model(m), inputs, size=256, seed=0)
        reports.append(r)
        _log(f"check {m}: follows {r.follows:.3f} slideshow {r.slideshow:.3f} copy {r.copy_similarity:.3f} "
             f"new {r.new_picture_similarity:.3f} world {r.world_rate} ({time.perf_counter() - t0:.0f} s)")
    keys = ("follows", "slideshow", "copy_similarity", "new_picture_similarity", "world_rate", "world_rate_inputs",
            "world_rate_photo")
    res = {k: spread([getattr(r, k) if getattr(r, k) is not None else float("nan") for r in reports])
           for k in keys}
    res.update({"inputs": len(inputs), "input_set": which, "models": models, "world": reports[0].world,
                "world_classes": list(reports[0].world_classes), "verdicts": [r.verdict for r in reports]})
    return res


def flicker(model_dir: str, frames: int = 48) -> dict:
    from latentstudio.assets import sample_image
    from latentstudio.core import image as imageio
    from latentstudio.seeing.see import Seer
    from latentstudio.seeing.temporal import flicker as flicker_of
    from latentstudio.seeing.training import load_seer_model

    model = load_seer_model(model_dir)
    big = imageio.load(sample_image("coffee"), size=320)
    rng = np.random.default_rng(0)
    clip = []
    for i in range(frames):
        x = int(i * (big.shape[1] - 256) / (frames - 1))
        f = big[32:288, x:x + 256] + rng.normal(0, 0.02, (256, 256, 3)).astype(np.float32)
        clip.append(np.clip(f, 0, 1))
    res = {"input": flicker_of(clip)}
    for name, smooth, flow in (("none", 0.0, False), ("smooth_0.6", 0.6, False), ("smooth_0.6_flow", 0.6, True)):
        seer = Seer(model, size=256, smooth=smooth, flow=flow)
        res[name] = round(float(flicker_of([seer(f) for f in clip])), 5)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", default="flowers")
    ap.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--guide", type=float, default=0.0, help="train with this world-term weight (seeing train --guide)")
    ap.add_argument("--guide-nets", default="efficientnet_lite0",
                    help="the world term's classifiers, comma-separated (seeing train --guide-nets)")
    ap.add_argument("--guide-jitter", type=float, default=0.0, help="random views for the world term (--guide-jitter)")
    ap.add_argument("--off-guide", type=float, default=0.0,
                    help="world term on degraded wallpapers' outputs (seeing train --off-guide)")
    ap.add_argument("--off-keep", type=float, default=0.0, help="structure term on them (seeing train --off-keep)")
    ap.add_argument("--inputs", choices=["test", "validation"], default="test",
                    help="check on the test inputs (unrelated_inputs) or the validation inputs used for choices")
    ap.add_argument("--models", nargs="*", default=[], help="trained model folders (skip training)")
    ap.add_argument("--out", default="out/bench/seeing")
    ap.add_argument("--only", nargs="*", default=None, choices=["speed", "check", "flicker"])
    args = ap.parse_args()
    os.environ.setdefault("LATENTSTUDIO_QUIET", "1")
    import torch

    torch.set_num_threads(2)
    want = lambda name: not args.only or name in args.only                # noqa: E731
    result = {}
    models = list(args.models)
    if not models and (want("check") or want("flicker")):
        models = train_models(args.world, list(args.seeds), args.steps, Path(args.out), args.guide,
                              args.guide_nets, args.guide_jitter, args.off_guide, args.off_keep)
    if want("speed"):
        result["speed"] = speed(models[0] if models else None)
    if want("check"):
        result["check"] = check(models, args.inputs)
    if want("flicker"):
        result["flicker"] = flicker(models[0])
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
