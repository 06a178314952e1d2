"""NeuralFunk's WaveNet: mu-law audio from log-mel frames and the SampleVAE's embedding, fast on a CPU.

A WaveNet (van den Oord et al. 2016) predicts the mu-law class (256 of them) of each 16 kHz sample from
the samples before it. Here it is conditioned twice, as in Frenzel's NeuralFunk: locally on the sound's
log-mel frames :func:`log_mel_frames` ``(B, n_mels, frames)`` (repeated ``hop_length`` times, so sample
``t`` sees frame ``t // hop_length``) and globally on a vector ``(B, cond_dim)``, the VAE's embedding.

Architecture: the previous sample's class is embedded (``residual`` channels), then ``stacks`` x ``layers``
residual blocks with dilations ``1, 2, ..., 2 ** (layers - 1)`` (repeated per stack): a causal dilated
convolution of kernel 2 plus the block's conditioning, a gated unit ``tanh(f) * sigmoid(g)``, and 1x1
convolutions to the residual stream and to the skip sum; then ``relu -> 1x1 -> relu -> 1x1`` to
``classes`` logits. The receptive field is ``1 + stacks * (2 ** layers - 1)`` samples.

The defaults (one stack of 10 blocks, dilations 1 .. 512, 24 residual and 48 skip channels; 154 k weights,
most of them the conditioning projections) see 1024 samples, 4 hops or 64 ms: three periods of a 50 Hz
kick. They are sized for speed: a stack of 16 blocks of 32 channels ran at about half real time on one
core, and the per-sample cost is mostly numpy's per-call overhead, about 5 calls per block.

Generation, two ways, drawing the same numbers:

* :func:`generate_naive` reruns the network over the last receptive field for every sample (the
  reference, and the slow baseline);
* :func:`generate` is fast-wavenet (Paine et al. 2016): each block keeps a ring buffer of what its
  convolution's past tap will need ``dilation`` steps later, so a sample costs one small matrix product per
  block. The loop runs in numpy float32 on weights fused once per call (the block's two taps and gate
  halves, the previous block's residual and skip 1x1s and the identity of the residual stream are one
  matrix; the conditioning of every block and frame is computed in one batched op before the loop;
  ``sigmoid(g) = (1 + tanh(g / 2)) / 2`` so one ``tanh`` serves both halves).

Both sample by inverse CDF from uniforms ``torch.rand((n_samples, B), generator=generator)`` drawn before
the loop, so the same ``torch.Generator`` seed gives the same sounds from both; ``temperature=0`` takes the
most likely class (argmax) and needs no generator.

Speed of the defaults on the 2-core development machine (shared with other jobs): :func:`generate` about
20-25 k samples/s for one sound (real time is 16 k) and 80 k samples/s for a batch of 8;
:func:`generate_naive` about 800 samples/s for one sound and 1.5 k for 8 (torch on one thread).

Example
-------
>>> import numpy as np, torch
>>> net = WaveNet(n_mels=16, cond_dim=4, residual=8, skip=16, layers=4, stacks=1)
>>> mel = np.zeros((1, 16, 4), np.float32)
>>> cond = np.zeros((1, 4), np.float32)
>>> y = generate(net, mel, cond, n_samples=1000, generator=torch.Generator().manual_seed(0))
>>> y.shape, y.dtype
((1, 1000), dtype('float32'))
>>> z = generate_naive(net, mel, cond, n_samples=100, generator=torch.Generator().manual_seed(0))
>>> bool((z == y[:, :100]).all())
True
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from latentstudio.errors import ParameterError
from latentstudio.funk.features import log_mel_frames
from latentstudio.zoo.checkpoint import register_model

__all__ = ["WaveNet", "mu_law_encode", "mu_law_decode", "log_mel_frames", "generate", "generate_naive",
           "train_wavenet"]


# ------------------------------------------------------------------------------------------------ mu-law
def _check_mu(mu) -> int:
    if not isinstance(mu, (int, np.integer)) or isinstance(mu, bool) or mu < 1:
        raise ParameterError(f"mu={mu!r} must be a positive integer (classes - 1)")
    return int(mu)


def mu_law_encode(y, *, mu: int = 255):
    """Mu-law classes ``0 .. mu`` (int64) of audio ``y`` in [-1, 1] (values outside are clipped).

    ``f = sign(y) log(1 + mu |y|) / log(1 + mu)``, then ``f`` in [-1, 1] is rounded to ``mu + 1`` levels;
    silence is class ``(mu + 1) // 2`` (128 for ``mu=255``). numpy in, numpy out; torch in, torch out.

    Parameters
    ----------
    y : audio, any shape (numpy or torch)
    mu : the number of classes minus one

    Returns
    -------
    q : int64 array of ``y``'s shape

    Raises
    ------
    ParameterError : ``mu`` not a positive integer, or ``y`` not finite

    Example
    -------
    >>> import numpy as np
    >>> mu_law_encode(np.array([-1.0, 0.0, 1.0], np.float32)).tolist()
    [0, 128, 255]
    """
    mu = _check_mu(mu)
    if isinstance(y, torch.Tensor):
        x = y.double()
        if not bool(torch.isfinite(x).all()):
            raise ParameterError("y contains NaN or infinite values")
        x = x.clamp(-1.0, 1.0)
        f = torch.sign(x) * torch.log1p(mu * x.abs()) / math.log1p(mu)
        return torch.floor((f + 1) / 2 * mu + 0.5).long().clamp(0, mu)
    x = np.asarray(y, dtype=np.float64)
    if not np.isfinite(x).all():
        raise ParameterError("y contains NaN or infinite values")
    x = np.clip(x, -1.0, 1.0)
    f = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    return np.clip(np.floor((f + 1) / 2 * mu + 0.5), 0, mu).astype(np.int64)


def mu_law_decode(q, *, mu: int = 255):
    """Audio float32 in [-1, 1] from mu-law classes ``0 .. mu`` (the inverse of :func:`mu_law_encode`).

    Raises
    ------
    ParameterError : ``mu`` not a positive integer, or a class outside ``0 .. mu``

    Example
    -------
    >>> import numpy as np
    >>> y = np.linspace(-1, 1, 1001).astype(np.float32)
    >>> float(np.abs(mu_law_decode(mu_law_encode(y)) - y).max()) < 0.025  # the steps grow with |y|
    True
    """
    mu = _check_mu(mu)
    is_t = isinstance(q, torch.Tensor)
    c = q.detach().cpu().numpy() if is_t else np.asarray(q)
    if c.size and (not np.issubdtype(c.dtype, np.integer) and not np.array_equal(c, np.round(c))):
        raise ParameterError("q must hold integer mu-law classes")
    if c.size and (c.min() < 0 or c.max() > mu):
        raise ParameterError(f"q holds classes {int(c.min())} .. {int(c.max())}, outside 0 .. mu={mu}")
    f = 2.0 * c.astype(np.float64) / mu - 1.0
    y = (np.sign(f) * np.expm1(np.abs(f) * np.log1p(mu)) / mu).astype(np.float32)
    return torch.from_numpy(y).to(q.device) if is_t else y


# ------------------------------------------------------------------------------------------------- model
def _positive(name: str, value, minimum: int = 1) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ParameterError(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)


@register_model("funk_wavenet")
class WaveNet(nn.Module):
    """A WaveNet over mu-law classes, conditioned on log-mel frames and a global vector.

    Parameters
    ----------
    n_mels : mel bands of the local conditioning ``(B, n_mels, frames)``
    hop_length : samples per mel frame (each frame is repeated this many times)
    cond_dim : width of the global conditioning vector (the VAE embedding); 0 = none
    residual : channels of the residual stream (and of the input embedding)
    skip : channels of the skip sum and of the output layers
    layers : blocks per stack, dilations ``1 .. 2 ** (layers - 1)``
    stacks : how many times the dilation cycle repeats
    classes : mu-law classes (``mu = classes - 1``)

    Notes
    -----
    The defaults (154 k weights, receptive field 1024 samples = 4 hops) generate faster than real time at
    16 kHz with :func:`generate` on one CPU core (see the module notes). Every constructor argument is a
    JSON number: :meth:`config` gives the dict that ``save_checkpoint`` keeps.

    Example
    -------
    >>> import torch
    >>> net = WaveNet(n_mels=16, cond_dim=0, residual=8, skip=16, layers=4, stacks=1)
    >>> q = torch.randint(0, 256, (2, 300))
    >>> net(q, torch.zeros(2, 16, 2), None).shape
    torch.Size([2, 256, 300])
    >>> net.receptive_field
    16
    """

    def __init__(self, n_mels: int = 128, hop_length: int = 256, cond_dim: int = 64, residual: int = 24,
                 skip: int = 48, layers: int = 10, stacks: int = 1, classes: int = 256):
        super().__init__()
        self.n_mels = _positive("n_mels", n_mels)
        self.hop_length = _positive("hop_length", hop_length)
        self.cond_dim = _positive("cond_dim", cond_dim, 0)
        self.residual = _positive("residual", residual)
        self.skip_channels = _positive("skip", skip)
        self.layers = _positive("layers", layers)
        self.stacks = _positive("stacks", stacks)
        self.classes = _positive("classes", classes, 2)
        if self.layers > 16:
            raise ParameterError(f"layers={layers} must be <= 16 (dilation 2 ** 15 is already 2 seconds)")
        n, r, s = self.layers * self.stacks, self.residual, self.skip_channels
        self.dilations = [2 ** (i % self.layers) for i in range(n)]
        self.embed = nn.Embedding(self.classes, r)
        self.convs = nn.ModuleList([nn.Conv1d(r, 2 * r, 2, dilation=d, bias=False) for d in self.dilations])
        self.res = nn.ModuleList([nn.Conv1d(r, r, 1) for _ in range(n - 1)])  # the last block has none
        self.skips = nn.ModuleList([nn.Conv1d(r, s, 1) for _ in range(n)])
        self.local = nn.Conv1d(self.n_mels, n * 2 * r, 1)           # every block's mel projection + bias
        self.glob = nn.Linear(self.cond_dim, n * 2 * r, bias=False) if self.cond_dim else None
        self.out1 = nn.Conv1d(s, s, 1)
        self.out2 = nn.Conv1d(s, self.classes, 1)

    def config(self) -> dict:
        """The constructor arguments (JSON-ready)."""
        return {"n_mels": self.n_mels, "hop_length": self.hop_length, "cond_dim": self.cond_dim,
                "residual": self.residual, "skip": self.skip_channels, "layers": self.layers,
                "stacks": self.stacks, "classes": self.classes}

    @property
    def receptive_field(self) -> int:
        """Samples of input the prediction of one sample depends on: ``1 + sum(dilations)``."""
        return 1 + sum(self.dilations)

    @property
    def silence(self) -> int:
        """The mu-law class of 0.0, the input before the first sample."""
        return self.classes // 2

    # -- conditioning ------------------------------------------------------------------------------
    def frame_conditioning(self, mel: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        """Every block's conditioning per frame, ``(B, blocks * 2 * residual, frames)``: its mel projection,
        the global vector's projection and the block's bias (one batched op for all blocks)."""
        c = self.local(mel)
        if self.glob is not None:
            c = c + self.glob(cond)[..., None]
        return c

    def sample_conditioning(self, mel: torch.Tensor, cond: torch.Tensor | None, n: int) -> torch.Tensor:
        """:meth:`frame_conditioning` repeated to samples, ``(B, blocks * 2 * residual, n)``."""
        frames = -(-n // self.hop_length)
        return self.frame_conditioning(mel[..., :frames], cond).repeat_interleave(self.hop_length, dim=-1)[..., :n]

    def _check(self, q: torch.Tensor, mel: torch.Tensor, cond) -> None:
        if q.ndim != 2 or q.dtype != torch.int64:
            raise ParameterError(f"audio_q must be (batch, samples) int64, got {tuple(q.shape)} {q.dtype}")
        _check_conditioning(self, mel, cond, q.shape[0], q.shape[1])

    # -- the network -------------------------------------------------------------------------------
    def network(self, x_in: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, classes, T)`` from input classes ``x_in`` (B, T) (each the class of the sample
        before) and the per-sample conditioning ``c`` from :meth:`sample_conditioning`."""
        r = self.residual
        h = self.embed(x_in).transpose(1, 2)
        skip = None
        for i, (conv, d) in enumerate(zip(self.convs, self.dilations)):
            z = conv(F.pad(h, (d, 0))) + c[:, 2 * r * i: 2 * r * (i + 1)]
            out = torch.tanh(z[:, :r]) * torch.sigmoid(z[:, r:])
            s = self.skips[i](out)
            skip = s if skip is None else skip + s
            if i < len(self.res):
                h = h + self.res[i](out)
        return self.out2(F.relu(self.out1(F.relu(skip))))

    def forward(self, audio_q: torch.Tensor, mel: torch.Tensor, cond: torch.Tensor | None, *,
                previous: torch.Tensor | None = None) -> torch.Tensor:
        """Teacher-forced logits ``(B, classes, T)``: position ``t`` predicts ``audio_q[:, t]`` from the
        classes before it (``previous``, (B,) int64, is the class before ``audio_q[:, 0]``; silence if None).

        ``mel`` is ``(B, n_mels, frames)`` with at least ``ceil(T / hop_length)`` frames (more are
        ignored); ``cond`` is ``(B, cond_dim)`` (None when ``cond_dim`` is 0).
        """
        self._check(audio_q, mel, cond)
        first = (torch.full_like(audio_q[:, :1], self.silence) if previous is None
                 else previous.reshape(-1, 1).to(audio_q))
        x_in = torch.cat([first, audio_q[:, :-1]], dim=1)
        return self.network(x_in, self.sample_conditioning(mel, cond, audio_q.shape[1]))

    def loss(self, audio_q: torch.Tensor, mel: torch.Tensor, cond: torch.Tensor | None, *,
             previous: torch.Tensor | None = None) -> torch.Tensor:
        """Mean cross-entropy (nats per sample) of the teacher-forced predictions of ``audio_q``."""
        return F.cross_entropy(self(audio_q, mel, cond, previous=previous), audio_q)


