"""Learning to See end to end: train on a world, re-see pictures, videos and cameras, check for memorisation.

* :func:`train_run` — load a world (built-in name or folder) and train a generator on it
  (:func:`.training.train_seeing`), recording the command that reproduces it
* :func:`see_run` — re-see a picture, a folder of pictures, a video (its sound kept) or a camera
  (``/dev/video0``) with one or more models (``switch_every`` cycles them: the swap dissolves through the
  temporal smoothing)
* :func:`check_run` — the memorisation check (:func:`.check.check_model`) with a contact sheet

Example
-------
>>> from latentstudio.seeing.pipeline import train_run
>>> run = train_run("flowers", "models/flowers", steps=1500, seed=0)                 # doctest: +SKIP
"""

from __future__ import annotations

import os
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from latentstudio.core import image as imageio
from latentstudio.core.fileio import check_suffix
from latentstudio.errors import ParameterError
from latentstudio.seeing.degrade import Degradation
from latentstudio.seeing.training import SeeingTrainResult, train_seeing
from latentstudio.seeing.worlds import load_world


@dataclass
class TrainRun:
    """A finished training run: the result and the command that reproduces it."""

    result: SeeingTrainResult
    command: str

    def summary(self) -> dict:
        r = self.result
        return {"model": str(r.model_dir), "steps": r.steps, "seconds": round(r.seconds, 1), "losses": r.losses,
                "validation": r.validation, "samples": [str(p) for p in r.samples], "world": r.world,
                "command": self.command}


def train_run(world: str | os.PathLike, output: str | os.PathLike, *, short_side: int = 512,
              area_factor: float = 24.0, seed: int = 0, command: str = "latentstudio seeing train",
              **train_kwargs) -> TrainRun:
    """Load ``world`` (:func:`.worlds.load_world`) and train on it (:func:`.training.train_seeing` keyword
    arguments pass through); the model's config records the command line that reproduces it."""
    data = load_world(world, short_side=short_side)
    shown = {k: v for k, v in train_kwargs.items() if k not in ("progress", "meta") and v is not None}
    argv = [command, os.fspath(world), "-o", os.fspath(output), "--seed", str(seed),
            "--short-side", str(short_side), "--area-factor", f"{area_factor:g}"]
    flags = {"guide_names": "guide-classes"}
    for k, v in shown.items():
        flag = "--" + flags.get(k, k.replace("_", "-"))
        argv.append(f"{flag} {shlex.quote(','.join(v))}" if isinstance(v, (list, tuple)) else f"{flag} {v}")
    line = " ".join(argv)
    result = train_seeing(data, output, seed=seed, degradation=Degradation(area_factor=area_factor),
                          meta={"command": line}, **train_kwargs)
    return TrainRun(result=result, command=line)


VIDEO_SUFFIXES = (".mp4", ".gif")


@dataclass
class SeeRun:
    """What :func:`see_run` wrote."""

    outputs: list[Path]
    frames: int
    seconds: float
    fps_processed: float
    models: list[str]
    kind: str
    flicker: float | None = None
    params: dict = field(default_factory=dict)
    failed: list = field(default_factory=list)          # (picture, reason) of a folder's unreadable pictures

    def summary(self) -> dict:
        return {"outputs": [str(p) for p in self.outputs], "frames": self.frames, "seconds": round(self.seconds, 2),
                "fps_processed": round(self.fps_processed, 2), "models": self.models, "kind": self.kind,
                "flicker": self.flicker, "params": self.params,
                "failed": [{"path": p, "reason": r} for p, r in self.failed]}


class SeePicture:
    """The batch job of a folder run (see :func:`latentstudio.catalog.batch.map_items`): ``[i, picture path]``
    in, the re-seen picture (uint8) out. The models load once per worker, from their folders."""

    item_errors = (ParameterError, OSError)

    def __init__(self, model_dirs: list[str], *, size, pre, post, smooth, flow, fast, side_by_side, switch,
                 loaded=None) -> None:
        self.model_dirs = list(model_dirs)
        self.options = {"size": size, "pre": pre, "post": post, "smooth": smooth, "flow": flow, "fast": fast}
        self.side_by_side, self.switch = side_by_side, switch
        self.loaded = loaded            # models already loaded in this process (never sent to a worker)
        self.seer = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "loaded": None, "seer": None}

    def setup(self, device: str) -> None:
        from latentstudio.seeing.see import Seer

        self.seer = Seer(self.loaded or load_models(self.model_dirs), **self.options)

    def __call__(self, item) -> np.ndarray:
        i, path = item
        self.seer.reset()
        self.seer.switch(i % len(self.model_dirs) if self.switch else 0)
        frame = imageio.load(path)
        seen = self.seer(frame)
        return imageio.to_uint8(beside(frame, seen, self.options["pre"]) if self.side_by_side else seen)


