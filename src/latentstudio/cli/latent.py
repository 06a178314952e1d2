"""``latentstudio latent``: Latent Pulsations and Latent Landscapes — a VAE's latent space as the artwork."""

from __future__ import annotations

from pathlib import Path

import typer

from latentstudio.cli._common import (existing, fit_progress, new_group, out_path, print_json, progress, seed_option,
                                      set_threads)

group = new_group(help="Latent Pulsations and Latent Landscapes: a VAE's latent space as the artwork.\n\n"
                       "Example: latentstudio latent train wordnet -o models/wordnet-vae && "
                       "latentstudio latent pulsations models/wordnet-vae --music track.wav -o pulse.mp4")


@group.command("train")
def train(source: str = typer.Argument(..., help="wordnet, fortunes, fashion-mnist, a labelled .csv (the CFPB "
                                                 "complaints export is recognised) or an image folder with one "
                                                 "sub-folder per label."),
          output: Path = typer.Option(..., "-o", "--output", help="Model folder to write."),
          steps: int = typer.Option(3000, "--steps", help="Optimiser steps."),
          latent_dim: int = typer.Option(2, "--latent-dim", help="Latent width (2 for the pictures)."),
          hidden: int = typer.Option(256, "--hidden", help="Hidden layer width."),
          batch_size: int = typer.Option(256, "--batch-size", help="Items per step."),
          lr: float = typer.Option(2e-3, "--lr", help="Learning rate."),
          beta: float = typer.Option(1.0, "--beta", help="KL weight."),
          label_weight: float = typer.Option(10.0, "--label-weight",
                                             help="Weight of the label head on the latent (0: unsupervised)."),
          snapshot_every: int = typer.Option(25, "--snapshot-every", help="Steps between snapshots of all dots."),
          max_items: int = typer.Option(None, "--max-items", help="Random subset of this many items."),
          max_classes: int = typer.Option(12, "--max-classes", help="Keep the largest classes (colours)."),
          text_column: str = typer.Option(None, "--text-column", help="CSV column of the texts."),
          label_column: str = typer.Option(None, "--label-column", help="CSV column of the labels."),
          checkpoint_dir: Path = typer.Option(None, "--checkpoint-dir", help="Periodic checkpoints; a rerun resumes."),
          threads: int = typer.Option(2, "--threads", help="Torch CPU threads."),
          seed: int = seed_option("--seed", "Random seed."),
          as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Train a VAE (text: TF-IDF in, bag of words out; images: conv) and film its latent space.

    Example: latentstudio latent train wordnet -o models/wordnet-vae --steps 3000 --seed 0
    """
    from latentstudio.latent.pipeline import train_run

    set_threads(threads)
    with progress("training VAE", total=steps, quiet=as_json) as advance:
        run = train_run(source, output, max_items=max_items, max_classes=max_classes, text_column=text_column,
                        label_column=label_column, seed=seed, steps=steps, latent_dim=latent_dim, hidden=hidden,
                        batch_size=batch_size, lr=lr, beta=beta, label_weight=label_weight,
                        snapshot_every=snapshot_every, checkpoint_dir=checkpoint_dir,
                        progress=fit_progress(advance))
    if as_json:
        print_json({**run.summary(), "output": str(run.output)})
        return
    s = run.silhouette
    typer.echo(f"saved {run.output} ({len(run.snapshot_steps)} snapshots)")
    typer.echo(f"silhouette by label: first snapshot {s['first']:.3f} -> final {s['final']:.3f} "
               f"(held-out {s['final_test']:.3f}); validation -ELBO {run.validation_nelbo:.2f}")


@group.command("pulsations")
def pulsations(model: str = typer.Argument(..., help="A folder written by `latentstudio latent train`, or data to "
                                                     "train on first (wordnet, fortunes, a .csv ...)."),
               output: Path = typer.Option(..., "-o", "--output", help="Video to write (.mp4 or .gif)."),
               music: Path = typer.Option(None, "--music", help="Track whose beats drive the pulses (muxed in)."),
               seconds: float = typer.Option(None, "--seconds", help="Length (default: the track's, or 20 s)."),
               fps: float = typer.Option(24.0, "--fps", help="Frames per second."),
               width: int = typer.Option(1920, "--width", help="Frame width."),
               height: int = typer.Option(1080, "--height", help="Frame height."),
               bpm: float = typer.Option(120.0, "--bpm", help="Metronome tempo when no --music is given."),
               fit_fps: bool = typer.Option(False, "--fit-fps",
                                            help="Time-stretch the track so a beat lasts whole frames."),
               target_bpm: float = typer.Option(None, "--target-bpm", help="Stretch the track to this tempo."),
               pulse: float = typer.Option(0.025, "--pulse", help="Pulse size as a fraction of the view."),
               radius: float = typer.Option(None, "--radius", help="Dot radius in pixels (default: from the "
                                                                   "number of dots and the frame)."),
               title: str = typer.Option(None, "--title", help="Legend title."),
               no_legend: bool = typer.Option(False, "--no-legend", help="Leave out the legend."),
               backend: str = typer.Option("auto", "--backend", help="Beat tracker: auto, net, flux, madmom."),
               threads: int = typer.Option(2, "--threads", help="Torch CPU threads."),
               train_steps: int = typer.Option(3000, "--train-steps", help="Steps when MODEL names data."),
               seed: int = seed_option("--seed", "Seed of the pulses' noise (and of the training)."),
               as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Film a trained VAE's latent space through its training, pulsing to the beats of a track.

    Example: latentstudio latent pulsations models/wordnet-vae --music dnb.wav --fit-fps -o pulse.mp4

    Example (train first): latentstudio latent pulsations fortunes --music dnb.wav --target-bpm 160 -o pulse.mp4
    """
    from latentstudio.latent.pipeline import pulsations_run
    from latentstudio.latent.pulsations import PulseStyle

    set_threads(threads)
    if music is not None:
        existing(music, what="music")
    out_path(output, suffixes=(".mp4", ".gif"))
    style = PulseStyle(width=width, height=height, pulse=pulse, radius=radius, legend=not no_legend, title=title)
    with progress("rendering frames", quiet=as_json) as advance:
        run = pulsations_run(model, output, music=music, seconds=seconds, fps=fps, bpm=bpm, fit_fps=fit_fps,
                             target_bpm=target_bpm, backend=backend, style=style, seed=seed,
                             progress=lambda i, n: advance(1, total=n), train_steps=train_steps,
                             train_progress=fit_progress(advance))
    if as_json:
        print_json(run.summary())
        return
    typer.echo(f"saved {run.output} ({run.frames} frames, {run.points} dots, {run.render_fps:.1f} frames/s)")
    if run.bpm:
        typer.echo(f"track {run.bpm:.1f} bpm, played at {run.bpm_played:.1f} bpm; {run.beats} pulses, "
                   f"peaks at most {run.max_peak_offset_frames:.2f} frames from a beat")


def _bounds(text: str | None):
    from latentstudio.errors import ParameterError

    if not text:
        return None
    try:
        b = tuple(float(v) for v in text.split(","))
    except ValueError:
        b = ()
    if len(b) != 4:
        raise ParameterError(f"--bounds {text!r} must be X0,X1,Y0,Y1, e.g. -3,3,-3,3")
    return b


@group.command("landscape")
def landscape(model: str = typer.Argument(..., help="A folder from `latentstudio latent train`, 'beatbox-rhythm', "
                                                    "or any project checkpoint with a latent."),
              output: Path = typer.Option(..., "-o", "--output", help="Map to write (.png); the cartogram, flow "
                                                                      "field and raw values go beside it."),
              measure: str = typer.Option("magnification", "--measure",
                                          help="magnification (exact Jacobians), fd (finite differences, any "
                                               "decoder) or distance (output distance of small steps)."),
              resolution: int = typer.Option(512, "--resolution", help="Grid side in pixels."),
              bounds: str = typer.Option(None, "--bounds", help="X0,X1,Y0,Y1 of the latent plane (default: the "
                                                                "data's extent, or +-3)."),
              colormap: str = typer.Option("magma", "--colormap", help="magma, viridis, inferno, cividis ..."),
              cells: int = typer.Option(128, "--cells", help="Cartogram grid side."),
              no_cartogram: bool = typer.Option(False, "--no-cartogram", help="Skip the cartogram."),
              no_flow: bool = typer.Option(False, "--no-flow", help="Skip the velocity-field picture."),
              threads: int = typer.Option(2, "--threads", help="Torch CPU threads."),
              seed: int = seed_option("--seed", "Seed of the flow picture's noise texture."),
              as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON.")) -> None:
    """Map how the decoder stretches its latent space (magnification factor), warp the plane by it (diffusion
    cartogram) and draw the velocity field of that diffusion.

    Example: latentstudio latent landscape models/wordnet-vae -o land.png --resolution 512
    """
    from latentstudio.latent.pipeline import landscape_run

    set_threads(threads)
    out_path(output, suffixes=(".png",))
    b = _bounds(bounds)
    with progress(f"mapping {resolution}x{resolution} latent points ({measure})", quiet=as_json) as advance:
        advance(0)                                           # an indeterminate bar while the map is computed
        run = landscape_run(model, output, measure=measure, resolution=resolution, bounds=b,
                            cartogram=not no_cartogram, flow=not no_flow, colormap=colormap, cells=cells, seed=seed)
    if as_json:
        print_json({"output": str(run.output), "cartogram": str(run.cartogram) if run.cartogram else None,
                    "flow": str(run.flow) if run.flow else None, "values": str(run.values), **run.summary})
        return
    s = run.summary
    typer.echo(f"saved {run.output} ({s['measure']} {s['min']:.3g}..{s['max']:.3g}, median {s['median']:.3g}; "
               f"{s['seconds']:.1f} s)")
    if run.cartogram:
        eq = s["cartogram"]
        typer.echo(f"saved {run.cartogram} (coefficient of variation {eq['cv_before']:.3f} -> {eq['cv_after']:.3f})")
    if run.flow:
        typer.echo(f"saved {run.flow}")


def register(app: typer.Typer) -> None:
    """Add the ``latent`` group to the root app."""
    app.add_typer(group, name="latent")
