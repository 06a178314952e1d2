"""Latent Pulsations and Latent Landscapes end to end, each run returning a dataclass; the CLI and the web
only parse, call, save and show.

* :func:`train_run` -> :class:`~latentstudio.latent.training.VAERun`: load a labelled source, train a VAE,
  film its latent space (snapshots), save the model with the command that reproduces it;
* :func:`pulsations_run` -> :class:`Pulsations`: the training film as an MP4 whose dots pulse on the beats of a
  track found by the project's own tracker (optionally time-stretched so a beat lasts whole frames), the
  audio muxed in;
* :func:`landscape_run` -> :class:`~latentstudio.latent.landscape.Landscape`: the decoder's magnification
  map, its cartogram and the velocity field of its diffusion, as print-ready PNGs.

Example
-------
>>> run = train_run("fortunes", "out/vae", steps=800, seed=0)                  # doctest: +SKIP
>>> pulsations_run("out/vae", "pulse.mp4", music="track.wav", fit_fps=True)     # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from latentstudio.core.fileio import check_suffix
from latentstudio.errors import ParameterError
from latentstudio.latent.pulsations import PulseStyle, fit_tempo, iter_frames, plan_pulsations, pulse_alignment
from latentstudio.latent.training import SNAPSHOTS, VAERun, load_film, train_vae

VIDEO_SUFFIXES = (".mp4", ".gif")
Progress = Callable[[int, int], None]


def train_run(source: str | os.PathLike, output: str | os.PathLike, *, max_items: int | None = None,
              max_classes: int | None = 12, text_column: str | None = None, label_column: str | None = None,
              image_size: int = 32, seed: int = 0, command: str = "latentstudio latent train",
              **train_kwargs) -> VAERun:
    """Load ``source`` (:func:`~latentstudio.latent.data.load_data`) and train a VAE on it
    (:func:`~latentstudio.latent.training.train_vae` keyword arguments pass through)."""
    from latentstudio.latent.data import load_data

    data = load_data(source, max_items=max_items, max_classes=max_classes, seed=seed, text_column=text_column,
                     label_column=label_column, image_size=image_size)
    params = {"source": str(source), "max_items": max_items, "max_classes": max_classes,
              **{k: v for k, v in train_kwargs.items() if k not in ("progress", "checkpoint_dir")}}
    argv = [command, str(source), "-o", str(output), "--seed", str(seed)]
    argv += [f"--{k.replace('_', '-')} {v}" for k, v in params.items() if k != "source" and v is not None]
    meta = {"command": " ".join(argv), "data_info": data.info,
            "split_counts": {s: int((data.split == s).sum()) for s in ("train", "validation", "test")}}
    return train_vae(data, output, seed=seed, meta=meta, **train_kwargs)


@dataclass
class Pulsations:
    """A rendered pulsation film."""

    output: Path
    frames: int
    fps: float
    seconds: float
    points: int
    bpm: float | None = None
    bpm_played: float | None = None
    beats: int = 0
    max_peak_offset_frames: float | None = None
    render_fps: float = 0.0
    silhouette: dict = field(default_factory=dict)

    def summary(self) -> dict:
        return {"output": str(self.output), "frames": self.frames, "fps": self.fps, "seconds": round(self.seconds, 2),
                "points": self.points, "bpm": self.bpm, "bpm_played": self.bpm_played, "beats": self.beats,
                "max_peak_offset_frames": self.max_peak_offset_frames, "render_fps": round(self.render_fps, 2),
                "silhouette": self.silhouette}


def track_music(path: str | os.PathLike, *, sr: int = 44100, backend: str = "auto",
                max_seconds: float | None = 900.0):
    """Audio (mono, ``sr``) and its beats by the project's tracker (:func:`latentstudio.dj.beatnet.track_beats`)."""
    from latentstudio.core.audio import is_silent, load
    from latentstudio.dj.beatnet import track_beats

    y, sr = load(path, sr=sr, mono=True, max_seconds=max_seconds)
    if y.size == 0 or is_silent(y):
        raise ParameterError(f"music {str(path)!r} is silent; give a track with beats")
    return y, sr, track_beats(y, sr=sr, backend=backend)


