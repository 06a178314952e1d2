"""NeuralFunk end to end, each run returning a dataclass; the CLI and the web only parse, call, save and show.

* :func:`load_sounds` — files as 16 kHz one-shots (trimmed, peak 1, :data:`~latentstudio.funk.data.SECONDS`);
* :func:`encode` / :func:`decode` — sounds <-> latents; decoding renders audio through the WaveNet when one is
  given, else Griffin-Lim;
* :func:`sample`, :func:`dream` (class-conditioned: drawn from a drum class's region of the latent space),
  :func:`reimagine` (a sound re-made, optionally varied), :func:`blend` (weighted mix of latents; negative
  weights do arithmetic), :func:`interpolate` -> :class:`Generated`;
* :meth:`Generated.save` writes WAVs with provenance sidecars.

Decoding is the long work; :func:`decode` and :func:`dream` take ``progress(done, total)``, called with
increasing counts of decoding steps (Griffin-Lim iterations, or WaveNet samples every hop).

Example
-------
>>> vae, info = load_sample_vae("out/funk-vae")                                  # doctest: +SKIP
>>> dream(vae, info, n=8, drum="snare", seed=0).save("dreams/")                  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from latentstudio.errors import ParameterError
from latentstudio.funk.data import CLASSES, SECONDS
from latentstudio.funk.features import HOP, SR, mel_to_audio
from latentstudio.funk.training import load_sample_vae

__all__ = ["Generated", "load_sounds", "encode", "decode", "sample", "dream", "reimagine", "blend", "interpolate",
           "load_sample_vae"]


@dataclass
class Generated:
    """Generated sounds ``audio`` (n, samples) at :data:`SR`, their latents, names and how they were made."""

    audio: np.ndarray
    latents: np.ndarray
    names: list[str]
    how: dict = field(default_factory=dict)
    sr: int = SR

    def save(self, folder: str | os.PathLike, *, command: str = "latentstudio funk", prefix: str = "") -> list[Path]:
        """Write ``folder/NAME.wav`` for each sound, each with a provenance sidecar."""
        from latentstudio.core.audio import save
        from latentstudio.provenance import write_sidecar

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for y, name in zip(self.audio, self.names):
            p = save(out / f"{prefix}{name}.wav", y, self.sr)
            write_sidecar(p, command=command, params=self.how, seed=self.how.get("seed"),
                          models=self.how.get("models", []))
            paths.append(p)
        return paths


def load_sounds(paths: list[str | os.PathLike]) -> np.ndarray:
    """Sound files as one-shots ``(n, samples)`` (mono 16 kHz, leading silence trimmed, peak 1).

    Raises
    ------
    ParameterError : a missing, unreadable or silent file (named)
    """
    from latentstudio.beatbox.oneshots import load_sample

    if not paths:
        raise ParameterError("no sound files given")
    out = []
    for p in paths:
        if not Path(p).is_file():
            raise ParameterError(f"sound {str(p)!r} does not exist")
        y = load_sample(p, sr=SR, n=int(SECONDS * SR))
        if not np.any(y):
            raise ParameterError(f"sound {str(p)!r} is silent")
        out.append(y)
    return np.stack(out).astype(np.float32)


@torch.no_grad()
def encode(vae, audio: np.ndarray) -> np.ndarray:
    """Latents ``(n, latent_dim)`` of one-shots ``(n, samples)``."""
    from latentstudio.funk.training import embed_audio

    return embed_audio(vae, np.atleast_2d(np.asarray(audio, dtype=np.float32)))


Progress = Callable[[int, int], None]


@torch.no_grad()
def decode(vae, z: np.ndarray, *, wavenet=None, n_iter: int = 48, seed: int = 0,
           temperature: float = 1.0, progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Audio ``(n, samples)`` and log-mel frames ``(n, 128, frames)`` of latents ``z``: the WaveNet renders the
    frames when given (conditioned on frames and latent), else Griffin-Lim.

    ``progress(done, total)`` follows the rendering of the whole batch: Griffin-Lim iterations (``total`` =
    ``n_iter``), or WaveNet samples per sound, reported every hop (``total`` = samples of a sound)."""
    z = np.atleast_2d(np.asarray(z, dtype=np.float32))
    if z.shape[1] != vae.latent_dim or not np.isfinite(z).all():
        raise ParameterError(f"latents must be finite (n, {vae.latent_dim}), got {z.shape}")
    vae.eval()
    n = int(SECONDS * SR)
    frames = 1 + n // HOP
    mel = vae.decode(torch.from_numpy(z)).numpy()[..., :frames]
    if wavenet is not None:
        from latentstudio.funk.wavenet import generate

        g = torch.Generator().manual_seed(int(seed))
        audio = generate(wavenet, torch.from_numpy(mel), torch.from_numpy(z), n_samples=n, temperature=temperature,
                         generator=g, progress=progress)
        audio = np.asarray(audio, dtype=np.float32)
    else:
        audio = mel_to_audio(mel, n_iter=n_iter, length=n, seed=seed, progress=progress)
    peak = np.abs(audio).max(axis=-1, keepdims=True)
    audio = np.where(peak > 0, audio / np.maximum(peak, 1e-9) * 0.9, audio)
    return audio.astype(np.float32), mel


