"""A tiny rendered library with exact beats, plus a folder of bad files, shared by the DJ tests."""

import numpy as np
import pytest

from latentstudio.dj.music import TrackSpec


SPECS = (
    TrackSpec(bpm=120.0, tonic=9, minor=True, style="house", bars=10, seed=1, intro_bars=1),
    TrackSpec(bpm=123.0, tonic=4, minor=True, style="rock", bars=10, seed=2, intro_bars=1),
    TrackSpec(bpm=62.0, tonic=0, minor=False, style="halftime", bars=6, seed=3, intro_bars=0),
)


@pytest.fixture(scope="session")
def dj_library(tmp_path_factory):
    from latentstudio.dj.music import write_library

    folder = tmp_path_factory.mktemp("djlib")
    truth = write_library(folder, SPECS, sr=22050)
    return folder, truth


@pytest.fixture(scope="session")
def dj_analyses(dj_library):
    from latentstudio.dj.analysis import analyze_library, library_files

    folder, _ = dj_library
    analyses, failures = analyze_library(library_files(folder), workers=1)
    assert not failures
    return analyses


@pytest.fixture(scope="session")
def formats_library(dj_library, tmp_path_factory):
    """Copies of one track as 8-bit, 24-bit, stereo, 48 kHz; a corrupt, a silent and an empty file."""
    import soundfile as sf

    folder = tmp_path_factory.mktemp("djformats")
    truth_path = dj_library[1][0]["path"]

    y, sr = sf.read(truth_path, dtype="float32")
    sf.write(folder / "u8.wav", y, sr, subtype="PCM_U8")
    sf.write(folder / "s24.wav", y, sr, subtype="PCM_24")
    sf.write(folder / "stereo48k.flac", np.stack([y, 0.5 * y], axis=1)[:: 1], sr, subtype="PCM_16")
    from latentstudio.core.audio import resample

    sf.write(folder / "mono48k.wav", resample(y, orig_sr=sr, target_sr=48000), 48000, subtype="PCM_16")
    (folder / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage" * 10)
    sf.write(folder / "silent.wav", np.zeros(sr * 5, dtype=np.float32), sr)
    (folder / "empty.wav").write_bytes(b"")
    return folder
