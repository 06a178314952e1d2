"""The demo gallery's beatbox section: the pipeline's run, its artefacts referenced and each with its sidecar."""

from __future__ import annotations

import json
import re

from latentstudio.cli import demo_beatbox
from latentstudio.provenance import sidecar_path


def test_section_writes_referenced_artefacts_with_their_own_sidecars(tmp_path):
    sec = demo_beatbox.section(tmp_path, seed=0)
    refs = re.findall(r"(?:src|href)='([^']+)'", sec.html)
    assert sorted(refs) == ["beatbox/beat.mid", "beatbox/beat.wav", "beatbox/hits.png", "beatbox/voice.wav"]
    for ref in refs:
        side = sidecar_path(tmp_path / ref)
        assert json.loads(side.read_text())["artifact"] == str(tmp_path / ref), ref
    assert sidecar_path(tmp_path / "beatbox" / "beat.mid").name == "beat.mid.json"
    beat = json.loads((tmp_path / "beatbox" / "beat.json").read_text())
    assert beat["command"] == "demo beatbox" and beat["models"] == ["beatbox_classifier", "beatbox_rhythm"]
    # one table row per sound found, each with its zero-shot and calibrated class
    rows = re.findall(r"<tr><td>[0-9.]+</td>", sec.html)
    assert len(rows) == len(beat["hits"]) >= len(demo_beatbox.PHRASE.split()) - 1