def encode_files(vae, paths: list[str | os.PathLike]) -> list[dict]:
    """One row per sound file: ``{"file", "latent", "drum"}`` (the drum the VAE's head hears, when it has one),
    the JSON that ``funk decode`` reads back."""
    z = encode(vae, load_sounds(paths))
    drums: list[str | None] = [None] * len(z)
    if vae.head is not None:
        with torch.no_grad():
            drums = [CLASSES[int(i)] for i in vae.classify(torch.from_numpy(z)).argmax(1)]
    return [{"file": str(p), "latent": [round(float(v), 5) for v in zz], **({"drum": d} if d else {})}
            for p, zz, d in zip(paths, z, drums)]


#: Most latent vectors ``funk decode`` takes from one file (each becomes a sound).
MAX_LATENTS = 1000


def read_latents(path: str | os.PathLike) -> np.ndarray:
    """Latent vectors from a ``funk encode`` JSON (rows with ``latent``) or a plain list of vectors."""
    import json

    try:
        rows = json.loads(Path(path).read_text())
        z = np.array([r["latent"] if isinstance(r, dict) else r for r in rows], dtype=np.float32)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ParameterError(f"latents {str(path)!r} are not a list of vectors ({exc})") from None
    if z.ndim != 2 or not len(z):
        raise ParameterError(f"latents {str(path)!r} must be a non-empty list of equal-length vectors")
    if len(z) > MAX_LATENTS:
        raise ParameterError(f"latents {str(path)!r} hold {len(z)} vectors; at most {MAX_LATENTS} are decoded at once")
    return z


def decode_latents(vae, info: dict, z: np.ndarray, *, wavenet=None, seed: int = 0,
                   source: str | None = None) -> Generated:
    """Sounds of latent vectors (edited between ``encode_files`` and here), named ``decoded_NN``."""
    audio, _ = decode(vae, z, wavenet=wavenet, seed=seed)
    return Generated(audio, np.asarray(z, np.float32), [f"decoded_{i:02d}" for i in range(len(z))],
                     _how(info, op="decode", latents=source, seed=seed))


def _how(info: dict, **kw) -> dict:
    return {"models": [info.get("path", "funk_sample_vae")], **kw}


def sample(vae, info: dict, *, n: int = 8, temperature: float = 1.0, seed: int = 0, wavenet=None) -> Generated:
    """``n`` sounds from the prior ``N(0, temperature^2 I)``."""
    _check_n(n)
    _check_temperature(temperature)
    g = torch.Generator().manual_seed(int(seed))
    z = (torch.randn(n, vae.latent_dim, generator=g) * float(temperature)).numpy()
    audio, _ = decode(vae, z, wavenet=wavenet, seed=seed)
    return Generated(audio, z, [f"sample_{i:02d}" for i in range(n)], _how(info, op="sample", n=n,
                                                                            temperature=temperature, seed=seed))


def _check_n(n: int) -> None:
    if not isinstance(n, (int, np.integer)) or not 1 <= n <= 1024:
        raise ParameterError(f"n={n!r} must be an integer from 1 to 1024")


