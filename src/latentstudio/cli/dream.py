"""CLI: ``latentstudio dream IMAGE -o OUT.png`` - DeepDream, guided dreams, zoom videos."""

from __future__ import annotations

from pathlib import Path

import typer

from latentstudio.cli._common import existing, out_path, print_json, progress, seed_option
from latentstudio.core.image import IMAGE_EXTENSIONS


def _channels(text: str | None) -> list[int] | None:
    """``--channels 3,17`` as integers."""
    from latentstudio.errors import ParameterError

    if not text:
        return None
    try:
        return [int(c) for c in text.split(",") if c.strip()]
    except ValueError:
        raise ParameterError(f"--channels {text!r} must be comma-separated integers, e.g. 3,17") from None


def register(app: typer.Typer) -> None:
    """Add ``dream`` to the root app."""

    @app.command("dream")
    def dream_cmd(
        image: Path = typer.Argument(..., help="Picture to dream on."),
        output: Path = typer.Option(..., "-o", "--output", help="Output image (.png/.jpg), or .mp4/.gif with "
                                                                "--zoom-frames."),
        model: str = typer.Option("efficientnet_lite0", "--model", help="Classifier from the zoo."),
        layer: list[str] = typer.Option(["blocks.10"], "--layer",
                                        help="Layer(s) to amplify; repeat or write 'blocks.10:3,7' for channels."),
        channels: str = typer.Option(None, "--channels", help="Only these channels of the layer(s), e.g. 3,17."),
        strongest: int = typer.Option(None, "--strongest", help="Amplify the N channels most active on IMAGE."),
        guide: Path = typer.Option(None, "--guide", help="Steer towards the features of this image."),
        octaves: int = typer.Option(4, "--octaves", help="Number of image sizes."),
        octave_scale: float = typer.Option(1.4, "--octave-scale", help="Ratio between neighbouring sizes."),
        steps: int = typer.Option(10, "--steps", help="Gradient steps per octave."),
        step_size: float = typer.Option(0.01, "--step-size", help="Step along the normalised gradient."),
        max_roll: int = typer.Option(32, "--max-roll", help="Largest random shift (px) before each step."),
        tile_size: int = typer.Option(512, "--tile-size", help="Tile side (px) for large images."),
        keep_colors: bool = typer.Option(False, "--keep-colors", help="Keep the input's colours (luminance only)."),
        zoom_frames: int = typer.Option(0, "--zoom-frames", min=0, max=100000,
                                        help="Write a zoom-feedback video of N frames."),
        zoom: float = typer.Option(1.05, "--zoom", help="Zoom between video frames."),
        fps: float = typer.Option(12.0, "--fps", help="Video frame rate."),
        max_side: int = typer.Option(0, "--max-side", help="Shrink IMAGE so its longer side is at most this "
                                                            "(0: keep its size)."),
        device: str = typer.Option("cpu", "--device", help="cpu, cuda, ..."),
        seed: int = seed_option("--seed", "Random seed (rolls)."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Dream on IMAGE: amplify what a classifier sees in it (DeepDream).

        Example: latentstudio dream photo.jpg -o dream.png --layer blocks.10 --octaves 4 --steps 10
        """
        from latentstudio.core.image import load
        from latentstudio.dream.pipeline import VIDEO_SUFFIXES, dream_from_options
        from latentstudio.errors import ParameterError

        video = zoom_frames > 0
        out = out_path(output, suffixes=VIDEO_SUFFIXES if video else IMAGE_EXTENSIONS)
        if not fps > 0 or fps > 1000:
            raise ParameterError(f"--fps {fps} must be a number of frames per second in (0, 1000]")
        arr = load(existing(image, what="image"))
        guide_arr = load(existing(guide, what="--guide image")) if guide is not None else None
        with progress("dreaming frames" if video else "dreaming",
                      total=zoom_frames if video else octaves * steps) as advance:
            run = dream_from_options(arr, model=model, device=device, layers=layer, channels=_channels(channels),
                                     strongest=strongest, guide=guide_arr, octaves=octaves,
                                     octave_scale=octave_scale, steps=steps, step_size=step_size,
                                     max_roll=max_roll, tile_size=tile_size, keep_colors=keep_colors,
                                     zoom_frames=zoom_frames, zoom=zoom, max_side=max_side, seed=seed,
                                     progress=advance)
        report = run.save(out, fps=fps, command="dream",
                          params=dict(image=str(image), layer=layer, channels=channels, strongest=strongest,
                                      guide=str(guide) if guide else None, octaves=octaves,
                                      octave_scale=octave_scale, steps=steps, step_size=step_size,
                                      max_roll=max_roll, tile_size=tile_size, keep_colors=keep_colors,
                                      zoom_frames=zoom_frames, zoom=zoom, fps=fps, max_side=max_side))
        if as_json:
            print_json(report)
        else:
            typer.echo(str(out))
