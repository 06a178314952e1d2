"""CLI: ``latentstudio assets`` — every offline asset, whether it is installed, and how to get it."""

from __future__ import annotations

import dataclasses

import typer

from latentstudio.cli._common import print_json


def assets(
    as_json: bool = typer.Option(False, "--json", help="Print the list as JSON instead of a table."),
) -> None:
    """List the offline assets: availability, item counts, Debian/PyPI package and licence.

    Example: latentstudio assets --json
    """
    from latentstudio import assets as _assets

    rows = _assets.list_assets()
    if as_json:
        print_json([dataclasses.asdict(r) for r in rows])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="latentstudio offline assets", show_lines=False)
    for col in ("asset", "here", "count", "package", "licence", "location / install"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r.name, "yes" if r.available else "[red]no[/red]", str(r.count) if r.available else "-",
                      r.package, r.licence, r.location if r.available else r.install)
    Console().print(table)
    missing = [r for r in rows if not r.available]
    if missing:
        typer.echo("missing: " + "; ".join(f"{r.name}: {r.install}" for r in missing), err=True)


def register(app: typer.Typer) -> None:
    """Add the ``assets`` command to the root app."""
    app.command(name="assets")(assets)
