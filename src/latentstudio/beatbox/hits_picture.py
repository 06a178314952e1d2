"""A recording's detected sounds as a picture: the waveform, each sound shaded in its class colour and
labelled with its class and confidence.

Drawn with Pillow (no plotting library), returned as an RGB array; the faces save or show it.

Example
-------
>>> res = classify_recording("voice.wav")                              # doctest: +SKIP
>>> draw_hits(load_voice("voice.wav").y, 22050, res.hits).shape       # doctest: +SKIP
(200, 900, 3)
"""

from __future__ import annotations

import numpy as np

from latentstudio.errors import ParameterError

#: RGB of each drum class (others are grey).
COLOURS = {"kick": (230, 80, 60), "snare": (240, 200, 60), "closed_hat": (90, 200, 240),
           "open_hat": (60, 120, 240), "tom": (170, 110, 230), "cymbal": (120, 230, 140), "clap": (240, 140, 200),
           "rim": (200, 200, 90)}
_LABEL_BAND = 20          # px above the waveform where the labels go


def draw_hits(y: np.ndarray, sr: int, hits, *, width: int = 900, height: int = 200) -> np.ndarray:
    """The waveform of ``y`` (mono, ``sr`` Hz) with each hit (``time``, ``end`` in seconds, ``label``,
    ``confidence``: :class:`~latentstudio.beatbox.jam.DetectedHit`) shaded in its class colour from its
    start to its end, a line at its onset and ``"label 0.93"`` above it.

    Returns
    -------
    np.ndarray : ``(height, width, 3)`` uint8

    Raises
    ------
    ParameterError : an empty recording, or a picture smaller than 8 x 32 px
    """
    from PIL import Image, ImageDraw

    y = np.asarray(y, dtype=np.float32).reshape(-1)
    if y.size == 0:
        raise ParameterError("y is empty: no waveform to draw")
    if width < 8 or height < _LABEL_BAND + 12:
        raise ParameterError(f"width={width}, height={height}: the picture must be at least 8 x "
                             f"{_LABEL_BAND + 12} px")
    img = Image.new("RGB", (width, height), (17, 17, 17))
    draw = ImageDraw.Draw(img)
    n = len(y)
    for h in hits:
        x0, x1 = int(h.time * sr / n * width), int(h.end * sr / n * width)
        c = COLOURS.get(h.label, (200, 200, 200))
        draw.rectangle([x0, _LABEL_BAND, max(x0 + 1, x1), height - 1], fill=tuple(v // 4 for v in c))
        draw.line([x0, _LABEL_BAND, x0, height - 1], fill=c, width=2)
        draw.text((x0 + 3, 4), f"{h.label} {h.confidence:.2f}", fill=c)
    cols = np.array_split(np.abs(y), width)
    mid = _LABEL_BAND + (height - _LABEL_BAND) // 2
    amp = (height - _LABEL_BAND - 4) / 2 / max(1e-6, float(np.max(np.abs(y))))
    for x, col in enumerate(cols):
        a = float(col.max()) if col.size else 0.0
        draw.line([x, mid - a * amp, x, mid + a * amp], fill=(220, 220, 220))
    return np.asarray(img)


__all__ = ["COLOURS", "draw_hits"]
