"""Demo gallery section of Learning to See: inputs beside outputs for two worlds, and a short re-seen video."""

from __future__ import annotations

import html
from pathlib import Path

from latentstudio.cli.demo import DemoSection

INPUTS = ("astronaut", "coffee", "chelsea", "rocket", "motorcycle", "camera")


def section(outdir: Path, *, seed: int) -> DemoSection:
    """Re-see sample photographs as flowers and as water with the shipped models; a pan re-seen with smoothing."""
    import numpy as np

    from latentstudio.assets import sample_image
    from latentstudio.core import image as imageio
    from latentstudio.core.video import write_video
    from latentstudio.provenance import write_sidecar
    from latentstudio.seeing.see import Seer
    from latentstudio.seeing.temporal import flicker
    from latentstudio.seeing.training import load_seer_model, shipped_models

    d = outdir / "seeing"
    worlds = [w for w in ("flowers", "water") if w in shipped_models()]
    if not worlds:
        raise RuntimeError("no shipped Learning-to-See model (src/latentstudio/data/models/seeing_*)")
    models = {w: load_seer_model(w) for w in worlds}
    inputs = [(n, imageio.center_crop(imageio.load(sample_image(n), size=256), 256)) for n in INPUTS]
    rows = [np.concatenate([a for _, a in inputs], axis=1)]
    for w in worlds:
        seer = Seer(models[w], size=256)
        rows.append(np.concatenate([seer(a) for _, a in inputs], axis=1))
    grid = imageio.save(d / "worlds.png", np.concatenate(rows, axis=0))
    write_sidecar(grid, command="latentstudio demo seeing", params={"inputs": list(INPUTS), "size": 256},
                  models=[str(models[w].path) for w in worlds])
    # a slow pan over a photograph with camera noise, re-seen with flow-guided smoothing, worlds swapped midway
    big = imageio.load(sample_image("coffee"), size=288)
    rng = np.random.default_rng(seed)
    n = 48
    clip = [np.clip(big[16:272, x:x + 256] + rng.normal(0, 0.02, (256, 256, 3)).astype(np.float32), 0, 1)
            for x in np.linspace(0, big.shape[1] - 256, n).astype(int)]
    seer = Seer([models[w] for w in worlds], size=256, smooth=0.6, flow=True)
    plain = Seer(models[worlds[0]], size=256)
    frames, raw = [], []
    for i, f in enumerate(clip):
        seer.switch(0 if i < n // 2 or len(worlds) == 1 else 1)
        out = seer(f)
        frames.append(np.concatenate([f, out], axis=1))
        if i < n // 2:
            raw.append(plain(f))
    vid = write_video(d / "pan.mp4", frames, fps=12)
    write_sidecar(vid, command="latentstudio demo seeing", params={"smooth": 0.6, "flow": True, "frames": n},
                  models=[str(models[w].path) for w in worlds])
    smoothed = flicker([f[:, 256:] for f in frames[:n // 2]])
    body = (f"<p>Networks trained only on photographs of one world (<code>latentstudio seeing train "
            f"{' / '.join(worlds)}</code>: crops of a few desktop-background photographs, degraded on the fly) re-see "
            f"scikit-image's sample photographs. Top row: the inputs; then one row per world: "
            f"{html.escape(', '.join(worlds))}.</p>"
            f"<figure><img src='seeing/{grid.name}' style='max-width:100%'><figcaption>inputs, then "
            f"{html.escape(' and '.join(worlds))}</figcaption></figure>"
            f"<p>A slow pan with camera noise, re-seen with flow-guided temporal smoothing (0.6); the world switches "
            f"halfway. Frame-to-frame change of the output: {smoothed:.4f} smoothed vs {flicker(raw):.4f} "
            f"unsmoothed.</p><figure><video controls loop src='seeing/{vid.name}' style='max-width:100%'></video>"
            f"<figcaption>input | re-seen</figcaption></figure>")
    return DemoSection("Learning to See — one world re-sees every input", body)
