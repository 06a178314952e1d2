"""Demo gallery section of GAN latent walks: a samples grid, a constant-speed walk and a music-driven walk."""

from __future__ import annotations

import html
from pathlib import Path

from latentstudio.cli.demo import DemoSection

MODEL = "omniart-eyes"


def section(outdir: Path, *, seed: int) -> DemoSection:
    """Sample the shipped-by-wheel eye generator, walk it at constant perceived speed, and walk it to a beat."""
    from latentstudio.core.audio import save
    from latentstudio.dj.music import TrackSpec, render_track
    from latentstudio.gan.pipeline import sample_run, walk_run
    from latentstudio.provenance import write_sidecar

    d = outdir / "gan"
    d.mkdir(parents=True, exist_ok=True)
    grid = sample_run(MODEL, d / "samples.png", n=16, seed=seed, command="latentstudio demo gan")
    walk = walk_run(MODEL, d / "walk.mp4", n_keys=4, seconds=6.0, fps=12, loop=True, size=192, seed=seed,
                    command="latentstudio demo gan")
    track = render_track(TrackSpec(bpm=120.0, style="house", bars=4, seed=seed, intro_bars=0))
    music = save(d / "house120.wav", track.audio, track.sr)
    write_sidecar(music, command="latentstudio demo gan", seed=seed, params={"bpm": 120, "style": "house"})
    beat = walk_run(MODEL, d / "beat_walk.mp4", music=music, beats_per_key=2, fps=12, size=192, seed=seed,
                    command="latentstudio demo gan")

    def ratio(e: dict) -> str:
        v = e.get("max_over_median") if isinstance(e, dict) else None
        return f"{v:.2f}" if isinstance(v, (int, float)) else "?"

    body = (f"<p>The wheel <code>omniart-eye-generator</code> (a class-conditional DCGAN of eyes cut from paintings, "
            f"MIT) loaded as a plain state dict into the project's own module and played as an instrument: "
            f"<code>latentstudio gan sample / walk</code>. Any folder trains its own "
            f"(<code>latentstudio gan train ./pictures -o model/</code>).</p>"
            f"<figure><img src='gan/{grid.output.name}' style='max-width:60%'><figcaption>16 samples</figcaption>"
            f"</figure><figure><video controls loop src='gan/{walk.output.name}'></video><figcaption>a looping walk "
            f"through 4 keyframes at constant perceived speed (max/median frame-to-frame feature distance "
            f"{html.escape(ratio(walk.evenness.get('constant_speed', {})))}; plain slerp "
            f"{html.escape(ratio(walk.evenness.get('plain', {})))})</figcaption></figure>"
            f"<figure><video controls src='gan/{beat.output.name}'></video><figcaption>a walk locked to a 120 bpm "
            f"track ({beat.beats} beats tracked by the project's tracker, a keyframe every 2 beats, a push on "
            f"every beat)</figcaption></figure>")
    return DemoSection("GAN latent walks — a generator as an instrument", body)
