"""How far a decoder's output moves per unit latent step: magnification factors and step distances.

A *decoder* ``f`` is any callable that takes a float tensor ``z`` of shape ``(B, d)`` and returns a tensor
``(B, ...)``; the trailing axes are flattened into one output vector per row. Its pull-back metric
``M(z) = J(z)^T J(z)``, with ``J`` the Jacobian of the flattened output, says how far the output moves per
unit latent step (Arvanitidis, Hansen & Hauberg 2018, "Latent Space Oddity"). Restricted to a plane through
the latent (a ``(d, k)`` basis ``P``), the *magnification factor* ``sqrt(det(P^T M P))`` is the output-space
area swept by a unit latent area: the landscape that Frenzel, Teleaga & Ushio (2019, "Latent Space
Cartography") paint.

Only Euclidean pull-backs are computed here. A decoder of distributions is embedded in Euclidean space by its
caller: a Gaussian decoder returns ``concat(mu, sigma)`` (so ``J^T J = J_mu^T J_mu + J_sigma^T J_sigma``), a
categorical one ``2 * sqrt(p)`` (the Fisher-Rao embedding, where chord length approximates the Fisher-Rao arc).

Functions
---------
plane_basis        the orthonormal ``(d, k)`` basis of a latent plane
latent_grid        pixel-centre grid ``(H, W, d)`` over a 2-D plane of the latent (row 0 is the top)
magnification      exact ``sqrt(det(P^T J^T J P))`` by forward-mode autodiff (``torch.func.jvp``)
log_magnification  its logarithm, accurate where the factor underflows
magnification_fd   the same factor by central finite differences, for decoders autodiff cannot see through
step_distance      mean output distance per unit latent step over directions in the plane ("Latent Space
                   Cartography"), with any output distance and for stochastic decoders
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from latentstudio.errors import ParameterError

Decoder = Callable[[torch.Tensor], torch.Tensor]


def _check_int(name: str, value, minimum: int = 1) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ParameterError(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)


def _check_positive(name: str, value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name}={value!r} must be a positive number") from None
    if not math.isfinite(number) or number <= 0:
        raise ParameterError(f"{name}={value!r} must be a positive finite number")
    return number


def _as_latent(z) -> tuple[torch.Tensor, tuple[int, ...]]:
    """``z`` (..., d) as a flat ``(B, d)`` float tensor plus its leading shape; numpy becomes float32."""
    if isinstance(z, np.ndarray):
        if not (np.issubdtype(z.dtype, np.floating) or np.issubdtype(z.dtype, np.integer)):
            raise ParameterError(f"z must hold real numbers, got dtype {z.dtype}")
        z = torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32))
    if not isinstance(z, torch.Tensor):
        raise ParameterError(f"z must be a torch tensor or numpy array, got {type(z).__name__}")
    if z.ndim < 2 or z.shape[-1] == 0 or z.numel() == 0:
        raise ParameterError(f"z must have shape (B, d) (or (..., d)) with B, d >= 1, got {tuple(z.shape)}")
    if not torch.is_floating_point(z):
        z = z.float()
    if not bool(torch.isfinite(z).all()):
        raise ParameterError("z contains NaN or infinite values")
    return z.reshape(-1, z.shape[-1]), tuple(z.shape[:-1])


def _check_decoder(f) -> None:
    if not callable(f):
        raise ParameterError(f"f must be callable (a decoder), got {type(f).__name__}")
    if isinstance(f, torch.nn.Module) and f.training:
        raise ParameterError("f is an nn.Module in training mode; call f.eval() first "
                             "(dropout makes the output random and batch-norm mixes rows)")


def _flat_output(out, rows: int) -> torch.Tensor:
    if isinstance(out, np.ndarray):
        out = torch.from_numpy(np.ascontiguousarray(out))
    if not isinstance(out, torch.Tensor):
        raise ParameterError(f"f must return a torch tensor (or numpy array), got {type(out).__name__}")
    if out.ndim == 0 or out.shape[0] != rows:
        raise ParameterError(f"f returned shape {tuple(out.shape)} for {rows} latent rows; "
                             f"the first axis must be the batch")
    return out.reshape(rows, -1)


def plane_basis(d: int, *, basis=None) -> torch.Tensor:
    """The orthonormal basis ``(d, k)`` of a plane (or k-dim slice) through a ``d``-dim latent.

    Parameters
    ----------
    d : int
        Latent dimension.
    basis : array-like (d, k), optional
        Columns spanning the slice, ``1 <= k <= d``. They are orthonormalised by QR in column order (the first
        column keeps its direction, the second becomes its component orthogonal to the first, ...), so
        orientation is preserved. Default: the identity for ``d <= 2``; a larger latent must name its plane.

    Returns
    -------
    torch.Tensor
        float32 ``(d, k)`` with orthonormal columns.

    Raises
    ------
    ParameterError
        ``d < 1``; no basis for ``d > 2``; wrong shape, non-finite or rank-deficient basis.

    Example
    -------
    >>> plane_basis(3, basis=[[2.0, 1.0], [0.0, 1.0], [0.0, 0.0]]).tolist()
    [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]
    """
    d = _check_int("d", d)
    if basis is None:
        if d > 2:
            raise ParameterError(f"a d={d} latent needs basis= (d, k) columns naming its plane, "
                                 f"e.g. torch.eye({d})[:, :2]")
        return torch.eye(d)
    P = torch.as_tensor(np.asarray(basis.detach().cpu() if isinstance(basis, torch.Tensor) else basis,
                                   dtype=np.float64))
    if P.ndim != 2 or P.shape[0] != d or not 1 <= P.shape[1] <= d:
        raise ParameterError(f"basis has shape {tuple(P.shape)}; it must be (d, k) with d={d} and 1 <= k <= d")
    if not bool(torch.isfinite(P).all()):
        raise ParameterError("basis contains NaN or infinite values")
    Q, R = torch.linalg.qr(P)
    diag = torch.diagonal(R)
    if bool((diag.abs() <= 1e-8 * P.norm(dim=0).max()).any()):
        raise ParameterError(f"basis columns are linearly dependent (QR diagonal {diag.tolist()})")
    return (Q * torch.sign(diag)).float() + 0.0  # + 0.0: no negative zeros


def check_bounds(bounds) -> tuple[float, float, float, float]:
    """``bounds`` as four finite floats ``(x0, x1, y0, y1)`` with ``x0 < x1`` and ``y0 < y1``, else ParameterError."""
    try:
        x0, x1, y0, y1 = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ParameterError(f"bounds={bounds!r} must be four numbers (x0, x1, y0, y1)") from None
    if not all(math.isfinite(b) for b in (x0, x1, y0, y1)) or x1 <= x0 or y1 <= y0:
        raise ParameterError(f"bounds={bounds!r} must be finite with x0 < x1 and y0 < y1")
    return x0, x1, y0, y1


def latent_grid(*, bounds=(-3.0, 3.0, -3.0, 3.0), resolution=256, origin=None, basis=None) -> torch.Tensor:
    """Latent points at the pixel centres of an ``H x W`` image of a plane through the latent.

    Pixel ``(i, j)`` holds ``origin + u_j * b0 + v_i * b1`` with ``u_j = x0 + (j + 0.5)(x1 - x0) / W`` and
    ``v_i = y1 - (i + 0.5)(y1 - y0) / H``: image convention, row 0 is the *top* (largest ``v``), column 0 the
    left. ``b0, b1`` are the (orthonormalised) columns of ``basis``.

    Parameters
    ----------
    bounds : (x0, x1, y0, y1)
        Extent of the plane coordinates ``u`` (horizontal) and ``v`` (vertical), ``x0 < x1``, ``y0 < y1``.
    resolution : int or (H, W)
        Pixels; an int gives a square image.
    origin : array-like (d,), optional
        Latent point at plane coordinates (0, 0); default the zero vector.
    basis : array-like (d, 2), optional
        The plane's two directions (see :func:`plane_basis`); default the identity for a 2-D latent.

    Returns
    -------
    torch.Tensor
        float32 ``(H, W, d)``.

    Raises
    ------
    ParameterError
        Bad bounds, resolution, origin or basis.

    Example
    -------
    >>> g = latent_grid(bounds=(0, 4, 0, 2), resolution=(2, 4))
    >>> tuple(g.shape), g[0, 0].tolist(), g[1, 3].tolist()
    ((2, 4, 2), [0.5, 1.5], [3.5, 0.5])
    """
    x0, x1, y0, y1 = check_bounds(bounds)
    if isinstance(resolution, (tuple, list)) and len(resolution) == 2:
        H, W = (_check_int("resolution", r) for r in resolution)
    else:
        H = W = _check_int("resolution", resolution)
    if origin is not None:
        o = np.asarray(origin.detach().cpu() if isinstance(origin, torch.Tensor) else origin, dtype=np.float64)
        if o.ndim != 1 or o.size == 0 or not np.isfinite(o).all():
            raise ParameterError(f"origin must be a finite 1-D latent vector (d,), got shape {o.shape}")
        d = o.size
    else:
        d = np.asarray(basis).shape[0] if basis is not None and np.ndim(basis) == 2 else 2
        o = np.zeros(d)
    P = plane_basis(d, basis=basis).double()
    if P.shape[1] != 2:
        raise ParameterError(f"latent_grid needs a plane: basis must have 2 columns, got {P.shape[1]}")
    u = x0 + (np.arange(W) + 0.5) * (x1 - x0) / W
    v = y1 - (np.arange(H) + 0.5) * (y1 - y0) / H
    uv = torch.from_numpy(np.stack(np.meshgrid(u, v, indexing="xy"), axis=-1))  # (H, W, 2), [..., 0] = u
    return (torch.from_numpy(o) + uv @ P.T).float()


def _gram_dets(f: Decoder, z, basis, batch_size: int, tangents) -> tuple[np.ndarray, tuple[int, ...]]:
    """``det(T^T T)`` per latent row, with ``T`` the ``k`` output tangents ``tangents(f, chunk, P)``."""
    _check_decoder(f)
    flat, lead = _as_latent(z)
    batch_size = _check_int("batch_size", batch_size)
    P = plane_basis(flat.shape[1], basis=basis).to(device=flat.device, dtype=flat.dtype)
    dets = [_gram_det(tangents(f, flat[start:start + batch_size], P))
            for start in range(0, flat.shape[0], batch_size)]
    return torch.cat(dets).numpy(), lead


def _gram_det(T: torch.Tensor) -> torch.Tensor:
    """``det(G)``, ``G = T^T T`` the ``k x k`` Gram matrix of tangents ``T`` ``(k, b, D)``, as float64 ``(b,)``.

    ``G`` is first formed in the tangents' precision (one batched matmul). Its determinant loses accuracy
    like ``eps / sin^2`` of the angle between nearly parallel tangents, so rows where ``det G`` is under
    1 % of the product of its diagonal (an angle under about 6 degrees for ``k = 2``), or under- or
    overflowed, are recomputed from float64 copies of their tangents.
    """
    gram = torch.bmm(T.permute(1, 0, 2), T.permute(1, 2, 0)).double()
    det = torch.linalg.det(gram)
    diagonal = torch.diagonal(gram, dim1=1, dim2=2).prod(-1)
    redo = (det <= 1e-2 * diagonal) | (diagonal < 1e-30) | ~torch.isfinite(det)
    if T.dtype != torch.float64 and bool(redo.any()):
        exact = T[:, redo].double()
        det[redo] = torch.linalg.det(torch.einsum("kbn,lbn->bkl", exact, exact))
    return det.cpu()


def _jvp_tangents(f: Decoder, zc: torch.Tensor, P: torch.Tensor) -> torch.Tensor:
    rows = zc.shape[0]

    def flat(x):
        out = f(x)
        if not isinstance(out, torch.Tensor):
            raise ParameterError(f"f must return a torch tensor for exact magnification, got {type(out).__name__}"
                                 "; use magnification_fd for decoders autodiff cannot see through")
        return _flat_output(out, rows)

    directions = P.T[:, None, :].expand(P.shape[1], rows, P.shape[0])
    with torch.no_grad():
        return torch.func.vmap(lambda t: torch.func.jvp(flat, (zc,), (t,))[1])(directions)


def magnification(f: Decoder, z, *, basis=None, batch_size: int = 4096) -> np.ndarray:
    """Exact magnification factor ``sqrt(det(P^T J^T J P))`` of decoder ``f`` at latent points ``z``.

    ``J`` is the Jacobian of the flattened output. The ``k`` tangents ``J p`` along the basis columns come from
    forward-mode autodiff (``torch.func.jvp``, vmapped over the ``k`` directions: ``k`` is small, the output is
    large), and the ``k x k`` Gram determinant is formed from them (in float64 where the tangents are nearly
    parallel); ``J^T J`` is never built. ``f`` is called as is (no parameter gradients are recorded) and must
    treat rows independently; an ``nn.Module`` must be in eval mode. The first call in a process pays torch's
    one-off set-up of forward-mode autodiff (about a second).

    Parameters
    ----------
    f : callable
        Decoder, ``(b, d)`` tensor -> ``(b, ...)`` tensor, differentiable by ``torch.func``.
    z : torch.Tensor or np.ndarray (..., d)
        Latent points, e.g. a :func:`latent_grid`; numpy input becomes float32.
    basis : array-like (d, k), optional
        The latent slice (see :func:`plane_basis`); default the identity for ``d <= 2``.
    batch_size : int
        Latent rows per decoder call; memory grows with ``batch_size * k * output size``.

    Returns
    -------
    np.ndarray
        float64 of shape ``z.shape[:-1]``; tiny negative determinants from rounding are clamped to 0.

    Raises
    ------
    ParameterError
        Non-finite or badly shaped ``z``, bad basis, a training-mode module, an output without batch axis.

    Example
    -------
    >>> A = torch.tensor([[2.0, 0.0], [0.0, 3.0], [0.0, 0.0]])
    >>> magnification(lambda z: z @ A.T, torch.zeros(4, 2)).tolist()
    [6.0, 6.0, 6.0, 6.0]
    """
    dets, lead = _gram_dets(f, z, basis, batch_size, _jvp_tangents)
    return np.sqrt(np.clip(dets, 0.0, None)).reshape(lead)


def log_magnification(f: Decoder, z, *, basis=None, batch_size: int = 4096) -> np.ndarray:
    """Natural log of :func:`magnification` (``0.5 log det``), ``-inf`` where the factor is zero.

    Example
    -------
    >>> round(float(log_magnification(lambda z: 1e-30 * z, torch.zeros(1, 2))[0]), 2)
    -138.16
    """
    dets, lead = _gram_dets(f, z, basis, batch_size, _jvp_tangents)
    with np.errstate(divide="ignore"):
        return (0.5 * np.log(np.clip(dets, 0.0, None))).reshape(lead)


def magnification_fd(f: Decoder, z, *, eps: float = 1e-3, basis=None, batch_size: int = 4096) -> np.ndarray:
    """Magnification factor by central finite differences: for decoders autodiff cannot see through.

    Each tangent is ``(f(z + h p) - f(z - h p)) / (2 h)`` along a basis column ``p``, with the step
    ``h = eps * max(1, |z|)`` relative to the latent point's norm (an absolute ``eps`` near the origin); the
    step actually taken after float rounding of ``z +- h p`` is used as the divisor. ``f`` is called under
    ``torch.no_grad`` on ``2k`` shifted copies of each chunk at once and may return a numpy array. The
    truncation error is ``O(h^2)``; rounding error grows like ``float eps / h``, so keep float32 decoders
    at ``eps >= 1e-4``.

    Parameters
    ----------
    f : callable
        Decoder, ``(n, d)`` tensor -> ``(n, ...)`` tensor or array.
    z : torch.Tensor or np.ndarray (..., d)
        Latent points.
    eps : float
        Relative step (see above), > 0.
    basis : array-like (d, k), optional
        The latent slice (see :func:`plane_basis`).
    batch_size : int
        Latent rows per chunk; each decoder call sees ``2k`` times as many.

    Returns
    -------
    np.ndarray
        float64 of shape ``z.shape[:-1]``.

    Raises
    ------
    ParameterError
        As :func:`magnification`, and ``eps <= 0``.

    Example
    -------
    >>> f = lambda z: torch.stack([z[:, 0], z[:, 1], (z ** 2).sum(1)], 1)   # magnification sqrt(1 + 4|z|^2)
    >>> magnification_fd(f, torch.tensor([[1.0, 0.0]])).round(3).tolist()
    [2.236]
    """
    eps = _check_positive("eps", eps)

    def tangents(f, zc, P):
        rows, d = zc.shape
        k = P.shape[1]
        h = eps * zc.double().norm(dim=1).clamp(min=1.0)                      # (b,)
        shift = (h[None, :, None] * P.T.double()[:, None, :])                   # (k, b, d)
        plus, minus = (zc[None] + shift).to(zc.dtype), (zc[None] - shift).to(zc.dtype)
        with torch.no_grad():
            out = _flat_output(f(torch.cat([plus, minus]).reshape(2 * k * rows, d)), 2 * k * rows)
        out = out.reshape(2, k, rows, -1)
        taken = ((plus.double() - minus.double()) * P.T.double()[:, None, :]).sum(-1)   # (k, b) along p
        return (out[0] - out[1]) / taken.to(out.dtype)[..., None]   # nearby floats subtract exactly

    dets, lead = _gram_dets(f, z, basis, batch_size, tangents)
    return np.sqrt(np.clip(dets, 0.0, None)).reshape(lead)


def _euclidean(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm((a.double() - b.double()).reshape(a.shape[0], -1), dim=1)


def step_distance(f: Decoder, z, *, eps: float = 1e-2, directions: int = 16, basis=None,
                  distance: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None, samples: int = 1,
                  generator: torch.Generator | None = None, batch_size: int = 4096) -> np.ndarray:
    """Mean output distance per unit latent step: the generalised measure of "Latent Space Cartography".

    For each latent point, ``mean_u distance(f(z + eps u), f(z)) / eps`` over unit directions ``u`` in the
    slice: ``directions`` vectors ``cos(theta) b0 + sin(theta) b1`` evenly spaced on the circle (``theta =
    2 pi m / directions``) for a 2-D slice, or ``+-`` each basis column otherwise (``directions`` is then
    unused). ``eps`` is an absolute latent step: this is a finite-scale measure, not a derivative. For a
    linear ``f = A z`` and the Euclidean distance it is the mean of ``|A u|`` over the circle.

    A stochastic decoder (one that draws a sample per call: autoregressive, VAE sampling) is called
    ``samples`` times at ``z`` and at each ``z + eps u``. With ``samples == 1`` the result includes the
    decoder's own noise floor. With ``samples >= 2`` each direction scores half the energy distance
    (Szekely & Rizzo) between the output distributions,
    ``E d(X, Y) - (E d(X, X') + E d(Y, Y')) / 2`` with ``X, X' ~ f(z)`` and ``Y, Y' ~ f(z + eps u)``
    independent, estimated from all sample pairs: it equals ``d(f(z + eps u), f(z))`` for a deterministic
    decoder, is zero for identical distributions (the noise floor is removed), and is non-negative for
    Euclidean-type distances. It measures how *distinguishable* neighbouring outputs are, so it stays below
    the distance between mean outputs: a step that moves the output by less than its noise scores little
    (for small steps it grows like ``eps^2``), so choose ``eps`` well above the scale at which the noise hides
    the change. Sampling noise can make an estimate slightly negative; the mean over directions is clamped
    at 0.

    Parameters
    ----------
    f : callable
        Decoder, ``(n, d)`` tensor -> ``(n, ...)`` tensor; called under ``torch.no_grad``. With a
        ``generator`` it is called as ``f(z, generator=generator)``, so its draws are seeded explicitly.
    z : torch.Tensor or np.ndarray (..., d)
        Latent points.
    eps : float
        Latent step length (latent units), > 0.
    directions : int
        Directions on the circle of a 2-D slice, >= 1.
    basis : array-like (d, k), optional
        The latent slice (see :func:`plane_basis`).
    distance : callable, optional
        ``distance(a, b) -> (n,)`` for two output batches ``(n, ...)``; default the Euclidean norm of the
        flattened difference.
    samples : int
        Decoder draws per point, >= 1 (see above).
    generator : torch.Generator, optional
        Passed to ``f`` as ``generator=``.
    batch_size : int
        Rows per decoder call (the point and its shifted copies count together).

    Returns
    -------
    np.ndarray
        float64 of shape ``z.shape[:-1]``, output distance per latent unit.

    Raises
    ------
    ParameterError
        As :func:`magnification`, ``eps <= 0``, bad ``directions``/``samples``, a distance of the wrong shape.

    Example
    -------
    >>> A = torch.tensor([[3.0, 0.0], [0.0, 3.0]])       # |A u| = 3 in every direction
    >>> step_distance(lambda z: z @ A.T, torch.zeros(2, 2)).round(4).tolist()
    [3.0, 3.0]
    """
    _check_decoder(f)
    flat, lead = _as_latent(z)
    eps = _check_positive("eps", eps)
    directions = _check_int("directions", directions)
    samples = _check_int("samples", samples)
    batch_size = _check_int("batch_size", batch_size)
    distance = _euclidean if distance is None else distance
    if not callable(distance):
        raise ParameterError(f"distance must be callable, got {type(distance).__name__}")
    P = plane_basis(flat.shape[1], basis=basis).double()
    if P.shape[1] == 2:
        theta = 2 * math.pi * torch.arange(directions, dtype=torch.float64) / directions
        U = torch.cos(theta)[:, None] * P[:, 0] + torch.sin(theta)[:, None] * P[:, 1]
    else:
        U = torch.cat([P.T, -P.T])
    U = U.to(device=flat.device)
    M = U.shape[0]
    kwargs = {} if generator is None else {"generator": generator}

    def dist(a, b):
        out = distance(a, b)
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != (a.shape[0],):
            raise ParameterError(f"distance must return a tensor of shape ({a.shape[0]},), got "
                                 f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}")
        return out.double()

    def mean_pairs(draws):
        pairs = [dist(draws[s], draws[t]) for s in range(len(draws)) for t in range(s + 1, len(draws))]
        return torch.stack(pairs).mean(0)

    chunk = max(1, batch_size // (M + 1))
    result = []
    with torch.no_grad():
        for start in range(0, flat.shape[0], chunk):
            zc = flat[start:start + chunk]
            rows = zc.shape[0]
            shifted = (zc.double()[None] + eps * U[:, None, :]).to(zc.dtype).reshape(M * rows, -1)
            inputs = torch.cat([zc, shifted])
            draws = [_flat_output(f(inputs, **kwargs), (M + 1) * rows) for _ in range(samples)]
            here = [d[:rows] for d in draws]
            there = [d[rows:] for d in draws]                                   # row m * rows + i: u_m at z_i
            score = torch.stack([dist(x.repeat(M, 1), y) for x in here for y in there]).mean(0)
            if samples > 1:
                score = score - 0.5 * (mean_pairs(here).repeat(M) + mean_pairs(there))
            result.append((score.reshape(M, rows).mean(0) / eps).clamp(min=0.0).cpu())
    return torch.cat(result).numpy().reshape(lead)


__all__ = ["plane_basis", "latent_grid", "magnification", "log_magnification", "magnification_fd",
           "step_distance"]
