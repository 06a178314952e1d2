"""The VAEs whose latent spaces are the artwork: texts (TF-IDF in, bag of words out) and images (conv).

Both have a 2-D latent by default (any width allowed) and expose the same small contract that the
pulsation renderer and the landscape cartographer use:

* ``embed(batch) -> (B, d)`` posterior means of a batch of inputs (``x`` as the model reads it);
* ``decode(z) -> (B, ...)`` output logits;
* ``geometry_map(z) -> (B, D)``: the decoder's output distribution embedded in Euclidean space so that the
  Euclidean pull-back is its Fisher-Rao metric — ``2 sqrt(p)`` for the text decoder's categorical word
  distribution, ``2 [sqrt(p), sqrt(1-p)]`` for the image decoder's Bernoulli pixels. For a Gaussian decoder
  ``(mu, sigma)`` the same construction gives Arvanitidis et al.'s ``J_mu^T J_mu + J_sigma^T J_sigma``:
  the variance term is part of the metric, and it is for these decoders too (the Fisher metric of a
  Bernoulli ``p`` is ``1 / (p (1 - p))``, large where the decoder is uncertain).

Losses: :func:`vae_loss` (negative ELBO with KL warm-up and free bits).

Example
-------
>>> import torch
>>> vae = TextVAE(vocabulary=["cat", "dog", "fish"], latent_dim=2, hidden=16)
>>> vae.geometry_map(torch.zeros(4, 2)).shape
torch.Size([4, 3])
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from latentstudio.errors import ParameterError
from latentstudio.zoo.checkpoint import register_model


def _check_latent(latent_dim: int) -> None:
    if not isinstance(latent_dim, int) or latent_dim < 1:
        raise ParameterError(f"latent_dim={latent_dim!r} must be a positive integer")


class _Gaussian(nn.Module):
    """Shared VAE plumbing: reparameterised sample, posterior means, the optional label head."""

    latent_dim: int

    def _make_head(self, n_labels: int) -> None:
        if n_labels < 0:
            raise ParameterError(f"n_labels={n_labels} must be >= 0")
        self.n_labels = n_labels
        self.head = (nn.Sequential(nn.Linear(self.latent_dim, 64), nn.ReLU(), nn.Linear(64, n_labels))
                     if n_labels >= 2 else None)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return mu, logvar, self.decode(z)

    @torch.no_grad()
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Posterior means ``(B, latent_dim)``."""
        return self.encode(x)[0]


