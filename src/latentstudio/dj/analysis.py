"""Track analysis for the DJ: tempo, beats, downbeats, key, loudness, energy, cue points, embedding.

:func:`analyze_audio` works on an array; :func:`analyze_file` on a file; :func:`analyze_library` on a
folder, in parallel processes, with results cached in the catalog by content hash, skipping (and
reporting) files that cannot be read or hold only silence.

An analysis is a plain dict (JSON-ready; arrays as lists) so it can be cached, written into a mix plan
and read back:

``path, duration, sr, channels, bpm, beats, downbeats, beats_per_bar, key, camelot, key_confidence,
lufs, energy (dB per 0.5 s), energy_hop, intro_end, outro_start, cue_in, cue_out, embedding, backend``

Example
-------
>>> from latentstudio.dj.analysis import analyze_file
>>> a = analyze_file("track.wav")                                  # doctest: +SKIP
>>> a["bpm"], a["camelot"], a["cue_in"]                            # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from latentstudio.errors import LatentStudioError, ParameterError

ANALYSIS_VERSION = 1
ENERGY_HOP = 0.5
_EMBED_BANDS = 16


def _regular_grid(beats: np.ndarray) -> np.ndarray:
    """Beat times with tracking jitter removed: a straight line when the tempo is steady, else a local fit."""
    b = np.asarray(beats, dtype=np.float64)
    if len(b) < 4:
        return b
    k = np.arange(len(b))
    A = np.vstack([k, np.ones_like(k)]).T
    coef, *_ = np.linalg.lstsq(A, b, rcond=None)
    fit = A @ coef
    if np.max(np.abs(fit - b)) < 0.02:
        return fit
    out = b.copy()
    w = 4
    for i in range(len(b)):
        lo, hi = max(0, i - w), min(len(b), i + w + 1)
        c, *_ = np.linalg.lstsq(A[lo:hi], b[lo:hi], rcond=None)
        out[i] = A[i] @ c
    return out


def embedding(S: np.ndarray, C: np.ndarray, *, bpm: float, onset_rate: float) -> np.ndarray:
    """A deterministic similarity vector: timbre (band means/stds of the log-mel), harmony (chroma), tempo."""
    S = np.asarray(S, dtype=np.float64)
    S = S - S.max()
    bands = np.array_split(S, _EMBED_BANDS, axis=0)
    mu = np.array([b.mean() for b in bands]) / 20.0
    sd = np.array([b.std() for b in bands]) / 10.0
    c = C.mean(axis=1)
    c = c / (np.linalg.norm(c) + 1e-9)
    tempo = np.array([np.log2(max(bpm, 1.0) / 120.0), onset_rate / 10.0])
    v = np.concatenate([mu - mu.mean(), sd, c, tempo]).astype(np.float32)
    return v / (np.linalg.norm(v) + 1e-9)


def cue_points(energy: np.ndarray, downbeats: np.ndarray, *, duration: float, hop: float = ENERGY_HOP) -> dict:
    """Intro end / outro start from the energy curve (first/last downbeat within 6 dB of the body level),
    and where the mix may enter (``cue_in``: first downbeat) and leave (``cue_out``: last downbeat with sound)."""
    e = np.asarray(energy, dtype=np.float64)
    d = np.asarray(downbeats, dtype=np.float64)
    if len(d) == 0:
        return {"intro_end": 0.0, "outro_start": duration, "cue_in": 0.0, "cue_out": duration}
    body = float(np.percentile(e, 75)) if e.size else 0.0
    loud = e >= body - 6.0
    audible = e >= body - 30.0
    t = (np.arange(len(e)) + 0.5) * hop
    first_loud = float(t[np.argmax(loud)]) if loud.any() else 0.0
    last_loud = float(t[len(loud) - 1 - np.argmax(loud[::-1])]) if loud.any() else duration
    last_sound = float(t[len(audible) - 1 - np.argmax(audible[::-1])] + hop / 2) if audible.any() else duration
    intro_end = float(d[np.argmin(np.abs(d - first_loud))])
    outro_start = float(d[np.argmin(np.abs(d - last_loud))])
    inside = d[d <= last_sound]
    return {"intro_end": intro_end, "outro_start": outro_start, "cue_in": float(d[0]),
            "cue_out": float(inside[-1]) if inside.size else float(d[-1])}


def analyze_audio(y: np.ndarray, *, sr: int, backend: str = "auto", path: str = "") -> dict:
    """Analyse audio ``(n,)`` or ``(channels, n)``; see the module docstring for the keys.

    Raises ParameterError for silent audio, or audio too short to hold two bars.
    """
    from latentstudio.core import beats as core_beats
    from latentstudio.core.audio import is_silent, valid_audio
    from latentstudio.core.key import detect_key
    from latentstudio.core.loudness import energy_curve, integrated_lufs
    from latentstudio.dj.beatnet import track_beats

    y = valid_audio(y)
    name = path or "audio"
    if is_silent(y):
        raise ParameterError(f"{name!s} is silent (peak below -60 dBFS); nothing to mix")
    mono = y.mean(axis=0) if y.ndim == 2 else y
    duration = mono.shape[-1] / sr
    if duration < 4.0:
        raise ParameterError(f"{name!s} is {duration:.1f} s long; the DJ needs at least 4 s")
    S = core_beats.features(mono, sr=sr)
    if backend == "madmom":
        res = track_beats(mono, sr=sr, backend="madmom")
    else:
        res = track_beats(S=S, backend=backend)
    if res.beats.size < 8:
        raise ParameterError(f"{name!s}: no steady beat found ({res.beats.size} beats); cannot beat-match it")
    from latentstudio.core.key import chroma

    C = chroma(mono, sr=sr)
    key = detect_key(C=C)
    energy = energy_curve(mono, sr=sr, hop_seconds=ENERGY_HOP)
    grid = _regular_grid(res.beats)
    first = int(np.argmin(np.abs(grid - res.downbeats[0]))) if res.downbeats.size else 0
    downbeats = grid[first % res.beats_per_bar:: res.beats_per_bar]
    onsets = float(np.mean(core_beats.onset_activation(S) > 0.3)) * core_beats.SR / core_beats.HOP_LENGTH
    cues = cue_points(energy, downbeats, duration=duration)
    return {
        "version": ANALYSIS_VERSION, "path": str(path), "duration": float(duration), "sr": int(sr),
        "channels": int(y.shape[0]) if y.ndim == 2 else 1,
        "bpm": float(60.0 / np.median(np.diff(grid))), "beats": grid.tolist(), "downbeats": downbeats.tolist(),
        "beats_per_bar": int(res.beats_per_bar), "beat_confidence": float(res.confidence),
        "key": key.name, "camelot": key.camelot, "key_confidence": float(key.confidence),
        "lufs": float(integrated_lufs(y, sr=sr)), "energy": energy.tolist(), "energy_hop": ENERGY_HOP,
        **cues,
        "embedding": embedding(S, C, bpm=60.0 / np.median(np.diff(grid)), onset_rate=onsets).tolist(),
        "backend": backend,
    }


def analyze_file(path: str | os.PathLike, *, backend: str = "auto") -> dict:
    """Load and analyse one audio file (any rate, bit depth, channel count libsndfile reads)."""
    from latentstudio.core.audio import load

    y, sr = load(path, mono=False)
    return analyze_audio(y, sr=sr, backend=backend, path=str(Path(path).resolve()))


class AnalyseTrack:
    """The batch job of :func:`analyze_library` (see :func:`latentstudio.catalog.batch.map_items`): one file in,
    its analysis out. Any failure on one file is that file's error: it must not stop the library."""

    item_errors = (Exception,)

    def __init__(self, backend: str = "auto") -> None:
        self.backend = backend

    def __call__(self, path: str) -> dict:
        return analyze_file(path, backend=self.backend)


