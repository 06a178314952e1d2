"""provenance: sidecars say how an artefact was made, in JSON, next to it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from latentstudio.provenance import package_versions, provenance, sidecar_path, write_sidecar


def test_sidecar_next_to_artefact(tmp_path):
    art = tmp_path / "dream.png"
    art.write_bytes(b"png")
    path = write_sidecar(art, command="dream run", params={"octaves": 4, "out": Path("x.png"),
                                                           "scale": np.float32(1.5), "grid": np.arange(3)},
                         seed=7, models=["efficientnet_lite0"], note="test")
    assert path == sidecar_path(art) == tmp_path / "dream.json"
    rec = json.loads(path.read_text())
    assert rec["command"] == "dream run" and rec["seed"] == 7 and rec["note"] == "test"
    assert rec["params"] == {"octaves": 4, "out": "x.png", "scale": 1.5, "grid": [0, 1, 2]}
    assert rec["models"] == ["efficientnet_lite0"] and rec["artifact"] == str(art)
    assert "torch" in rec["versions"] and "python" in rec["versions"]
    assert rec["time"].endswith("+00:00")


def test_ready_record_keeps_extra_keys(tmp_path):
    rec = provenance(command="dj mix", seed=1)
    rec["plan"] = [{"track": "a", "bpm": 174}]
    path = write_sidecar(tmp_path / "mix.wav", rec)
    assert json.loads(path.read_text())["plan"] == [{"track": "a", "bpm": 174}]


def test_package_versions_skips_missing():
    v = package_versions(extra=("no-such-package-xyz",))
    assert "no-such-package-xyz" not in v and v["latentstudio"]


def test_artefacts_of_one_stem_keep_their_own_sidecars(tmp_path):
    wav, mid = tmp_path / "beat.wav", tmp_path / "beat.mid"
    side_wav = write_sidecar(wav, command="beatbox jam", models=["a", "b"])
    side_mid = write_sidecar(mid, command="beatbox jam", models=["b"])
    assert side_wav == tmp_path / "beat.json" and side_mid == tmp_path / "beat.mid.json"
    assert json.loads(side_wav.read_text())["models"] == ["a", "b"]
    assert json.loads(side_mid.read_text())["artifact"] == str(mid)
    # a rerun rewrites the same two files, and each artefact finds its own
    assert write_sidecar(wav, command="again") == side_wav and write_sidecar(mid, command="again") == side_mid
    assert sidecar_path(wav) == side_wav and sidecar_path(mid) == side_mid
    assert sorted(p.name for p in tmp_path.iterdir()) == ["beat.json", "beat.mid.json"]


def test_a_sidecar_never_replaces_a_file_it_does_not_describe(tmp_path):
    notes = tmp_path / "notes.json"
    notes.write_text('{"mine": true}')
    assert write_sidecar(tmp_path / "notes.png", command="x") == tmp_path / "notes.png.json"
    assert json.loads(notes.read_text()) == {"mine": True}
    (tmp_path / "broken.json").write_text("{not json")
    assert sidecar_path(tmp_path / "broken.wav") == tmp_path / "broken.wav.json"
    report = tmp_path / "report.json"                   # an artefact that is itself JSON
    report.write_text("[]")
    assert write_sidecar(report, command="x") == tmp_path / "report.json.json" and report.read_text() == "[]"
