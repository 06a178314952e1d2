"""core.fileio: atomic writes leave either the old file or the new one, never a half."""

from __future__ import annotations

import pytest

from latentstudio.core.fileio import atomic_path, atomic_write_bytes, atomic_write_text


def test_atomic_write_replaces(tmp_path):
    target = tmp_path / "sub" / "x.txt"
    atomic_write_text(target, "one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["x.txt"]


def test_failure_keeps_old_file_and_cleans_up(tmp_path):
    target = tmp_path / "x.wav"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".wav" and tmp != target
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.wav"]


def test_suffix_override(tmp_path):
    with atomic_path(tmp_path / "model", suffix=".safetensors") as tmp:
        assert tmp.name.endswith(".safetensors")
        tmp.write_text("w")
    assert (tmp_path / "model").read_text() == "w"
