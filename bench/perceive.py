"""Perception Engines: held-out top-5 rate on classes never tuned on, with the ensemble's own rate beside it.

Protocol (issue 13; EVALUATION.md's splits by origin - here, by class):

* ``--split dev`` - the development classes (:data:`DEV_CLASSES`: every class a default was ever chosen on,
  and the two of the issue). Choices (planner, views, objective, schedule) are made here only.
* ``--split test`` - :data:`TEST_SIZE` classes drawn by the fixed seed :data:`TEST_SEED` from every ImageNet
  class outside the blacklist and the development list (:func:`test_classes`). It measures the shipped
  defaults only: it refuses ``--classes`` and ``--variant``, so it cannot be used to choose.

Each class runs the search as the user's command does (``perceive(name, budget=SECONDS, seed=seed)``: default
ensemble EfficientNet-Lite0 + Lite1, planner hybrid, 12 strokes, print transforms; models loaded inside the
timed call) for every seed, and the drawing is judged by the held-out EfficientNet-Lite2. Reported: per class
and seed the held-out rank and each ensemble model's rank, wall time; the held-out top-5 rate (classes x
seeds) with a bootstrap 95 % interval over classes, per-seed rates, the median held-out rank; beside them the
ensemble's own top-5 rate (both members) - the transfer gap - and chance (5/1000).

Run:  python -m bench perceive --split test --seeds 0 1 [--budget 180] [--threads 2] [--jsonl out.jsonl]
      python -m bench perceive --split dev --classes teapot,goldfish --seeds 0 --budget 90 --threads 1
           [--variant NAME]   (ablations, development classes only; see :data:`VARIANTS`)
Prints one JSON object (and, with --jsonl, one line per class and seed as it finishes).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

#: Every class the project chose a default on (the bench's former 10 fixed classes and the 6 development
#: classes of ``perception.robust``), and the two classes issue 13 reported.
DEV_CLASSES = ("goldfish", "flamingo", "zebra", "strawberry", "lemon", "umbrella", "volcano", "jellyfish", "daisy",
               "school bus", "pineapple", "lighthouse", "starfish", "ladybug", "banana", "tree frog", "teapot",
               "monarch butterfly")
#: Seed and size of the test draw.
TEST_SEED, TEST_SIZE = 13, 20
#: Resamples of the bootstrap interval.
BOOTSTRAP = 10000

#: Ablations for the development split: name -> keyword arguments of ``perceive``.
VARIANTS: dict[str, dict] = {
    "default": {},                                   # reduce="worst", views="print", objective="log_prob"
    "sum": {"reduce": "sum"},                        # the reward before issue 13: sum of log-probabilities
    "worst": {"reduce": "worst"},
    "diverse-views": {"reduce": "sum", "views": "diverse"},
    "logit": {"reduce": "sum", "objective": "logit"},
    "margin": {"reduce": "sum", "objective": "margin"},
    "worst-diverse": {"views": "diverse"},
    "worst-logit": {"objective": "logit"},
    "hubs-0.5": {"hub_weight": 0.5},                 # contrast against what random strokes look like
    "hubs-1": {"hub_weight": 1.0},
}


def dev_indices() -> list[int]:
    from latentstudio.zoo import class_index

    return sorted({class_index(n) for n in DEV_CLASSES})


def test_classes(n: int = TEST_SIZE, seed: int = TEST_SEED) -> list[str]:
    """``n`` ImageNet class names drawn by ``seed`` from every class outside the blacklist and the dev list."""
    from latentstudio.perception import load_blacklist
    from latentstudio.zoo import imagenet_labels

    labels = imagenet_labels()
    banned = set(load_blacklist()) | set(dev_indices())
    allowed = [i for i in range(len(labels)) if i not in banned]
    return [labels[i] for i in random.Random(seed).sample(allowed, n)]


def bootstrap_interval(hits_per_class: list[float], *, resamples: int = BOOTSTRAP, seed: int = 0) -> list[float]:
    """95 % percentile interval of the mean of ``hits_per_class`` (classes resampled with replacement)."""
    rng = random.Random(seed)
    n = len(hits_per_class)
    means = sorted(sum(rng.choice(hits_per_class) for _ in range(n)) / n for _ in range(resamples))
    return [round(means[int(0.025 * resamples)], 3), round(means[int(0.975 * resamples) - 1], 3)]


def summarise(rows: list[dict]) -> dict:
    """Rates over classes x seeds, the interval over classes, per-seed rates, median ranks."""
    classes = sorted({r["class"] for r in rows})
    seeds = sorted({r["seed"] for r in rows})

    def rate(key, subset):
        return round(sum(r[key] for r in subset) / len(subset), 3)

    held = [statistics.mean(r["holdout_top5"] for r in rows if r["class"] == c) for c in classes]
    ens = [statistics.mean(r["ensemble_top5"] for r in rows if r["class"] == c) for c in classes]
    return {
        "n_classes": len(classes), "seeds": seeds,
        "holdout_top5_rate": rate("holdout_top5", rows), "holdout_top5_interval95": bootstrap_interval(held),
        "holdout_top5_rate_per_seed": [rate("holdout_top5", [r for r in rows if r["seed"] == s]) for s in seeds],
        "holdout_top1_rate": round(sum(r["holdout_rank"] == 1 for r in rows) / len(rows), 3),
        "median_holdout_rank": statistics.median(r["holdout_rank"] for r in rows),
        "median_holdout_logprob": round(statistics.median(r["holdout_logprob"] for r in rows), 3),
        "ensemble_top5_rate": rate("ensemble_top5", rows), "ensemble_top5_interval95": bootstrap_interval(ens),
        "median_ensemble_rank": statistics.median(max(r["ensemble_ranks"]) for r in rows),
        "chance_top5_rate": 0.005,
        "wall_s": {"median": statistics.median(r["wall_s"] for r in rows), "max": max(r["wall_s"] for r in rows)},
    }


def run(classes, *, split: str, seeds, budget: float, threads: int, variant: str, jsonl: str | None) -> dict:
    import math

    import torch

    from latentstudio.perception import perceive

    torch.set_num_threads(threads)
    rows = []
    for seed in seeds:
        for name in classes:
            w0, c0 = time.perf_counter(), time.process_time()
            res = perceive(name, budget=budget, seed=seed, **VARIANTS[variant])
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            ens = [r for r in res.report if r["role"] == "ensemble"]
            held = [r for r in res.report if r["role"] == "holdout"][0]
            row = {"class": name, "seed": seed, "holdout_rank": held["rank"], "holdout_top5": held["rank"] <= 5,
                   "holdout_logprob": round(math.log(max(held["prob"], 1e-12)), 3),
                   "holdout_top1": held["top5"][0][0],
                   "ensemble_ranks": [r["rank"] for r in ens], "ensemble_top5": all(r["rank"] <= 5 for r in ens),
                   "reward": round(res.reward, 4), "schedule": res.schedule, "wall_s": round(wall, 1),
                   "cpu_s": round(cpu, 1)}
            rows.append(row)
            if jsonl:
                with open(jsonl, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(row) + "\n")
    return {"split": split, "variant": variant, "budget_s": budget, "threads": threads,
            "ensemble": ["efficientnet_lite0", "efficientnet_lite1"], "holdout": "efficientnet_lite2",
            "protocol": (f"test: {TEST_SIZE} classes drawn by seed {TEST_SEED} from ImageNet minus the blacklist and "
                         f"the {len(DEV_CLASSES)} development classes; never used for choices")
            if split == "test" else "dev: classes the defaults are chosen on",
            "summary": summarise(rows), "classes": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=("dev", "test"), default="test")
    ap.add_argument("--classes", default=None, help="comma-separated subset of the development classes (dev only)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--budget", type=float, default=180.0, help="seconds per class (the command's default: 180)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--variant", default="default", choices=sorted(VARIANTS), help="ablation (dev only)")
    ap.add_argument("--jsonl", default=None, help="append one JSON line per class and seed as it finishes")
    args = ap.parse_args()
    if args.split == "test":
        if args.classes is not None or args.variant != "default":
            ap.error("--split test measures the shipped defaults on its fixed draw: no --classes, no --variant")
        classes = test_classes()
    else:
        classes = [c.strip() for c in args.classes.split(",")] if args.classes else list(DEV_CLASSES)
        unknown = [c for c in classes if c not in DEV_CLASSES]
        if unknown:
            ap.error(f"--classes {unknown} are not development classes ({', '.join(DEV_CLASSES)})")
    print(json.dumps(run(classes, split=args.split, seeds=args.seeds, budget=args.budget, threads=args.threads,
                         variant=args.variant, jsonl=args.jsonl), indent=2))


if __name__ == "__main__":
    main()
