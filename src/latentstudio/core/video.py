"""Video files in and out through the ffmpeg binary that imageio-ffmpeg ships.

Frames are ``(H, W, 3)`` float32 in [0, 1] (uint8 accepted on the way in); a clip is a sequence of
frames or an ``(N, H, W, 3)`` array. MP4s are H.264 (libx264, yuv420p, +faststart) with an optional
AAC audio track made from a numpy signal; GIFs loop forever. Every write is atomic.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latentstudio.core.audio import _check_path
from latentstudio.core.audio import load as load_audio
from latentstudio.core.audio import save as save_audio
from latentstudio.core.audio import valid_audio
from latentstudio.core.fileio import atomic_path
from latentstudio.core.image import MAX_SIDE, to_uint8, valid_image
from latentstudio.errors import ParameterError

#: what :func:`write_video` writes
WRITE_EXTENSIONS = (".mp4", ".gif")
#: what the readers accept (the bundled ffmpeg decodes them all)
VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".gif", ".mpg", ".mpeg", ".ogv")


def ffmpeg_exe() -> str:
    """Path of imageio-ffmpeg's bundled ffmpeg binary."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _check_fps(fps, name: str = "fps") -> float:
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.integer, np.floating)) \
            or not np.isfinite(fps) or not 0 < fps <= 1000:
        raise ParameterError(f"{name}={fps!r} must be a number of frames per second in (0, 1000]")
    return float(fps)


def _uint8_frames(frames) -> Iterator[np.ndarray]:
    """Validate frames one by one (same size, finite, 3 channels) and yield them as uint8."""
    if isinstance(frames, np.ndarray):
        if frames.ndim != 4:
            raise ParameterError(f"frames must be (N, H, W, 3) or a sequence of (H, W, 3) frames, "
                                 f"got an array of shape {frames.shape}")
    elif not isinstance(frames, Iterable) or isinstance(frames, (str, bytes)):
        raise ParameterError(f"frames must be an array or an iterable of frames, got {type(frames).__name__}")
    shape = None
    for i, frame in enumerate(frames):
        name = f"frames[{i}]"
        if isinstance(frame, np.ndarray) and frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3:
            out = frame
        else:
            out = to_uint8(valid_image(frame, name=name))
        if shape is None:
            shape = out.shape
            if max(shape[:2]) > MAX_SIDE:
                raise ParameterError(f"{name} is {shape[1]}x{shape[0]}, over the limit of {MAX_SIDE} px a side")
        elif out.shape != shape:
            raise ParameterError(f"{name} has shape {out.shape}, unlike frames[0] {shape}")
        yield np.ascontiguousarray(out)
    if shape is None:
        raise ParameterError("frames is empty (no frames to write)")


def _even(frame: np.ndarray) -> np.ndarray:
    """Pad to even width and height (yuv420p needs them) by repeating the last row/column."""
    h, w = frame.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return frame
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def write_video(path: str | os.PathLike, frames, *, fps: float = 24, audio: np.ndarray | None = None,
                sr: int | None = None, quality: float = 7) -> Path:
    """Write frames to an MP4 (H.264, optional audio track) or a looping GIF, atomically.

    Parameters
    ----------
    path : output file ending in ``.mp4`` or ``.gif``
    frames : ``(N, H, W, 3)`` array or an iterable of ``(H, W, 3)`` frames, float in [0, 1] or uint8;
        streamed to ffmpeg one at a time, so a generator of frames needs little memory. Odd sizes
        are padded by one pixel for H.264.
    fps : frames per second
    audio : optional ``(n,)`` or ``(channels, n)`` float signal muxed as AAC (MP4 only); padded
        with silence or cut to the video's length
    sr : the audio's sample rate in Hz (required with ``audio``)
    quality : 0 (smallest) to 10 (best); 7 is H.264 CRF 18, visually lossless

    Returns
    -------
    Path : ``path``

    Raises
    ------
    ParameterError : bad extension, empty or inconsistent frames, NaN values, bad audio/sr/fps

    Example
    -------
    >>> import numpy as np
    >>> frames = np.linspace(0, 1, 12)[:, None, None, None] * np.ones((12, 32, 48, 3))
    >>> write_video("fade.mp4", frames, fps=12)   # doctest: +SKIP
    """
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in WRITE_EXTENSIONS:
        raise ParameterError(f"output {str(p)!r}: unsupported video extension {p.suffix!r} (use .mp4 or .gif)")
    fps = _check_fps(fps)
    if isinstance(quality, bool) or not isinstance(quality, (int, float)) or not 0 <= quality <= 10:
        raise ParameterError(f"quality={quality!r} must be a number from 0 to 10")
    if audio is not None:
        if ext == ".gif":
            raise ParameterError(f"output {str(p)!r}: a GIF cannot carry audio; write .mp4")
        audio = valid_audio(audio, name="audio")
        if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
            raise ParameterError(f"sr={sr!r} must be a positive integer when audio is given")
    stream = _uint8_frames(frames)
    if ext == ".gif":
        return _write_gif(p, stream, fps=fps)
    return _write_mp4(p, stream, fps=fps, audio=audio, sr=sr, crf=int(round(38 - 2.8 * quality)))


