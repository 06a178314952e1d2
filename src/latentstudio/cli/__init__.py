"""Floor 3: the ``latentstudio`` command line (typer). One group per system."""
