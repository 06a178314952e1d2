"""The SampleVAE: log-mel spectrograms of one-shots <-> a 64-d latent, with an IAF posterior and a drum head.

After Frenzel's SpectrogramVAE / SampleVAE: a conv encoder of the ``(128, frames)`` log-mel image, a Gaussian
posterior refined by an inverse autoregressive flow (Kingma et al. 2016: each step shifts and scales ``z``
with a MADE network, so the posterior is no longer diagonal), a transposed-conv decoder, and a drum-class
head on the posterior mean (so the space is organised by what a sound is, and dreams can be asked for a
class). Frames are padded to a multiple of 16.

Example
-------
>>> import torch
>>> vae = SampleVAE(frames=64, latent_dim=8, width=8, flows=1).eval()
>>> vae.decode(torch.zeros(2, 8)).shape
torch.Size([2, 128, 64])
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from latentstudio.errors import ParameterError
from latentstudio.zoo.checkpoint import register_model

N_MELS = 128


class MaskedLinear(nn.Linear):
    """A linear layer whose weights are masked so output ``i`` sees only allowed inputs (MADE)."""

    def __init__(self, n_in: int, n_out: int, mask: torch.Tensor):
        super().__init__(n_in, n_out)
        self.register_buffer("mask", mask.float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


class IAFStep(nn.Module):
    """One inverse autoregressive flow step: ``z' = sigma * z + (1 - sigma) * m`` with ``(m, s)`` from a MADE of
    ``z`` and the encoder's context ``h`` (the numerically stable form of Kingma et al. 2016)."""

    def __init__(self, dim: int, context: int, hidden: int):
        super().__init__()
        deg_in = torch.arange(1, dim + 1)
        deg_h = (torch.arange(hidden) % max(dim - 1, 1)) + 1
        self.l1 = MaskedLinear(dim, hidden, (deg_h[:, None] >= deg_in[None, :]))
        self.ctx = nn.Linear(context, hidden)
        mask_out = (deg_in[:, None] > deg_h[None, :])
        self.m = MaskedLinear(hidden, dim, mask_out)
        self.s = MaskedLinear(hidden, dim, mask_out)

    def forward(self, z: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a = F.elu(self.l1(z) + self.ctx(h))
        sigma = torch.sigmoid(self.s(a) + 2.0)              # starts near the identity
        z = sigma * z + (1 - sigma) * self.m(a)
        return z.flip(-1), torch.log(sigma).sum(-1)         # flip: the next step sees the other order


@register_model("funk_sample_vae")
class SampleVAE(nn.Module):
    """Conv VAE over ``(n_mels, frames)`` log-mel images in [0, 1].

    Parameters
    ----------
    frames : time frames after padding (a multiple of 16; 1 s at hop 256 = 63 -> 64)
    latent_dim : latent width (64, as the original)
    width : channels of the first conv (doubling at each of 4 stride-2 layers)
    flows : IAF steps on the posterior (0: a diagonal Gaussian)
    n_classes : drum classes of the head (0: none)
    """

    def __init__(self, frames: int = 64, latent_dim: int = 64, width: int = 32, flows: int = 2,
                 n_classes: int = 8):
        super().__init__()
        if frames < 16 or frames % 16:
            raise ParameterError(f"frames={frames} must be a multiple of 16")
        if latent_dim < 1 or width < 1 or flows < 0 or n_classes < 0:
            raise ParameterError(f"latent_dim={latent_dim}, width={width}, flows={flows}, n_classes={n_classes} "
                                 "must be positive (flows, n_classes >= 0)")
        self.frames, self.latent_dim, self.width, self.n_flows, self.n_classes = (frames, latent_dim, width, flows,
                                                                                  n_classes)
        ch = [1, width, 2 * width, 4 * width, 8 * width]
        enc = []
        for a, b in zip(ch[:-1], ch[1:]):
            enc += [nn.Conv2d(a, b, 4, 2, 1), nn.BatchNorm2d(b), nn.LeakyReLU(0.2)]
        self.enc = nn.Sequential(*enc, nn.Flatten())
        self._shape = (ch[-1], N_MELS // 16, frames // 16)
        flat = ch[-1] * (N_MELS // 16) * (frames // 16)
        self.ctx = nn.Linear(flat, 256)
        self.mu = nn.Linear(256, latent_dim)
        self.logvar = nn.Linear(256, latent_dim)
        self.flows = nn.ModuleList([IAFStep(latent_dim, 256, 2 * latent_dim + 64) for _ in range(flows)])
        self.dec_in = nn.Linear(latent_dim, flat)
        dec = []
        for a, b in zip(ch[::-1][:-2], ch[::-1][1:-1]):
            dec += [nn.ConvTranspose2d(a, b, 4, 2, 1), nn.BatchNorm2d(b), nn.LeakyReLU(0.2)]
        self.dec = nn.Sequential(*dec, nn.ConvTranspose2d(ch[1], 1, 4, 2, 1))
        self.head = (nn.Sequential(nn.Linear(latent_dim, 128), nn.ReLU(), nn.Linear(128, n_classes))
                     if n_classes else None)

    def config(self) -> dict:
        return {"frames": self.frames, "latent_dim": self.latent_dim, "width": self.width, "flows": self.n_flows,
                "n_classes": self.n_classes}

    def pad(self, mel: torch.Tensor) -> torch.Tensor:
        """``(B, n_mels, t)`` padded with zeros (silence) or cut to :attr:`frames`."""
        if mel.ndim != 3 or mel.shape[1] != N_MELS:
            raise ParameterError(f"mel must be (batch, {N_MELS}, frames), got {tuple(mel.shape)}")
        t = mel.shape[-1]
        return F.pad(mel, (0, self.frames - t)) if t < self.frames else mel[..., : self.frames]

    def encode(self, mel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(mu, logvar, context)`` of the Gaussian base posterior."""
        h = F.leaky_relu(self.ctx(self.enc(self.pad(mel)[:, None])), 0.2)
        return self.mu(h), self.logvar(h).clamp(-10, 6), h

    def _flow(self, mu, logvar, h, eps) -> tuple[torch.Tensor, torch.Tensor]:
        z = mu + eps * torch.exp(0.5 * logvar)
        logq = -0.5 * (eps ** 2 + logvar + math.log(2 * math.pi)).sum(-1)
        for step in self.flows:
            z, logdet = step(z, h)
            logq = logq - logdet
        return z, logq

    def posterior(self, mel: torch.Tensor, *, sample: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """A posterior draw through the flow and its ``log q(z|x)``; ``sample=False`` flows the mean."""
        mu, logvar, h = self.encode(mel)
        return self._flow(mu, logvar, h, torch.randn_like(mu) if sample else torch.zeros_like(mu))

    @torch.no_grad()
    def embed(self, mel: torch.Tensor) -> torch.Tensor:
        """The latent of each spectrogram: the posterior mean carried through the flow."""
        return self.posterior(mel, sample=False)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Log-mel images ``(B, n_mels, frames)`` in [0, 1] (as logits through a sigmoid)."""
        x = self.dec_in(z).view(-1, *self._shape)
        return torch.sigmoid(self.dec(x)[:, 0])

    def forward(self, mel: torch.Tensor):
        """Training pass: ``(padded input, z, log q(z|x), reconstruction, class logits or None)``; the head reads
        the flowed posterior mean (what :meth:`embed` gives at run time), not the noisy draw."""
        x = self.pad(mel)
        mu, logvar, h = self.encode(x)
        z, logq = self._flow(mu, logvar, h, torch.randn_like(mu))
        logits = self.head(self._flow(mu, logvar, h, torch.zeros_like(mu))[0]) if self.head is not None else None
        return x, z, logq, self.decode(z), logits

    def classify(self, z: torch.Tensor) -> torch.Tensor:
        if self.head is None:
            raise ParameterError("this SampleVAE has no drum-class head (n_classes=0)")
        return self.head(z)


def vae_loss(model, mel: torch.Tensor, labels: torch.Tensor | None = None, *, beta: float = 1.0,
             class_weight: float = 1.0, free_bits: float = 0.0) -> tuple[torch.Tensor, dict[str, float]]:
    """Negative ELBO per sound (L1 reconstruction in [0, 1] units x frames, a Laplace likelihood up to a constant)
    with ``beta`` x Monte-Carlo KL through the flow (floored at ``free_bits`` nats per sound), plus
    ``class_weight`` x the head's cross-entropy on labelled sounds (label -1: unlabelled)."""
    x, z, logq, recon, logits = model(mel)          # under torchrun ``model`` is the DDP wrapper
    rec = (recon - x).abs().sum(dim=(1, 2)).mean() / 10.0
    logp = -0.5 * (z ** 2 + math.log(2 * math.pi)).sum(-1)
    kl = (logq - logp).mean()
    loss = rec + beta * torch.clamp(kl, min=free_bits)
    stats = {"rec": float(rec.detach()), "kl": float(kl.detach())}
    if labels is not None and logits is not None and class_weight > 0:
        known = labels >= 0
        if bool(known.any()):
            ce = F.cross_entropy(logits[known], labels[known])
            loss = loss + class_weight * ce
            stats["ce"] = float(ce.detach())
    return loss, stats