def _check_temperature(temperature: float) -> None:
    if not np.isfinite(temperature) or not 0 <= temperature <= 10:
        raise ParameterError(f"temperature={temperature!r} must be a number from 0 to 10")


@torch.no_grad()
def _heard(vae, z: np.ndarray, c: int | None) -> np.ndarray:
    """The VAE head's probability of class ``c`` for each latent of ``z`` (``c`` None: of every class)."""
    p = torch.softmax(vae.classify(torch.from_numpy(np.asarray(z, np.float32))), dim=1).numpy()
    return p if c is None else p[:, c]


class _RoundProgress:
    """``progress`` over several rendering rounds: round r's ``(done, total)`` counts as ``r * total + done`` of
    ``rounds * total``; :meth:`finish` jumps to the total when rounds were left unused."""

    def __init__(self, progress: Progress | None, rounds: int) -> None:
        self.progress, self.rounds, self.done, self.total = progress, rounds, 0, 0

    def round(self, r: int) -> Progress | None:
        if self.progress is None:
            return None

        def report(done: int, total: int) -> None:
            self.done, self.total = r * total + done, self.rounds * total
            self.progress(self.done, self.total)
        return report

    def finish(self) -> None:
        if self.progress is not None and 0 < self.done < self.total:
            self.progress(self.total, self.total)


#: Latent candidates drawn per dream (and the most renderings a dream gets when it listens back).
DREAM_TRIES = 4


def dream(vae, info: dict, *, n: int = 16, drum: str | None = None, temperature: float = 0.7, seed: int = 0,
          confidence: float = 0.5, listen: bool = True, wavenet=None, progress: Progress | None = None) -> Generated:
    """``n`` new sounds of a drum class (``drum``; None: classes in turn), drawn from that class's region of the
    latent space (the train sounds' mean and covariance, scaled by ``temperature``).

    With a drum head and ``confidence`` > 0, :data:`DREAM_TRIES` candidates are drawn per dream and those the
    model's own head gives at least ``confidence`` for the class come first (then the rest, most confident
    first): a dream of a snare is one the VAE itself hears as a snare, not a point between classes.

    ``listen`` (default) judges the *rendered* sound as well: each dream's candidate is rendered, encoded
    again and heard by the same head; a dream whose sound no longer passes (Griffin-Lim or the WaveNet lost
    what made it a snare) renders its next candidate, up to :data:`DREAM_TRIES` times, and keeps the one heard
    best. Only the VAE's own head decides, never the classifier that judges the dreams (``bench/funk.py``).

    ``progress(done, total)``: see :func:`decode` (drawing the latents takes no time; rendering them does);
    with ``listen`` the total covers every possible rendering round, and the count jumps to it at the end.
    """
    _check_n(n)
    _check_temperature(temperature)
    extra = info.get("extra", {})
    if "class_means" not in extra:
        raise ParameterError("this model has no class statistics; retrain it with `latentstudio funk train-vae`")
    if not 0 <= confidence < 1:
        raise ParameterError(f"confidence={confidence} must be in [0, 1)")
    means, covs = extra["class_means"].numpy(), extra["class_covs"].numpy()
    if drum is not None and drum not in CLASSES:
        raise ParameterError(f"drum={drum!r} must be one of {', '.join(CLASSES)}")
    rng = np.random.default_rng(int(seed))
    classes = [CLASSES.index(drum)] * n if drum else [i % len(CLASSES) for i in range(n)]
    judged = confidence > 0 and vae.head is not None
    tries = DREAM_TRIES if judged else 1
    cands = []                                                  # per dream: candidates, best first
    for c in classes:
        cand = rng.multivariate_normal(means[c], covs[c] * float(temperature) ** 2, size=tries).astype(np.float32)
        if judged:
            p = _heard(vae, cand, c)
            passing = np.flatnonzero(p >= confidence)
            rest = [i for i in np.argsort(-p, kind="stable") if p[i] < confidence]
            cand = cand[np.concatenate([passing, rest]).astype(int)]
        cands.append(cand)
    rounds = tries if judged and listen else 1
    z = np.stack([cd[0] for cd in cands]).astype(np.float32)
    audio = np.zeros((n, int(SECONDS * SR)), np.float32)
    best = np.full(n, -1.0)
    todo = np.arange(n)
    report = _RoundProgress(progress, rounds)
    for r in range(rounds):
        zz = np.stack([cands[i][r] for i in todo]).astype(np.float32)
        out, _ = decode(vae, zz, wavenet=wavenet, seed=seed, progress=report.round(r))
        if rounds == 1:
            z, audio = zz, out
            break
        peak = np.maximum(np.abs(out).max(axis=1, keepdims=True), 1e-9)        # heard as a loaded sound: peak 1
        ph = _heard(vae, encode(vae, out / peak), None)
        heard = ph[np.arange(len(todo)), [classes[i] for i in todo]]
        better = heard > best[todo]
        for i, y, zi, h in zip(todo[better], out[better], zz[better], heard[better]):
            audio[i], z[i], best[i] = y, zi, h
        todo = todo[heard < confidence]
        if not len(todo):
            break
    report.finish()
    names = [f"{CLASSES[c]}_{i:02d}" for i, c in enumerate(classes)]
    return Generated(audio, z, names, _how(info, op="dream", n=n, drum=drum, temperature=temperature,
                                           confidence=confidence, listen=bool(listen), seed=seed, classes=classes,
                                           heard=[round(float(b), 4) for b in best] if rounds > 1 else None))


