"""``latentstudio seeing``: Learning to See — a network that knows one world re-sees every input as that world."""

from __future__ import annotations

from pathlib import Path

import typer

from latentstudio.catalog.batch import workers_for
from latentstudio.cli._common import (CLUSTER_HELP, existing, fit_progress, new_group, print_json, progress,
                                      seed_option, set_threads, stderr, workers_help)

group = new_group(help="Learning to See (Memo Akten): a network trained only on one world (flowers, water, "
                       "foliage) re-sees any picture, video or camera as that world.\n\n"
                       "Example: latentstudio seeing train flowers -o models/flowers && "
                       "latentstudio seeing run models/flowers photo.jpg -o flowers.png")


@group.command("train")
def train(world: str = typer.Argument(..., help="A built-in world (flowers, water, foliage) or a folder of "
                                                "pictures of your own world."),
          output: Path = typer.Option(..., "-o", "--output", help="Model folder to write (a rerun resumes)."),
          steps: int = typer.Option(1500, "--steps", help="Optimiser steps."),
          batch_size: int = typer.Option(8, "--batch-size", help="Crops per step."),
          size: int = typer.Option(128, "--size", help="Side of the training crops (the model runs at any size)."),
          arch: str = typer.Option("lean", "--arch", help="Generator: lean (real time on a CPU) or pix2pix."),
          base: int = typer.Option(32, "--base", help="Lean generator's first-stage channels."),
          blocks: int = typer.Option(3, "--blocks", help="Lean generator's residual blocks."),
          lr: float = typer.Option(2e-4, "--lr", help="Learning rate."),
          l1: float = typer.Option(100.0, "--l1", help="Weight of the L1 term."),
          perceptual: float = typer.Option(0.0, "--perceptual",
                                           help="Weight of an EfficientNet-Lite0 feature term (0: off)."),
          guide: float = typer.Option(0.0, "--guide",
                                      help="Weight of the world term: -log P(world's ImageNet classes) under "
                                           "EfficientNet-Lite0 (0: off)."),
          guide_classes: str = typer.Option("", "--guide-classes",
                                            help="Comma-separated ImageNet classes of the world (default: the "
                                                 "built-in world's, or those its photographs get)."),
          guide_nets: str = typer.Option("efficientnet_lite0", "--guide-nets",
                                         help="Comma-separated classifiers of the world term (their mean; "
                                              "efficientnet_lite0, efficientnet_lite1; never the judge, lite2)."),
          guide_jitter: float = typer.Option(0.0, "--guide-jitter",
                                             help="Each guide net sees a random view of the batch: rescaled "
                                                  "within exp(+-J), cropped, mirrored (0: the batch as it is)."),
          off_guide: float = typer.Option(0.0, "--off-guide",
                                          help="Weight of the world term on outputs for degraded off-world "
                                               "pictures: paint the world whatever comes in (0: off)."),
          off_keep: float = typer.Option(0.0, "--off-keep",
                                         help="Weight of the structure term on those outputs: degraded again, "
                                              "they must give back the input (0: off)."),
          off_world: str = typer.Option("wallpapers", "--off-world",
                                        help="Off-world pictures: wallpapers (the desktop backgrounds "
                                             "installed) or a folder."),
          area_factor: float = typer.Option(24.0, "--area-factor",
                                            help="Degradation: area down-sampling factor before bicubic up."),
          short_side: int = typer.Option(512, "--short-side", help="Photographs are shrunk to this shorter side."),
          sample_every: int = typer.Option(250, "--sample-every", help="Steps between sample grids (0: none)."),
          device: str = typer.Option("cpu", "--device", help="cpu, cuda or auto (torchrun: one rank per GPU)."),
          threads: int = typer.Option(2, "--threads", help="Torch CPU threads."),
          seed: int = seed_option("--seed", "Random seed."),
          as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Train a generator on one world from degraded crops of its photographs (pix2pix: L1 + PatchGAN).

    Example: latentstudio seeing train flowers -o models/flowers --steps 1500 --seed 0
    """
    from latentstudio.seeing.pipeline import train_run

    set_threads(threads)
    with progress(f"training on {world}", total=steps, quiet=as_json) as advance:
        run = train_run(world, output, steps=steps, batch_size=batch_size, size=size, arch=arch, base=base,
                        blocks=blocks, lr=lr, l1=l1, perceptual=perceptual, guide=guide,
                        guide_names=[c.strip() for c in guide_classes.split(",") if c.strip()] or None,
                        guide_nets=[c.strip() for c in guide_nets.split(",") if c.strip()], guide_jitter=guide_jitter,
                        off_guide=off_guide, off_keep=off_keep, off_world=off_world, area_factor=area_factor,
                        short_side=short_side, sample_every=sample_every, device=device, seed=seed,
                        progress=fit_progress(advance))
    if run.result.rank != 0:    # torchrun: rank 0 reports
        return
    if as_json:
        print_json(run.summary())
        return
    v = run.result.validation
    typer.echo(f"saved {run.result.model_dir} ({run.result.steps} steps, {run.result.seconds:.0f} s)")
    typer.echo(f"validation photograph: L1 {v['l1']:.3f}, input-output edge correlation {v['edge_correlation']:.3f}")


@group.command("run")
def run(models: list[Path] = typer.Argument(..., help="Model folder(s) from `seeing train` or shipped worlds "
                                                      "(flowers, flowers_guided, water), then the INPUT last: "
                                                      "a picture, a folder of pictures, a video, or a camera "
                                                      "(/dev/video0, or 'camera' for the first one)."),
        output: Path = typer.Option(..., "-o", "--output", help="Picture, folder, or video (.mp4/.gif)."),
        size: int = typer.Option(256, "--size", help="Shorter side the network works at (0: the input's own)."),
        pre: str = typer.Option("none", "--pre", help="Pre-filters, e.g. 'blur:2', 'canny', 'threshold', "
                                                      "'grey', 'invert', comma-separated."),
        post: str = typer.Option("none", "--post", help="Post-filters, same language (e.g. 'blur:1')."),
        smooth: float = typer.Option(None, "--smooth", help="Temporal smoothing: weight of the previous frame "
                                                           "(default 0.6 for video and camera, 0 for pictures)."),
        flow: bool = typer.Option(False, "--flow", help="Flow-guided smoothing (no ghosts behind movement)."),
        switch_every: float = typer.Option(None, "--switch-every", help="With several models: swap every N s."),
        fps: float = typer.Option(None, "--fps", help="Frame rate to read a video or camera at."),
        max_frames: int = typer.Option(None, "--max-frames", help="Stop after this many frames."),
        seconds: float = typer.Option(None, "--seconds", help="Stop after this many seconds of input."),
        side_by_side: bool = typer.Option(False, "--side-by-side", help="Write the input beside the output."),
        eager: bool = typer.Option(False, "--eager", help="Run the plain eager network (slower)."),
        threads: int = typer.Option(2, "--threads", help="Torch CPU threads."),
        workers: int = typer.Option(None, "--workers", "-j", help=workers_help(1)),
        cluster: str = typer.Option(None, "--cluster", help="For a folder: " + CLUSTER_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Re-see a picture, folder, video or camera as the world of one or more models.

    Example: latentstudio seeing run models/flowers models/water clip.mp4 -o clip.seen.mp4 --flow --switch-every 4
    (a folder of pictures on a Ray cluster: latentstudio seeing run flowers photos/ -o seen/ --cluster auto)
    """
    from latentstudio.provenance import write_sidecar
    from latentstudio.seeing.pipeline import see_run

    if len(models) < 2:
        raise typer.BadParameter("give MODEL... INPUT: at least one model folder and the input")
    *model_dirs, source = models
    from latentstudio.seeing.training import resolve_model

    model_dirs = [existing(resolve_model(m), what="model") for m in model_dirs]
    src = str(source)
    if not (src.startswith("/dev/video") or src == "camera"):
        existing(source)
    set_threads(threads)

    def sidecar(path: Path, params: dict) -> None:
        write_sidecar(path, command="latentstudio seeing run", params=params, models=[str(m) for m in model_dirs])

    with progress("re-seeing", total=None, quiet=as_json) as advance:
        result = see_run(model_dirs, src, output, size=size or None, pre=pre, post=post, smooth=smooth, flow=flow,
                         fast=not eager, switch_every=switch_every, fps=fps, max_frames=max_frames, seconds=seconds,
                         side_by_side=side_by_side, workers=workers_for(workers, cluster, 1), cluster=cluster,
                         progress=lambda done, total: advance(1, total=total), on_output=sidecar)
    for path in result.outputs:
        if result.kind != "folder":                      # a folder's pictures got theirs as each was written
            write_sidecar(path, command="latentstudio seeing run", params=result.params, models=result.models,
                          summary={k: v for k, v in result.summary().items() if k not in ("outputs", "failed")})
    for path, why in result.failed:
        stderr(f"skipped {path}: {why}")
    if as_json:
        print_json(result.summary())
        return
    typer.echo(f"wrote {len(result.outputs)} file(s), {result.frames} frame(s) at "
               f"{result.fps_processed:.1f} frames/s: {', '.join(str(p) for p in result.outputs[:4])}")


@group.command("check")
def check(model: Path = typer.Argument(..., help="Model folder from `seeing train`, or a shipped world "
                                                    "(flowers, flowers_guided, water)."),
          inputs: Path = typer.Option(None, "--inputs", help="Folder of pictures unlike the world (default: "
                                                             "sample photographs, faces and clip art)."),
          world: str = typer.Option(None, "--world", help="The model's world folder (built-in worlds are found)."),
          sheet: Path = typer.Option(None, "--sheet", help="Write a contact sheet (inputs over outputs) here."),
          size: int = typer.Option(256, "--size", min=32, max=4096, help="Side the model runs at."),
          bank: int = typer.Option(256, "--bank", min=1, max=100000, help="Training crops the outputs are compared "
                                                                           "with."),
          threads: int = typer.Option(2, "--threads", help="Torch CPU threads."),
          seed: int = seed_option("--seed", "Seed of the input and crop choices."),
          as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Does the model re-see its input, or play a slideshow of its training pictures?

    Example: latentstudio seeing check models/flowers --sheet flowers.check.png
    """
    from latentstudio.provenance import write_sidecar
    from latentstudio.seeing.pipeline import check_run

    from latentstudio.seeing.training import resolve_model

    model = existing(resolve_model(model), what="model")
    if inputs is not None:
        existing(inputs)
    set_threads(threads)
    result = check_run(model, inputs=inputs, world=world, size=size, bank=bank, seed=seed, sheet=sheet)
    summary = result.summary()
    if result.sheet is not None:
        write_sidecar(result.sheet, command="latentstudio seeing check", params={"size": size, "seed": seed},
                      seed=seed, models=[str(model)], summary={k: v for k, v in summary.items() if k != "items"})
    if as_json:
        print_json(summary)
        return
    r = result.report
    typer.echo(f"{r.inputs} inputs unlike {r.world!r}: {r.verdict}")
    typer.echo(f"follows the input (edge correlation): {r.follows:.3f}   oracle slideshow of training crops: "
               f"{r.slideshow:.3f}")
    typer.echo(f"similarity to nearest training crop: outputs {r.copy_similarity:.3f}   new pictures of the world "
               f"{r.new_picture_similarity:.3f}")
    if r.world_rate is not None:
        typer.echo(f"named as its world in the top 5 ({', '.join(r.world_classes)}; {'efficientnet_lite2'}): "
                   f"outputs {r.world_rate:.0%}, inputs {r.world_rate_inputs:.0%}, its held-out photograph "
                   f"{r.world_rate_photo:.0%}")


def register(app: typer.Typer) -> None:
    """Add the ``seeing`` group to the root app."""
    app.add_typer(group, name="seeing")
