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