def reimagine(vae, info: dict, audio: np.ndarray, *, variations: int = 1, noise: float = 0.0, seed: int = 0,
              wavenet=None, names: list[str] | None = None) -> Generated:
    """Each sound re-made by the networks: encoded, then decoded ``variations`` times with ``noise`` (a
    fraction of the prior's scale) added to its latent."""
    if not 1 <= variations <= 64 or not (np.isfinite(noise) and 0 <= noise <= 10):
        raise ParameterError(f"variations={variations} must be within 1..64 and noise={noise} within 0..10")
    z0 = encode(vae, audio)
    rng = np.random.default_rng(int(seed))
    z = np.repeat(z0, variations, axis=0)
    if noise > 0:
        z = z + rng.standard_normal(z.shape).astype(np.float32) * float(noise)
    out, _ = decode(vae, z, wavenet=wavenet, seed=seed)
    base = names or [f"sound{i:02d}" for i in range(len(z0))]
    labels = [f"{b}_re{k:02d}" for b in base for k in range(variations)]
    return Generated(out, z, labels, _how(info, op="reimagine", variations=variations, noise=noise, seed=seed))


def blend(vae, info: dict, audio: np.ndarray, *, weights: list[float] | None = None, seed: int = 0,
          wavenet=None) -> Generated:
    """One sound from several: the weighted sum of their latents (weights default to equal and are used as
    given, so ``[1, 1, -1]`` is latent arithmetic: a + b - c)."""
    z = encode(vae, audio)
    w = np.full(len(z), 1.0 / len(z)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(z),) or not np.isfinite(w).all():
        raise ParameterError(f"weights={weights!r} must be {len(z)} finite numbers, one per sound")
    mix = (w[:, None] * z).sum(0, keepdims=True).astype(np.float32)
    out, _ = decode(vae, mix, wavenet=wavenet, seed=seed)
    return Generated(out, mix, ["blend"], _how(info, op="blend", weights=w.tolist(), seed=seed))


def interpolate(vae, info: dict, audio: np.ndarray, *, steps: int = 8, seed: int = 0, wavenet=None) -> Generated:
    """``steps`` sounds on the straight line from the first sound's latent to the second's."""
    if audio.shape[0] != 2 or steps < 2:
        raise ParameterError(f"interpolate needs exactly 2 sounds (got {audio.shape[0]}) and steps >= 2 (got {steps})")
    a, b = encode(vae, audio)
    t = np.linspace(0, 1, steps, dtype=np.float32)[:, None]
    z = (1 - t) * a + t * b
    out, _ = decode(vae, z, wavenet=wavenet, seed=seed)
    return Generated(out, z, [f"step_{i:02d}" for i in range(steps)], _how(info, op="interpolate", steps=steps))
