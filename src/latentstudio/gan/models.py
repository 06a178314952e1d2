"""The project's GAN: a small residual generator and a spectrally normalised discriminator in one module.

:class:`GAN` holds the generator ``G``, the discriminator ``D`` and ``G_ema``, an exponential moving average of
``G`` (frozen parameters, saved with every checkpoint). Its ``forward(real, z)`` returns one summed loss that
trains both networks in one backward pass of :func:`latentstudio.train.fit` (one AdamW over all trainable
parameters):

* D's hinge loss on DiffAugmented real images and on ``fake.detach()`` — no gradient reaches G;
* G's adversarial term through D called with its parameters detached
  (``torch.func.functional_call(D, {name: p.detach()}, ...)``) — no gradient reaches D;
* optionally an R1 penalty on real images (``r1_gamma``), D only.

``G_ema`` is updated at the start of each training forward (beta warmed up over the first steps), so a
checkpoint written after step ``s`` holds the average of steps ``1..s`` and a resumed run continues it exactly.

Generator (any of the project's generators — this one, :class:`~latentstudio.zoo.pretrained_gans.DCGANGenerator`):
``noise_dim``, ``cond_dim``, ``latent_dim``, ``image_size``, ``condition_names``, ``sample_latents(n, generator=,
truncation=, condition=)``, ``mean_latent()``, and ``forward(w) -> (N, 3, S, S)`` in [0, 1].

Example
-------
>>> gan = GAN(image_size=16, latent_dim=8, width=4, max_channels=16)
>>> loss, metrics = gan(torch.rand(4, 3, 16, 16), torch.randn(4, 8))
>>> sorted(metrics)[:2]
['d_fake', 'd_loss']
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from latentstudio.errors import ParameterError
from latentstudio.gan.augment import diff_augment, parse_policy
from latentstudio.zoo.checkpoint import register_model

LOSSES = ("hinge", "logistic")
#: Blocks at sides up to this get a second convolution.
DEEP_UNTIL = 16


def _channels(res: int, image_size: int, width: int, max_channels: int) -> int:
    return int(min(max_channels, width * image_size // res))


def _check_size(image_size: int) -> int:
    ups = int(round(math.log2(image_size / 4))) if isinstance(image_size, int) and image_size >= 8 else 0
    if ups < 1 or 4 * 2 ** ups != image_size or image_size > 1024:
        raise ParameterError(f"image_size={image_size!r} must be a power of two in 8..1024")
    return ups


class PixelNorm(nn.Module):
    """Normalise each pixel's feature vector to unit mean square (ProGAN): batch-independent, so the EMA
    generator behaves the same in train and eval mode."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


class UpBlock(nn.Module):
    """Nearest x2, a 3x3 convolution with pixel norm and leaky ReLU; at sides up to ``deep_until`` a second,
    residual one (cheap there, and where the layout of the picture is decided)."""

    def __init__(self, cin: int, cout: int, *, deep: bool):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.extra = nn.Conv2d(cout, cout, 3, padding=1) if deep else None
        self.norm = PixelNorm()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        h = F.leaky_relu(self.norm(self.conv(x)), 0.2)
        if self.extra is not None:
            h = (h + F.leaky_relu(self.norm(self.extra(h)), 0.2)) * (1 / math.sqrt(2))
        return h


@register_model("gan_generator")
class Generator(nn.Module):
    """``(N, latent_dim)`` Gaussian latents -> ``(N, 3, S, S)`` images in [0, 1].

    A linear layer to 4 x 4 maps, then one :class:`UpBlock` per doubling (two convolutions up to 16 x 16, one
    above); channels ``min(max_channels, width * S / side)``, so the full-resolution layers stay narrow.
    """

    def __init__(self, *, image_size: int = 64, latent_dim: int = 128, width: int = 16, max_channels: int = 256):
        super().__init__()
        ups = _check_size(image_size)
        self.image_size, self.noise_dim, self.cond_dim = int(image_size), int(latent_dim), 0
        self.condition_names: list[str] = []
        self._config = {"image_size": image_size, "latent_dim": latent_dim, "width": width,
                        "max_channels": max_channels}
        c0 = _channels(4, image_size, width, max_channels)
        self.input = nn.Linear(latent_dim, c0 * 16)
        self.norm = PixelNorm()
        blocks, c = [], c0
        for k in range(ups):
            cout = _channels(8 * 2 ** k, image_size, width, max_channels)
            blocks.append(UpBlock(c, cout, deep=8 * 2 ** k <= DEEP_UNTIL))
            c = cout
        self.blocks = nn.ModuleList(blocks)
        self.to_rgb = nn.Conv2d(c, 3, 3, padding=1)

    @property
    def latent_dim(self) -> int:
        return self.noise_dim

    def config(self) -> dict:
        return dict(self._config)

    def sample_latents(self, n: int, *, generator: torch.Generator | None = None, truncation: float = 1.0,
                       condition=None) -> torch.Tensor:
        if condition is not None:
            raise ParameterError(f"condition={condition!r}: this generator is unconditional")
        return torch.randn(n, self.noise_dim, generator=generator) * float(truncation)

    def mean_latent(self) -> torch.Tensor:
        return torch.zeros(self.noise_dim)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        if w.ndim != 2 or w.shape[1] != self.noise_dim:
            raise ParameterError(f"latents must have shape (N, {self.noise_dim}), got {tuple(w.shape)}")
        x = self.input(w).reshape(w.shape[0], -1, 4, 4)
        x = F.leaky_relu(self.norm(x), 0.2)
        for block in self.blocks:
            x = block(x)
        return (torch.tanh(self.to_rgb(x)) + 1.0) * 0.5


