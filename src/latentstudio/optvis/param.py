"""Image parametrisations: ``param(...) -> (parameters, image_fn)``.

``parameters`` is the list of tensors an optimiser updates; ``image_fn()`` returns the image they
describe, ``(N, 3, H, W)`` RGB in [0, 1]. Two are provided, as in Lucid/lucent:

* :func:`pixel_image` - one parameter per pixel and channel;
* :func:`fft_image` - a spectrum scaled by 1/frequency (so low frequencies move first) with colours
  decorrelated by a fixed matrix measured on ImageNet; it gives cleaner feature visualisations.

Example
-------
>>> params, image_fn = fft_image((1, 3, 32, 32), generator=torch.Generator().manual_seed(0))
>>> image_fn().shape
torch.Size([1, 3, 32, 32])
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from latentstudio.errors import ParameterError

#: Square root of ImageNet's RGB colour covariance (Lucid's ``color_correlation_svd_sqrt``).
_COLOR_SVD_SQRT = torch.tensor([[0.26, 0.09, 0.02],
                                [0.27, 0.00, -0.05],
                                [0.27, -0.09, 0.03]], dtype=torch.float32)
_MAX_NORM = float(np.max(np.linalg.norm(_COLOR_SVD_SQRT.numpy(), axis=0)))

ImageFn = Callable[[], torch.Tensor]


def _check_shape(shape) -> tuple[int, int, int, int]:
    if len(shape) != 4 or shape[1] != 3 or any(int(s) <= 0 for s in shape):
        raise ParameterError(f"shape={tuple(shape)} must be (N, 3, H, W) with positive sizes")
    return tuple(int(s) for s in shape)  # type: ignore[return-value]


def decorrelate_colors(t: torch.Tensor) -> torch.Tensor:
    """Map decorrelated colour coordinates ``(N, 3, H, W)`` to RGB offsets."""
    m = (_COLOR_SVD_SQRT / _MAX_NORM).to(t.device, t.dtype)
    return torch.einsum("nchw,dc->ndhw", t, m)


def to_valid_rgb(image_fn: ImageFn, *, decorrelate: bool = True) -> ImageFn:
    """Wrap an unconstrained image function: optional colour decorrelation, then a sigmoid into [0, 1]."""
    def fn() -> torch.Tensor:
        t = image_fn()
        if decorrelate:
            t = decorrelate_colors(t)
        return torch.sigmoid(t)
    return fn


def pixel_image(shape, *, sd: float = 0.01, init: torch.Tensor | None = None, decorrelate: bool = False,
                generator: torch.Generator | None = None, device: str | torch.device = "cpu"
                ) -> tuple[list[torch.Tensor], ImageFn]:
    """One free parameter per pixel; ``init`` (an image in [0, 1]) starts from a picture.

    Example
    -------
    >>> params, fn = pixel_image((1, 3, 8, 8), init=torch.full((1, 3, 8, 8), 0.25))
    >>> round(float(fn().detach().mean()), 3)
    0.25
    """
    shape = _check_shape(shape)
    if init is not None:
        if tuple(init.shape) != shape:
            raise ParameterError(f"init has shape {tuple(init.shape)}, expected {shape}")
        x = torch.logit(init.detach().to(device, torch.float32).clamp(1e-4, 1 - 1e-4))
        decorrelate = False
    else:
        x = torch.randn(shape, generator=generator, device=device) * sd
    x.requires_grad_(True)
    return [x], to_valid_rgb(lambda: x, decorrelate=decorrelate)


def _freqs(h: int, w: int) -> torch.Tensor:
    fy = torch.fft.fftfreq(h)[:, None]
    fx = torch.fft.rfftfreq(w)[None, :]
    return torch.sqrt(fx * fx + fy * fy)


def fft_image(shape, *, sd: float = 0.01, decay_power: float = 1.0, decorrelate: bool = True,
              generator: torch.Generator | None = None, device: str | torch.device = "cpu"
              ) -> tuple[list[torch.Tensor], ImageFn]:
    """A spectrum parametrisation: Fourier coefficients scaled by ``1 / frequency ** decay_power``.

    Example
    -------
    >>> params, fn = fft_image((2, 3, 16, 20))
    >>> fn().shape, bool((fn() >= 0).all() and (fn() <= 1).all())
    (torch.Size([2, 3, 16, 20]), True)
    """
    n, c, h, w = _check_shape(shape)
    freqs = _freqs(h, w).to(device)
    spectrum = (torch.randn((n, c, *freqs.shape, 2), generator=generator, device=device) * sd).requires_grad_(True)
    scale = (1.0 / torch.clamp(freqs, min=1.0 / max(h, w)) ** decay_power) * np.sqrt(w * h)

    def fn() -> torch.Tensor:
        coeffs = torch.view_as_complex(spectrum) * scale
        img = torch.fft.irfftn(coeffs, s=(h, w), norm="ortho")
        return img / 4.0

    return [spectrum], to_valid_rgb(fn, decorrelate=decorrelate)


__all__ = ["pixel_image", "fft_image", "to_valid_rgb", "decorrelate_colors"]
