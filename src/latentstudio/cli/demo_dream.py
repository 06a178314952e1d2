"""Demo section "dream": DeepDream on the packaged sample photographs, a channel dream and a zoom video."""

from __future__ import annotations

import html
from pathlib import Path

from latentstudio.cli.demo import DemoSection

MODEL = "efficientnet_lite0"
SIDE = 240          # shorter side of the demo pictures, px


def _figure(src: str, caption: str) -> str:
    return f"<figure><img src='{src}' alt='{html.escape(caption)}'><figcaption>{caption}</figcaption></figure>"


def section(outdir: Path, *, seed: int) -> DemoSection:
    """Three dreams and a short zoom-feedback GIF, each with its provenance sidecar."""
    from latentstudio import assets
    from latentstudio.core.image import load, save
    from latentstudio.dream import resolve_model
    from latentstudio.dream.pipeline import dream_from_options

    folder = outdir / "dream"
    folder.mkdir(parents=True, exist_ok=True)
    fm = resolve_model(MODEL)
    figures = []
    cat = load(assets.sample_image("chelsea"), size=SIDE)
    save(folder / "chelsea.jpg", cat)
    figures.append(_figure("dream/chelsea.jpg", "input: chelsea"))
    coffee = load(assets.sample_image("coffee"), size=SIDE)
    runs = [("chelsea_blocks10", cat, {"layers": "blocks.10"}, "layer blocks.10 (the default)"),
            ("chelsea_blocks5", cat, {"layers": "blocks.5"}, "layer blocks.5 (finer textures)"),
            ("coffee_strongest6", coffee, {"layers": "blocks.12", "strongest": 6},
             "coffee, the 6 strongest channels of blocks.12")]
    for name, img, options, caption in runs:
        run = dream_from_options(img, model=fm, octaves=3, steps=6, seed=seed, **options)
        path = folder / f"{name}.jpg"
        run.save(path, command="latentstudio demo --only dream",
                 params={"objective": run.objective, "octaves": 3, "steps": 6, "step_size": 0.01})
        figures.append(_figure(f"dream/{path.name}", f"{html.escape(caption)} (<code>{html.escape(run.objective)}"
                                                     f"</code>); objective x{run.gain:.1f}"))
    small = load(assets.sample_image("chelsea"), size=128)
    zoom = dream_from_options(small, model=fm, layers="blocks.8", octaves=2, steps=3, zoom_frames=10, zoom=1.06,
                              seed=seed)
    zoom.save(folder / "zoom.gif", fps=6, command="latentstudio demo --only dream",
              params={"zoom_frames": 10, "zoom": 1.06, "layer": "blocks.8", "octaves": 2, "steps": 3})
    figures.append(_figure("dream/zoom.gif", "zoom feedback, 10 frames (--zoom-frames 10 -o zoom.gif)"))
    body = (f"<p>DeepDream on {MODEL}: octaves with detail carried upward, random roll, normalised gradient "
            f"steps, tiled gradients. <code>latentstudio dream photo.jpg -o dream.png --layer blocks.10</code>. "
            f"The caption gives how much the objective rose from the input to the dream.</p>{''.join(figures)}")
    return DemoSection("DeepDream — amplifying what the network sees", body)
