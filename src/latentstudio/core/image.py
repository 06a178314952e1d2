"""Images in and out, and their tensor form.

Arrays are ``(H, W, 3)`` float32 in [0, 1] (RGB); tensors are ``(1, 3, H, W)`` float32 in [0, 1].
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from latentstudio.core.fileio import atomic_path
from latentstudio.errors import ParameterError

#: Largest image side :func:`load` accepts by default.
MAX_SIDE = 16384
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def _to_rgb_float(img) -> np.ndarray:
    """Any PIL mode (RGBA, LA, P, L, I;16, I, F, CMYK) -> (H, W, 3) float32 in [0, 1]."""
    from PIL import Image

    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(img, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or a.max() > 255 else 255.0
        a = np.clip(a / top, 0, 1)
        return np.repeat(a[..., None], 3, axis=2).astype(np.float32)
    if mode == "F":
        a = np.asarray(img, dtype=np.float64)
        if not np.all(np.isfinite(a)):
            return np.full(a.shape + (3,), np.nan, dtype=np.float32)  # load() refuses it
        lo, hi = float(a.min()), float(a.max())
        a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
        return np.repeat(a[..., None], 3, axis=2).astype(np.float32)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, rgba).convert("RGB")
    elif mode != "RGB":
        img = img.convert("RGB")
    return np.asarray(img, dtype=np.float32) / 255.0


def load(path: str | os.PathLike, *, size: int | tuple[int, int] | None = None,
         max_side: int = MAX_SIDE) -> np.ndarray:
    """Load an image file as ``(H, W, 3)`` float32 RGB in [0, 1].

    Alpha is composited over white; greyscale and 16-bit images are converted.

    Parameters
    ----------
    path : image file (png, jpeg, bmp, gif, tiff, webp)
    size : resize so the *shorter* side is ``size`` (int), or to exactly ``(width, height)``
    max_side : refuse images whose width or height exceeds this

    Raises
    ------
    ParameterError : missing, empty, corrupt, non-image, zero-size or too large images

    Example
    -------
    >>> from latentstudio import assets
    >>> img = load(assets.sample_image("chelsea"), size=224)   # doctest: +SKIP
    """
    from PIL import Image, UnidentifiedImageError

    if not isinstance(path, (str, os.PathLike)):
        raise ParameterError(f"image path must be a str or path, got {type(path).__name__}")
    p = Path(path)
    if not p.exists():
        raise ParameterError(f"image file {str(p)!r} does not exist")
    if p.is_dir():
        raise ParameterError(f"image file {str(p)!r} is a directory")
    if p.stat().st_size == 0:
        raise ParameterError(f"image file {str(p)!r} is empty (0 bytes)")
    try:
        with Image.open(p) as img:
            w, h = img.size
            if w == 0 or h == 0:
                raise ParameterError(f"image file {str(p)!r} has zero size ({w}x{h})")
            if w > max_side or h > max_side:
                raise ParameterError(f"image file {str(p)!r} is {w}x{h}, over the limit of {max_side} px a side")
            img.load()
            arr = _to_rgb_float(img)
        if not np.all(np.isfinite(arr)):
            raise ParameterError(f"image file {str(p)!r} contains NaN or infinite pixel values")
    except ParameterError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ParameterError(f"image file {str(p)!r} is not a readable image ({exc})") from None
    if size is not None:
        arr = resize(arr, size)
    return arr


def resize(arr: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Resize an (H, W, 3) float image: int = shorter side, tuple = (width, height). Lanczos."""
    from PIL import Image

    arr = valid_image(arr)
    h, w = arr.shape[:2]
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        if size <= 0:
            raise ParameterError(f"size={size} must be positive")
        scale = size / min(h, w)
        new = (max(1, round(w * scale)), max(1, round(h * scale)))
    elif isinstance(size, (tuple, list)) and len(size) == 2 and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in size):
        new = (int(size[0]), int(size[1]))
        if new[0] <= 0 or new[1] <= 0:
            raise ParameterError(f"size={size} must be positive")
    else:
        raise ParameterError(f"size={size!r} must be an int (shorter side) or a (width, height) pair of ints")
    if new == (w, h):
        return arr
    chans = [np.asarray(Image.fromarray(arr[..., c], mode="F").resize(new, Image.LANCZOS)) for c in range(3)]
    return np.clip(np.stack(chans, axis=-1), 0, 1).astype(np.float32)