def _write_gif(p: Path, stream: Iterator[np.ndarray], *, fps: float) -> Path:
    from PIL import Image

    images = [Image.fromarray(f).quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
              for f in stream]
    duration = max(20, int(round(1000.0 / fps / 10)) * 10)  # GIF delays are in 1/100 s; browsers clamp < 20 ms
    with atomic_path(p) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=duration, loop=0,
                       disposal=1, optimize=False)
    return p


def _encode_h264(target: Path, stream: Iterator[np.ndarray], *, fps: float, crf: int, label: Path) -> int:
    """Stream frames into an H.264 MP4 at ``target``; returns the number of frames written."""
    import imageio_ffmpeg

    first = _even(next(stream))
    h, w = first.shape[:2]
    params = ["-crf", str(crf), "-preset", "medium", "-movflags", "+faststart", "-f", "mp4"]
    writer = imageio_ffmpeg.write_frames(str(target), (w, h), fps=fps, codec="libx264", pix_fmt_out="yuv420p",
                                         quality=None, macro_block_size=1, ffmpeg_log_level="error",
                                         output_params=params)
    writer.send(None)
    n = 0
    try:
        for frame in _chain(first, stream):
            writer.send(_even(frame))
            n += 1
    except BaseException as exc:       # any failure, a cancel or Ctrl-C: stop ffmpeg before leaving
        try:
            writer.close()
        except Exception:   # noqa: BLE001 - the first error is the one to report
            pass
        if isinstance(exc, (OSError, RuntimeError)) and not isinstance(exc, ParameterError):
            raise ParameterError(f"output {str(label)!r}: ffmpeg failed ({exc})") from None
        raise
    try:
        writer.close()
    except (OSError, RuntimeError) as exc:
        raise ParameterError(f"output {str(label)!r}: ffmpeg failed ({exc})") from None
    return n


def _chain(first: np.ndarray, rest: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    yield first
    yield from rest


def _write_mp4(p: Path, stream: Iterator[np.ndarray], *, fps: float, audio: np.ndarray | None,
               sr: int | None, crf: int) -> Path:
    with atomic_path(p) as tmp:
        if audio is None:
            _encode_h264(tmp, stream, fps=fps, crf=crf, label=p)
            return p
        with tempfile.TemporaryDirectory(prefix="latentstudio-video-") as tmpdir:
            silent = Path(tmpdir) / "video.mp4"
            n_frames = _encode_h264(silent, stream, fps=fps, crf=crf, label=p)
            # the track lasts exactly as long as the video: cut, or pad with silence
            n = int(round(n_frames / fps * sr))
            track = audio[..., :n]
            if track.shape[-1] < n:
                pad = [(0, 0)] * (track.ndim - 1) + [(0, n - track.shape[-1])]
                track = np.pad(track, pad)
            wav = Path(tmpdir) / "track.wav"
            save_audio(wav, track, int(sr), subtype="PCM_24")
            proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y", "-i", str(silent),
                                   "-i", str(wav), "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac",
                                   "-b:a", "192k", "-movflags", "+faststart", "-f", "mp4", str(tmp)],
                                  capture_output=True, text=True, errors="replace", timeout=3600)
            if proc.returncode != 0:
                tail = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
                raise ParameterError(f"output {str(p)!r}: muxing the audio track failed ({tail})")
    return p


@dataclass
class VideoInfo:
    """What ffmpeg says about a video file."""

    width: int
    height: int
    fps: float
    duration: float  # seconds
    has_audio: bool


def _check_video_path(path) -> Path:
    p = _check_path(path, what="video file")
    if p.suffix.lower() not in VIDEO_EXTENSIONS:  # ffmpeg would happily "play" a .txt file as video
        raise ParameterError(f"video file {str(p)!r}: unsupported extension {p.suffix!r} "
                             f"(use one of {', '.join(VIDEO_EXTENSIONS)})")
    return p


