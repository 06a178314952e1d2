"""FID/KID (EfficientNet-Lite0 features): how far generated pictures are from real ones, with a floor.

The usual FID and KID use Inception-v3's pool features, whose weights are not offline here; these use the
1280-dimensional pooled features of the project's EfficientNet-Lite0 (:func:`latentstudio.zoo.load_classifier`)
at 224 px. The numbers are therefore *not comparable with published FIDs*: they are named
:data:`METRIC_NAME` everywhere they are reported, and always with the **real-vs-real floor** — the same
metric between two halves of the real set, which is what a perfect generator would score with that many
pictures (FID is biased upwards by small sets; KID is unbiased, its floor is near 0).

* :func:`image_features` — ``(N, 1280)`` pooled features of pictures in [0, 1]
* :func:`fid` — Fréchet distance between Gaussians fitted to two feature sets
* :func:`kid` — unbiased squared MMD with the cubic polynomial kernel, mean and std over random subsets
* :func:`compare` — generated vs one half of the real set, and the floor: the other half vs that half

Example
-------
>>> real = image_features(torch.rand(40, 3, 32, 32))          # doctest: +SKIP
>>> compare(real, image_features(fake))                        # doctest: +SKIP
{'metric': 'FID/KID (EfficientNet-Lite0 features)', 'fid': 61.2, 'fid_floor': 40.3, 'kid': 0.021, ...}
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from latentstudio.errors import ParameterError

METRIC_NAME = "FID/KID (EfficientNet-Lite0 features)"
FEATURE_LAYER = "pool"


def _feature_model(device: str = "cpu"):
    from latentstudio.zoo import load_classifier

    return load_classifier("efficientnet_lite0", device=device)


def pooled_features(net, x: torch.Tensor, *, size: int = 224) -> torch.Tensor:
    """Differentiable ``(N, D)`` features of pictures ``x`` in [0, 1]: EfficientNet-Lite0's pool layer (any
    :class:`~latentstudio.zoo.Classifier`'s), or the output of another module ``net``; resized to ``size``."""
    from latentstudio.zoo import features

    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=x.shape[-1] > size)
    if not hasattr(net, "layers"):
        return net(x).flatten(1)
    with features(net, [FEATURE_LAYER]) as feats:
        net(x)
    return feats[FEATURE_LAYER].flatten(1)


def image_features(images, *, size: int = 224, batch_size: int = 32, device: str = "cpu", model=None,
                   progress=None) -> np.ndarray:
    """Pooled EfficientNet-Lite0 features ``(N, 1280)`` float64 of pictures.

    Parameters
    ----------
    images : ``(N, 3, H, W)`` float tensor/array in [0, 1], or uint8 array (0..255)
    size : side the pictures are resized to (bilinear, antialiased) before the network
    batch_size : pictures per forward pass
    model : a classifier to use instead of EfficientNet-Lite0 (tests)
    progress : ``progress(done, total)``
    """
    if isinstance(images, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(images))
        x = x.float() / 255.0 if images.dtype == np.uint8 else x.float()
    elif isinstance(images, torch.Tensor):
        x = images.detach().float()
    else:
        raise ParameterError(f"images must be an array or tensor (N, 3, H, W), got {type(images).__name__}")
    if x.ndim != 4 or x.shape[1] != 3 or x.shape[0] == 0:
        raise ParameterError(f"images must have shape (N, 3, H, W) with N >= 1, got {tuple(x.shape)}")
    net = model if model is not None else _feature_model(device)
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            f = pooled_features(net, x[i:i + batch_size].to(device), size=size)
            out.append(f.double().cpu())
            if progress is not None:
                progress(min(i + batch_size, len(x)), len(x))
    return torch.cat(out).numpy()


