"""The ``latentstudio`` command: root app and the groups of each system."""

from __future__ import annotations

import importlib

import typer

from latentstudio import __version__
from latentstudio.cli._common import LatentStudioGroup

app = typer.Typer(
    cls=LatentStudioGroup,
    help="latentstudio — neural networks as instruments: DeepDream, Perception Engines, AI DJ, "
         "Imaginary Soundscapes, Neural Beatbox and more.\n\nExample: latentstudio classify photo.jpg --top 5",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"latentstudio {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """latentstudio — neural networks as instruments for artists."""


# Each module listed here has ``register(app)``, which adds its commands or its group to the root app.
# One module per system (cli/<system>.py); a system's group is registered where its module lands.
_PARTS = [
    "latentstudio.cli.classify",
    "latentstudio.cli.assets_cmd",
    "latentstudio.cli.demo",
    "latentstudio.cli.dream",
    "latentstudio.cli.perceive",
    "latentstudio.cli.dj",
    "latentstudio.cli.beatbox",
    "latentstudio.cli.soundscape",
    "latentstudio.cli.latent",
    "latentstudio.cli.gan",
    "latentstudio.cli.funk",
    "latentstudio.cli.seeing",
    "latentstudio.cli.studio",
]

for _module in _PARTS:
    importlib.import_module(_module).register(app)


def main() -> None:
    """Console-script entry point."""
    app()