def pulsations_run(model: str | os.PathLike, output: str | os.PathLike, *, music: str | os.PathLike | None = None,
                   seconds: float | None = None, fps: float = 24.0, bpm: float = 120.0, fit_fps: bool = False,
                   target_bpm: float | None = None, backend: str = "auto", style: PulseStyle | None = None,
                   seed: int = 0, quality: float = 7, progress: Progress | None = None,
                   train_steps: int = 3000, train_progress=None,
                   command: str = "latentstudio latent pulsations") -> Pulsations:
    """Render a trained model's film (``model``: a :func:`train_run` folder) to ``output`` (.mp4 or .gif).

    ``model`` may also name data (a source of :func:`~latentstudio.latent.data.load_data`): a VAE is then
    trained on it first (``train_steps``, ``seed``) into ``OUTPUT_STEM.vae/`` beside the video.

    Parameters
    ----------
    music : a track whose beats drive the pulses (and is muxed in); None pulses on a ``bpm`` metronome
    seconds : film length (default: the track's, or 20 s without one)
    fps : frames per second
    fit_fps : time-stretch the track so a beat lasts a whole number of frames (the original: 172 -> 160 bpm
        at 24 fps); ``target_bpm`` chooses the tempo yourself
    backend : beat tracker (``auto``/``net``/``flux``/``madmom``)
    style : frame size, dots, pulses, camera (:class:`~latentstudio.latent.pulsations.PulseStyle`)
    seed : the pulses' noise

    Raises
    ------
    ParameterError : bad paths or parameters, silent music, a folder without a film
    """
    from latentstudio.core.video import write_video
    from latentstudio.provenance import write_sidecar

    output = check_suffix(output, VIDEO_SUFFIXES, "output")
    if not (np.isfinite(fps) and 1 <= fps <= 120):
        raise ParameterError(f"fps={fps} must be within 1..120")
    if seconds is not None and not (np.isfinite(seconds) and 0 < seconds <= 3600):
        raise ParameterError(f"seconds={seconds} must be within 0..3600")
    if style is not None:
        style.validate()               # before any training or tracking (a bad frame size came after them)
    audio, sr, tracked_bpm, played_bpm = None, None, None, None
    downbeats = None
    if music is not None:
        audio, sr, res = track_music(music, backend=backend)
        tracked_bpm = float(res.bpm)
        beats, downbeats = np.asarray(res.beats, dtype=np.float64), np.asarray(res.downbeats, dtype=np.float64)
        played_bpm = tracked_bpm
        if (fit_fps or target_bpm) and tracked_bpm > 0:
            from latentstudio.core.stretch import time_stretch

            played_bpm = float(target_bpm) if target_bpm else fit_tempo(tracked_bpm, fps)
            rate = played_bpm / tracked_bpm
            audio = time_stretch(audio, sr=sr, rate=rate)
            beats, downbeats = beats / rate, downbeats / rate
        length = audio.shape[-1] / sr
        seconds = min(seconds, length) if seconds else length
    else:
        if not (np.isfinite(bpm) and 20 <= bpm <= 400):
            raise ParameterError(f"bpm={bpm} must be within 20..400")
        seconds = seconds or 20.0
        beats = np.arange(0.0, seconds, 60.0 / bpm)
        downbeats = beats[::4]
    if audio is not None:
        audio = audio[: int(round(seconds * sr))]
    p = Path(model)
    if not (p / SNAPSHOTS).is_file() and not (p.is_dir() and (p / "config.json").exists()):
        folder = output.with_name(output.stem + ".vae")
        train_run(model, folder, steps=train_steps, seed=seed, progress=train_progress)
        model = folder
    film = load_film(model)
    plan = plan_pulsations(film, seconds=seconds, fps=fps, beats=beats, downbeats=downbeats, style=style, seed=seed)
    offsets = pulse_alignment(plan, beats[beats < seconds])
    t0 = time.perf_counter()

    def frames():
        for i, frame in enumerate(iter_frames(film, plan, seed=seed)):
            if progress is not None:
                progress(i + 1, plan.frames)
            yield frame

    write_video(output, frames(), fps=fps, audio=audio, sr=sr, quality=quality)
    elapsed = time.perf_counter() - t0
    st = plan.style
    result = Pulsations(output, plan.frames, fps, seconds, int(film.snapshots.shape[1]), tracked_bpm, played_bpm,
                        int(np.sum(beats < seconds)), float(offsets.max()) if offsets.size else None,
                        plan.frames / max(elapsed, 1e-9), dict(film.meta.get("silhouette", {})))
    write_sidecar(output, command=command, seed=seed, models=[str(model)],
                  params={"model": str(model), "music": str(music) if music else None, "fps": fps,
                          "seconds": seconds, "fit_fps": fit_fps, "target_bpm": target_bpm, "backend": backend,
                          "width": st.width, "height": st.height, "pulse": st.pulse},
                  **{k: v for k, v in result.summary().items() if k != "output"})
    return result


