"""Demo gallery section of Latent Pulsations and Latent Landscapes: a text VAE trained here, its training filmed
pulsing to a drum & bass loop stretched from 172 to 160 bpm (as the original), and the map of its latent space."""

from __future__ import annotations

import html
from pathlib import Path

from latentstudio.cli.demo import DemoSection


def section(outdir: Path, *, seed: int) -> DemoSection:
    """Train a small text VAE on fortunes, film it with beat-locked pulses, map and warp its latent space."""
    from latentstudio.core.audio import save
    from latentstudio.core.image import save as save_image
    from latentstudio.dj.music import TrackSpec, render_track
    from latentstudio.latent.pipeline import landscape_run, pulsations_run, train_run
    from latentstudio.latent.pulsations import PulseStyle, iter_frames, plan_pulsations
    from latentstudio.latent.training import load_film
    from latentstudio.provenance import write_sidecar

    d = outdir / "latent"
    d.mkdir(parents=True, exist_ok=True)
    run = train_run("fortunes", d / "vae", max_items=4000, steps=500, hidden=128, snapshot_every=10, warmup=100,
                    seed=seed, command="latentstudio demo latent")
    track = render_track(TrackSpec(bpm=172.0, style="breaks", bars=10, minor=True, seed=seed, intro_bars=0),
                         sr=22050)
    music = save(d / "dnb172.wav", track.audio, track.sr)
    write_sidecar(music, command="latentstudio demo latent", seed=seed, params={"bpm": 172, "style": "breaks"})
    style = PulseStyle(width=1280, height=720, title="fortunes")
    pulse = pulsations_run(d / "vae", d / "pulse.mp4", music=music, fps=24, target_bpm=160.0, style=style,
                           seed=seed, command="latentstudio demo latent")
    film = load_film(d / "vae")
    plan = plan_pulsations(film, seconds=4, fps=24, style=PulseStyle(width=960, height=540, title="fortunes"))
    stills = []
    for name, frame in (("start", 0), ("end", plan.frames - 1)):
        img = next(iter_frames(film, plan, start=frame, stop=frame + 1))
        p = save_image(d / f"still_{name}.png", img)
        write_sidecar(p, command="latentstudio demo latent", seed=seed, params={"frame": frame})
        stills.append(p)
    land = landscape_run(d / "vae", d / "land.png", resolution=256, cells=96, seed=seed,
                         command="latentstudio demo latent")
    s, eq = run.silhouette, land.summary["cartogram"]
    body = (f"<p>A VAE with a 2-D latent trained here on {len(film.labels)} fortune-cookie texts (12 categories, "
            f"TF-IDF in, bag of words out) in {run.seconds:.0f} s; {len(run.snapshot_steps)} snapshots of every dot. "
            f"Silhouette by category: {s['first']:.3f} at the first snapshot &rarr; {s['final']:.3f} at the end "
            f"(held-out texts {s['final_test']:.3f}).</p>"
            f"<figure><video controls src='latent/pulse.mp4'></video><figcaption>Latent Pulsations: the training, "
            f"pulsing to a drum &amp; bass loop found at {pulse.bpm:.1f} bpm and stretched to "
            f"{pulse.bpm_played:.0f} bpm so a beat lasts {60 * 24 / pulse.bpm_played:.0f} frames; {pulse.beats} "
            f"pulses, peaks at most {pulse.max_peak_offset_frames:.2f} frames from a tracked beat; "
            f"{pulse.render_fps:.1f} frames/s with encoding</figcaption></figure>"
            + "".join(f"<figure><img src='latent/{p.name}'><figcaption>{html.escape(p.stem)}</figcaption></figure>"
                      for p in stills)
            + f"<figure><img src='latent/land.png'><figcaption>Latent Landscape: the decoder's magnification "
            f"factor (Fisher-Rao metric of its word distribution), log colour</figcaption></figure>"
            f"<figure><img src='latent/land.cartogram.png'><figcaption>its diffusion cartogram with the texts "
            f"carried along: coefficient of variation {eq['cv_before']:.3f} &rarr; {eq['cv_after']:.3f}"
            f"</figcaption></figure>"
            f"<figure><img src='latent/land.flow.png'><figcaption>the velocity field of the diffusion (the cover "
            f"art's idea)</figcaption></figure>")
    return DemoSection("Latent Pulsations / Latent Landscapes — a VAE's latent space as the artwork", body)
