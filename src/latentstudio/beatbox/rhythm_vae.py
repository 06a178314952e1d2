"""The rhythm generator: a conditional VAE over two-bar patterns, conditioned on per-drum density.

Like Qosmo's (after Magenta's GrooVAE): a pattern is 32 steps x 9 voices x (hit, velocity,
micro-timing offset); the encoder and decoder are small MLPs, and both see the requested density
of each voice (fraction of steps with a hit), so a visitor's sounds can ask for "more hats, less
kick". Sampling with temperature, interpolation (slerp) between patterns, humanise.

Example
-------
>>> vae = load_rhythm_vae()                                          # doctest: +SKIP
>>> p = sample_patterns(vae, density=[0.25, 0.125, 0.5, 0, 0, 0, 0, 0.03, 0], n=1, seed=0)[0]  # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from latentstudio.beatbox.pattern import N_VOICES, STEPS, DrumPattern
from latentstudio.errors import ParameterError
from latentstudio.zoo.checkpoint import register_model

SHIPPED = Path(__file__).resolve().parent.parent / "data" / "models" / "beatbox_rhythm"
_D = STEPS * N_VOICES


@register_model("beatbox_rhythm_vae")
class RhythmVAE(nn.Module):
    """MLP encoder/decoder; ``decode(z, density)`` gives hit logits, velocities and offsets."""

    def __init__(self, latent_dim: int = 16, hidden: int = 192):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(nn.Linear(3 * _D + N_VOICES, hidden), nn.ReLU(),
                                     nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent_dim))
        self.decoder = nn.Sequential(nn.Linear(latent_dim + N_VOICES, hidden), nn.ReLU(),
                                     nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 3 * _D))

    def encode(self, x: torch.Tensor, density: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` (b, STEPS, N_VOICES, 3) -> (mu, logvar), each (b, latent_dim)."""
        h = self.encoder(torch.cat([x.reshape(x.shape[0], -1), density], dim=1))
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar.clamp(-8, 8)

    def decode(self, z: torch.Tensor, density: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> hit logits, velocities in [0, 1], offsets in [-0.5, 0.5]; each (b, STEPS, N_VOICES)."""
        out = self.decoder(torch.cat([z, density], dim=1)).reshape(-1, 3, STEPS, N_VOICES)
        return out[:, 0], torch.sigmoid(out[:, 1]), 0.5 * torch.tanh(out[:, 2])

    def forward(self, x: torch.Tensor, density: torch.Tensor):
        mu, logvar = self.encode(x, density)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.decode(z, density), mu, logvar


def load_rhythm_vae(path: str | os.PathLike | None = None) -> RhythmVAE:
    """The shipped rhythm VAE (or one trained by ``latentstudio beatbox train-rhythm -o PATH``)."""
    from latentstudio.errors import ModelError
    from latentstudio.zoo.checkpoint import load_checkpoint

    d = Path(path) if path is not None else SHIPPED
    if path is None and not (d / "model.safetensors").exists():
        raise ModelError(f"the shipped rhythm model is missing at {d}; rebuild it: latentstudio beatbox train-rhythm")
    model, _ = load_checkpoint(d)
    if not isinstance(model, RhythmVAE):
        raise ModelError(f"checkpoint {str(d)!r} holds a {type(model).__name__}, not a rhythm VAE")
    return model


def _density(density, n: int) -> torch.Tensor:
    d = np.asarray(density, dtype=np.float32)
    if d.ndim == 1:
        d = np.broadcast_to(d, (n, N_VOICES))
    if d.shape != (n, N_VOICES) or not np.all(np.isfinite(d)) or d.min() < 0 or d.max() > 1:
        raise ParameterError(f"density must be {N_VOICES} fractions in [0, 1] (or ({n}, {N_VOICES})), got shape "
                             f"{np.shape(density)}")
    return torch.from_numpy(np.array(d, dtype=np.float32))


@torch.no_grad()
def decode_patterns(model: RhythmVAE, z: torch.Tensor, density, *, temperature: float = 0.0,
                    generator: torch.Generator | None = None) -> list[DrumPattern]:
    """Patterns from latent vectors ``z`` (n, latent_dim): hits drawn at ``temperature``
    (0 = the most likely pattern: every hit with probability > 0.5)."""
    if not np.isfinite(temperature) or temperature < 0:
        raise ParameterError(f"temperature={temperature} must be >= 0")
    model.eval()
    logits, vel, off = model.decode(z, _density(density, z.shape[0]))
    if temperature == 0:
        hits = (logits > 0).float()
    else:
        hits = torch.bernoulli(torch.sigmoid(logits / temperature), generator=generator)
    return [DrumPattern(h.numpy(), v.numpy(), o.numpy()) for h, v, o in zip(hits, vel, off)]


def sample_patterns(model: RhythmVAE, *, density, n: int = 1, temperature: float = 0.5, seed: int = 0) -> list[DrumPattern]:
    """``n`` new patterns with the requested per-voice ``density`` (9 fractions of steps)."""
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError(f"n={n!r} must be a positive integer")
    g = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n, model.latent_dim, generator=g)
    return decode_patterns(model, z, density, temperature=temperature, generator=g)


@torch.no_grad()
def encode_patterns(model: RhythmVAE, patterns: list[DrumPattern]) -> torch.Tensor:
    """Latent means ``(n, latent_dim)`` of patterns (conditioned on their own densities)."""
    model.eval()
    x = torch.from_numpy(np.stack([p.to_array() for p in patterns]))
    d = torch.from_numpy(np.stack([p.density() for p in patterns]))
    return model.encode(x, d)[0]


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation between latent vectors (linear when they are nearly parallel)."""
    an, bn = a / a.norm(dim=-1, keepdim=True).clamp(min=1e-8), b / b.norm(dim=-1, keepdim=True).clamp(min=1e-8)
    omega = torch.arccos((an * bn).sum(-1, keepdim=True).clamp(-1 + 1e-6, 1 - 1e-6))
    so = torch.sin(omega)
    if float(so.abs().min()) < 1e-4:
        return (1 - t) * a + t * b
    return torch.sin((1 - t) * omega) / so * a + torch.sin(t * omega) / so * b


def humanise(pattern: DrumPattern, *, amount: float = 0.5, seed: int = 0) -> DrumPattern:
    """Jitter velocities (+-0.1 x amount) and micro-timing (+-0.08 step x amount) of the hits."""
    if not np.isfinite(amount) or amount < 0:
        raise ParameterError(f"amount={amount} must be >= 0")
    rng = np.random.default_rng(seed)
    return DrumPattern(pattern.hits, pattern.velocity + rng.normal(0, 0.1 * amount, pattern.hits.shape),
                       pattern.offset + rng.normal(0, 0.08 * amount, pattern.hits.shape))


# --------------------------------------------------------------------------------------------- training
@dataclass
class RhythmReport:
    """Figures of a training run (held-out = patterns never trained on)."""

    train_patterns: int
    held_out_patterns: int
    sources: dict[str, int]
    held_out_step_accuracy: float
    held_out_onset_f1: float
    density_correlation: float
    density_correlation_per_voice: list[float]
    seconds: float
    losses: list[float] = field(default_factory=list)


def training_patterns(*, n_grammar: int = 6000, midi_dirs: list[str | os.PathLike] = (), seed: int = 0,
                      hydrogen: bool = True) -> tuple[list[DrumPattern], dict[str, int]]:
    """The training set: the style grammar, the Hydrogen demo songs and any GM drum MIDI files."""
    from latentstudio.beatbox.grammar import grammar_patterns
    from latentstudio.beatbox.pattern import hydrogen_demo_patterns, midi_to_patterns

    pats = grammar_patterns(n_grammar, seed=seed) if n_grammar else []
    sources = {"grammar": len(pats)}
    if hydrogen:
        h2 = hydrogen_demo_patterns()
        pats += h2 * 4  # a small set: seen a few times per epoch
        sources["hydrogen_demo_songs"] = len(h2)
    n_midi = 0
    for d in midi_dirs:
        p = Path(d)
        if not p.exists():
            raise ParameterError(f"MIDI folder {str(p)!r} does not exist")
        files = sorted(p.rglob("*.mid")) + sorted(p.rglob("*.midi")) if p.is_dir() else [p]
        for f in files:
            try:
                got = midi_to_patterns(f)
            except ParameterError:
                continue
            pats += got
            n_midi += len(got)
    if midi_dirs:
        sources["midi"] = n_midi
    if not pats:
        raise ParameterError("no training patterns: enable the grammar, the Hydrogen songs or give MIDI files")
    return pats, sources


def rhythm_loss(model: nn.Module, x: torch.Tensor, *, beta: float = 0.2, free_bits: float = 0.1,
                density_weight: float = 100.0):
    """Hits BCE + velocity and offset MSE on hits + beta x KL (free bits per latent dimension)
    + ``density_weight`` x squared error of the expected per-voice density of prior samples."""
    d = x[..., 0].mean(dim=1)
    (logits, vel, off), mu, logvar = model(x, d)
    hits = x[..., 0]
    bce = nn.functional.binary_cross_entropy_with_logits(logits, hits, reduction="none").sum(dim=(1, 2)).mean()
    vel_l = ((vel - x[..., 1]) ** 2 * hits).sum(dim=(1, 2)).mean()
    off_l = ((off - x[..., 2]) ** 2 * hits).sum(dim=(1, 2)).mean()
    kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).mean(dim=0)
    kl = torch.clamp(kl, min=free_bits).sum()
    # the generation path must honour a request: decode prior samples with other patterns' densities
    # and ask the expected density of each voice to match
    req = d[torch.randperm(d.shape[0])]
    prior_logits = (model.module if hasattr(model, "module") else model).decode(torch.randn_like(mu), req)[0]
    dens = ((torch.sigmoid(prior_logits).mean(dim=1) - req) ** 2).sum(dim=1).mean()
    loss = bce + 4 * vel_l + 4 * off_l + beta * kl + density_weight * dens
    return loss, {"bce": float(bce.detach()), "kl": float(kl.detach()), "density": float(dens.detach())}


