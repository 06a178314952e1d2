"""Networks of Learning to See: a lean U-Net generator, pix2pix's U-Net for comparison, a PatchGAN critic.

* :class:`LeanUNet` — the shipped generator: one grey channel in, RGB out; four stride-2 stages of
  depthwise-separable convolutions, residual blocks at 1/16 resolution, bilinear up-sampling with skip
  connections. Built for real time on a CPU (about 10x fewer multiply-adds than pix2pix's ``unet_256``).
* :class:`Pix2PixUNet` — pix2pix's ``unet_256`` (Isola et al.; 8 down-sampling stages, 64-512 channels), for
  GPUs and as the plain baseline the speed bench compares against.
* :class:`PatchDiscriminator` — pix2pix's 70x70 PatchGAN on (input, picture) pairs, spectral-normalised.
* :class:`SeeingGAN` — generator and critic in one module so the project's one-optimiser training loop
  trains both: its ``forward`` returns the summed loss, each net receiving only its own gradient.

Example
-------
>>> import torch
>>> g = LeanUNet(base=8)
>>> g(torch.rand(1, 1, 64, 64)).shape
torch.Size([1, 3, 64, 64])
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from latentstudio.errors import ParameterError
from latentstudio.zoo.checkpoint import register_model


class _Sep(nn.Sequential):
    """Depthwise 3x3 (optionally strided) + pointwise 1x1 + batch norm + ReLU."""

    def __init__(self, cin: int, cout: int, *, stride: int = 1, act: bool = True):
        layers: list[nn.Module] = [nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False),
                                   nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        if act:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class _Res(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(_Sep(ch, ch), _Sep(ch, ch, act=False))

    def forward(self, x):
        return F.relu(x + self.body(x))


def _up(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)


@register_model("seeing_lean_unet")
class LeanUNet(nn.Module):
    """The real-time generator: ``(N, in_ch, H, W)`` in [0, 1] -> ``(N, 3, H, W)`` in [0, 1].

    Parameters
    ----------
    base : channels of the first stage (doubling at each of the four stages)
    blocks : residual blocks at 1/16 resolution
    in_ch : input channels (1: the degraded grey picture)
    """

    def __init__(self, base: int = 32, blocks: int = 3, in_ch: int = 1):
        super().__init__()
        for name, v, lo in (("base", base, 4), ("blocks", blocks, 0), ("in_ch", in_ch, 1)):
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise ParameterError(f"{name}={v!r} must be an integer >= {lo}")
        self.base, self.blocks, self.in_ch = base, blocks, in_ch
        c = base
        self.e1 = nn.Sequential(nn.Conv2d(in_ch, c, 3, 2, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.e2 = _Sep(c, 2 * c, stride=2)
        self.e3 = _Sep(2 * c, 4 * c, stride=2)
        self.e4 = _Sep(4 * c, 8 * c, stride=2)
        self.mid = nn.Sequential(*[_Res(8 * c) for _ in range(blocks)])
        self.d4 = _Sep(8 * c + 4 * c, 4 * c)
        self.d3 = _Sep(4 * c + 2 * c, 2 * c)
        self.d2 = _Sep(2 * c + c, c)
        self.d1 = _Sep(c + in_ch, max(8, c // 2))
        self.out = nn.Conv2d(max(8, c // 2), 3, 1)

    def config(self) -> dict:
        return {"base": self.base, "blocks": self.blocks, "in_ch": self.in_ch}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s1 = self.e1(x)
        s2 = self.e2(s1)
        s3 = self.e3(s2)
        y = self.mid(self.e4(s3))
        y = self.d4(torch.cat([_up(y, s3), s3], 1))
        y = self.d3(torch.cat([_up(y, s2), s2], 1))
        y = self.d2(torch.cat([_up(y, s1), s1], 1))
        y = self.d1(torch.cat([_up(y, x), x], 1))
        return torch.sigmoid(self.out(y))


class _Block(nn.Module):
    """One level of pix2pix's recursive U-Net (``UnetSkipConnectionBlock``)."""

    def __init__(self, outer: int, inner: int, *, cin: int | None = None, sub: nn.Module | None = None,
                 outermost: bool = False, innermost: bool = False, dropout: bool = False):
        super().__init__()
        self.outermost = outermost
        cin = outer if cin is None else cin
        down = nn.Conv2d(cin, inner, 4, 2, 1, bias=False)
        if outermost:
            up = [nn.ReLU(True), nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1), nn.Sigmoid()]
            layers = [down, sub, *up]
        elif innermost:
            layers = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True),
                      nn.ConvTranspose2d(inner, outer, 4, 2, 1, bias=False), nn.BatchNorm2d(outer)]
        else:
            layers = [nn.LeakyReLU(0.2, True), down, nn.BatchNorm2d(inner), sub, nn.ReLU(True),
                      nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1, bias=False), nn.BatchNorm2d(outer)]
            if dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