def video_info(path: str | os.PathLike) -> VideoInfo:
    """Size, frame rate, duration and whether there is an audio track.

    Raises ParameterError for missing, empty or non-video files.
    """
    p = _check_video_path(path)
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(p)], capture_output=True,
                          text=True, errors="replace", timeout=60)
    err = proc.stderr
    video = re.search(r"Stream #\d+:\d+.*?: Video: .*?, (\d{1,6})x(\d{1,6})[,\s\[]", err)
    if video is None:
        errors = [ln.strip() for ln in err.splitlines()
                  if re.search(r"invalid|error|not found|no such|truncat|corrupt", ln, re.I)]
        reason = errors[-1] if errors else "no video stream in it"
        raise ParameterError(f"video file {str(p)!r} has no readable video stream ({reason})")
    rate = re.search(r"Stream #\d+:\d+.*?: Video: .*?([\d.]+) (?:fps|tbr)", err)
    dur = re.search(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", err)
    duration = (int(dur.group(1)) * 3600 + int(dur.group(2)) * 60 + float(dur.group(3))) if dur else 0.0
    return VideoInfo(width=int(video.group(1)), height=int(video.group(2)),
                     fps=float(rate.group(1)) if rate else 0.0, duration=duration,
                     has_audio=re.search(r"Stream #\d+:\d+.*?: Audio:", err) is not None)


def iter_video_frames(path: str | os.PathLike, *, fps: float | None = None, max_frames: int | None = None,
                      max_side: int = MAX_SIDE) -> Iterator[np.ndarray]:
    """Yield the frames of a video (MP4, MOV, MKV, WebM, GIF ...) as ``(H, W, 3)`` float32 in [0, 1].

    ``fps`` resamples the frame rate (ffmpeg's fps filter); ``max_frames`` stops early.
    """
    import imageio_ffmpeg

    p = _check_video_path(path)
    if fps is not None:
        fps = _check_fps(fps)
    if max_frames is not None and (isinstance(max_frames, bool) or not isinstance(max_frames, (int, np.integer))
                                   or max_frames < 1):
        raise ParameterError(f"max_frames={max_frames!r} must be a positive integer or None")
    info = video_info(p)
    if info.width == 0 or info.height == 0:
        raise ParameterError(f"video file {str(p)!r} has zero size ({info.width}x{info.height})")
    if max(info.width, info.height) > max_side:
        raise ParameterError(f"video file {str(p)!r} is {info.width}x{info.height}, over the limit of "
                             f"{max_side} px a side")
    output_params = ["-vf", f"fps={fps}"] if fps is not None else None
    reader = imageio_ffmpeg.read_frames(str(p), pix_fmt="rgb24", output_params=output_params)
    try:
        meta = next(reader)
        w, h = meta["size"]
        count = 0
        for buf in reader:
            if max_frames is not None and count >= max_frames:
                break
            frame = np.frombuffer(buf, dtype=np.uint8)
            if frame.size != w * h * 3:
                break  # a truncated last frame
            yield frame.reshape(h, w, 3).astype(np.float32) / 255.0
            count += 1
    except (OSError, RuntimeError, StopIteration, KeyError) as exc:
        raise ParameterError(f"video file {str(p)!r} cannot be decoded ({exc})") from None
    finally:
        reader.close()
    if count == 0:
        raise ParameterError(f"video file {str(p)!r} contains no decodable frames")
    expected = info.duration * (fps or info.fps)  # the container's duration may include a longer audio track,
    if (max_frames is None or count < max_frames) and count < 0.75 * expected - 1:  # hence the slack
        raise ParameterError(f"video file {str(p)!r} is truncated or corrupt: decoded {count} frames of the "
                             f"{expected:.0f} its {info.duration:.2f} s should hold")


def read_video_frames(path: str | os.PathLike, *, fps: float | None = None, max_frames: int | None = None,
                      times=None, max_side: int = MAX_SIDE) -> np.ndarray:
    """Frames of a video as an ``(N, H, W, 3)`` float32 array in [0, 1].

    Parameters
    ----------
    path : video file (anything the bundled ffmpeg decodes, GIF included; see ``VIDEO_EXTENSIONS``)
    fps : resample to this frame rate first (None = the file's own frames)
    max_frames : read at most this many frames
    times : instead of every frame, the frames shown at these times in seconds (one per time, in
        the order given; frame ``k`` is shown from ``k / fps`` to ``(k + 1) / fps``). Decoding stops
        after the last one needed.
    max_side : refuse videos wider or taller than this

    Raises
    ------
    ParameterError : missing, empty, truncated, non-video or oversized files; times outside the video

    Example
    -------
    >>> frames = read_video_frames("clip.mp4", fps=2, max_frames=16)   # doctest: +SKIP
    >>> frames.shape                                                   # doctest: +SKIP
    (16, 240, 320, 3)
    >>> read_video_frames("clip.mp4", times=[0.5, 1.5]).shape           # doctest: +SKIP
    (2, 240, 320, 3)
    """
    if times is None:
        return np.stack(list(iter_video_frames(path, fps=fps, max_frames=max_frames, max_side=max_side)))
    if fps is not None or max_frames is not None:
        raise ParameterError("times= picks frames itself; do not combine it with fps= or max_frames=")
    try:
        t = np.asarray(times, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ParameterError(f"times must be a sequence of seconds, got {type(times).__name__}") from None
    if t.size == 0 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ParameterError(f"times must be a non-empty list of finite seconds >= 0, got {t.tolist()[:8]}")
    info = video_info(path)
    if info.fps <= 0:
        raise ParameterError(f"video file {str(path)!r} reports no frame rate; pass fps= instead of times=")
    if info.duration > 0 and t.max() > info.duration + 1.0 / info.fps:
        raise ParameterError(f"times reach {t.max():.3f} s, past the end of video file {str(path)!r} "
                             f"({info.duration:.3f} s)")
    wanted = np.floor(t * info.fps + 1e-6).astype(np.int64)
    last_needed = int(wanted.max())
    keep = set(wanted.tolist())
    got: dict[int, np.ndarray] = {}
    frames = iter_video_frames(path, max_side=max_side)
    k = -1
    try:
        for k, frame in enumerate(frames):
            if k in keep or k == last_needed:
                got[k] = frame
            if k >= last_needed:
                break
            last = frame
    finally:
        frames.close()
    if k < 0:
        raise ParameterError(f"video file {str(path)!r} contains no decodable frames")
    if k < last_needed:  # the duration was rounded up: times in the last frame's span get the last frame
        got[k] = got.get(k, last)
    return np.stack([got[min(int(i), k)] for i in wanted])


def extract_audio(path: str | os.PathLike, *, sr: int, mono: bool = True,
                  max_seconds: float | None = None) -> tuple[np.ndarray, int]:
    """Decode a video's audio track with the bundled ffmpeg, resampled to ``sr``.

    Returns ``(y, sr)`` like :func:`latentstudio.core.audio.load` (``(n,)`` if mono else
    ``(channels, n)``, float32).

    Raises
    ------
    ParameterError : missing/non-video file, no audio track, bad ``sr``

    Example
    -------
    >>> y, sr = extract_audio("walk.mp4", sr=22050)   # doctest: +SKIP
    """
    p = _check_video_path(path)
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ParameterError(f"sr={sr!r} must be a positive integer")
    info = video_info(p)
    if not info.has_audio:
        raise ParameterError(f"video file {str(p)!r} has no audio track")
    with tempfile.TemporaryDirectory(prefix="latentstudio-audio-") as tmpdir:
        wav = Path(tmpdir) / "track.wav"
        proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(p), "-vn",
                               "-map", "0:a:0", "-ar", str(int(sr)), "-c:a", "pcm_f32le", "-f", "wav", str(wav)],
                              capture_output=True, text=True, errors="replace", timeout=600)
        if proc.returncode != 0 or not wav.exists() or wav.stat().st_size == 0:
            tail = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
            raise ParameterError(f"video file {str(p)!r}: audio track cannot be decoded ({tail})")
        try:
            y, out_sr = load_audio(wav, mono=mono, max_seconds=max_seconds)
        except ParameterError as exc:
            raise ParameterError(f"video file {str(p)!r}: audio track unusable ({exc})") from None
    seconds = y.shape[-1] / out_sr
    if seconds < 0.75 * info.duration - 0.1:
        raise ParameterError(f"video file {str(p)!r} is truncated or corrupt: decoded {seconds:.2f} s of audio "
                             f"of its {info.duration:.2f} s")
    return y, out_sr


