"""Train the project's GAN with the project's loop: one module, one optimiser, one summed loss.

:func:`train_gan` hands :class:`~latentstudio.gan.models.GAN` to :func:`latentstudio.train.fit` with AdamW at
``betas=(0.0, 0.99)`` (StyleGAN's): each step draws a batch of training pictures (random horizontal flips) and
latents from the step's seeded generator, and the GAN's forward returns D's loss plus G's adversarial term
(see :mod:`latentstudio.gan.models`). Checkpoints (G, D, G_ema, the optimiser) go to ``checkpoint_dir``
(``OUTPUT/checkpoints`` by default): a rerun with more ``steps`` resumes where the last one stopped.

While it trains, a grid of ``G_ema`` on fixed latents is written to ``OUTPUT/samples/step-NNNNNNNN.png`` every
``sample_every`` steps; at the end the model goes to ``OUTPUT`` (``model.safetensors`` + ``config.json``),
with ``OUTPUT/samples.png`` and, unless ``evaluate=False``, FID/KID against the validation split with the
real-vs-real floor (:mod:`latentstudio.gan.metrics`).

Example
-------
>>> from latentstudio.gan.data import load_images
>>> run = train_gan(load_images("tuxpaint", image_size=32), "out/gan", steps=2000)     # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from latentstudio.errors import ParameterError
from latentstudio.gan.data import ImageSet
from latentstudio.gan.models import GAN
from latentstudio.zoo.checkpoint import save_checkpoint

SAMPLES_DIR, SAMPLES = "samples", "samples.png"


def image_grid(images: torch.Tensor, *, columns: int | None = None, pad: int = 2, background: float = 1.0
               ) -> np.ndarray:
    """``(N, 3, S, S)`` pictures in [0, 1] -> one ``(H, W, 3)`` float image, ``columns`` across."""
    x = images.detach().float().clamp(0, 1).cpu().numpy()
    n, _, h, w = x.shape
    cols = columns or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), background, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        out[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = \
            x[i].transpose(1, 2, 0)
    return out


@torch.no_grad()
def generate(generator: torch.nn.Module, latents: torch.Tensor, *, batch_size: int = 64) -> torch.Tensor:
    """Pictures of ``latents`` in eval mode, in batches, on the generator's device; returned on the CPU."""
    was = generator.training
    generator.eval()
    try:
        device = next(generator.parameters()).device
        out = [generator(latents[i:i + batch_size].to(device)).cpu() for i in range(0, len(latents), batch_size)]
    finally:
        generator.train(was)
    return torch.cat(out)