@register_model("seeing_pix2pix_unet")
class Pix2PixUNet(nn.Module):
    """pix2pix's ``unet_256`` generator (``ngf`` 64, 8 levels); input sides must be multiples of 256."""

    def __init__(self, ngf: int = 64, levels: int = 8, in_ch: int = 1):
        super().__init__()
        if not isinstance(levels, int) or not 5 <= levels <= 9:
            raise ParameterError(f"levels={levels!r} must be an integer in [5, 9]")
        self.ngf, self.levels, self.in_ch = ngf, levels, in_ch
        block = _Block(ngf * 8, ngf * 8, innermost=True)
        for _ in range(levels - 5):
            block = _Block(ngf * 8, ngf * 8, sub=block, dropout=True)
        block = _Block(ngf * 4, ngf * 8, sub=block)
        block = _Block(ngf * 2, ngf * 4, sub=block)
        block = _Block(ngf, ngf * 2, sub=block)
        self.net = _Block(3, ngf, cin=in_ch, sub=block, outermost=True)

    def config(self) -> dict:
        return {"ngf": self.ngf, "levels": self.levels, "in_ch": self.in_ch}

    def forward(self, x):
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """pix2pix's PatchGAN (``n_layers`` 3 = 70x70 receptive field) with spectral norm instead of batch norm."""

    def __init__(self, in_ch: int = 4, ndf: int = 48, n_layers: int = 3):
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm
        layers: list[nn.Module] = [sn(nn.Conv2d(in_ch, ndf, 4, 2, 1)), nn.LeakyReLU(0.2, True)]
        ch = ndf
        for i in range(1, n_layers + 1):
            nxt = ndf * min(2 ** i, 8)
            layers += [sn(nn.Conv2d(ch, nxt, 4, 2 if i < n_layers else 1, 1)), nn.LeakyReLU(0.2, True)]
            ch = nxt
        layers.append(sn(nn.Conv2d(ch, 1, 4, 1, 1)))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


GENERATORS = {"lean": LeanUNet, "pix2pix": Pix2PixUNet}


#: The classifiers of the world term by default.
GUIDE_NETS = ("efficientnet_lite0",)
#: The classifier that judges ``seeing check``'s "of its world": never a guide net (held out of training).
JUDGE = "efficientnet_lite2"


def build_generator(arch: str = "lean", **kwargs) -> nn.Module:
    """A generator by name (``lean`` or ``pix2pix``) with its constructor arguments."""
    if arch not in GENERATORS:
        raise ParameterError(f"arch={arch!r} must be one of {', '.join(GENERATORS)}")
    return GENERATORS[arch](**kwargs)


