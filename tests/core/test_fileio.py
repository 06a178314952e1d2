"""core.fileio: atomic writes leave either the old file or the new one, never a half."""

from __future__ import annotations

import pytest

from latentstudio.core.fileio import atomic_path, atomic_write_bytes, atomic_write_text
from latentstudio.errors import ParameterError


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


def test_files_under_lists_matching_files_and_names_the_folder(tmp_path):
    from latentstudio.core.fileio import files_under

    (tmp_path / "k" / "deep").mkdir(parents=True)
    for name in ("b.WAV", "k/a.wav", "k/deep/c.flac", "k/._a.wav", "k/.hidden.wav", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    got = [p.relative_to(tmp_path).as_posix() for p in files_under(tmp_path, (".wav", ".flac"))]
    assert got == ["b.WAV", "k/a.wav", "k/deep/c.flac"]                  # sorted, any case, no hidden forks
    (tmp_path / "empty").mkdir()
    assert files_under(tmp_path / "empty", (".wav",), allow_empty=True) == []
    with pytest.raises(ParameterError, match=r"sound library .*empty.* holds no samples \(\.wav\)"):
        files_under(tmp_path / "empty", (".wav",), what="sound library", kind="samples")
    with pytest.raises(ParameterError, match="does not exist"):
        files_under(tmp_path / "nowhere", (".wav",))
    with pytest.raises(ParameterError, match="is not a folder"):
        files_under(tmp_path / "notes.txt", (".wav",))
