"""Train the SampleVAE on the train split's sounds with the project's loop; judge it on validation.

Each batch is drawn from the train split and varied the way a sampler varies a sound (played 0.85-1.18x
faster, i.e. about +-3 semitones, and -9..0 dB), then turned into log-mel frames
(:func:`latentstudio.funk.features.log_mel_frames`). The checkpoint keeps the class statistics of the
train embeddings (mean and covariance per drum class), which class-conditioned dreams draw from.

Example
-------
>>> from latentstudio.funk.data import load_samples
>>> run = train_sample_vae(load_samples(), "out/funk-vae", steps=1500)          # doctest: +SKIP
>>> run.report["validation_class_accuracy"]                                    # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from latentstudio.errors import ParameterError
from latentstudio.funk.data import CLASSES, Samples
from latentstudio.funk.features import log_mel_frames
from latentstudio.funk.vae import SampleVAE, vae_loss
from latentstudio.zoo.checkpoint import load_checkpoint, save_checkpoint


def vary(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each row played at a random speed (0.85-1.18x, linear interpolation) and gain (-9..0 dB), same length."""
    n = audio.shape[1]
    out = np.empty_like(audio)
    t = np.arange(n, dtype=np.float64)
    for i, y in enumerate(audio):
        rate = float(np.exp(rng.uniform(np.log(0.85), np.log(1.18))))
        out[i] = np.interp(t * rate, t, y, right=0.0) * 10 ** (rng.uniform(-9, 0) / 20)
    return out