def _check_conditioning(model: WaveNet, mel, cond, batch: int | None, n: int) -> None:
    """ParameterError unless ``mel`` is (B, n_mels, >= ceil(n / hop)) and ``cond`` (B, cond_dim) or None."""
    if mel.ndim != 3 or mel.shape[1] != model.n_mels:
        raise ParameterError(f"mel must be (batch, n_mels={model.n_mels}, frames), got {tuple(mel.shape)}")
    b = mel.shape[0] if batch is None else batch
    frames = -(-n // model.hop_length)
    if mel.shape[0] != b:
        raise ParameterError(f"mel has batch {mel.shape[0]} but the audio has {b}")
    if mel.shape[2] < frames:
        raise ParameterError(f"mel has {mel.shape[2]} frames; {n} samples at hop_length={model.hop_length} "
                             f"need {frames}")
    if model.cond_dim == 0:
        if cond is not None and tuple(cond.shape) not in ((b, 0), (0,)):
            raise ParameterError(f"cond must be None for a model with cond_dim=0, got {tuple(cond.shape)}")
        return
    if cond is None or cond.ndim != 2 or cond.shape[1] != model.cond_dim:
        got = None if cond is None else tuple(cond.shape)
        raise ParameterError(f"cond must be (batch, cond_dim={model.cond_dim}), got {got}")
    if cond.shape[0] != b:
        raise ParameterError(f"cond has batch {cond.shape[0]} but mel has {b}")


# -------------------------------------------------------------------------------------------- generation
def _inputs(model, mel, cond, n_samples, temperature, generator):
    """Validated float32 CPU tensors ``mel``, ``cond`` (or None) and uniforms ``(n, B)`` (or None)."""
    if not isinstance(model, WaveNet):
        raise ParameterError(f"model must be a WaveNet, got {type(model).__name__}")
    if not isinstance(n_samples, (int, np.integer)) or isinstance(n_samples, bool) or n_samples <= 0:
        raise ParameterError(f"n_samples={n_samples!r} must be a positive integer")
    if (not isinstance(temperature, (int, float, np.integer, np.floating)) or isinstance(temperature, bool)
            or not math.isfinite(temperature) or temperature < 0):
        raise ParameterError(f"temperature={temperature!r} must be a finite number >= 0 (0 = argmax)")
    if temperature > 0 and not isinstance(generator, torch.Generator):
        raise ParameterError(f"generator must be a torch.Generator for temperature={temperature} > 0, "
                             f"got {type(generator).__name__}")
    m = torch.as_tensor(np.asarray(mel, dtype=np.float32) if not isinstance(mel, torch.Tensor) else mel)
    m = m.detach().float().cpu()
    c = None
    if cond is not None:
        c = torch.as_tensor(np.asarray(cond, dtype=np.float32) if not isinstance(cond, torch.Tensor) else cond)
        c = c.detach().float().cpu()
    _check_conditioning(model, m, c, None, int(n_samples))
    if not bool(torch.isfinite(m).all()) or (c is not None and not bool(torch.isfinite(c).all())):
        raise ParameterError("mel and cond must be finite")
    if model.cond_dim == 0:
        c = None
    u = None
    if temperature > 0:
        u = torch.rand((int(n_samples), m.shape[0]), generator=generator, dtype=torch.float64).float()
    return m, c, u


#: the draw exponentiates the logits as they are when their exponentials sum within these bounds
#: (no overflow, no underflow: the usual case, and one op fewer per sample), else it subtracts the peak first
_SUM_RANGE = (1e-30, 1e30)


def _draw(logits: torch.Tensor, u: torch.Tensor | None) -> torch.Tensor:
    """Classes (B,) from logits (B, classes) (already divided by the temperature): argmax, or the inverse
    CDF of their softmax at ``u`` (B,): the first class whose cumulative weight reaches ``u`` x the total."""
    if u is None:
        return logits.argmax(dim=1)
    cdf = torch.cumsum(torch.exp(logits), dim=1)
    bad = ~((cdf[:, -1] > _SUM_RANGE[0]) & (cdf[:, -1] < _SUM_RANGE[1]))
    if bool(bad.any()):
        shifted = logits[bad] - logits[bad].amax(dim=1, keepdim=True)
        cdf[bad] = torch.cumsum(torch.exp(shifted), dim=1)
    return (cdf < (u * cdf[:, -1])[:, None]).sum(dim=1)


@torch.no_grad()
def generate_naive(model: WaveNet, mel, cond, *, n_samples: int, temperature: float = 1.0,
                   generator: torch.Generator | None = None) -> np.ndarray:
    """Audio ``(B, n_samples)`` float32, rerunning the network over the receptive field for every sample.

    The reference for :func:`generate` (same draws, same sounds) and its slow baseline: each step costs a
    forward pass over ``model.receptive_field`` samples. Runs in torch on the model's device.

    Parameters
    ----------
    model : a :class:`WaveNet`
    mel : ``(B, n_mels, frames)`` log-mel frames, at least ``ceil(n_samples / hop_length)`` of them
    cond : ``(B, cond_dim)`` global conditioning, or None for ``cond_dim=0``
    n_samples : samples to generate
    temperature : softmax temperature; 0 = the most likely class at every step
    generator : a seeded ``torch.Generator`` (None is allowed only at ``temperature=0``)

    Returns
    -------
    audio : float32 ``(B, n_samples)`` in [-1, 1]

    Raises
    ------
    ParameterError : bad shapes, ``n_samples <= 0``, ``temperature < 0`` or no generator

    Example
    -------
    >>> import torch
    >>> net = WaveNet(n_mels=8, cond_dim=0, residual=8, skip=8, layers=3, stacks=1)
    >>> generate_naive(net, torch.zeros(2, 8, 1), None, n_samples=50, temperature=0, generator=None).shape
    (2, 50)
    """
    m, c, u = _inputs(model, mel, cond, n_samples, temperature, generator)
    dev = next(model.parameters()).device
    n, rf = int(n_samples), model.receptive_field
    cs = model.sample_conditioning(m.to(dev), None if c is None else c.to(dev), n)
    x = torch.full((m.shape[0], n + 1), model.silence, dtype=torch.int64, device=dev)  # x[:, t] = class t - 1
    for t in range(n):
        lo = max(0, t + 1 - rf)
        logits = model.network(x[:, lo: t + 1], cs[..., lo: t + 1])[..., -1].float().cpu()
        if u is not None:
            logits = logits / float(temperature)
        x[:, t + 1] = _draw(logits, None if u is None else u[t]).to(dev)
    return mu_law_decode(x[:, 1:].cpu().numpy(), mu=model.classes - 1)


def _one_blas_thread():
    """Keep numpy's BLAS on one thread inside the sample loop: its products are far too small to share, and
    OpenBLAS handing a matrix-vector product to a second thread costs more than the product (B=1 ran up to
    a third slower on 2 cores). A scoped limit through threadpoolctl (installed with scikit-learn)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:                                          # pragma: no cover - scikit-learn brings it
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


class _Fused:
    """The weights of a WaveNet as the fast loop's float32 numpy matrices (see :func:`generate`).

    Block ``i`` keeps a column buffer ``P[i]`` (rows, B) laid out as
    ``[ynow (2r) | ypast (2r) | skip_{i-1} (s) | h_i (r) | a (r) | b (r) | 1]``: ``ynow`` and ``ypast`` are
    the dilated convolution's two taps applied to the block's input ``h_i`` (gate rows halved), and after
    the block's ``tanh`` and product ``a = tanh(f)``, ``b = tanh(f) tanh(g / 2)``, so the gated unit
    ``tanh(f) sigmoid(g)`` is ``(a + b) / 2``. One product ``mats[i] @ P[i - 1][h, a, b, 1]`` gives block
    ``i``'s ``ynow, ypast``, the previous block's skip contribution and ``h_i = h_{i-1} + res_{i-1}``.
    ``table`` (classes, 5r + s) is block 0's ``[ynow | ypast | sum of skip biases | h_0]`` per input class.
    """

    def __init__(self, model: WaveNet, temperature: float):
        r, s, nb = model.residual, model.skip_channels, len(model.dilations)
        f32 = np.float32

        def w(conv: nn.Module) -> np.ndarray:                # numpy float64: small products, no torch dispatch
            return conv.weight.detach().cpu().double().numpy()

        def bias(conv: nn.Module) -> np.ndarray:
            return conv.bias.detach().cpu().double().numpy()

        scale = np.concatenate([np.ones(r), np.full(r, 0.5)])            # sigmoid(g) = (1 + tanh(g / 2)) / 2
        wcat = [np.concatenate([w(conv)[:, :, 1], w(conv)[:, :, 0]]) * np.tile(scale, 2)[:, None]
                for conv in model.convs]                                  # (4r, r): the taps now and past
        self.scale = scale.astype(f32)
        emb = w(model.embed).T                                            # (r, classes)
        skip_bias = sum(bias(k) for k in model.skips)
        head = np.concatenate([wcat[0] @ emb, np.repeat(skip_bias[:, None], model.classes, axis=1), emb])
        self.table = np.ascontiguousarray(head.T, dtype=f32)              # (classes, 5r + s)
        self.mats: list[np.ndarray | None] = [None]
        for i in range(1, nb + 1):
            half_ws = 0.5 * w(model.skips[i - 1])[..., 0]
            m = np.zeros((5 * r + s, 3 * r + 1))
            if i < nb:
                half_wr, br = 0.5 * w(model.res[i - 1])[..., 0], bias(model.res[i - 1])
                m[:4 * r, :r] = wcat[i]
                m[:4 * r, r:2 * r] = m[:4 * r, 2 * r:3 * r] = wcat[i] @ half_wr
                m[:4 * r, 3 * r] = wcat[i] @ br
                m[4 * r + s:, :r] = np.eye(r)
                m[4 * r + s:, r:2 * r] = m[4 * r + s:, 2 * r:3 * r] = half_wr
                m[4 * r + s:, 3 * r] = br
            m[4 * r: 4 * r + s, r:2 * r] = m[4 * r: 4 * r + s, 2 * r:3 * r] = half_ws
            self.mats.append(np.ascontiguousarray(m if i < nb else m[4 * r: 4 * r + s], dtype=f32))
        inv_t = 1.0 / temperature if temperature > 0 else 1.0
        self.out1 = np.ascontiguousarray(np.concatenate([w(model.out1)[..., 0], bias(model.out1)[:, None]], 1),
                                         dtype=f32)                        # (s, s + 1): weights | bias
        self.out2 = np.ascontiguousarray(np.concatenate([w(model.out2)[..., 0], bias(model.out2)[:, None]], 1)
                                         * inv_t, dtype=f32)              # (classes, s + 1), over temperature


def _fast_loop(fz: _Fused, cf: np.ndarray, u: np.ndarray | None, *, dilations: list[int], hop: int,
               r: int, s: int, n: int, silence: int,
               progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """The sample loop of :func:`generate`: classes ``(n, B)`` from frame conditioning ``cf``
    (blocks, frames, 2r, B) (gate rows halved, frames covering ``n + max(dilations)`` samples);
    ``progress(done, n)`` every ``hop`` samples and at the end."""
    nb, b = len(dilations), cf.shape[-1]
    P = np.zeros((nb + 1, 7 * r + s + 1, b), np.float32)
    P[:, -1] = 1.0
    blocks = []
    for i, d in enumerate(dilations):
        ring = np.empty((d, 2 * r, b), np.float32)
        for j in range(d):                       # before the start the block's input is zero: conditioning only
            ring[j] = cf[i, j // hop]
        blocks.append((fz.mats[i], P[i - 1, 4 * r + s:] if i else None, P[i, :5 * r + s], P[i, :2 * r],
                       P[i, 2 * r:4 * r], P[i, 5 * r + s:7 * r + s], P[i, 5 * r + s:6 * r + s],
                       P[i, 6 * r + s:7 * r + s], list(ring), list(cf[i]), d))
    head = P[0, :5 * r + s, :].T if b > 1 else P[0, :5 * r + s, 0]
    last_m, last_in, last_out = fz.mats[nb], P[nb - 1, 4 * r + s:], P[nb, 4 * r: 4 * r + s]
    x1 = np.ones((s + 1, b), np.float32)
    x2 = np.ones((s + 1, b), np.float32)
    f1, f2 = x1[:s], x2[:s]
    logits = np.empty((fz.out2.shape[0], b), np.float32)
    cdf = np.empty_like(logits)
    out = np.empty((n, b), np.int64)
    dot, add, tanh, mul, mx = np.dot, np.add, np.tanh, np.multiply, np.maximum
    table, out1, out2 = fz.table, fz.out1, fz.out2
    single = b == 1
    lo, hi = _SUM_RANGE
    if single:                                   # 1-D views: the skip sum as a strided gemv, the draw as a search
        ones, skips, f1v = np.ones(nb + 1, np.float32), P[:, 4 * r: 4 * r + s, 0], f1[:, 0]
        lg, cd = logits[:, 0], cdf[:, 0]
        us = u[:, 0] if u is not None else None
    else:
        skips, thr = P[:, 4 * r: 4 * r + s], np.empty(b, np.float32)
    q, qi = np.full(b, silence, np.int64), silence
    for t in range(n):
        if single:
            np.copyto(head, table[qi])
        else:
            np.take(table, q, axis=0, out=head, mode="clip")
        for m, x_in, y, ynow, ypast, z, za, zb, ring, cv, d in blocks:
            if m is not None:                    # block 0 took its taps from the table
                dot(m, x_in, out=y)
            slot = ring[t % d]
            add(ynow, slot, out=z)
            add(ypast, cv[(t + d) // hop], out=slot)
            tanh(z, out=z)
            mul(za, zb, out=zb)
        dot(last_m, last_in, out=last_out)
        if single:
            dot(ones, skips, out=f1v)
        else:
            np.add.reduce(skips, axis=0, out=f1)
        mx(f1, 0.0, out=f1)
        dot(out1, x1, out=f2)
        mx(f2, 0.0, out=f2)
        dot(out2, x2, out=logits)
        if u is None:
            q = logits.argmax(axis=0)
            qi = int(q[0])
        elif single:
            np.exp(lg, out=cd)
            cd.cumsum(out=cd)
            total = cd[-1]
            if not lo < total < hi:
                np.exp(lg - lg.max(), out=cd)
                cd.cumsum(out=cd)
                total = cd[-1]
            qi = int(cd.searchsorted(us[t] * total))
            q[0] = qi
        else:
            np.exp(logits, out=cdf)
            np.cumsum(cdf, axis=0, out=cdf)
            bad = ~((cdf[-1] > lo) & (cdf[-1] < hi))
            if bad.any():
                shifted = logits[:, bad] - logits[:, bad].max(axis=0)
                cdf[:, bad] = np.cumsum(np.exp(shifted), axis=0)
            mul(cdf[-1], u[t], out=thr)
            q = np.count_nonzero(cdf < thr, axis=0)
        out[t] = q
        if progress is not None and ((t + 1) % hop == 0 or t + 1 == n):
            progress(t + 1, n)
    return out


@torch.no_grad()
def generate(model: WaveNet, mel, cond, *, n_samples: int, temperature: float = 1.0,
             generator: torch.Generator | None = None,
             progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Audio ``(B, n_samples)`` float32 by fast incremental generation (fast-wavenet, Paine et al. 2016).

    Each block keeps a ring buffer of ``dilation`` columns: at step ``t`` it reads what its past tap
    contributes (computed at ``t - dilation``, with the conditioning of step ``t`` already added) and
    writes what step ``t + dilation`` will need, so a sample costs one small matrix product per block
    instead of a pass over the receptive field. The conditioning of every block at every frame is
    computed in one batched op before the loop; the loop runs in numpy float32 on the CPU (whatever the
    model's device) and gives the same classes as :func:`generate_naive` for the same draws.

    Parameters
    ----------
    model : a :class:`WaveNet`
    mel : ``(B, n_mels, frames)`` log-mel frames (numpy or torch), at least ``ceil(n_samples / hop_length)``
    cond : ``(B, cond_dim)`` global conditioning (the VAE embedding), or None for ``cond_dim=0``
    n_samples : samples to generate per item
    temperature : softmax temperature; 0 = the most likely class at every step (deterministic)
    generator : a seeded ``torch.Generator``; ``torch.rand((n_samples, B), generator=generator)`` gives the
        uniforms of the inverse-CDF draws (None is allowed only at ``temperature=0``)
    progress : called as ``progress(done, n_samples)`` every ``hop_length`` samples and at the end

    Returns
    -------
    audio : float32 ``(B, n_samples)`` in [-1, 1]

    Raises
    ------
    ParameterError : bad shapes, mismatched batches, ``n_samples <= 0``, ``temperature < 0`` or no generator

    Example
    -------
    >>> import torch
    >>> net = WaveNet(n_mels=8, cond_dim=2, residual=8, skip=8, layers=3, stacks=1)
    >>> y = generate(net, torch.zeros(3, 8, 2), torch.zeros(3, 2), n_samples=400, temperature=0.7,
    ...              generator=torch.Generator().manual_seed(1))
    >>> y.shape
    (3, 400)
    """
    m, c, u = _inputs(model, mel, cond, n_samples, temperature, generator)
    n, hop, r = int(n_samples), model.hop_length, model.residual
    fz = _Fused(model, float(temperature))
    need = -(-(n + max(model.dilations)) // hop)                    # frames read by the ring buffers
    frames = -(-n // hop)
    mel_used = m[..., :frames]
    if need > frames:                                               # past the end: repeat the last frame
        mel_used = torch.cat([mel_used, mel_used[..., -1:].expand(-1, -1, need - frames)], dim=-1)
    dev = next(model.parameters()).device
    cf = model.frame_conditioning(mel_used.to(dev), None if c is None else c.to(dev)).float().cpu()
    b, nb = cf.shape[0], len(model.dilations)
    cf = cf.reshape(b, nb, 2 * r, need) * torch.from_numpy(fz.scale)[None, None, :, None]
    cf = np.ascontiguousarray(cf.permute(1, 3, 2, 0).numpy())       # (blocks, frames, 2r, B)
    with np.errstate(over="ignore", under="ignore"), _one_blas_thread():   # an overflowing exp is caught
        classes = _fast_loop(fz, cf, None if u is None else u.numpy(), dilations=model.dilations, hop=hop, r=r,
                             s=model.skip_channels, n=n, silence=model.silence, progress=progress)
    return mu_law_decode(np.ascontiguousarray(classes.T), mu=model.classes - 1)


# ---------------------------------------------------------------------------------------------- training
def _examples(examples, model_config: dict) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], dict]:
    """Validated (mu-law classes, mel, cond) per example and the model config completed from the data."""
    if isinstance(examples, (str, bytes)) or not isinstance(examples, Iterable):
        raise ParameterError(f"examples must be an iterable of (audio, mel, cond), got {type(examples).__name__}")
    cfg = dict(model_config)
    hop = cfg.get("hop_length", 256)
    qs, mels, conds = [], [], []
    for i, ex in enumerate(examples):
        if not isinstance(ex, (tuple, list)) or len(ex) != 3:
            raise ParameterError(f"examples[{i}] must be a tuple (audio, mel, cond)")
        y = np.asarray(ex[0], dtype=np.float32)
        m = np.asarray(ex[1], dtype=np.float32)
        c = np.zeros(0, np.float32) if ex[2] is None else np.asarray(ex[2], dtype=np.float32)
        if y.ndim != 1 or y.size < 2 or not np.isfinite(y).all():
            raise ParameterError(f"examples[{i}] audio must be finite 1-D with >= 2 samples, got shape {y.shape}")
        cfg.setdefault("n_mels", m.shape[0] if m.ndim == 2 else None)
        cfg.setdefault("cond_dim", c.size)
        if m.ndim != 2 or m.shape[0] != cfg["n_mels"] or m.shape[1] < -(-y.size // hop) or not np.isfinite(m).all():
            raise ParameterError(f"examples[{i}] mel must be finite (n_mels={cfg['n_mels']}, >= "
                                 f"{-(-y.size // hop)} frames) for {y.size} samples at hop_length={hop}, "
                                 f"got {m.shape}")
        if c.ndim != 1 or c.size != cfg["cond_dim"] or not np.isfinite(c).all():
            raise ParameterError(f"examples[{i}] cond must be finite ({cfg['cond_dim']},), got {c.shape}")
        qs.append(mu_law_encode(y, mu=cfg.get("classes", 256) - 1))
        mels.append(m)
        conds.append(c)
    if not qs:
        raise ParameterError("examples is empty")
    return qs, mels, conds, cfg


def train_wavenet(examples, *, steps: int = 2000, batch_size: int = 8, segment: int = 4096, lr: float = 1e-3,
                  seed: int = 0, model_config: dict[str, Any] | None = None,
                  checkpoint_dir: str | os.PathLike | None = None, resume: bool = True,
                  progress: Callable[[int, int, float], None] | None = None) -> tuple[WaveNet, list[float]]:
    """Train a :class:`WaveNet` on sounds with their log-mel frames and global vectors.

    Each step draws ``batch_size`` random segments of ``segment`` samples (starting on a frame boundary,
    so sample ``t`` of a segment still reads frame ``t // hop_length`` of its slice of the mel) and
    minimises the teacher-forced cross-entropy of their mu-law classes, through
    :func:`latentstudio.train.fit` (AdamW, cosine schedule, gradient clipping at 1, seeded and resumable).
    Sounds shorter than ``segment`` are padded with silence (audio 0, mel frames 0).

    Parameters
    ----------
    examples : an iterable of ``(audio, mel, cond)``: audio float32 ``(n,)`` at 16 kHz in [-1, 1], its
        :func:`log_mel_frames` ``(n_mels, >= ceil(n / hop_length))`` and the global vector ``(cond_dim,)``
        (None or ``()``-shaped for ``cond_dim=0``)
    steps, batch_size, lr, seed : optimiser steps, segments per step, peak learning rate, seed of the
        model's initial weights and of the batches
    segment : samples per training segment (a few receptive fields)
    model_config : :class:`WaveNet` arguments; ``n_mels`` and ``cond_dim`` default to the data's
    checkpoint_dir : periodic resumable checkpoints go there (None = none)
    resume : continue from the newest checkpoint in ``checkpoint_dir``
    progress : ``progress(step, total, loss)`` every 10 steps

    Returns
    -------
    model : the trained WaveNet (eval mode, CPU)
    losses : the loss (nats per sample) of every step

    Raises
    ------
    ParameterError : empty or malformed examples, bad sizes or model arguments

    Example
    -------
    >>> import numpy as np
    >>> t = np.arange(4096) / 16000
    >>> y = (0.8 * np.sin(2 * np.pi * 200 * t) * np.exp(-8 * t)).astype(np.float32)
    >>> mel = log_mel_frames(y, n_mels=16)
    >>> net, losses = train_wavenet([(y, mel, None)], steps=20, batch_size=2, segment=512, lr=3e-3,
    ...                             model_config={"residual": 8, "skip": 16, "layers": 4, "stacks": 1})
    >>> len(losses), losses[-1] < losses[0]
    (20, True)
    """
    from latentstudio.train import TrainConfig, fit

    steps, seed = _positive("steps", steps), _positive("seed", seed, 0)
    segment, batch_size = _positive("segment", segment, 2), _positive("batch_size", batch_size)
    if model_config is not None and not isinstance(model_config, dict):
        raise ParameterError(f"model_config must be a dict of WaveNet arguments, got {type(model_config).__name__}")
    qs, mels, conds, cfg = _examples(examples, model_config or {})
    with torch.random.fork_rng():                           # seeded initial weights, the caller's RNG untouched
        torch.manual_seed(seed)
        try:
            model = WaveNet(**cfg)
        except TypeError as exc:
            raise ParameterError(f"model_config does not fit WaveNet ({exc})") from None
    hop, silence, frames = model.hop_length, model.silence, -(-segment // model.hop_length)
    audio_q, mel_t, cond_t = [], [], []
    for q, m, c in zip(qs, mels, conds):                    # pad short sounds with silence
        n = max(q.size, segment)
        q = np.concatenate([q, np.full(n - q.size, silence, np.int64)])
        need = -(-n // hop)
        m = np.concatenate([m, np.zeros((m.shape[0], max(0, need - m.shape[1])), np.float32)], axis=1)
        audio_q.append(torch.from_numpy(q))
        mel_t.append(torch.from_numpy(m))
        cond_t.append(torch.from_numpy(c))

    def make_batch(step: int, g: torch.Generator):
        qb, prev, mb, cb = [], [], [], []
        for k in torch.randint(0, len(audio_q), (batch_size,), generator=g).tolist():
            q = audio_q[k]
            f0 = int(torch.randint(0, (q.numel() - segment) // hop + 1, (1,), generator=g))
            s0 = f0 * hop
            qb.append(q[s0: s0 + segment])
            prev.append(q[s0 - 1] if s0 > 0 else torch.tensor(silence))
            mb.append(mel_t[k][:, f0: f0 + frames])
            cb.append(cond_t[k])
        return torch.stack(qb), torch.stack(prev), torch.stack(mb), torch.stack(cb)

    def loss_fn(m, batch):
        q, prev, mel, cond = batch
        logits = m(q, mel, cond if cond.shape[1] else None, previous=prev)
        return F.cross_entropy(logits, q)

    config = TrainConfig(steps=steps, batch_size=batch_size, lr=lr, seed=seed, scheduler="cosine",
                         warmup_steps=min(50, steps // 10), grad_clip=1.0, checkpoint_dir=checkpoint_dir,
                         checkpoint_every=max(100, steps // 5), resume=resume, model_config=model.config(),
                         log_every=10)
    result = fit(model, data=make_batch, loss_fn=loss_fn, config=config, progress=progress)
    return model.cpu().eval(), result.losses
