"""The demo gallery's NeuralFunk section: the shipped SampleVAE re-makes, blends and dreams; every player's file
exists with its own sidecar."""

from __future__ import annotations

import json
import re

import soundfile as sf

from latentstudio.cli import demo_funk
from latentstudio.provenance import sidecar_path


def test_section_writes_referenced_sounds_with_their_own_sidecars(tmp_path):
    sec = demo_funk.section(tmp_path, seed=0)
    refs = re.findall(r"src='([^']+)'", sec.html)
    assert len([r for r in refs if "/dreams/" in r]) == 8 and "funk/track.wav" in refs
    for ref in refs:
        path = tmp_path / ref
        info = sf.info(path)
        assert info.samplerate == 16000 and info.frames > 0, ref
        assert json.loads(sidecar_path(path).read_text())["artifact"] == str(path), ref
    track = json.loads((tmp_path / "funk" / "track.json").read_text())
    assert [s[0] for s in track["sections"]] == ["intro", "groove", "breakdown", "groove"]