@torch.no_grad()
def evaluate_rhythm(model: RhythmVAE, patterns: list[DrumPattern], *, seed: int = 0,
                    temperature: float = 0.0) -> dict[str, float | list[float]]:
    """Reconstruction accuracy (all cells; onset F1) of ``patterns``, and the correlation between
    the densities requested (each pattern's own, with a random latent) and those produced."""
    model.eval()
    x = torch.from_numpy(np.stack([p.to_array() for p in patterns]))
    d = x[..., 0].mean(dim=1)
    mu, _ = model.encode(x, d)
    logits, _, _ = model.decode(mu, d)
    pred, true = (logits > 0).float(), x[..., 0]
    tp = float((pred * true).sum())
    f1 = 2 * tp / max(1.0, float(pred.sum() + true.sum()))
    acc = float((pred == true).float().mean())
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(len(patterns), model.latent_dim, generator=g)
    produced = np.stack([p.density() for p in decode_patterns(model, z, d.numpy(), temperature=temperature,
                                                              generator=g)])
    req = d.numpy()
    corr = float(np.corrcoef(req.ravel(), produced.ravel())[0, 1])
    per_voice = [float(np.corrcoef(req[:, v], produced[:, v])[0, 1]) if req[:, v].std() > 0 and produced[:, v].std() > 0
                 else None for v in range(N_VOICES)]
    return {"step_accuracy": acc, "onset_f1": f1, "density_correlation": corr, "per_voice": per_voice}


