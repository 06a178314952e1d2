"""The demo gallery's soundscape section: one figure per photo, each soundscape with its own sidecar."""

from __future__ import annotations

import json
import re

from latentstudio.cli import demo_soundscape
from latentstudio.provenance import sidecar_path


def test_section_writes_one_figure_per_photo_with_sidecars(tmp_path):
    sec = demo_soundscape.section(tmp_path, seed=0)
    assert sec.html.count("<figure>") == len(demo_soundscape.PHOTOS)
    refs = re.findall(r"src='([^']+)'", sec.html)
    assert len(refs) == 2 * len(demo_soundscape.PHOTOS)
    for ref in refs:
        assert json.loads(sidecar_path(tmp_path / ref).read_text())["artifact"] == str(tmp_path / ref), ref
    # the sound's sidecar keeps its matches: the thumbnail of the same stem does not overwrite it
    scene = json.loads((tmp_path / "soundscape" / "chelsea.json").read_text())
    assert scene["command"] == "demo soundscape" and len(scene["result"]["matches"]) == 5
    assert (tmp_path / "soundscape" / "chelsea.jpg.json").is_file()