@register_model("latent_text_vae")
class TextVAE(_Gaussian):
    """TF-IDF -> MLP -> Gaussian latent -> MLP -> word logits (a multinomial over the vocabulary).

    Parameters
    ----------
    vocabulary : the words (the checkpoint config keeps them, so the model reads new texts by itself)
    latent_dim : width of the latent (2 for the pictures)
    hidden : width of the hidden layers
    n_labels : classes of the label head on the latent means (0: none, a purely unsupervised VAE)
    """

    def __init__(self, vocabulary: list[str], latent_dim: int = 2, hidden: int = 256, n_labels: int = 0):
        super().__init__()
        _check_latent(latent_dim)
        if len(vocabulary) < 2:
            raise ParameterError(f"vocabulary has {len(vocabulary)} words; a text VAE needs at least 2")
        self.vocabulary = list(vocabulary)
        self.latent_dim = latent_dim
        v = len(vocabulary)
        self.register_buffer("idf", torch.ones(v))
        self.enc = nn.Sequential(nn.Linear(v, hidden), nn.ReLU(), nn.Linear(hidden, hidden // 2), nn.ReLU())
        self.mu = nn.Linear(hidden // 2, latent_dim)
        self.logvar = nn.Linear(hidden // 2, latent_dim)
        self.dec = nn.Sequential(nn.Linear(latent_dim, hidden // 2), nn.ReLU(), nn.Linear(hidden // 2, hidden),
                                 nn.ReLU(), nn.Linear(hidden, v))
        self._make_head(n_labels)

    def config(self) -> dict:
        return {"vocabulary": self.vocabulary, "latent_dim": self.latent_dim, "hidden": self.enc[0].out_features,
                "n_labels": self.n_labels}

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.is_sparse:                                # TF-IDF rows are sparse: ~10 words of thousands
            first = self.enc[0]
            h = self.enc[1:](torch.sparse.mm(x, first.weight.t()) + first.bias)
        else:
            h = self.enc(x)
        return self.mu(h), self.logvar(h).clamp(-12.0, 6.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(z)

    def geometry_map(self, z: torch.Tensor) -> torch.Tensor:
        """``2 sqrt(p)`` of the word distribution: its Euclidean pull-back is the Fisher-Rao metric."""
        return 2.0 * torch.exp(0.5 * F.log_softmax(self.decode(z), dim=-1))

    def reconstruction(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of the bag of words ``target`` (counts) per text."""
        return -(target * F.log_softmax(logits, dim=-1)).sum(dim=-1)

    def vocabulary_size(self) -> int:
        return len(self.vocabulary)

    def texts_to_input(self, texts: list[str]) -> torch.Tensor:
        """TF-IDF input rows for new texts (the model's own vocabulary and IDF)."""
        from latentstudio.latent.text import Vocabulary, tfidf, to_torch

        vocab = Vocabulary(self.vocabulary, self.idf.detach().cpu().numpy())
        return to_torch(tfidf(texts, vocab))


@register_model("latent_image_vae")
class ImageVAE(_Gaussian):
    """Conv encoder (two stride-2 convs) -> Gaussian latent -> transposed convs -> Bernoulli pixel logits.

    Parameters
    ----------
    channels : 1 (grey) or 3 (RGB)
    size : image side in pixels, a multiple of 4 (28 for Fashion-MNIST)
    latent_dim : width of the latent
    width : channels of the first conv (the second has twice as many)
    n_labels : classes of the label head on the latent means (0: none)
    """

    def __init__(self, channels: int = 1, size: int = 28, latent_dim: int = 2, width: int = 32,
                 n_labels: int = 0):
        super().__init__()
        _check_latent(latent_dim)
        if channels not in (1, 3):
            raise ParameterError(f"channels={channels} must be 1 or 3")
        if size < 8 or size % 4:
            raise ParameterError(f"size={size} must be a multiple of 4, at least 8")
        self.channels, self.size, self.latent_dim, self.width = channels, size, latent_dim, width
        s = size // 4
        self.enc = nn.Sequential(nn.Conv2d(channels, width, 4, 2, 1), nn.ReLU(),
                                 nn.Conv2d(width, 2 * width, 4, 2, 1), nn.ReLU(), nn.Flatten(),
                                 nn.Linear(2 * width * s * s, 256), nn.ReLU())
        self.mu = nn.Linear(256, latent_dim)
        self.logvar = nn.Linear(256, latent_dim)
        self.dec_in = nn.Sequential(nn.Linear(latent_dim, 256), nn.ReLU(), nn.Linear(256, 2 * width * s * s),
                                    nn.ReLU())
        self.dec = nn.Sequential(nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(),
                                 nn.ConvTranspose2d(width, channels, 4, 2, 1))
        self._make_head(n_labels)

    def config(self) -> dict:
        return {"channels": self.channels, "size": self.size, "latent_dim": self.latent_dim, "width": self.width,
                "n_labels": self.n_labels}

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.enc(x)
        return self.mu(h), self.logvar(h).clamp(-12.0, 6.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        s = self.size // 4
        return self.dec(self.dec_in(z).view(-1, 2 * self.width, s, s))

    def geometry_map(self, z: torch.Tensor) -> torch.Tensor:
        """``2 [sqrt(p), sqrt(1 - p)]`` per pixel: the Bernoulli decoder's Fisher-Rao embedding."""
        logits = self.decode(z).flatten(1)
        return 2.0 * torch.cat([torch.exp(0.5 * F.logsigmoid(logits)), torch.exp(0.5 * F.logsigmoid(-logits))], 1)

    def reconstruction(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).sum(dim=1)

    @torch.no_grad()
    def images(self, z: torch.Tensor) -> torch.Tensor:
        """Decoded images in [0, 1], ``(B, C, H, W)``."""
        return torch.sigmoid(self.decode(z))


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) per latent dimension, ``(B, d)``."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def vae_loss(model: _Gaussian, x: torch.Tensor, target: torch.Tensor, *, beta: float = 1.0,
             free_bits: float = 0.0, labels: torch.Tensor | None = None,
             label_weight: float = 0.0) -> tuple[torch.Tensor, dict[str, float]]:
    """Negative ELBO per item: reconstruction + ``beta`` x KL (each dimension's batch-mean KL floored at
    ``free_bits`` nats, so the latent is not abandoned early), plus ``label_weight`` x the cross-entropy of
    the label head on the latent means when ``labels`` are given (it pulls each label into its own region).
    Returns ``(loss, {"rec", "kl"[, "ce"]})``."""
    mu, logvar, logits = model(x)                  # under torchrun ``model`` is the DDP wrapper
    inner = getattr(model, "module", model)
    rec = inner.reconstruction(logits, target).mean()
    kl_dim = kl_divergence(mu, logvar).mean(dim=0)
    kl = torch.clamp(kl_dim, min=free_bits).sum()
    loss = rec + beta * kl
    stats = {"rec": float(rec.detach()), "kl": float(kl_dim.sum().detach())}
    if labels is not None and label_weight > 0 and inner.head is not None:
        ce = F.cross_entropy(inner.head(mu), labels)
        loss = loss + label_weight * ce
        stats["ce"] = float(ce.detach())
    return loss, stats


@torch.no_grad()
def negative_elbo(model: _Gaussian, x: torch.Tensor, target: torch.Tensor, *, batch_size: int = 2048) -> float:
    """Mean negative ELBO (beta 1, no free bits, posterior mean decoded) of a held-out set."""
    was = model.training
    model.eval()
    total, n = 0.0, 0
    for i in range(0, len(x), batch_size):
        xb, tb = x[i:i + batch_size], target[i:i + batch_size]
        mu, logvar = model.encode(xb)
        rec = model.reconstruction(model.decode(mu), tb)
        total += float((rec + kl_divergence(mu, logvar).sum(dim=1)).sum())
        n += len(xb)
    model.train(was)
    return total / max(n, 1)