class SNMixin:
    """Spectral normalisation (Miyato et al. 2018) of ``weight``, one power iteration per training forward.

    The weight is divided by its largest singular value, estimated with persistent vectors ``u`` (a buffer,
    saved with checkpoints). Written out rather than with ``torch.nn.utils.parametrizations`` so that
    ``torch.func.functional_call`` can swap ``weight`` for a detached copy.
    """

    def _init_sn(self) -> None:
        out = self.weight.shape[0]
        self.register_buffer("sn_u", F.normalize(torch.randn(out), dim=0))
        self.sn_enabled = True

    def sn_weight(self) -> torch.Tensor:
        w = self.weight
        if not self.sn_enabled:
            return w
        mat = w.reshape(w.shape[0], -1)
        with torch.no_grad():
            u = self.sn_u
            v = F.normalize(mat.t() @ u, dim=0, eps=1e-12)
            u = F.normalize(mat @ v, dim=0, eps=1e-12)
            if self.training:
                self.sn_u.copy_(u)
        sigma = torch.dot(u.clone(), mat @ v.clone())
        return w / sigma


class SNConv2d(SNMixin, nn.Conv2d):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_sn()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.sn_weight(), self.bias)


class SNLinear(SNMixin, nn.Linear):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_sn()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.sn_weight(), self.bias)


class DownBlock(nn.Module):
    """A spectrally normalised 4x4 stride-2 convolution and leaky ReLU; at sides up to ``DEEP_UNTIL`` a second,
    residual 3x3 one."""

    def __init__(self, cin: int, cout: int, *, deep: bool):
        super().__init__()
        self.conv = SNConv2d(cin, cout, 4, stride=2, padding=1)
        self.extra = SNConv2d(cout, cout, 3, padding=1) if deep else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.conv(x), 0.2)
        if self.extra is not None:
            h = (h + F.leaky_relu(self.extra(h), 0.2)) * (1 / math.sqrt(2))
        return h


