"""DeepDream speed: seconds per dream step at 512x512, the optvis engine versus a plain PyTorch loop.

Both do the same step on the same model (``zoo.load_classifier``, its default memory format) in the same
run: random roll, gradient of the mean squared activation of ``--layer`` with respect to the image,
gradient divided by its mean absolute value, step, clip. The plain loop is what one writes by hand: a
forward hook on the layer, the full forward pass, ``loss.backward()``. The engine (``dream_step``)
truncates the forward pass at the layer, folds BatchNorm into the convolutions and asks autograd for the
input gradient only. Runs are interleaved and the medians compared; goal ``ratio <= 0.85``.

With ``--gains`` it reports how much a default dream (4 octaves x 10 steps) raises the objective on
three sample photographs, for a whole layer (``blocks.10``: the mean square over all its channels, which
ReLU6 bounds, 2-4x) and for single channels (``--gain-objectives``; 10-25x). With ``--big`` it also
dreams a 4096x4096 image in a child process and reports its peak memory (goal: well under 8 GiB) and time.

Run:  nice -n 10 .venv/bin/python bench/dream.py [--layer blocks.10] [--steps 15] [--threads 2] [--gains] [--big]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time


def plain_step(model, layer: str, img, *, step_size: float, shift: tuple[int, int]):
    """The hand-written DeepDream step, as tutorials write it."""
    import torch

    from latentstudio.zoo import features

    x = torch.roll(img, shifts=shift, dims=(-2, -1)).detach().requires_grad_(True)
    with features(model, [layer]) as feats:
        model(x)
    loss = feats[layer].pow(2).mean()
    loss.backward()
    g = x.grad
    g = g / g.abs().mean().clamp_min(1e-12)
    out = (x.detach() + step_size * g).clamp(0, 1)
    return torch.roll(out, shifts=(-shift[0], -shift[1]), dims=(-2, -1)), float(loss.detach())


def run_speed(*, layer: str, size: int, steps: int, threads: int, step_size: float = 0.01) -> dict:
    import numpy as np
    import torch
    from skimage import data

    from latentstudio import zoo
    from latentstudio.core.image import resize, to_tensor
    from latentstudio.dream import dream_objective, dream_step
    from latentstudio.optvis import FeatureModel

    torch.set_num_threads(threads)
    model = zoo.load_classifier("efficientnet_lite0")
    fm = FeatureModel(model)
    obj = dream_objective(layer)
    base = to_tensor(resize(data.chelsea().astype(np.float32) / 255, (size, size)))
    gen = torch.Generator().manual_seed(0)
    shifts = [tuple(int(v) for v in torch.randint(-32, 33, (2,), generator=gen)) for _ in range(steps + 3)]

    # same step, same result (up to float rounding): check before timing
    a, sa = dream_step(fm, obj, base.clone(), step_size=step_size, shift=shifts[0])
    b, sb = plain_step(model, layer, base.clone(), step_size=step_size, shift=shifts[0])
    diff = (a - b).abs()

    img_e, img_p = base.clone(), base.clone()
    times: dict[str, list[float]] = {"engine": [], "plain": []}
    for i, shift in enumerate(shifts):
        for key in ("engine", "plain") if i % 2 == 0 else ("plain", "engine"):
            t0 = time.perf_counter()
            if key == "engine":
                img_e, _ = dream_step(fm, obj, img_e, step_size=step_size, shift=shift)
            else:
                img_p, _ = plain_step(model, layer, img_p, step_size=step_size, shift=shift)
            if i >= 3:  # warm-up steps are not timed
                times[key].append(time.perf_counter() - t0)
    eng, plain = statistics.median(times["engine"]), statistics.median(times["plain"])
    return {"size": size, "layer": layer, "threads": threads, "steps_timed": steps,
            "engine_s_per_step": round(eng, 4), "plain_s_per_step": round(plain, 4),
            "ratio": round(eng / plain, 3), "goal_ratio": 0.85,
            "bn_folded": fm.n_folded, "channels_last": fm.channels_last,
            "one_step_diff_vs_plain": {"mean_abs": float(diff.mean()), "max_abs": float(diff.max()),
                                       "mean_abs_change": float((a - base).abs().mean())}, "scores_first_step": [round(sa, 4), round(sb, 4)]}


def big_child(size: int, octaves: int, steps: int, threads: int) -> None:
    """Dream a ``size`` x ``size`` image; print peak RSS (GiB) and seconds as JSON."""
    import numpy as np
    import torch
    from skimage import data

    from latentstudio.core.image import resize
    from latentstudio.dream import dream

    torch.set_num_threads(threads)
    img = resize(data.chelsea().astype(np.float32) / 255, (size, size))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    t0 = time.perf_counter()
    res = dream(img, octaves=octaves, steps=steps, seed=0)
    sec = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(json.dumps({"size": size, "octaves": octaves, "steps": steps, "seconds": round(sec, 1),
                      "peak_rss_gib": round(peak, 2), "rss_before_dream_gib": round(before, 2),
                      "gain": round(res.gain, 3), "goal_peak_rss_gib_below": 8}))


def run_gains(*, images: list[str], side: int, threads: int, objectives: list[str]) -> list[dict]:
    """Each objective on each sample image before and after a default dream (4 octaves x 10 steps)."""
    import torch

    from latentstudio import assets
    from latentstudio.core.image import load
    from latentstudio.dream import dream

    torch.set_num_threads(threads)
    rows = []
    for layer, name in [(o, n) for o in objectives for n in images]:
        img = load(assets.sample_image(name), size=side)
        t0 = time.perf_counter()
        res = dream(img, objective=layer, seed=0)
        first, last = res.scores[0][2], res.scores[-1][2]
        rows.append({"image": name, "size": list(img.shape[:2]), "objective": layer,
                     "input_score": round(res.initial_score, 3), "dream_score": round(res.final_score, 3),
                     "gain": round(res.gain, 2), "first_step_score": round(first, 3),
                     "last_step_score": round(last, 3), "last_over_first": round(last / first, 2),
                     "seconds": round(time.perf_counter() - t0, 1)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layer", default="blocks.10")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--steps", type=int, default=15)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--big", action="store_true", help="also dream 4096x4096 and report peak memory")
    ap.add_argument("--big-size", type=int, default=4096)
    ap.add_argument("--big-octaves", type=int, default=2)
    ap.add_argument("--big-steps", type=int, default=1)
    ap.add_argument("--gains", action="store_true", help="also report the objective's rise on sample images")
    ap.add_argument("--gain-objectives", default="blocks.10,blocks.10:7,blocks.5:3",
                    help="objectives for --gains: the layer (all channels) and single channels (layer:channel)")
    ap.add_argument("--_child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._child:
        big_child(args.big_size, args.big_octaves, args.big_steps, args.threads)
        return
    out = {"speed": run_speed(layer=args.layer, size=args.size, steps=args.steps, threads=args.threads)}
    if args.gains:
        out["gains"] = run_gains(images=["chelsea", "coffee", "astronaut"], side=400, threads=args.threads,
                                 objectives=[o for o in args.gain_objectives.split(",") if o])
    if args.big:
        proc = subprocess.run([sys.executable, __file__, "--_child", "--big-size", str(args.big_size),
                               "--big-octaves", str(args.big_octaves), "--big-steps", str(args.big_steps),
                               "--threads", str(args.threads)], capture_output=True, text=True)
        out["big"] = json.loads(proc.stdout) if proc.returncode == 0 else {"error": proc.stderr[-2000:]}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