def camera_devices() -> list[str]:
    """The V4L2 camera devices present (``/dev/video*``), in numeric order; empty off Linux or without cameras.

    Example
    -------
    >>> camera_devices()   # doctest: +SKIP
    ['/dev/video0', '/dev/video1']
    """
    import glob

    def key(path: str):
        digits = re.search(r"(\d+)$", path)
        return (int(digits.group(1)) if digits else -1, path)

    return sorted(glob.glob("/dev/video*"), key=key)


def iter_camera_frames(device: str | os.PathLike = "/dev/video0", *, size: tuple[int, int] | None = None,
                       fps: float | None = None, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """Yield live frames of a V4L2 camera (Linux) as ``(H, W, 3)`` float32 RGB in [0, 1], through ffmpeg.

    The device is checked when this is called, so a bad one fails before a loop starts; ffmpeg opens it
    on the first frame. Stop early with ``max_frames`` or by closing the generator (``break`` does):
    ffmpeg is then stopped.

    Parameters
    ----------
    device : camera device, e.g. ``/dev/video0`` (see :func:`camera_devices`)
    size : ``(width, height)`` to scale frames to (ffmpeg's scaler); None = the camera's own size
    fps : deliver this many frames per second (ffmpeg's fps filter drops or repeats frames); None = the
        camera's rate
    max_frames : stop after this many frames; None = until the generator is closed

    Raises
    ------
    ParameterError : not Linux; a device that does not exist or is not a character device; a device
        ffmpeg cannot open as a camera (the message holds ffmpeg's reason); bad ``size``/``fps``/``max_frames``

    Example
    -------
    >>> for frame in iter_camera_frames("/dev/video0", size=(256, 256), max_frames=100):   # doctest: +SKIP
    ...     pass
    """
    import stat
    import sys

    if not isinstance(device, (str, os.PathLike)):
        raise ParameterError(f"camera device must be a path like '/dev/video0', got {type(device).__name__}")
    dev = os.fspath(device)
    if not sys.platform.startswith("linux"):
        raise ParameterError(f"camera device {dev!r}: reading cameras needs Linux (V4L2); "
                             f"on {sys.platform}, record a video and re-see that")
    if not os.path.exists(dev):
        found = ", ".join(camera_devices()) or "none"
        raise ParameterError(f"camera device {dev!r} does not exist (cameras found: {found})")
    if not stat.S_ISCHR(os.stat(dev).st_mode):
        raise ParameterError(f"camera device {dev!r} is not a video device (a V4L2 character device such as "
                             f"/dev/video0)")
    if size is not None and not (isinstance(size, (tuple, list)) and len(size) == 2 and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 0 < v <= MAX_SIDE for v in size)):
        raise ParameterError(f"size={size!r} must be a (width, height) pair of positive integers up to {MAX_SIDE}")
    if fps is not None:
        fps = _check_fps(fps)
    if max_frames is not None and (isinstance(max_frames, bool) or not isinstance(max_frames, (int, np.integer))
                                   or max_frames < 1):
        raise ParameterError(f"max_frames={max_frames!r} must be a positive integer or None")
    filters = ([f"fps={fps}"] if fps is not None else []) + ([f"scale={size[0]}:{size[1]}"] if size else [])
    return _iter_ffmpeg_source(dev, ["-f", "v4l2"], ["-vf", ",".join(filters)] if filters else [],
                               label=f"camera device {dev!r}", max_frames=max_frames)