@dataclass
class LandscapeFiles:
    """A rendered landscape: the map, its cartogram and flow pictures, the raw measure, the figures."""

    output: Path
    cartogram: Path | None
    flow: Path | None
    values: Path
    summary: dict


def load_latent_model(model: str | os.PathLike):
    """A model with a latent for the cartographer: a latent VAE folder, ``"beatbox-rhythm"`` (the shipped rhythm
    VAE), or any project checkpoint whose module has a ``latent_dim``. Returns ``(model, film or None)``."""
    if str(model) == "beatbox-rhythm":
        from latentstudio.beatbox.rhythm_vae import load_rhythm_vae

        return load_rhythm_vae(), None
    from latentstudio.zoo.checkpoint import load_checkpoint

    p = Path(model)
    if not p.exists():
        raise ParameterError(f"model {str(p)!r} does not exist (a folder from `latentstudio latent train`, or "
                             "'beatbox-rhythm')")
    net, _ = load_checkpoint(p)
    film = None
    try:
        film = load_film(p)
    except ParameterError:
        pass
    return net, film


def landscape_run(model: str | os.PathLike, output: str | os.PathLike, *, measure: str = "magnification",
                  resolution: int = 512, bounds: tuple[float, float, float, float] | None = None,
                  cartogram: bool = True, flow: bool = True, colormap: str = "magma", cells: int = 128,
                  points: bool = True, seed: int = 0, command: str = "latentstudio latent landscape"
                  ) -> LandscapeFiles:
    """Map a model's latent plane (``output`` .png), its cartogram (``NAME.cartogram.png``), the velocity field
    of its diffusion (``NAME.flow.png``) and the raw measure (``NAME.npz``), each with a provenance sidecar.

    Bounds default to the data's final embeddings (a latent VAE folder) or +-3 (the prior's bulk).

    Raises
    ------
    ParameterError : bad paths, measure or resolution
    """
    from latentstudio.core.image import save as save_image
    from latentstudio.core.fileio import atomic_path
    from latentstudio.latent.landscape import (add_cartogram, compute_landscape, decoder_map, fit_bounds,
                                               render_cartogram, render_flow, render_map)
    from latentstudio.provenance import write_sidecar

    output = check_suffix(output, (".png",), "output")
    if not isinstance(resolution, int) or not 16 <= resolution <= 4096:
        raise ParameterError(f"resolution={resolution!r} must be an integer in 16..4096")
    if isinstance(cells, bool) or not isinstance(cells, int) or not 2 <= cells <= 4096:
        raise ParameterError(f"cells={cells!r} must be an integer in 2..4096")      # 0 divided by zero
    net, film = load_latent_model(model)
    f, d = decoder_map(net)
    pts = labels = None
    if film is not None and film.snapshots.shape[2] == 2:
        pts = np.asarray(film.snapshots[-1], dtype=np.float32)
        labels = np.asarray(film.labels)
    if bounds is None:
        bounds = fit_bounds(pts) if pts is not None else (-3.0, 3.0, -3.0, 3.0)
    land = compute_landscape(f, latent_dim=d, bounds=bounds, resolution=resolution, measure=measure)
    land.points, land.labels = pts, labels
    images = {output: render_map(land, colormap=colormap, points=False)}
    stem = output.with_suffix("")
    carto_path = flow_path = None
    if cartogram:
        add_cartogram(land, cells=cells)
        carto_path = stem.with_name(stem.name + ".cartogram.png")
        images[carto_path] = render_cartogram(land, colormap=colormap, points=points)
    if flow:
        flow_path = stem.with_name(stem.name + ".flow.png")
        images[flow_path] = render_flow(land, colormap=colormap, seed=seed)
    values = stem.with_name(stem.name + ".npz")
    with atomic_path(values) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, values=land.values, bounds=np.asarray(land.bounds), measure=land.measure)
    summary = {**land.summary(), "model": str(model), "latent_dim": d}
    params = {"model": str(model), "measure": measure, "resolution": resolution, "bounds": list(land.bounds),
              "cartogram": cartogram, "flow": flow, "colormap": colormap, "cells": cells}
    for path, img in images.items():
        save_image(path, img)
        write_sidecar(path, command=command, params=params, seed=seed, models=[str(model)], summary=summary)
    write_sidecar(values, command=command, params=params, seed=seed, models=[str(model)], summary=summary)
    return LandscapeFiles(output, carto_path, flow_path, values, summary)
