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


def test_atomic_write_fsyncs_file_then_folder(tmp_path, monkeypatch):
    """The temporary file is flushed before the rename, and its folder after it."""
    import os
    from pathlib import Path

    from latentstudio.core import fileio

    calls = []
    real_replace = os.replace

    def fsync(path):
        calls.append(("fsync", Path(path).name))

    def replace(a, b):
        calls.append(("replace", Path(b).name))
        real_replace(a, b)

    monkeypatch.setattr(fileio, "_fsync", fsync)
    monkeypatch.setattr(fileio.os, "replace", replace)
    fileio.atomic_write_text(tmp_path / "a.txt", "hi")
    assert [c[0] for c in calls] == ["fsync", "replace", "fsync"]
    assert calls[0][1].endswith(".part.txt") and calls[2][1] == tmp_path.name
    assert (tmp_path / "a.txt").read_text() == "hi"