class Discriminator(nn.Module):
    """``(N, 3, S, S)`` images in [-1, 1] -> ``(N,)`` logits (real > fake); spectral norm on every layer.

    One :class:`DownBlock` per halving (channels ``min(max_channels, width * S / side)``), a 3x3 convolution at
    4 x 4 and a linear layer.
    """

    def __init__(self, *, image_size: int = 64, width: int = 16, max_channels: int = 256,
                 spectral_norm: bool = True):
        super().__init__()
        ups = _check_size(image_size)
        c = 3
        blocks = []
        for k in range(ups):
            side = image_size // 2 ** (k + 1)
            cout = _channels(side, image_size, width, max_channels)
            blocks.append(DownBlock(c, cout, deep=side <= DEEP_UNTIL))
            c = cout
        self.blocks = nn.ModuleList(blocks)
        self.final = SNConv2d(c, c, 3, padding=1)
        self.out = SNLinear(c * 16, 1)
        for m in self.modules():
            if isinstance(m, SNMixin):
                m.sn_enabled = bool(spectral_norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for block in self.blocks:
            h = block(h)
        h = F.leaky_relu(self.final(h), 0.2)
        return self.out(h.flatten(1)).squeeze(1)


@register_model("gan")
class GAN(nn.Module):
    """Generator, discriminator and the generator's moving average, trained together by one loss.

    Parameters
    ----------
    image_size : side in pixels (a power of two: 32 or 64 on a CPU, 128-256 on a GPU)
    latent_dim : Gaussian latent width
    width : channels at full resolution (doubling per halving, up to ``max_channels``)
    max_channels : channel cap of both networks
    d_width : the discriminator's ``width`` (default: ``width``)
    ema_beta : decay of ``G_ema`` (warmed up as ``min(beta, (1 + n) / (10 + n))`` over update ``n``)
    diffaugment : DiffAugment policy applied to everything D sees (``""`` for none)
    loss : ``"hinge"`` or ``"logistic"`` (non-saturating)
    r1_gamma : weight of the R1 gradient penalty on real images (0: spectral norm alone)
    spectral_norm : spectral normalisation of the discriminator (turn it off only with ``r1_gamma`` > 0)
    """

    def __init__(self, image_size: int = 64, latent_dim: int = 128, width: int = 16, max_channels: int = 256,
                 d_width: int | None = None, ema_beta: float = 0.999, diffaugment: str = "color,translation,cutout",
                 loss: str = "hinge", r1_gamma: float = 0.0, spectral_norm: bool = True):
        super().__init__()
        if loss not in LOSSES:
            raise ParameterError(f"loss={loss!r} must be one of {', '.join(LOSSES)}")
        if not 0.0 <= ema_beta < 1.0:
            raise ParameterError(f"ema_beta={ema_beta!r} must be in [0, 1)")
        if r1_gamma < 0:
            raise ParameterError(f"r1_gamma={r1_gamma!r} must be >= 0")
        for name, v in (("latent_dim", latent_dim), ("width", width), ("max_channels", max_channels)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ParameterError(f"{name}={v!r} must be a positive integer")
        self.policy = parse_policy(diffaugment)
        self._config = {"image_size": image_size, "latent_dim": latent_dim, "width": width,
                        "max_channels": max_channels, "d_width": d_width, "ema_beta": ema_beta,
                        "diffaugment": ",".join(self.policy), "loss": loss, "r1_gamma": r1_gamma,
                        "spectral_norm": bool(spectral_norm)}
        self.loss_kind, self.ema_beta, self.r1_gamma = loss, float(ema_beta), float(r1_gamma)
        self.G = Generator(image_size=image_size, latent_dim=latent_dim, width=width, max_channels=max_channels)
        self.D = Discriminator(image_size=image_size, width=d_width or width, max_channels=max_channels,
                               spectral_norm=spectral_norm)
        self.G_ema = copy.deepcopy(self.G)
        for p in self.G_ema.parameters():
            p.requires_grad_(False)
        self.register_buffer("ema_updates", torch.zeros((), dtype=torch.int64))

    def config(self) -> dict:
        return dict(self._config)

    @property
    def image_size(self) -> int:
        return self.G.image_size

    @property
    def latent_dim(self) -> int:
        return self.G.latent_dim

    @torch.no_grad()
    def update_ema(self) -> float:
        """``G_ema <- beta G_ema + (1 - beta) G``; returns the beta used."""
        n = int(self.ema_updates)
        beta = min(self.ema_beta, (1.0 + n) / (10.0 + n))
        for pe, p in zip(self.G_ema.parameters(), self.G.parameters()):
            pe.lerp_(p.detach(), 1.0 - beta)
        for be, b in zip(self.G_ema.buffers(), self.G.buffers()):
            be.copy_(b)
        self.ema_updates += 1
        return beta

    def _d(self, x: torch.Tensor, *, frozen: bool = False) -> torch.Tensor:
        x = diff_augment(x * 2.0 - 1.0, self.policy) if self.policy else x * 2.0 - 1.0
        if not frozen:
            return self.D(x)
        detached = {k: v.detach() for k, v in self.D.named_parameters()}
        return torch.func.functional_call(self.D, detached, (x,))

    def losses(self, real: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """The summed loss of one step (D on real and ``fake.detach()``, G through a frozen D) and its parts."""
        fake = self.G(z)
        if self.r1_gamma > 0:
            real = real.detach().requires_grad_(True)
        d_real = self._d(real)
        d_fake = self._d(fake.detach())
        g_out = self._d(fake, frozen=True)
        if self.loss_kind == "hinge":
            d_loss = F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean()
            g_loss = -g_out.mean()
        else:
            d_loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
            g_loss = F.softplus(-g_out).mean()
        total = d_loss + g_loss
        metrics = {"d_loss": float(d_loss.detach()), "g_loss": float(g_loss.detach()),
                   "d_real": float(d_real.detach().mean()), "d_fake": float(d_fake.detach().mean())}
        if self.r1_gamma > 0:
            (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
            r1 = grad.pow(2).flatten(1).sum(1).mean()
            total = total + 0.5 * self.r1_gamma * r1
            metrics["r1"] = float(r1.detach())
        return total, metrics

    def forward(self, real: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        if self.training:
            self.update_ema()
        return self.losses(real, z)

    @torch.no_grad()
    def d_loss(self, real: torch.Tensor, z: torch.Tensor) -> float:
        """D's loss on these images and latents without augmentation or updates (for checks)."""
        was = self.training
        self.eval()
        try:
            d_real, d_fake = self.D(real * 2 - 1), self.D(self.G(z) * 2 - 1)
            if self.loss_kind == "hinge":
                return float(F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean())
            return float(F.softplus(-d_real).mean() + F.softplus(d_fake).mean())
        finally:
            self.train(was)


__all__ = ["GAN", "Generator", "Discriminator", "SNConv2d", "SNLinear", "PixelNorm", "LOSSES"]
