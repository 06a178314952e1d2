"""Top-level commands: ``classify`` and ``assets``."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach the top-level commands to the root app."""
    pass
