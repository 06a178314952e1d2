"""At scale: files/s of `soundscape index` on the local process pool and on Ray for the same folder, the cost
curve as the folder grows (1k, 10k, 100k synthetic sounds), and the two catalogs compared row by row.

Each size gets a folder of short synthetic sounds (seeded tones, chirps and noise bursts, 0.25 s, 16 kHz) and
each backend indexes it into a fresh catalog with the shipped soundscape student: the same code path as
``latentstudio soundscape index DIR --workers W`` and ``... --cluster auto``. Ray runs on a local instance
(``num_cpus`` = W, 127.0.0.1, no dashboard) started before the timed runs, as a cluster would be; its start-up
is reported apart (``ray_start_s``), and ``ray_overhead`` is Ray's time over the pool's, minus one.

Run:  nice -n 10 .venv/bin/python -m bench scale [--sizes 1000,10000,100000] [--workers 2] [--repeats 1] [--keep DIR]
With ``--repeats R`` each backend indexes each folder R times, alternating, and the medians (and ranges) count.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

try:  # python -m bench NAME
    from bench._stats import spread
except ImportError:  # python bench/NAME.py
    from _stats import spread
from statistics import median

SR = 16000
SECONDS = 0.25


def make_folder(folder: Path, n: int, *, seed: int = 0) -> list[Path]:
    """``n`` synthetic sounds under ``folder`` (100 per sub-folder), made once and reused."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    t = np.arange(int(SECONDS * SR)) / SR
    files = []
    for i in range(n):
        p = folder / f"{i // 100:04d}" / f"s{i:06d}.wav"
        files.append(p)
        if p.exists():
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        kind = i % 3
        f0 = rng.uniform(80, 4000)
        if kind == 0:
            y = np.sin(2 * np.pi * f0 * t)
        elif kind == 1:
            y = np.sin(2 * np.pi * f0 * t * (1 + rng.uniform(-0.5, 1.0) * t))
        else:
            y = rng.normal(size=t.size) * np.exp(-t * rng.uniform(5, 40))
        y = 0.4 * y * np.minimum(1, np.minimum(t, SECONDS - t) * 50) / (np.abs(y).max() + 1e-9)
        sf.write(p, y.astype(np.float32), SR, subtype="PCM_16")
    return files


def rows(db: Path) -> list[tuple]:
    from latentstudio.catalog import Catalog

    with Catalog(db) as cat:
        return cat.contents()


def index_once(files: list[Path], db: Path, *, model, model_id: str, **where) -> dict:
    from latentstudio.catalog import Catalog
    from latentstudio.soundscape.index import index_sounds

    if db.exists():
        shutil.rmtree(db)
    t0 = time.perf_counter()
    with Catalog(db) as cat:
        report = index_sounds(files, catalog=cat, model=model, model_id=model_id, **where)
    seconds = time.perf_counter() - t0
    return {"seconds": round(seconds, 2), "files_per_s": round(len(files) / seconds, 1),
            "added": len(report.added), "failed": len(report.failed)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000", help="folder sizes (comma-separated)")
    ap.add_argument("--ray-sizes", default=None, help="sizes also run on Ray (default: all of --sizes)")
    ap.add_argument("--workers", type=int, default=2, help="local processes = Ray actors = Ray CPUs")
    ap.add_argument("--repeats", type=int, default=1, help="runs per backend and size (medians reported)")
    ap.add_argument("--keep", default=None, help="folder for the synthetic sounds (kept between runs)")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import ray
    import torch

    from latentstudio.soundscape.student import load_student

    torch.set_num_threads(1)
    sizes = [int(s) for s in args.sizes.split(",")]
    ray_sizes = sizes if args.ray_sizes is None else [int(s) for s in args.ray_sizes.split(",") if s]
    work = Path(args.keep or tempfile.mkdtemp(prefix="scale-"))
    model, info = load_student()
    t0 = time.perf_counter()
    ray.init(num_cpus=args.workers, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
             logging_level="WARNING")
    out = {"workers": args.workers, "repeats": args.repeats, "cpus": os.cpu_count(), "model": info["id"],
           "sound_seconds": SECONDS,
           "ray_version": ray.__version__, "ray_start_s": round(time.perf_counter() - t0, 2), "sizes": {}}
    try:
        for n in sizes:
            t0 = time.perf_counter()
            files = make_folder(work / "sounds", n)
            row = {"make_folder_s": round(time.perf_counter() - t0, 1)}
            backends = {"local": {"cluster": "local"}}
            if n in ray_sizes:
                backends["ray"] = {"cluster": "auto"}
            runs: dict[str, list[dict]] = {b: [] for b in backends}
            for _ in range(args.repeats):                       # alternate, so slow phases hit both alike
                for b, where in backends.items():
                    runs[b].append(index_once(files, work / f"cat-{b}", model=model, model_id=info["id"],
                                              workers=args.workers, **where))
            for b, rs in runs.items():
                secs = [r["seconds"] for r in rs]
                row[b] = {**rs[0], "seconds": spread(secs, digits=2), "files_per_s": round(n / median(secs), 1)}
            if "ray" in runs:
                local_s, ray_s = (median([r["seconds"] for r in runs[b]]) for b in ("local", "ray"))
                row["ray_overhead"] = round(ray_s / local_s - 1, 3)
                row["ray_overhead_with_start"] = round((ray_s + out["ray_start_s"]) / local_s - 1, 3)
                row["identical_rows"] = rows(work / "cat-local") == rows(work / "cat-ray")
            out["sizes"][str(n)] = row
            print(json.dumps({str(n): row}), flush=True)
    finally:
        ray.shutdown()
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