def library_files(folder: str | os.PathLike) -> list[Path]:
    """Audio files under ``folder`` (recursive, sorted); ParameterError when the folder is missing or empty."""
    from latentstudio.core.audio import AUDIO_EXTENSIONS
    from latentstudio.core.fileio import files_under

    return files_under(folder, AUDIO_EXTENSIONS, what="library", kind="audio files")


def analyze_library(files: Iterable[str | os.PathLike], *, catalog=None, backend: str = "auto", workers: int = 2,
                    cluster: str | None = None,
                    progress: Callable[[int], None] | None = None) -> tuple[list[dict], list[tuple[str, str]]]:
    """Analyse many files in parallel; returns ``(analyses, failures)`` where failures are ``(path, reason)``.

    With a :class:`latentstudio.catalog.Catalog`, each analysis is cached by file content (a second run
    is instant) and the track is added to the catalog with its embedding in the ``"dj"`` space, each one as
    soon as it is done, so an interrupted run resumes where it stopped. The work runs on ``workers`` local
    processes, or on a Ray cluster (``cluster``, see :func:`latentstudio.catalog.batch.map_items`).
    """
    from latentstudio.catalog.batch import map_items
    from latentstudio.dj.beatnet import check_backend

    check_backend(backend)                    # one error, not one per file
    files = [str(Path(f).resolve()) for f in files]
    key = f"dj-analysis-v{ANALYSIS_VERSION}-{backend}"
    done: dict[str, dict] = {}
    failures: list[tuple[str, str]] = []
    todo = []
    for f in files:
        if catalog is not None:
            try:
                hit = catalog.cached_analysis(f, key, _raise_miss)
                done[f] = hit
                if progress:
                    progress(1)
                continue
            except _Miss:
                pass
            except LatentStudioError as exc:
                failures.append((f, str(exc)))
                if progress:
                    progress(1)
                continue
        todo.append(f)
    for out in map_items(AnalyseTrack(backend), todo, cluster=cluster, workers=workers, progress=progress):
        f, a = out.item, out.value
        if not out.ok:
            failures.append((f, out.error))
            continue
        done[f] = a
        if catalog is not None:
            catalog.cached_analysis(f, key, lambda _p, a=a: a)
            catalog.add(f, kind="audio", duration=a["duration"], tags=["dj"],
                        analysis={"bpm": a["bpm"], "camelot": a["camelot"], "lufs": a["lufs"]},
                        vectors={"dj": np.asarray(a["embedding"], dtype=np.float32)})
    if catalog is not None:
        catalog.flush()
    return [done[f] for f in files if f in done], failures


class _Miss(Exception):
    pass


def _raise_miss(_path):
    raise _Miss()
