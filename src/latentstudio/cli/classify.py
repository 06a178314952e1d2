"""``latentstudio classify``: what an ImageNet classifier sees in an image."""

from __future__ import annotations

from pathlib import Path

import typer


def classify_file(image: Path, *, model: str = "efficientnet_lite0", top: int = 5,
                  device: str = "cpu") -> dict:
    """Classify one image file; returns a JSON-ready dict (image, model, top list)."""
    from latentstudio import zoo
    from latentstudio.core.image import load

    clf = zoo.load_classifier(model, device=device)
    arr = load(image)
    ranked = zoo.classify(clf, arr, top=top)
    return {"image": str(image), "model": clf.name, "input_size": clf.input_size,
            "top": [{"label": label, "index": zoo.class_index(label), "probability": round(p, 6)}
                    for label, p in ranked]}


def register(app: typer.Typer) -> None:
    """Add ``classify`` to the root app."""

    @app.command("classify")
    def classify(image: Path = typer.Argument(..., help="Image file (png, jpeg, bmp, gif, tiff, webp)."),
                 model: str = typer.Option("efficientnet_lite0", "--model", "-m",
                                           help="Classifier name (efficientnet_lite0/1/2; torchvision ones "
                                                "with LATENTSTUDIO_TORCHVISION_WEIGHTS)."),
                 top: int = typer.Option(5, "--top", "-k", help="How many classes to print (1-1000)."),
                 device: str = typer.Option("cpu", "--device", help="Torch device (cpu, cuda)."),
                 seed: int = typer.Option(0, "--seed", help="Random seed (classification is deterministic)."),
                 as_json: bool = typer.Option(False, "--json", help="Print the result as JSON.")) -> None:
        """Print the ImageNet classes a pretrained classifier sees in IMAGE, with probabilities.

        Example: latentstudio classify photo.jpg --model efficientnet_lite0 --top 5
        """
        import torch

        from latentstudio.cli._common import print_json

        torch.manual_seed(seed)
        result = classify_file(image, model=model, top=top, device=device)
        if as_json:
            print_json(result)
            return
        typer.echo(f"{result['image']}  ({result['model']}, {result['input_size']} px)")
        for row in result["top"]:
            typer.echo(f"  {row['probability']:7.2%}  {row['label']}  [{row['index']}]")