def _iter_ffmpeg_source(source: str, input_params: list[str], output_params: list[str], *, label: str,
                        max_frames: int | None) -> Iterator[np.ndarray]:
    """Frames of a live ffmpeg input (a camera; a lavfi test source in the tests) as float32 RGB."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(source, pix_fmt="rgb24", input_params=input_params,
                                        output_params=output_params)
    try:
        try:
            meta = next(reader)
        except (OSError, RuntimeError, StopIteration, KeyError, AttributeError, ValueError) as exc:
            lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip() and not ln.startswith("===")]
            reasons = [ln for ln in lines if re.search(r"error|cannot|could not|no such|denied|busy|invalid|"
                                                       r"inappropriate|not supported", ln, re.I)]
            reason = (reasons or lines or ["ffmpeg gave no reason"])[-1]
            raise ParameterError(f"{label} cannot be opened ({reason})") from None
        w, h = meta["size"]
        count = 0
        while max_frames is None or count < max_frames:
            try:
                buf = next(reader)
            except StopIteration:
                return
            except (OSError, RuntimeError) as exc:
                raise ParameterError(f"{label} stopped delivering frames ({str(exc).splitlines()[0]})") from None
            if len(buf) != w * h * 3:
                return
            yield np.frombuffer(buf, dtype=np.uint8).reshape(h, w, 3).astype(np.float32) / 255.0
            count += 1
    finally:
        reader.close()


__all__ = ["write_video", "read_video_frames", "iter_video_frames", "extract_audio", "video_info", "VideoInfo",
           "ffmpeg_exe", "camera_devices", "iter_camera_frames", "VIDEO_EXTENSIONS", "WRITE_EXTENSIONS"]