def _check_pair(a: np.ndarray, b: np.ndarray, minimum: int = 2) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ParameterError(f"feature sets must be (N, D) with the same D, got {a.shape} and {b.shape}")
    if len(a) < minimum or len(b) < minimum:
        raise ParameterError(f"feature sets need at least {minimum} rows each, got {len(a)} and {len(b)}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ParameterError("feature sets hold NaN or infinite values")
    return a, b


def _trace_sqrt_product(ac: np.ndarray, bc: np.ndarray) -> float:
    """``tr (S_a S_b)^(1/2)`` of the covariances of centred rows ``ac``, ``bc``, without a general ``sqrtm``.

    The eigenvalues of ``S_a S_b`` are the squared singular values of ``A B^T / sqrt((n_a - 1)(n_b - 1))``, so with
    fewer pictures than feature dimensions the trace is that matrix's nuclear norm (an ``n_a x n_b`` SVD);
    otherwise it is ``sum sqrt(eig(S_a^(1/2) S_b S_a^(1/2)))`` from two symmetric eigendecompositions.
    """
    na, nb, d = len(ac), len(bc), ac.shape[1]
    if min(na, nb) <= d:
        return float(np.linalg.svd(ac @ bc.T, compute_uv=False).sum() / np.sqrt((na - 1) * (nb - 1)))
    sa, sb = ac.T @ ac / (na - 1), bc.T @ bc / (nb - 1)
    w, v = np.linalg.eigh(sa)
    root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    return float(np.sqrt(np.clip(np.linalg.eigvalsh(root @ sb @ root), 0, None)).sum())


def fid(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` between two feature sets."""
    a, b = _check_pair(a, b)
    mu1, mu2 = a.mean(0), b.mean(0)
    ac, bc = a - mu1, b - mu2
    tr1 = float((ac ** 2).sum() / (len(a) - 1))
    tr2 = float((bc ** 2).sum() / (len(b) - 1))
    return float(max(0.0, np.sum((mu1 - mu2) ** 2) + tr1 + tr2 - 2 * _trace_sqrt_product(ac, bc)))


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    m, n = len(x), len(y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2 * kxy.mean())


def kid(a: np.ndarray, b: np.ndarray, *, subsets: int = 20, subset_size: int = 200, seed: int = 0
        ) -> tuple[float, float]:
    """Kernel Inception Distance on these features: unbiased MMD^2 with ``k(x, y) = (x.y / d + 1)^3``.

    Returns ``(mean, std)`` over ``subsets`` random subsets of ``min(subset_size, len(a), len(b))`` rows each
    (one subset of everything when the sets are that small).
    """
    a, b = _check_pair(a, b)
    m = min(subset_size, len(a), len(b))
    rng = np.random.default_rng(seed)
    if m == len(a) == len(b) or subsets < 1:
        return _mmd2_unbiased(a, b), 0.0
    vals = [_mmd2_unbiased(a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)])
            for _ in range(subsets)]
    return float(np.mean(vals)), float(np.std(vals))


def compare(real: np.ndarray, fake: np.ndarray, *, seed: int = 0, subsets: int = 20) -> dict:
    """FID and KID of ``fake`` against one random half of ``real``, and the floor: the other half against it.

    Both comparisons use the same number of pictures (the smaller of the half and ``len(fake)``), so the
    floor is what a generator indistinguishable from the real pictures would score here.
    """
    real, fake = _check_pair(real, fake, minimum=2)
    if len(real) < 4:
        raise ParameterError(f"the real set has {len(real)} pictures; at least 4 are needed for two halves")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(real))
    half = len(real) // 2
    ref, other = real[order[:half]], real[order[half:2 * half]]
    n = min(half, len(fake))
    fake_n = fake[rng.choice(len(fake), n, replace=False)]
    other = other[:n]
    k, ks = kid(fake_n, ref, subsets=subsets, seed=seed)
    kf, kfs = kid(other, ref, subsets=subsets, seed=seed)
    return {"metric": METRIC_NAME, "n": int(n), "reference": int(half),
            "fid": fid(fake_n, ref), "fid_floor": fid(other, ref),
            "kid": k, "kid_std": ks, "kid_floor": kf, "kid_floor_std": kfs}


__all__ = ["METRIC_NAME", "image_features", "pooled_features", "fid", "kid", "compare"]
