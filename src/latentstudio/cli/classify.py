"""``latentstudio classify``: what an ImageNet classifier sees in an image."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add ``classify`` to the root app."""

    @app.command("classify")
    def classify(image: Path = typer.Argument(..., help="Image file (png, jpeg, bmp, gif, tiff, webp)."),
                 model: str = typer.Option("efficientnet_lite0", "--model", "-m",
                                           help="Classifier name (efficientnet_lite0/1/2; torchvision ones "
                                                "with LATENTSTUDIO_TORCHVISION_WEIGHTS)."),
                 top: int = typer.Option(5, "--top", "-k", help="How many classes to print (1-1000)."),
                 device: str = typer.Option("cpu", "--device", help="Torch device (cpu, cuda)."),
                 as_json: bool = typer.Option(False, "--json", help="Print the result as JSON.")) -> None:
        """Print the ImageNet classes a pretrained classifier sees in IMAGE, with probabilities.

        Example: latentstudio classify photo.jpg --model efficientnet_lite0 --top 5
        """
        from latentstudio.cli._common import print_json
        from latentstudio.zoo import classify_image

        result = classify_image(image, model=model, top=top, device=device)
        if as_json:
            print_json(result.to_dict())
            return
        typer.echo(f"{result.image}  ({result.model}, {result.input_size} px)")
        for label, index, p in result.top:
            typer.echo(f"  {p:7.2%}  {label}  [{index}]")
