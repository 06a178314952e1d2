"""The demo gallery's dream section: three dreams and a zoom GIF from the dream pipeline, with sidecars."""

from __future__ import annotations

import json
import re

import pytest

from latentstudio.cli import demo_dream


@pytest.mark.slow
def test_section_dreams_and_zooms_with_sidecars(tmp_path):
    sec = demo_dream.section(tmp_path, seed=0)
    refs = re.findall(r"src='([^']+)'", sec.html)
    assert refs == ["dream/chelsea.jpg", "dream/chelsea_blocks10.jpg", "dream/chelsea_blocks5.jpg",
                    "dream/coffee_strongest6.jpg", "dream/zoom.gif"]
    for ref in refs[1:]:
        record = json.loads((tmp_path / ref).with_suffix(".json").read_text())
        assert record["models"] == ["efficientnet_lite0"] and record["seed"] == 0
    strongest = json.loads((tmp_path / "dream" / "coffee_strongest6.json").read_text())
    assert re.fullmatch(r"deepdream\(blocks\.12, channels=\[(\d+, ){5}\d+\]\)", strongest["params"]["objective"])
    assert strongest["result"]["gain"] > 1