@dataclass
class GANRun:
    """What :func:`train_gan` did."""

    output: Path
    steps: int
    seconds: float
    resumed_from: int
    losses: list[float]
    d_loss: list[float]
    g_loss: list[float]
    samples: Path
    evaluation: dict = field(default_factory=dict)
    split_counts: dict = field(default_factory=dict)
    #: under torchrun, this process's rank: only rank 0 writes the samples, evaluation and final model
    rank: int = 0

    def summary(self) -> dict:
        tail = max(1, len(self.d_loss) // 10)
        return {"output": str(self.output), "steps": self.steps, "seconds": round(self.seconds, 1),
                "resumed_from": self.resumed_from, "samples": str(self.samples),
                "d_loss_last_tenth": float(np.mean(self.d_loss[-tail:])) if self.d_loss else None,
                "g_loss_last_tenth": float(np.mean(self.g_loss[-tail:])) if self.g_loss else None,
                "evaluation": self.evaluation, "split_counts": self.split_counts}


def evaluate_generator(generator: torch.nn.Module, real: np.ndarray, *, seed: int = 0, n_fake: int | None = None,
                       truncation: float = 1.0, feature_model=None) -> dict:
    """FID/KID of the generator's samples against ``real`` (uint8 pictures), with the real-vs-real floor."""
    from latentstudio.gan.metrics import compare, image_features

    if len(real) < 4:
        return {"skipped": f"{len(real)} real pictures (need at least 4)"}
    n = n_fake or len(real) // 2
    w = generator.sample_latents(n, generator=torch.Generator().manual_seed(seed + 7919), truncation=truncation)
    fake = generate(generator, w)
    fr = image_features(real, model=feature_model)
    ff = image_features(fake, model=feature_model)
    return compare(fr, ff, seed=seed)


def train_gan(data: ImageSet, output: str | os.PathLike, *, steps: int = 5000, batch_size: int = 32,
              lr: float = 2e-4, beta1: float = 0.0, latent_dim: int = 128, width: int = 16, max_channels: int = 256,
              ema_beta: float = 0.999, diffaugment: str = "color,translation,cutout", loss: str = "hinge",
              r1_gamma: float = 0.0, spectral_norm: bool = True, flip: bool = True, seed: int = 0, sample_every: int = 250,
              checkpoint_dir: str | os.PathLike | None = None, checkpoint_every: int = 250, device: str = "cpu",
              evaluate: bool = True, progress: Callable[[int, int, float], None] | None = None,
              meta: dict | None = None) -> GANRun:
    """Train a :class:`~latentstudio.gan.models.GAN` on ``data``'s train split at its picture size.

    Parameters
    ----------
    data : pictures (:func:`latentstudio.gan.data.load_images`)
    output : folder for the final model, sample grids and checkpoints
    steps, batch_size, lr, beta1 : optimisation (AdamW, betas ``(beta1, 0.99)``, constant rate)
    latent_dim, width, max_channels, ema_beta, diffaugment, loss, r1_gamma, spectral_norm : the model
        (:class:`~latentstudio.gan.models.GAN`)
    flip : random horizontal flips of the training pictures
    seed : initialisation, batches, latents and augmentations
    sample_every : steps between sample grids
    checkpoint_dir : resumable checkpoints (default ``OUTPUT/checkpoints``); a rerun continues from the newest
    checkpoint_every : steps between checkpoints
    device : ``"cpu"``, ``"cuda"`` or ``"auto"``
    evaluate : FID/KID against the validation split at the end
    progress : ``progress(step, total, loss)``
    meta : extra provenance stored in the model's config

    Raises
    ------
    ParameterError : bad sizes, too few training pictures, a checkpoint of another run
    ModelError : the loss diverged (NaN)
    """
    from latentstudio.core.image import save
    from latentstudio.train import TrainConfig, fit

    for name, v in (("steps", steps), ("batch_size", batch_size), ("sample_every", sample_every),
                    ("checkpoint_every", checkpoint_every)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ParameterError(f"{name}={v!r} must be a positive integer")
    if not 0 <= beta1 < 1:
        raise ParameterError(f"beta1={beta1!r} must be in [0, 1)")
    train = data.part("train")
    if len(train) < 2:
        raise ParameterError(f"data {data.source!r} has {len(train)} training pictures; at least 2 are needed")
    out = Path(output)
    ckpt = Path(checkpoint_dir) if checkpoint_dir is not None else out / "checkpoints"
    torch.manual_seed(seed)
    model = GAN(image_size=data.image_size, latent_dim=latent_dim, width=width, max_channels=max_channels,
                ema_beta=ema_beta, diffaugment=diffaugment, loss=loss, r1_gamma=r1_gamma, spectral_norm=spectral_norm)
    pictures = torch.from_numpy(np.ascontiguousarray(train))
    bs = min(batch_size, len(train))
    fixed = torch.randn(64, latent_dim, generator=torch.Generator().manual_seed(seed + 104729))

    def make_batch(step: int, g: torch.Generator):
        idx = torch.randint(len(pictures), (bs,), generator=g)
        real = pictures[idx].float().div_(255.0)
        if flip:
            mirror = torch.rand(bs, generator=g) < 0.5
            real[mirror] = real[mirror].flip(-1)
        return real, torch.randn(bs, latent_dim, generator=g)

    def loss_fn(net, batch):
        real, z = batch
        return net(real, z)

    def write_samples(step: int) -> Path:
        path = out / SAMPLES_DIR / f"step-{step:08d}.png"
        save(path, image_grid(generate(model.G_ema, fixed), columns=8))
        return path

    def on_progress(step: int, total: int, loss_value: float) -> None:
        if step % sample_every == 0 or step == total:
            write_samples(step)
        if progress is not None:
            progress(step, total, loss_value)

    cfg = TrainConfig(steps=steps, batch_size=bs, lr=lr, betas=(float(beta1), 0.99), seed=seed,
                      checkpoint_dir=ckpt, checkpoint_every=checkpoint_every, model_config=model.config(),
                      log_every=math.gcd(min(10, sample_every), sample_every), device=device).validate()
    (out / SAMPLES_DIR).mkdir(parents=True, exist_ok=True)     # once the model and settings are known good
    t0 = time.perf_counter()
    result = fit(model, data=make_batch, loss_fn=loss_fn, config=cfg, progress=on_progress)
    model.eval()
    grid = out / SAMPLES
    if result.rank != 0:        # torchrun: the other ranks hold the same weights; rank 0 writes and evaluates
        return GANRun(out, steps, time.perf_counter() - t0, result.resumed_from, result.losses,
                      result.metrics.get("d_loss", []), result.metrics.get("g_loss", []), grid, {}, data.counts(),
                      rank=result.rank)
    save(grid, image_grid(generate(model.G_ema, fixed), columns=8))
    evaluation: dict = {}
    if evaluate:
        evaluation = {"validation": evaluate_generator(model.G_ema.cpu(), data.part("validation"), seed=seed)}
    record = {"source": data.source, "image_size": data.image_size, "pictures": len(data),
              "split_counts": data.counts(), "data_info": data.info, "seed": seed, "steps": steps,
              "train": {"batch_size": bs, "lr": lr, "betas": [beta1, 0.99], "flip": flip,
                        "world_size": result.world_size},
              "evaluation": evaluation, "train_seconds": round(time.perf_counter() - t0, 1), **(meta or {})}
    save_checkpoint(out, model.cpu(), config=model.config(), meta=record)
    return GANRun(out, steps, time.perf_counter() - t0, result.resumed_from, result.losses,
                  result.metrics.get("d_loss", []), result.metrics.get("g_loss", []), grid, evaluation,
                  data.counts())


__all__ = ["train_gan", "GANRun", "image_grid", "generate", "evaluate_generator"]
