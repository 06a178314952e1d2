"""Colour handling for dreams: keep the original's colours, take the dream's luminance.

Example
-------
>>> import numpy as np
>>> a, b = np.full((2, 2, 3), 0.2, np.float32), np.full((2, 2, 3), 0.6, np.float32)
>>> out = keep_luminance(b, a)
>>> bool(np.allclose(out, 0.6, atol=1e-5))
True
"""

from __future__ import annotations

import numpy as np

from latentstudio.core.image import valid_image
from latentstudio.errors import ParameterError

#: RGB -> YIQ (NTSC); luminance is the first row.
_RGB2YIQ = np.array([[0.299, 0.587, 0.114],
                     [0.596, -0.274, -0.322],
                     [0.211, -0.523, 0.312]], dtype=np.float32)
_YIQ2RGB = np.linalg.inv(_RGB2YIQ).astype(np.float32)


def keep_luminance(dreamed: np.ndarray, original: np.ndarray) -> np.ndarray:
    """The luminance (Y of YIQ) of ``dreamed`` with the chroma (I, Q) of ``original``.

    Both are ``(H, W, 3)`` float RGB in [0, 1] of the same size; the result is clipped to [0, 1].
    """
    d, o = valid_image(dreamed, name="dreamed"), valid_image(original, name="original")
    if d.shape != o.shape:
        raise ParameterError(f"dreamed {d.shape} and original {o.shape} must have the same shape")
    yiq = o @ _RGB2YIQ.T
    yiq[..., 0] = d @ _RGB2YIQ[0]
    return np.clip(yiq @ _YIQ2RGB.T, 0, 1).astype(np.float32)


__all__ = ["keep_luminance"]