@register_model("seeing_gan")
class SeeingGAN(nn.Module):
    """Generator + PatchGAN trained together by one optimiser.

    ``forward(inputs, targets)`` returns ``(loss, metrics)``: the critic's least-squares loss on real pairs and
    on detached fakes, plus the generator's adversarial term computed through the critic with its parameters
    frozen (so the critic gets no gradient from it), ``l1`` times the L1 distance, ``perceptual`` times a
    feature distance on EfficientNet-Lite0's early blocks when ``perceptual`` > 0, and ``guide`` times the
    world term when ``guide`` > 0: ``-log P(world)``, the negative log of the probability EfficientNet-Lite0
    gives the world's ImageNet classes (``guide_classes``, indices) on the generated picture — it pulls
    outputs towards what a classifier calls the world, which L1 to the target alone does not do once the
    input is an unrelated picture.

    ``guide_nets`` names the classifiers of the world term (their mean ``-log P(world)``; never the judge of
    ``seeing check``, EfficientNet-Lite2). With ``guide_jitter`` > 0 each net sees, at every step, a random view
    of the batch: rescaled by a factor within ``exp(+-guide_jitter)``, cropped back to at most the batch's side at
    a random place per picture and mirrored at random — what a world term must survive to mean the picture
    and not one network's view of its pixels (expectation over transformations).

    ``forward(inputs, targets, off_inputs)`` may also take degraded *off-world* pictures (anything but the world:
    they have no target). Their outputs get ``off_guide`` times the world term — "whatever comes in, paint the
    world", trained directly on the kind of input the artist will show it rather than only on degraded world
    crops — and ``off_keep`` times :func:`structure_loss`, which asks the output, degraded again, to give back the
    input (so the world is painted *into* the input's shapes, not over them). ``area_factor`` is the
    degradation's, for that comparison.
    """

    def __init__(self, arch: str = "lean", generator: dict | None = None, ndf: int = 48, l1: float = 100.0,
                 perceptual: float = 0.0, guide: float = 0.0, guide_classes: list[int] | None = None,
                 guide_nets: Sequence[str] = GUIDE_NETS, guide_jitter: float = 0.0, off_guide: float = 0.0,
                 off_keep: float = 0.0, area_factor: float = 24.0):
        super().__init__()
        self.arch, self.generator_config, self.ndf = arch, dict(generator or {}), ndf
        self.l1, self.perceptual, self.guide = float(l1), float(perceptual), float(guide)
        self.guide_classes = [int(c) for c in (guide_classes or [])]
        self.guide_nets, self.guide_jitter = [str(n) for n in guide_nets], float(guide_jitter)
        self.off_guide, self.off_keep, self.area_factor = float(off_guide), float(off_keep), float(area_factor)
        if min(self.off_guide, self.off_keep) < 0 or not all(map(math.isfinite, (self.off_guide, self.off_keep))):
            raise ParameterError(f"off_guide={off_guide!r} and off_keep={off_keep!r} must be finite numbers >= 0")
        if (self.guide > 0 or self.off_guide > 0) and not self.guide_classes:
            raise ParameterError("a world term (guide or off_guide > 0) needs guide_classes "
                                 "(ImageNet class indices of the world)")
        if not self.guide_nets or not 0.0 <= self.guide_jitter <= 1.0:
            raise ParameterError(f"guide_nets={guide_nets!r} must name at least one classifier and "
                                 f"guide_jitter={guide_jitter!r} lie in [0, 1]")
        if JUDGE in self.guide_nets:
            raise ParameterError(f"{JUDGE} judges `seeing check`; it cannot guide training too")
        self.generator = build_generator(arch, **self.generator_config)
        in_ch = getattr(self.generator, "in_ch", 1)
        self.discriminator = PatchDiscriminator(in_ch=in_ch + 3, ndf=ndf)
        self._features = None
        self._guides: list | None = None

    def config(self) -> dict:
        return {"arch": self.arch, "generator": self.generator_config, "ndf": self.ndf, "l1": self.l1,
                "perceptual": self.perceptual, "guide": self.guide, "guide_classes": self.guide_classes,
                "guide_nets": self.guide_nets, "guide_jitter": self.guide_jitter, "off_guide": self.off_guide,
                "off_keep": self.off_keep, "area_factor": self.area_factor}

    @property
    def uses_off_world(self) -> bool:
        """Whether training batches should carry off-world inputs (``off_guide`` or ``off_keep`` > 0)."""
        return self.off_guide > 0 or self.off_keep > 0

    def _feature_net(self):
        if self._features is None:
            from latentstudio.zoo.classifier import load_classifier

            net = load_classifier("efficientnet_lite0")
            for p in net.parameters():
                p.requires_grad_(False)
            object.__setattr__(self, "_features", net)     # not a submodule: not trained, not saved
        return self._features

    def _perceptual(self, fake: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        from latentstudio.zoo.hooks import features

        net = self._feature_net()
        names = ["blocks.2", "blocks.4"]
        with features(net, names) as got:
            net(torch.cat([fake, target]))
        total = fake.new_zeros(())
        for name in names:
            a, b = got[name].chunk(2)
            total = total + F.l1_loss(a, b.detach())
        return total

    def _guide_nets(self) -> list:
        if self._guides is None:
            from latentstudio.zoo.classifier import load_classifier

            nets = []
            for name in self.guide_nets:
                net = self._feature_net() if name == "efficientnet_lite0" else load_classifier(name)
                for p in net.parameters():
                    p.requires_grad_(False)
                nets.append(net)
            object.__setattr__(self, "_guides", nets)      # not submodules: not trained, not saved
        return self._guides

    def _view(self, fake: torch.Tensor) -> torch.Tensor:
        """A random view of the batch (see the class docstring); the batch itself when ``guide_jitter`` is 0."""
        if self.guide_jitter <= 0:
            return fake
        n, _, h, w = fake.shape
        scale = math.exp(float(torch.empty(()).uniform_(-self.guide_jitter, self.guide_jitter)))
        sh, sw = max(16, round(h * scale)), max(16, round(w * scale))
        x = F.interpolate(fake, size=(sh, sw), mode="bilinear", align_corners=False)
        ch, cw = min(sh, h), min(sw, w)
        top = torch.randint(0, sh - ch + 1, (n,)).tolist()
        left = torch.randint(0, sw - cw + 1, (n,)).tolist()
        flip = (torch.rand(n) < 0.5).tolist()
        views = [x[i, :, t:t + ch, l:l + cw] for i, (t, l) in enumerate(zip(top, left))]
        return torch.stack([v.flip(-1) if f else v for v, f in zip(views, flip)])

    def _world_nll(self, fake: torch.Tensor) -> torch.Tensor:
        """Mean over the batch and the guide nets of ``-log P(world classes)``, each net on its own view."""
        total = fake.new_zeros(())
        for net in self._guide_nets():
            logp = net(self._view(fake)).log_softmax(-1)
            total = total - logp[:, self.guide_classes].logsumexp(-1).mean()
        return total / len(self.guide_nets)

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor, off_inputs: torch.Tensor | None = None):
        off = None
        if off_inputs is not None and self.uses_off_world:
            # one pass over both kinds: batch-norm statistics then mix them as they will at run time
            fake, off = self.generator(torch.cat([inputs, off_inputs])).split([len(inputs), len(off_inputs)])
        else:
            fake = self.generator(inputs)
        d = self.discriminator
        real_logits = d(torch.cat([inputs, targets], 1))
        fake_logits = d(torch.cat([inputs, fake.detach()], 1))
        d_loss = 0.5 * ((real_logits - 1).pow(2).mean() + fake_logits.pow(2).mean())
        frozen = [p for p in d.parameters() if p.requires_grad]
        for p in frozen:
            p.requires_grad_(False)
        try:
            g_adv = (d(torch.cat([inputs, fake], 1)) - 1).pow(2).mean()
        finally:
            for p in frozen:
                p.requires_grad_(True)
        l1 = F.l1_loss(fake, targets)
        loss = d_loss + g_adv + self.l1 * l1
        metrics = {"d": float(d_loss.detach()), "g_adv": float(g_adv.detach()), "l1": float(l1.detach())}
        if self.perceptual > 0:
            perc = self._perceptual(fake, targets)
            loss = loss + self.perceptual * perc
            metrics["perceptual"] = float(perc.detach())
        if self.guide > 0:
            nll = self._world_nll(fake)
            loss = loss + self.guide * nll
            metrics["world_nll"] = float(nll.detach())
        if off is not None:
            if self.off_guide > 0:
                off_nll = self._world_nll(off)
                loss = loss + self.off_guide * off_nll
                metrics["off_world_nll"] = float(off_nll.detach())
            if self.off_keep > 0:
                keep = structure_loss(off, off_inputs, self.area_factor)
                loss = loss + self.off_keep * keep
                metrics["off_keep"] = float(keep.detach())
        return loss, metrics


def structure_loss(output: torch.Tensor, inputs: torch.Tensor, area_factor: float) -> torch.Tensor:
    """How far ``output``, degraded again (grey, down-and-up by ``area_factor``), is from the degraded ``inputs``
    it was made from: mean absolute difference after each picture is standardised (zero mean, unit spread), so
    brightness and contrast are free and only the layout of light and dark counts.
    """
    from latentstudio.seeing.degrade import degrade_area

    def z(x):
        x = x - x.mean(dim=(1, 2, 3), keepdim=True)
        return x / (x.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt() + 1e-3)

    return (z(degrade_area(output, area_factor)) - z(inputs)).abs().mean()