def beside(frame: np.ndarray, seen: np.ndarray, pre: str) -> np.ndarray:
    """The (pre-filtered) input to the left of what the network made of it (``--side-by-side``)."""
    from latentstudio.core import filters as imfilters

    return np.concatenate([imfilters.apply_filter(np.asarray(frame, np.float32), pre), seen], axis=1)


def load_models(models: list[str | os.PathLike] | str | os.PathLike):
    """Load one or several model folders (:func:`.training.load_seer_model`)."""
    from latentstudio.seeing.training import load_seer_model

    paths = [models] if isinstance(models, (str, os.PathLike)) else list(models)
    if not paths:
        raise ParameterError("give at least one model folder")
    return [load_seer_model(p) for p in paths]


def _is_camera(source: str) -> bool:
    return source.startswith("/dev/video") or source.startswith("camera")


def see_run(models, source: str | os.PathLike, output: str | os.PathLike, *, size: int | None = 256,
            pre: str = "none", post: str = "none", smooth: float | None = None, flow: bool = False,
            fast: bool = True, switch_every: float | None = None, fps: float | None = None,
            max_frames: int | None = None, seconds: float | None = None, side_by_side: bool = False,
            progress: Callable[[int, int | None], None] | None = None, workers: int = 1,
            cluster: str | None = None, on_output: Callable[[Path, dict], None] | None = None) -> SeeRun:
    """Re-see ``source`` as the world of ``models`` and write ``output``.

    Parameters
    ----------
    models : model folder(s) or loaded models; several = swapped every ``switch_every`` seconds of video
    source : a picture, a folder of pictures (``output`` is then a folder), a video, or a camera
        (``/dev/video0``; ``camera`` = the first one)
    output : picture (.png/.jpg), folder, or video (.mp4/.gif; a source video's sound is kept)
    size : shorter side the network works at (None: the source's own)
    pre, post, smooth, flow, fast : see :class:`.see.Seer` (``smooth`` defaults to 0.6 for video and camera,
        0 for pictures)
    fps, max_frames, seconds : frame rate to read a video or camera at, and where to stop (a camera needs
        ``max_frames`` or ``seconds``)
    side_by_side : write the (pre-filtered) input beside the output
    workers, cluster : for a folder, where the pictures are re-seen: ``workers`` local processes (1: this
        process) or a Ray cluster (see :func:`latentstudio.catalog.batch.map_items`; the model folders must be
        readable there). Each picture is written as soon as it is done and ``on_output(path, params)`` called;
        unreadable pictures are listed in ``failed``

    Raises
    ------
    ParameterError : bad source or output, or a camera run with no length
    """
    from latentstudio.core import video
    from latentstudio.seeing.see import Seer
    from latentstudio.seeing.temporal import flicker as flicker_of
    from latentstudio.seeing.training import SeerModel

    if smooth is not None and (isinstance(smooth, bool) or not isinstance(smooth, (int, float))
                               or not 0 <= smooth < 1):
        raise ParameterError(f"smooth={smooth!r} must be in [0, 1)")
    fps = fps or None                     # 0: the source's own rate; switch_every 0: no switching
    switch_every = switch_every or None
    for name, value in (("seconds", seconds), ("fps", fps), ("switch_every", switch_every)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not (np.isfinite(value) and value > 0)):
            raise ParameterError(f"{name}={value!r} must be a positive number of seconds" if name != "fps"
                                 else f"fps={value!r} must be a positive frame rate")   # NaN reached int()
    loaded = models if isinstance(models, list) and models and isinstance(models[0], SeerModel) else load_models(models)
    src = os.fspath(source)
    out = Path(output)
    t0 = time.perf_counter()
    params = {"size": size, "pre": pre, "post": post, "smooth": smooth, "flow": flow, "fast": fast,
              "switch_every": switch_every, "source": src}
    names = [str(m.path) for m in loaded]

    def pair(frame, seen):
        return beside(frame, seen, pre) if side_by_side else seen

    if not _is_camera(src) and Path(src).is_dir():
        from latentstudio.catalog.batch import map_items

        files = sorted(p for p in Path(src).iterdir() if p.suffix.lower() in imageio.IMAGE_EXTENSIONS)
        if not files:
            raise ParameterError(f"source folder {src!r} holds no pictures")
        job = SeePicture(names, size=size, pre=pre, post=post, smooth=smooth or 0.0, flow=flow, fast=fast,
                         side_by_side=side_by_side, switch=bool(switch_every), loaded=loaded)
        written, failed = [], []
        for o in map_items(job, [[i, str(f)] for i, f in enumerate(files)], workers=workers, cluster=cluster):
            if progress:
                progress(o.index + 1, len(files))
            if not o.ok:
                failed.append((o.item[1], o.error))
                continue
            # atomic, as each one is done; the folder is made by the first picture written (none: no folder)
            path = imageio.save(out / f"{files[o.index].stem}.png", o.value)
            written.append(path)
            if on_output is not None:
                on_output(path, params)
        if not written:
            raise ParameterError(f"source folder {src!r}: none of its {len(files)} pictures could be read "
                                 f"({failed[0][1]})")
        dt = time.perf_counter() - t0
        return SeeRun(written, len(written), dt, len(written) / dt, names, "folder", params=params, failed=failed)
    if not _is_camera(src) and Path(src).suffix.lower() in imageio.IMAGE_EXTENSIONS:
        check_suffix(out, (".png", ".jpg", ".jpeg"), "output")
        seer = Seer(loaded, size=size, pre=pre, post=post, smooth=0.0, flow=False, fast=fast)
        frame = imageio.load(src)
        written = [imageio.save(out, pair(frame, seer(frame)))]
        dt = time.perf_counter() - t0
        return SeeRun(written, 1, dt, 1 / dt, names, "picture", params=params)

    # video or camera
    check_suffix(out, VIDEO_SUFFIXES, "output")
    smooth = 0.6 if smooth is None else smooth
    params["smooth"] = smooth
    seer = Seer(loaded, size=size, pre=pre, post=post, smooth=smooth, flow=flow, fast=fast)
    audio = sr = None
    if _is_camera(src):
        if max_frames is None and seconds is None:
            raise ParameterError("a camera run needs --max-frames or --seconds")
        if src == "camera":
            found = video.camera_devices()
            if not found:
                raise ParameterError("source 'camera': no camera found (/dev/video*)")
            src = found[0]
        device = src
        rate = fps or 24.0
        limit = max_frames if max_frames is not None else max(1, round(seconds * rate))
        frames_in = video.iter_camera_frames(device, fps=rate, max_frames=limit)
        kind, total = "camera", limit
    else:
        info = video.video_info(src)
        rate = fps or info.fps or 24.0
        limit = max_frames
        if seconds is not None:
            limit = min(limit or 10 ** 9, max(1, round(seconds * rate)))
        frames_in = video.iter_video_frames(src, fps=fps, max_frames=limit)
        total = limit or max(1, round(info.duration * rate))
        kind = "video"
        if info.has_audio and out.suffix.lower() == ".mp4":
            audio, sr = video.extract_audio(src, sr=44100, mono=False,
                                            max_seconds=(limit / rate) if limit else None)
    count = 0
    trace: list[np.ndarray] = []

    def frames():
        nonlocal count
        for frame in frames_in:
            if switch_every and len(loaded) > 1:
                seer.switch(int(count / rate // switch_every) % len(loaded))
            seen = seer(frame)
            if len(trace) < 240:
                trace.append(seen[::8, ::8].copy())
            count += 1
            if progress:
                progress(count, total)
            yield pair(frame, seen)

    video.write_video(out, frames(), fps=rate, audio=audio, sr=sr)
    dt = time.perf_counter() - t0
    return SeeRun([out], count, dt, count / dt if dt > 0 else 0.0, names, kind,
                  flicker=float(flicker_of(trace)) if len(trace) > 1 else None, params=params)


@dataclass
class CheckRun:
    """A memorisation check and its contact sheet (inputs over outputs)."""

    report: object
    sheet: Path | None

    def summary(self) -> dict:
        return {**self.report.summary(), "sheet": str(self.sheet) if self.sheet else None}


def check_run(model, *, inputs: str | os.PathLike | None = None, world: str | os.PathLike | None = None,
              size: int = 256, bank: int = 256, seed: int = 0, sheet: str | os.PathLike | None = None) -> CheckRun:
    """Run :func:`.check.check_model` on ``inputs`` (a folder of pictures; default: the unrelated sample
    photographs, faces and clip art of :func:`.worlds.unrelated_inputs`) and draw a contact sheet."""
    from latentstudio.seeing.check import check_model
    from latentstudio.seeing.worlds import load_world, unrelated_inputs

    loaded = load_models(model)[0]
    if inputs is None:
        pictures = unrelated_inputs(size=size, seed=seed)
    else:
        folder = Path(inputs)
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in imageio.IMAGE_EXTENSIONS) \
            if folder.is_dir() else []
        if not files:
            raise ParameterError(f"inputs {str(folder)!r} must be a folder of pictures")
        pictures = [(f.stem, imageio.center_crop(imageio.load(f, size=size), size)) for f in files]
    photos = None
    if world is not None:
        w = load_world(world)
        photos = (w.train, w.validation)
    report = check_model(loaded, pictures, size=size, bank=bank, seed=seed, world_photos=photos)
    path = None
    if sheet is not None:
        cols = min(8, len(pictures))
        rows = []
        for start in range(0, len(pictures), cols):
            ins = [a for _, a in pictures[start:start + cols]]
            outs = list(report.outputs[start:start + cols])
            pad = cols - len(ins)
            blank = [np.ones((size, size, 3), np.float32)] * pad
            rows += [np.concatenate(ins + blank, axis=1), np.concatenate(outs + blank, axis=1)]
        path = imageio.save(sheet, np.concatenate(rows, axis=0))
    return CheckRun(report=report, sheet=path)
