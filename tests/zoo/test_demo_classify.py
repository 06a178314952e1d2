"""The demo gallery's "classify" section writes its thumbnails, sidecars and a table that refers to them."""

from __future__ import annotations

import json
import re

from latentstudio.cli import demo_classify


def test_section_writes_referenced_artefacts(tmp_path):
    sec = demo_classify.section(tmp_path, seed=0)
    srcs = re.findall(r"src='([^']+)'", sec.html)
    assert len(srcs) == len(demo_classify.IMAGES)
    for src in srcs:
        assert (tmp_path / src).is_file()
        record = json.loads((tmp_path / src).with_suffix(".json").read_text())
        assert record["models"] == ["efficientnet_lite0"] and len(record["result"]) == 3
    chelsea = json.loads((tmp_path / "classify" / "chelsea.json").read_text())
    assert "cat" in chelsea["result"][0]["label"]
    assert "espresso" in sec.html