def train_rhythm(*, steps: int = 3000, batch_size: int = 128, lr: float = 2e-3, seed: int = 0,
                 n_grammar: int = 6000, midi_dirs: list[str | os.PathLike] = (), held_out: float = 0.1,
                 latent_dim: int = 16, hidden: int = 192, checkpoint_dir: str | os.PathLike | None = None,
                 resume: bool = True, progress: Callable[[int, int, float], None] | None = None
                 ) -> tuple[RhythmVAE, RhythmReport]:
    """Train a :class:`RhythmVAE`; ``held_out`` of the patterns (chosen by ``seed``) are kept for judging."""
    import time

    from latentstudio.train import TrainConfig, fit

    if not 0.0 < held_out < 0.5:
        raise ParameterError(f"held_out={held_out} must be in (0, 0.5)")
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    pats, sources = training_patterns(n_grammar=n_grammar, midi_dirs=midi_dirs, seed=seed)
    rng = np.random.default_rng(seed)
    test = rng.random(len(pats)) < held_out
    train = [p for p, t in zip(pats, test) if not t]
    held = [p for p, t in zip(pats, test) if t]
    seen = {p.hits.tobytes() for p in train}  # a pattern repeated in the data is judged only if unseen
    held = [p for p in held if p.hits.tobytes() not in seen]
    data = torch.from_numpy(np.stack([p.to_array() for p in train]))
    model = RhythmVAE(latent_dim=latent_dim, hidden=hidden)

    def make_batch(step: int, g: torch.Generator) -> torch.Tensor:
        x = data[torch.randint(0, len(data), (batch_size,), generator=g)]
        swap = torch.rand(batch_size, generator=g) < 0.5  # bar order swapped: twice the patterns
        return torch.where(swap[:, None, None, None], x.roll(16, dims=1), x)

    def loss_fn(m, x):
        return rhythm_loss(m, x, beta=0.2)

    cfg = TrainConfig(steps=steps, batch_size=batch_size, lr=lr, seed=seed, scheduler="cosine",
                      warmup_steps=min(100, steps // 10), checkpoint_dir=checkpoint_dir,
                      checkpoint_every=max(100, steps // 5), resume=resume,
                      model_config={"latent_dim": latent_dim, "hidden": hidden}, log_every=20)
    result = fit(model, data=make_batch, loss_fn=loss_fn, config=cfg, progress=progress)
    model.eval()
    ev = evaluate_rhythm(model, held, seed=seed)
    report = RhythmReport(train_patterns=len(train), held_out_patterns=len(held), sources=sources,
                          held_out_step_accuracy=ev["step_accuracy"], held_out_onset_f1=ev["onset_f1"],
                          density_correlation=ev["density_correlation"], density_correlation_per_voice=ev["per_voice"],
                          seconds=time.perf_counter() - t0, losses=result.losses)
    return model, report


def save_rhythm_vae(model: RhythmVAE, directory: str | os.PathLike, *, meta: dict | None = None) -> Path:
    """Write a trained rhythm VAE as a zoo checkpoint."""
    from latentstudio.zoo.checkpoint import save_checkpoint

    return save_checkpoint(directory, model, config={"latent_dim": model.latent_dim,
                                                     "hidden": model.decoder[0].out_features}, meta=meta)
