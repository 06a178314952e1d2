"""core.video: MP4/GIF writes read back with the right frames; audio is muxed and extracted."""

from __future__ import annotations

import numpy as np
import pytest

from latentstudio.core.video import extract_audio, iter_video_frames, read_video_frames, video_info, write_video
from latentstudio.errors import ParameterError


def _clip(n=12, h=30, w=40) -> np.ndarray:
    """Smooth frames whose brightness ramps 0 -> 1 (so each frame is identifiable after compression)."""
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx / (w - 1), yy / (h - 1), np.full((h, w), 0.5)], axis=-1)
    return np.stack([0.2 * base + 0.8 * k / (n - 1) for k in range(n)]).astype(np.float32)


def _tone(seconds, sr, freq=440.0):
    t = np.arange(int(seconds * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_mp4_frames_read_back(tmp_path):
    clip = _clip()
    path = write_video(tmp_path / "c.mp4", clip, fps=12)
    info = video_info(path)
    assert (info.width, info.height, info.fps, info.has_audio) == (40, 30, 12.0, False)
    assert info.duration == pytest.approx(1.0, abs=0.05)
    back = read_video_frames(path)
    assert back.shape == clip.shape and back.dtype == np.float32
    assert np.abs(back - clip).mean() < 0.02
    assert list(np.argsort(back.mean(axis=(1, 2, 3)))) == list(range(12))  # frame order kept


def test_odd_size_uint8_generator_input(tmp_path):
    frames = ((_clip(6, 31, 45)[k] * 255).astype(np.uint8) for k in range(6))
    path = write_video(tmp_path / "odd.mp4", frames, fps=6)
    back = read_video_frames(path)
    assert back.shape == (6, 32, 46, 3)  # padded to even sides for yuv420p
    assert np.abs(back[:, :31, :45] - _clip(6, 31, 45)).mean() < 0.02


def test_gif_round_trip(tmp_path):
    clip = _clip(8)
    path = write_video(tmp_path / "c.gif", list(clip), fps=10)
    back = read_video_frames(path)
    assert back.shape == clip.shape
    assert np.abs(back - clip).mean() < 0.03
    from PIL import Image

    with Image.open(path) as im:
        assert im.n_frames == 8 and im.info["duration"] == 100 and im.info.get("loop") == 0


@pytest.mark.parametrize("audio_seconds", [0.4, 1.0, 2.5])
def test_audio_muxed_to_video_length(tmp_path, audio_seconds):
    sr = 22050
    path = write_video(tmp_path / "a.mp4", _clip(24), fps=24, audio=_tone(audio_seconds, sr), sr=sr)
    info = video_info(path)
    assert info.has_audio and info.duration == pytest.approx(1.0, abs=0.05)
    y, out_sr = extract_audio(path, sr=16000)
    assert out_sr == 16000 and abs(len(y) - 16000) < 400
    head = y[: int(min(audio_seconds, 1.0) * 16000) - 1600]
    assert np.sqrt(np.mean(head[800:] ** 2)) > 0.3  # the tone is there (0.5 / sqrt 2 = 0.35)
    spec = np.abs(np.fft.rfft(head[800:]))
    assert abs(np.argmax(spec) * 16000 / len(head[800:]) - 440) < 10
    if audio_seconds < 1.0:
        tail = y[int(audio_seconds * 16000) + 1600:]
        assert np.abs(tail).max() < 0.02  # padded with silence


def test_stereo_audio_and_resampled_frames(tmp_path):
    sr = 16000
    stereo = np.stack([_tone(1.0, sr, 440), _tone(1.0, sr, 660)])
    path = write_video(tmp_path / "s.mp4", _clip(12), fps=12, audio=stereo, sr=sr)
    y, _ = extract_audio(path, sr=sr, mono=False)
    assert y.shape[0] == 2
    assert read_video_frames(path, fps=6).shape[0] == 6
    assert read_video_frames(path, max_frames=5).shape[0] == 5
    assert sum(1 for _ in iter_video_frames(path, max_frames=3)) == 3


def test_write_is_atomic_on_bad_input(tmp_path):
    def frames():
        yield _clip(2)[0]
        yield np.full((30, 40, 3), np.nan, np.float32)

    with pytest.raises(ParameterError, match=r"frames\[1\]"):
        write_video(tmp_path / "bad.mp4", frames())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs,match", [
    ({"frames": [], "name": "e.mp4"}, "frames is empty"),
    ({"frames": [np.zeros((4, 4, 3)), np.zeros((6, 4, 3))], "name": "m.mp4"}, r"frames\[1\] has shape"),
    ({"frames": np.zeros((4, 4, 3)), "name": "s.mp4"}, r"\(N, H, W, 3\)"),
    ({"frames": np.zeros((2, 4, 4, 3)), "name": "x.avi"}, "extension"),
    ({"frames": np.zeros((2, 4, 4, 3)), "name": "f.mp4", "fps": 0}, "fps=0"),
    ({"frames": np.zeros((2, 4, 4, 3)), "name": "q.mp4", "quality": 11}, "quality=11"),
    ({"frames": np.zeros((2, 4, 4, 3)), "name": "a.gif", "audio": np.zeros(100, np.float32), "sr": 8000},
     "GIF cannot carry audio"),
    ({"frames": np.zeros((2, 4, 4, 3)), "name": "n.mp4", "audio": np.zeros(100, np.float32)}, "sr=None"),
    ({"frames": np.zeros((2, 4, 4, 3)), "name": "n.mp4", "audio": np.full(100, np.nan, np.float32), "sr": 8000},
     "audio contains NaN"),
])
def test_bad_write_arguments(tmp_path, kwargs, match):
    name = kwargs.pop("name")
    with pytest.raises(ParameterError, match=match):
        write_video(tmp_path / name, kwargs.pop("frames"), **kwargs)


def test_extract_audio_needs_a_track(tmp_path):
    path = write_video(tmp_path / "silent.mp4", _clip(4), fps=4)
    with pytest.raises(ParameterError, match="no audio track"):
        extract_audio(path, sr=16000)
    with pytest.raises(ParameterError, match="sr=0"):
        extract_audio(path, sr=0)


def test_frames_at_times(tmp_path):
    n = 24
    clip = np.stack([np.full((16, 16, 3), k / (n - 1), np.float32) for k in range(n)])
    path = write_video(tmp_path / "ramp.mp4", clip, fps=12)
    out = read_video_frames(path, times=[0.0, 0.5, 1.0, 1.99, 0.26, 2.0])
    index = np.round(out.mean(axis=(1, 2, 3)) * (n - 1)).astype(int)
    assert index.tolist() == [0, 6, 12, 23, 3, 23]  # frame k is shown from k/12 s; 2.0 s = the last frame
    for bad, match in [([3.0], "past the end"), ([], "non-empty"), ([-1.0], ">= 0"), ([np.nan], "finite")]:
        with pytest.raises(ParameterError, match=match):
            read_video_frames(path, times=bad)
    with pytest.raises(ParameterError, match="times="):
        read_video_frames(path, times=[0.0], fps=2)


def test_a_failing_frame_source_stops_ffmpeg_and_leaves_nothing(tmp_path):
    import time

    def frames():
        for i in range(3):
            yield np.full((32, 32, 3), i * 40, np.uint8)
        raise KeyboardInterrupt             # a cancel or Ctrl-C while frames are still coming

    with pytest.raises(KeyboardInterrupt):
        write_video(tmp_path / "v.mp4", frames(), fps=8)
    time.sleep(0.5)                          # a still-running ffmpeg would write its file by now
    assert list(tmp_path.iterdir()) == []
