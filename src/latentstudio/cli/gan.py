"""``latentstudio gan``: train a small GAN on your pictures, or play pretrained ones; walks, projection, glitches."""

from __future__ import annotations

from pathlib import Path

import typer

from latentstudio.cli._common import (existing, fit_progress, new_group, out_path, print_json, progress, seed_option,
                                      set_threads)

group = new_group(help="GAN latent walks: train a GAN on a folder of pictures (or use a pretrained one: "
                       "omniart-eyes, digiface), sample it, walk it at constant perceived speed or to the beats "
                       "of a track, project pictures into it, glitch its layers.\n\n"
                       "Example: latentstudio gan train tuxpaint -o models/gan-tux --image-size 32 && "
                       "latentstudio gan walk models/gan-tux --seeds 1,2,3,4 --loop -o walk.mp4")

MODEL_HELP = ("A folder from `latentstudio gan train` (or its checkpoints/step-*), a saved glitched generator, or "
              "a pretrained generator: omniart-eyes (pip install omniart-eye-generator), digiface (pip install "
              "--no-deps gan-face-generate; weights for non-commercial research only).")


def _ints(text: str | None, name: str) -> list[int] | None:
    from latentstudio.errors import ParameterError

    if not text:
        return None
    try:
        values = [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise ParameterError(f"{name} {text!r} must be comma-separated integers, e.g. 1,2,3") from None
    if not values or any(v < 0 for v in values):
        raise ParameterError(f"{name} {text!r} must be non-negative integers")
    return values


@group.command("train")
def train(source: str = typer.Argument(..., help="A folder of pictures (searched recursively), tuxpaint (Tux Paint's "
                                                 "stamps on white) or fashion-mnist."),
          output: Path = typer.Option(..., "-o", "--output", help="Model folder to write (samples/ and "
                                                                  "checkpoints/ go inside; a rerun resumes)."),
          steps: int = typer.Option(5000, "--steps", help="Optimiser steps (G and D together)."),
          image_size: int = typer.Option(64, "--image-size", help="Side in pixels, a power of two (32-64 on a CPU, "
                                                                  "128-256 on a GPU)."),
          batch_size: int = typer.Option(32, "--batch-size", help="Pictures per step."),
          lr: float = typer.Option(2e-4, "--lr", help="Learning rate (AdamW, betas (0, 0.99))."),
          width: int = typer.Option(16, "--width", help="Channels at full resolution (doubling per halving)."),
          max_channels: int = typer.Option(256, "--max-channels", help="Channel cap of both networks."),
          latent_dim: int = typer.Option(128, "--latent-dim", help="Latent width."),
          diffaugment: str = typer.Option("color,translation,cutout", "--diffaugment",
                                          help="DiffAugment policy for small sets ('' for none)."),
          r1_gamma: float = typer.Option(0.0, "--r1-gamma", help="R1 penalty weight (0: spectral norm alone)."),
          ema_beta: float = typer.Option(0.999, "--ema-beta", help="Decay of the generator's moving average."),
          fit: str = typer.Option(None, "--fit", help="pad (whole picture on white; default for tuxpaint) or crop "
                                                      "(central square; default for folders)."),
          max_items: int = typer.Option(None, "--max-items", help="Random subset of this many pictures."),
          sample_every: int = typer.Option(250, "--sample-every", help="Steps between sample grids."),
          checkpoint_every: int = typer.Option(250, "--checkpoint-every", help="Steps between checkpoints."),
          device: str = typer.Option("cpu", "--device", help="cpu, cuda or auto."),
          no_eval: bool = typer.Option(False, "--no-eval", help="Skip FID/KID on the validation split."),
          threads: int = typer.Option(2, "--threads", help="Torch CPU threads."),
          seed: int = seed_option("--seed", "Random seed."),
          as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Train a small GAN (residual generator, spectral-norm discriminator, DiffAugment, EMA) on pictures.

    Example: latentstudio gan train tuxpaint -o models/gan-tux --image-size 32 --steps 3000 --seed 0
    """
    from latentstudio.gan.pipeline import train_run

    set_threads(threads)
    with progress("training GAN", total=steps, quiet=as_json) as advance:
        run = train_run(source, output, image_size=image_size, fit=fit, max_items=max_items, seed=seed, steps=steps,
                        batch_size=batch_size, lr=lr, width=width, max_channels=max_channels, latent_dim=latent_dim,
                        diffaugment=diffaugment, r1_gamma=r1_gamma, ema_beta=ema_beta, sample_every=sample_every,
                        checkpoint_every=checkpoint_every, device=device, evaluate=not no_eval,
                        progress=fit_progress(advance))
    if run.rank != 0:           # torchrun: rank 0 reports
        return
    if as_json:
        print_json(run.summary())
        return
    s = run.summary()
    typer.echo(f"saved {run.output} ({run.steps} steps, {s['seconds']:.0f} s; samples {run.samples})")
    ev = run.evaluation.get("validation", {})
    if "kid" in ev:
        typer.echo(f"{ev['metric']} vs validation ({ev['n']} pictures): KID {ev['kid']:.4f} (real floor "
                   f"{ev['kid_floor']:.4f}), FID {ev['fid']:.1f} (real floor {ev['fid_floor']:.1f})")


@group.command("sample")
def sample(model: str = typer.Argument(..., help=MODEL_HELP),
           output: Path = typer.Option(..., "-o", "--output", help="Grid to write (.png or .jpg)."),
           n: int = typer.Option(16, "-n", "--n", help="Pictures (seeds SEED, SEED+1, ...)."),
           seeds: str = typer.Option(None, "--seeds", help="Comma-separated latent seeds instead of -n."),
           truncation: float = typer.Option(1.0, "--truncation", help="Pull latents towards the mean (1: none)."),
           condition: str = typer.Option(None, "--condition", help="Condition of a conditional generator (eyes: "
                                                                  "amber, blue, brown, gray, grayscale, green, hazel, "
                                                                  "red; default random)."),
           columns: int = typer.Option(None, "--columns", help="Pictures per row."),
           size: int = typer.Option(None, "--size", help="Side of each picture in the grid (upscaled)."),
           seed: int = seed_option("--seed", "First latent seed."),
           as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Sample a grid of pictures from a generator.

    Example: latentstudio gan sample omniart-eyes -n 16 --condition blue --truncation 0.8 -o eyes.png
    """
    from latentstudio.gan.pipeline import sample_run

    out_path(output, suffixes=(".png", ".jpg", ".jpeg"))
    run = sample_run(model, output, n=n, seeds=_ints(seeds, "--seeds"), seed=seed, truncation=truncation,
                     condition=condition, columns=columns, size=size)
    if as_json:
        print_json(run.summary())
        return
    typer.echo(f"saved {run.output} ({len(run.seeds)} pictures of {run.image_size} px)")


@group.command("walk")
def walk(model: str = typer.Argument(..., help=MODEL_HELP),
         output: Path = typer.Option(..., "-o", "--output", help="Video to write (.mp4 or .gif)."),
         seeds: str = typer.Option(None, "--seeds", help="Comma-separated keyframe seeds (default: --keys seeded "
                                                         "ones)."),
         keys_file: Path = typer.Option(None, "--keys-file", help="Keyframe latents (.npy from `gan project`)."),
         n_keys: int = typer.Option(4, "--keys", help="Number of seeded keyframes when no --seeds are given."),
         seconds: float = typer.Option(None, "--seconds", help="Length (default: the track's, or 2 s per key)."),
         fps: float = typer.Option(24.0, "--fps", help="Frames per second."),
         interpolation: str = typer.Option("slerp", "--interpolation", help="slerp or lerp."),
         easing: str = typer.Option("linear", "--easing", help="linear, sine, smooth or smoother (a slow-down "
                                                               "at every keyframe)."),
         loop: bool = typer.Option(False, "--loop", help="Return to the first keyframe (a seamless loop)."),
         truncation: float = typer.Option(1.0, "--truncation", help="Pull keyframes towards the mean (1: none)."),
         condition: str = typer.Option(None, "--condition", help="Condition of a conditional generator."),
         plain: bool = typer.Option(False, "--plain", help="No constant-speed re-parametrisation."),
         pace: str = typer.Option("global", "--pace", help="global (even speed overall) or segment (keyframes at "
                                                           "equal times)."),
         music: Path = typer.Option(None, "--music", help="Track: keyframes on its beats, pushes on every beat, "
                                                          "audio muxed in."),
         beats_per_key: int = typer.Option(4, "--beats-per-key", help="Beats between keyframes with --music."),
         accent: float = typer.Option(0.3, "--accent", help="Strength of the beat pushes (0: none)."),
         backend: str = typer.Option("auto", "--backend", help="Beat tracker: auto, net, flux, madmom."),
         size: int = typer.Option(256, "--size", help="Video frame side (the pictures are upscaled)."),
         feature_size: int = typer.Option(128, "--feature-size", help="Side at which the feature network measures "
                                                                      "the speed."),
         threads: int = typer.Option(2, "--threads", help="Torch CPU threads."),
         seed: int = seed_option("--seed", "Seed of the keyframes (without --seeds) and the pushes."),
         as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Walk through keyframes at constant perceived speed (feature arc length), optionally to the beats of a track.

    Example: latentstudio gan walk omniart-eyes --music track.wav --beats-per-key 2 -o eyes.mp4

    Example (a loop): latentstudio gan walk models/gan-tux --seeds 1,2,3,4 --loop --seconds 8 -o walk.mp4
    """
    from latentstudio.gan.pipeline import walk_run

    set_threads(threads)
    if music is not None:
        existing(music, what="music")
    if keys_file is not None:
        existing(keys_file, what="--keys-file")
    out_path(output, suffixes=(".mp4", ".gif"))
    with progress("measuring the path", quiet=as_json) as advance:
        state = {"measured": 0, "rendered": 0}

        def report(done: int, total: int) -> None:
            if not total:                                   # measuring: ``done`` pictures so far
                advance(done - state["measured"], description="measuring the path (pictures)")
                state["measured"] = done
            else:                                           # rendering: ``done`` of ``total`` frames
                advance(done - state["rendered"], total=state["measured"] + total, description="rendering frames")
                state["rendered"] = done

        run = walk_run(model, output, seeds=_ints(seeds, "--seeds"), keys=keys_file, n_keys=n_keys, seconds=seconds,
                       fps=fps, interpolation=interpolation, easing=easing, loop=loop, truncation=truncation,
                       condition=condition, constant_speed=not plain, pace=pace, music=music,
                       beats_per_key=beats_per_key, accent=accent, backend=backend, size=size,
                       feature_size=feature_size, seed=seed, progress=report)
    if as_json:
        print_json(run.summary())
        return
    typer.echo(f"saved {run.output} ({run.frames} frames, {run.keyframes} keyframes)")
    ev = run.evenness
    line = f"frame-to-frame feature steps, max/median: plain {ev['plain']['max_over_median']:.2f}"
    if "constant_speed" in ev:
        line += f", constant speed {ev['constant_speed']['max_over_median']:.2f}"
    typer.echo(line)
    if run.bpm:
        typer.echo(f"track {run.bpm:.1f} bpm, {run.beats} beats; pushes peak at most "
                   f"{run.max_peak_offset_frames} frames from a beat")


@group.command("project")
def project(model: str = typer.Argument(..., help=MODEL_HELP),
            pictures: list[Path] = typer.Argument(..., help="Pictures to reconstruct."),
            output: Path = typer.Option(..., "-o", "--output", help="Grid to write (.png: pictures above, "
                                                                    "reconstructions below); the latents go to "
                                                                    "OUTPUT.latents.npy."),
            steps: int = typer.Option(200, "--steps", min=1, max=100000, help="Optimisation steps per picture."),
            restarts: int = typer.Option(4, "--restarts", min=1, max=256,
                                         help="Latents optimised together (the mean + random)."),
            lr: float = typer.Option(0.05, "--lr", help="Adam learning rate."),
            feature_weight: float = typer.Option(1.0, "--feature-weight", help="Weight of the feature loss."),
            pixel_weight: float = typer.Option(1.0, "--pixel-weight", help="Weight of the pixel loss."),
            fit: str = typer.Option("crop", "--fit", help="crop (central square) or pad (whole picture on white)."),
            threads: int = typer.Option(2, "--threads", help="Torch CPU threads."),
            seed: int = seed_option("--seed", "Seed of the random restarts."),
            as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Find latents whose pictures reconstruct yours (pixel + feature loss, several restarts).

    Example: latentstudio gan project models/gan-tux duck.png cat.png -o projected.png
    """
    from latentstudio.gan.pipeline import project_run

    set_threads(threads)
    for p in pictures:
        existing(p, what="picture")
    out_path(output, suffixes=(".png", ".jpg", ".jpeg"))
    with progress("projecting", total=steps * len(pictures), quiet=as_json) as advance:
        state = {"done": 0}

        def report(done: int, total: int) -> None:
            advance(done - state["done"], total=total)
            state["done"] = done

        run = project_run(model, [str(p) for p in pictures], output, steps=steps, restarts=restarts, lr=lr,
                          feature_weight=feature_weight, pixel_weight=pixel_weight, fit=fit, seed=seed,
                          progress=report)
    if as_json:
        print_json(run.summary())
        return
    f = run.figures
    typer.echo(f"saved {run.output} and {run.latents}")
    typer.echo(f"feature distance median {f['feature_distance_median']:.2f} (mean latent "
               f"{f['mean_latent_feature_distance_median']:.2f}); closer than the mean latent for "
               f"{f['better_than_mean_latent']} of {f['pictures']}")


@group.command("glitch")
def glitch(model: str = typer.Argument(..., help=MODEL_HELP),
           output: Path = typer.Option(None, "-o", "--output", help="Grid to write (.png): the generator's pictures "
                                                                    "above, the glitched ones below."),
           layers: str = typer.Option(None, "--layers", help="Comma-separated layer names or prefixes (default all; "
                                                             "see --list-layers)."),
           scale: float = typer.Option(0.5, "--scale", help="Strength of the perturbation."),
           mode: str = typer.Option("noise", "--mode", help="noise (add), scale (per channel) or drop (zero "
                                                            "a fraction of channels)."),
           n: int = typer.Option(8, "-n", "--n", help="Pictures."),
           truncation: float = typer.Option(1.0, "--truncation", help="Pull latents towards the mean."),
           size: int = typer.Option(None, "--size", help="Side of each picture (upscaled)."),
           save_model: Path = typer.Option(None, "--save-model", help="Keep the glitched generator in this folder "
                                                                      "(usable as MODEL by the other commands)."),
           list_layers: bool = typer.Option(False, "--list-layers", help="List the generator's layers and exit."),
           seed: int = seed_option("--seed", "Seed of the perturbation and of the latents."),
           as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Perturb chosen layers of a generator's weights (seeded) and compare its pictures before and after.

    Example: latentstudio gan glitch omniart-eyes --layers main.4 --scale 0.8 --seed 3 -o glitch.png
    """
    from latentstudio.errors import ParameterError
    from latentstudio.gan.pipeline import glitch_run, load_generator

    if list_layers:
        from latentstudio.gan.glitch import glitch_layers

        g, _ = load_generator(model)
        rows = [{"layer": name, "shape": list(shape)} for name, shape in glitch_layers(g)]
        if as_json:
            print_json(rows)
        else:
            for r in rows:
                typer.echo(f"{r['layer']}\t{tuple(r['shape'])}")
        return
    if output is None:
        raise ParameterError("--output is required (or pass --list-layers)")
    out_path(output, suffixes=(".png", ".jpg", ".jpeg"))
    run = glitch_run(model, output, layers=layers, scale=scale, mode=mode, n=n, truncation=truncation, size=size,
                     save_model=save_model, seed=seed)
    if as_json:
        print_json(run.summary())
        return
    typer.echo(f"saved {run.output} ({len(run.layers)} layer(s) {run.mode} x {run.scale}; mean pixel change "
               f"{run.pixel_change:.3f})" + (f"; generator in {run.model_saved}" if run.model_saved else ""))


@group.command("evaluate")
def evaluate(model: str = typer.Argument(..., help=MODEL_HELP),
             source: str = typer.Argument(..., help="Real pictures: a folder, tuxpaint or fashion-mnist."),
             split: str = typer.Option("test", "--split", help="train, validation, test or all."),
             fit: str = typer.Option(None, "--fit", help="pad or crop (as in training)."),
             truncation: float = typer.Option(1.0, "--truncation", help="Truncation of the samples."),
             max_items: int = typer.Option(None, "--max-items", help="Random subset of the source."),
             threads: int = typer.Option(2, "--threads", help="Torch CPU threads."),
             seed: int = seed_option("--seed", "Seed of the samples, halves and KID subsets."),
             as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON.")) -> None:
    """FID/KID (EfficientNet-Lite0 features) of a generator against real pictures, with the real-vs-real floor.

    Example: latentstudio gan evaluate models/gan-tux tuxpaint --split test
    """
    from latentstudio.errors import ParameterError
    from latentstudio.gan.pipeline import evaluate_run

    set_threads(threads)
    if split not in ("train", "validation", "test", "all"):
        raise ParameterError(f"--split {split!r} must be train, validation, test or all")
    run = evaluate_run(model, source, split=split, fit=fit, truncation=truncation, max_items=max_items, seed=seed)
    if as_json:
        print_json(run.summary())
        return
    f = run.figures
    if "kid" not in f:
        typer.echo(f"skipped: {f.get('skipped')}")
        return
    typer.echo(f"{f['metric']}, {run.split} split of {run.source} ({f['pictures']} pictures, halves of "
               f"{f['reference']}): KID {f['kid']:.4f} +- {f['kid_std']:.4f} (real floor {f['kid_floor']:.4f}), "
               f"FID {f['fid']:.1f} (real floor {f['fid_floor']:.1f})")


def register(app: typer.Typer) -> None:
    """Add the ``gan`` group to the root app."""
    app.add_typer(group, name="gan")
