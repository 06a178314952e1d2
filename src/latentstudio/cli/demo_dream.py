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
    import torch

    from latentstudio import assets
    from latentstudio.core.image import load, save, to_tensor
    from latentstudio.core.video import write_video
    from latentstudio.dream import dream, dream_objective, resolve_model, strongest_channels, zoom_frames
    from latentstudio.provenance import write_sidecar

    torch.manual_seed(seed)
    folder = outdir / "dream"
    folder.mkdir(parents=True, exist_ok=True)
    fm = resolve_model(MODEL)
    figures = []
    cat = load(assets.sample_image("chelsea"), size=SIDE)
    save(folder / "chelsea.jpg", cat)
    figures.append(_figure("dream/chelsea.jpg", "input: chelsea"))
    runs = [("chelsea_blocks10", cat, dream_objective("blocks.10"), "layer blocks.10 (the default)"),
            ("chelsea_blocks5", cat, dream_objective("blocks.5"), "layer blocks.5 (finer textures)")]
    coffee = load(assets.sample_image("coffee"), size=SIDE)
    chans = strongest_channels(fm, to_tensor(coffee), layer="blocks.12", n=6)
    runs.append(("coffee_strongest6", coffee, dream_objective("blocks.12", channels=chans),
                 f"coffee, the 6 strongest channels of blocks.12 ({', '.join(map(str, chans))})"))
    for name, img, obj, caption in runs:
        res = dream(img, model=fm, objective=obj, octaves=3, steps=6, seed=seed)
        path = folder / f"{name}.jpg"
        save(path, res.image)
        write_sidecar(path, command="latentstudio demo --only dream", seed=seed, models=[MODEL],
                      params={"objective": obj.name, "octaves": 3, "steps": 6, "step_size": 0.01},
                      result={"initial_score": res.initial_score, "final_score": res.final_score, "gain": res.gain})
        figures.append(_figure(f"dream/{path.name}", f"{html.escape(caption)}; objective x{res.gain:.1f}"))
    small = load(assets.sample_image("chelsea"), size=128)
    frames = zoom_frames(small, frames=10, zoom=1.06, model=fm, objective=dream_objective("blocks.8"),
                         octaves=2, steps=3, seed=seed)
    gif = folder / "zoom.gif"
    write_video(gif, frames, fps=6)
    write_sidecar(gif, command="latentstudio demo --only dream", seed=seed, models=[MODEL],
                  params={"zoom_frames": 10, "zoom": 1.06, "layer": "blocks.8", "octaves": 2, "steps": 3})
    figures.append(_figure("dream/zoom.gif", "zoom feedback, 10 frames (--zoom-frames 10 -o zoom.gif)"))
    body = (f"<p>DeepDream on {MODEL}: octaves with detail carried upward, random roll, normalised gradient "
            f"steps, tiled gradients. <code>latentstudio dream photo.jpg -o dream.png --layer blocks.10</code>. "
            f"The caption gives how much the objective rose from the input to the dream.</p>{''.join(figures)}")
    return DemoSection("DeepDream — amplifying what the network sees", body)