def center_crop(arr: np.ndarray, size: int) -> np.ndarray:
    """Crop the central ``size`` x ``size`` square."""
    h, w = arr.shape[:2]
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size <= 0:
        raise ParameterError(f"crop size={size!r} must be a positive integer")
    if size > h or size > w:
        raise ParameterError(f"crop size={size} larger than image {w}x{h}")
    top, left = (h - size) // 2, (w - size) // 2
    return arr[top:top + size, left:left + size]


def pad_square(arr: np.ndarray, *, fill: float = 1.0) -> np.ndarray:
    """The whole image centred on a square of value ``fill`` (white by default): a letterboxed view.

    Example
    -------
    >>> pad_square(np.zeros((2, 4, 3), np.float32))[:, :, 0]
    array([[1., 1., 1., 1.],
           [0., 0., 0., 0.],
           [0., 0., 0., 0.],
           [1., 1., 1., 1.]], dtype=float32)
    """
    h, w = arr.shape[:2]
    if h == w:
        return arr
    side = max(h, w)
    out = np.full((side, side) + arr.shape[2:], fill, dtype=arr.dtype)
    top, left = (side - h) // 2, (side - w) // 2
    out[top:top + h, left:left + w] = arr
    return out


def valid_image(arr, *, name: str = "image") -> np.ndarray:
    """Check an ``(H, W, 3)`` finite float image in [0, 1] (uint8 accepted and scaled)."""
    if not isinstance(arr, np.ndarray):
        raise ParameterError(f"{name} must be a numpy array, got {type(arr).__name__}")
    if arr.dtype == np.uint8:
        arr = arr.astype(np.float32) / 255.0
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ParameterError(f"{name} must have shape (H, W, 3), got {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ParameterError(f"{name} has zero size {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise ParameterError(f"{name} must be float or uint8, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} contains NaN or infinite values")
    return np.clip(arr[..., :3], 0.0, 1.0).astype(np.float32, copy=False)


def to_tensor(arr: np.ndarray, *, device: str = "cpu"):
    """(H, W, 3) float [0,1] -> torch (1, 3, H, W) float32."""
    import torch

    arr = valid_image(arr)
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))[None].to(device)


def from_tensor(t) -> np.ndarray:
    """torch (1, 3, H, W) or (3, H, W) in [0,1] -> (H, W, 3) float32 numpy (clipped)."""
    import torch

    t = t.detach().float().cpu()
    if t.ndim == 4:
        if t.shape[0] != 1:
            raise ParameterError(f"from_tensor expects a batch of 1, got shape {tuple(t.shape)}")
        t = t[0]
    if t.ndim != 3 or t.shape[0] != 3:
        raise ParameterError(f"from_tensor expects (3, H, W), got shape {tuple(t.shape)}")
    if not bool(torch.isfinite(t).all()):
        raise ParameterError("from_tensor: the image tensor holds NaN or infinite values")
    return np.clip(t.numpy().transpose(1, 2, 0), 0, 1).astype(np.float32)


def to_uint8(arr: np.ndarray) -> np.ndarray:
    """Float image in [0, 1] -> uint8."""
    return (np.clip(valid_image(arr), 0, 1) * 255 + 0.5).astype(np.uint8)


def image_files(folder: str | os.PathLike, *, what: str = "image folder") -> list[Path]:
    """The image files under ``folder`` (recursive, sorted; :data:`IMAGE_EXTENSIONS`).

    Raises
    ------
    ParameterError : ``folder`` is missing, not a folder, or holds no images (the message names it as ``what``)
    """
    from latentstudio.core.fileio import files_under

    return files_under(folder, IMAGE_EXTENSIONS, what=what, kind="images")


def save(path: str | os.PathLike, arr: np.ndarray) -> Path:
    """Save an (H, W, 3) float [0,1] (or uint8) image atomically; format from the extension."""
    from PIL import Image

    p = Path(path)
    if p.suffix.lower() not in IMAGE_EXTENSIONS:
        raise ParameterError(f"output {str(p)!r}: unsupported image extension {p.suffix!r}")
    img = Image.fromarray(to_uint8(arr))
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF"}.get(p.suffix.lower(),
                                                                               p.suffix[1:].upper())
    with atomic_path(p) as tmp:
        img.save(tmp, format=fmt)
    return p
