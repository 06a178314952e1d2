"""The demo gallery's latent section: a text VAE trained, filmed to a stretched drum & bass loop, mapped."""

from __future__ import annotations

import json
import re

import pytest

from latentstudio.cli import demo_latent
from latentstudio.provenance import sidecar_path


@pytest.mark.slow
def test_section_writes_referenced_artefacts_with_their_own_sidecars(tmp_path):
    sec = demo_latent.section(tmp_path, seed=0)
    refs = re.findall(r"src='([^']+)'", sec.html)
    assert {"latent/pulse.mp4", "latent/land.png", "latent/land.cartogram.png", "latent/land.flow.png"} <= set(refs)
    for ref in refs:
        side = sidecar_path(tmp_path / ref)
        assert json.loads(side.read_text())["artifact"] == str(tmp_path / ref), ref
    pulse = json.loads((tmp_path / "latent" / "pulse.json").read_text())
    assert pulse["bpm_played"] == 160.0 and pulse["max_peak_offset_frames"] <= 1
