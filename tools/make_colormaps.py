"""Regenerate ``src/latentstudio/data/colormaps.json`` from matplotlib's colour tables.

The perceptual maps (viridis, plasma, magma, inferno by Stéfan van der Walt and Nathaniel Smith;
cividis by Jamie Nuñez, Christopher Anderton and Ryan Renslow; twilight by Bastian Bechtold) are
released under CC0. latentstudio ships them as a small JSON table so that run-time code never imports
matplotlib; matplotlib is needed only to run this script::

    .venv/bin/python tools/make_colormaps.py

Each map is sampled at 256 evenly spaced positions (exactly its own table for the 256-entry maps;
twilight's 510 entries are subsampled) and rounded to 4 decimals.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

NAMES = ("viridis", "plasma", "magma", "inferno", "cividis", "twilight")
OUT = Path(__file__).resolve().parents[1] / "src" / "latentstudio" / "data" / "colormaps.json"


def main() -> Path:
    import matplotlib

    maps = {}
    for name in NAMES:
        rgba = matplotlib.colormaps[name](np.linspace(0.0, 1.0, 256))
        maps[name] = [[round(float(v), 4) for v in row[:3]] for row in rgba]
    doc = {
        "about": "Perceptual colour maps sampled at 256 levels from matplotlib "
                 f"{matplotlib.__version__} by tools/make_colormaps.py; the tables are CC0.",
        "maps": maps,
    }
    text = json.dumps(doc, separators=(",", ":"))
    # one colour table per line keeps the file diffable
    text = text.replace('],"', '],\n"')
    OUT.write_text(text + "\n", encoding="utf-8")
    return OUT


if __name__ == "__main__":
    path = main()
    print(f"wrote {path} ({path.stat().st_size} bytes)")