@torch.no_grad()
def embed_audio(model: SampleVAE, audio: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
    """Latents ``(n, latent_dim)`` of sounds ``(n, samples)`` at 16 kHz."""
    model.eval()
    out = [np.zeros((0, model.latent_dim), np.float32)]
    for i in range(0, len(audio), batch_size):
        mel = torch.from_numpy(log_mel_frames(audio[i:i + batch_size]))
        out.append(model.embed(mel).numpy())
    return np.concatenate(out)


def class_statistics(z: np.ndarray, labels: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-class mean ``(C, d)`` and covariance ``(C, d, d)`` of latents (shrunk towards the diagonal)."""
    d = z.shape[1]
    means = np.zeros((n_classes, d), np.float32)
    covs = np.tile(np.eye(d, dtype=np.float32), (n_classes, 1, 1))
    for c in range(n_classes):
        zc = z[labels == c]
        if len(zc) >= 2:
            means[c] = zc.mean(0)
            cov = np.cov(zc, rowvar=False)
            covs[c] = 0.5 * cov + 0.5 * np.diag(np.diag(cov)) + 1e-4 * np.eye(d)
        elif len(zc) == 1:
            means[c] = zc[0]
    return means, covs


@dataclass
class FunkVAERun:
    output: Path
    model: SampleVAE
    seconds: float
    report: dict
    losses: list[float] = field(repr=False, default_factory=list)
    #: under torchrun, this process's rank: only rank 0 evaluates and writes the model
    rank: int = 0

    def summary(self) -> dict:
        return {"output": str(self.output), "seconds": round(self.seconds, 1), **self.report}


def evaluate(model: SampleVAE, samples: Samples) -> dict:
    """Mel spectral convergence of the reconstructions and the head's accuracy on labelled sounds."""
    model.eval()
    with torch.no_grad():
        mel = torch.from_numpy(log_mel_frames(samples.audio))
        z = model.embed(mel)
        rec = model.decode(z)[..., : mel.shape[-1]]
        err = torch.linalg.norm((rec - mel).flatten(1), dim=1)
        sc = err / torch.linalg.norm(mel.flatten(1), dim=1).clamp_min(1e-8)
        known = samples.labels >= 0
        acc = float("nan")
        if model.head is not None and known.any():
            pred = model.classify(z).argmax(1).numpy()
            acc = float(np.mean(pred[known] == samples.labels[known]))
    return {"mel_spectral_convergence": float(sc.median()), "class_accuracy": acc, "sounds": len(samples)}


def train_sample_vae(samples: Samples, output: str | os.PathLike, *, steps: int = 2000, batch_size: int = 32,
                     lr: float = 1e-3, latent_dim: int = 64, width: int = 16, flows: int = 2, beta: float = 0.25,
                     class_weight: float = 5.0, seed: int = 0, checkpoint_dir: str | os.PathLike | None = None,
                     progress: Callable[[int, int, float], None] | None = None, meta: dict | None = None) -> FunkVAERun:
    """Train a :class:`SampleVAE` on ``samples``' train split; report on its validation split; save it.

    Raises
    ------
    ParameterError : too few training sounds, bad sizes
    """
    from latentstudio.train import TrainConfig, fit

    train = samples.part("train")
    if len(train) < 8:
        raise ParameterError(f"{len(train)} training sounds; at least 8 are needed")
    frames = int(np.ceil(log_mel_frames(train.audio[:1]).shape[-1] / 16) * 16)
    torch.manual_seed(seed)
    model = SampleVAE(frames=frames, latent_dim=latent_dim, width=width, flows=flows, n_classes=len(CLASSES))
    audio, labels = train.audio, torch.from_numpy(train.labels)

    def make_batch(step: int, g: torch.Generator):
        idx = torch.randint(len(audio), (batch_size,), generator=g).numpy()
        rng = np.random.default_rng(int(torch.randint(2**31, (1,), generator=g)))
        mel = torch.from_numpy(log_mel_frames(vary(audio[idx], rng)))
        return mel, labels[idx]

    def loss_fn(m, batch):
        mel, y = batch
        return vae_loss(m, mel, y, beta=beta, class_weight=class_weight)

    cfg = TrainConfig(steps=steps, batch_size=batch_size, lr=lr, seed=seed, scheduler="cosine",
                      warmup_steps=min(100, steps // 10), min_lr_ratio=0.05, grad_clip=5.0, log_every=10,
                      checkpoint_dir=checkpoint_dir, checkpoint_every=max(100, steps // 10),
                      model_config=model.config())
    t0 = time.perf_counter()
    result = fit(model, data=make_batch, loss_fn=loss_fn, config=cfg, progress=progress)
    model.eval()
    if result.rank != 0:        # torchrun: the other ranks hold the same weights; rank 0 evaluates and writes
        return FunkVAERun(Path(output), model, time.perf_counter() - t0, {}, result.losses, rank=result.rank)
    z = embed_audio(model, train.audio)
    means, covs = class_statistics(z, train.labels, len(CLASSES))
    report = {"train_sounds": len(train), "train_sources": sorted(set(train.sources))}
    val = samples.part("validation")
    if len(val):
        ev = evaluate(model, val)
        report.update({"validation_sounds": ev["sounds"], "validation_sources": sorted(set(val.sources)),
                       "validation_mel_spectral_convergence": ev["mel_spectral_convergence"],
                       "validation_class_accuracy": ev["class_accuracy"]})
    seconds = time.perf_counter() - t0
    save_checkpoint(output, model, config=model.config(),
                    meta={"classes": list(CLASSES), "seed": seed, "steps": steps, "report": report,
                          "train": {"batch_size": batch_size, "lr": lr, "beta": beta, "class_weight": class_weight},
                          "train_seconds": round(seconds, 1), **(meta or {})},
                    extra_tensors={"class_means": torch.from_numpy(means), "class_covs": torch.from_numpy(covs)})
    return FunkVAERun(Path(output), model, seconds, report, result.losses)


def load_sample_vae(path: str | os.PathLike) -> tuple[SampleVAE, dict]:
    """A trained SampleVAE (eval mode) and its ``info`` (``meta``; ``extra``: class means and covariances)."""
    model, info = load_checkpoint(path)
    if not isinstance(model, SampleVAE):
        raise ParameterError(f"checkpoint {str(path)!r} holds a {type(model).__name__}, not a SampleVAE")
    return model, info


def train_funk_wavenet(samples: Samples, vae: SampleVAE, output: str | os.PathLike, *, steps: int = 1500,
                       batch_size: int = 8, segment: int = 4096, lr: float = 1e-3, seed: int = 0,
                       model_config: dict | None = None, checkpoint_dir: str | os.PathLike | None = None,
                       progress: Callable[[int, int, float], None] | None = None, meta: dict | None = None):
    """Train the WaveNet vocoder on the train split: each sound with its true log-mel frames and its VAE latent
    (so at run time it renders the VAE's decoded frames, conditioned on the same latent). Saves it to
    ``output``; returns ``(model, losses, seconds)``."""
    from latentstudio.funk.wavenet import train_wavenet

    train = samples.part("train")
    if len(train) < 2:
        raise ParameterError(f"{len(train)} training sounds; at least 2 are needed")
    mels = log_mel_frames(train.audio)
    z = embed_audio(vae, train.audio)
    t0 = time.perf_counter()
    model, losses = train_wavenet(list(zip(train.audio, mels, z)), steps=steps, batch_size=batch_size,
                                  segment=segment, lr=lr, seed=seed, model_config=model_config,
                                  checkpoint_dir=checkpoint_dir,
                                  progress=progress)
    seconds = time.perf_counter() - t0
    from latentstudio.train.distributed import launched_rank

    if launched_rank() != 0:    # torchrun: rank 0 writes the model
        return model, losses, seconds
    save_checkpoint(output, model, config=model.config(),
                    meta={"seed": seed, "steps": steps, "train_sounds": len(train), "final_loss": losses[-1],
                          "train_seconds": round(seconds, 1), "train": {"batch_size": batch_size,
                                                                        "segment": segment, "lr": lr},
                          **(meta or {})})
    return model, losses, seconds
