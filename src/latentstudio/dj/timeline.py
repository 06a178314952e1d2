"""The mix as a picture: master tempo on top, one lane per track with its energy, crossfades and bass swaps.

Drawn with Pillow (no plotting library), returned as an RGB ``PIL.Image``; the CLI saves it.

Example
-------
>>> img = draw_timeline(plan, analyses)        # doctest: +SKIP
>>> img.size                                   # doctest: +SKIP
(1200, 420)
"""

from __future__ import annotations

import numpy as np

_COLOURS = [(86, 180, 233), (230, 159, 0), (0, 158, 115), (240, 228, 66), (204, 121, 167), (213, 94, 0),
            (0, 114, 178), (170, 170, 170)]


def draw_timeline(plan: dict, analyses: dict[str, dict] | None = None, *, width: int = 1200):
    """Draw ``plan`` (from :func:`latentstudio.dj.mix.plan_mix`); ``analyses`` adds each track's energy curve."""
    from PIL import Image, ImageDraw

    from latentstudio.dj.mix import time_map

    analyses = analyses or {}
    tracks = plan["tracks"]
    lane, top, left, right = 44, 120, 10, 10
    height = top + lane * len(tracks) + 30
    img = Image.new("RGB", (width, height), (20, 20, 24))
    d = ImageDraw.Draw(img)
    dur = max(1e-3, float(plan["duration"]))
    x = lambda t: left + (width - left - right) * float(t) / dur  # noqa: E731
    # time grid
    step = next(s for s in (5, 10, 15, 30, 60, 120, 300, 600) if dur / s <= 14)
    for t in np.arange(0, dur + 1e-9, step):
        d.line([(x(t), 14), (x(t), height - 20)], fill=(45, 45, 52))
        d.text((x(t) + 2, height - 16), f"{int(t // 60)}:{int(t % 60):02d}", fill=(150, 150, 150))
    # master tempo curve
    mb = np.asarray(plan["master_beats"], dtype=np.float64)
    if mb.size > 2:
        bpm = 60.0 / np.diff(mb)
        lo, hi = float(bpm.min()) - 1, float(bpm.max()) + 1
        y = lambda v: 100 - 80 * (v - lo) / (hi - lo)  # noqa: E731
        pts = [(x(t), y(v)) for t, v in zip(mb[:-1], bpm)]
        d.line(pts, fill=(255, 255, 255), width=2)
        d.text((left + 4, 16), f"master tempo {lo + 1:.1f} - {hi - 1:.1f} bpm", fill=(220, 220, 220))
    # transitions
    for tr in plan["transitions"]:
        d.rectangle([x(tr["start"]), top - 6, x(tr["end"]), height - 22], outline=(90, 90, 110))
        d.line([(x(tr["swap"]), top - 10), (x(tr["swap"]), height - 22)], fill=(255, 80, 80), width=1)
    # lanes
    for i, tr in enumerate(tracks):
        c = _COLOURS[i % len(_COLOURS)]
        y0 = top + i * lane
        x0, x1 = x(tr.get("play_start", tr["start"] if i else 0.0)), x(tr["end"] if i < len(tracks) - 1 else dur)
        d.rectangle([x0, y0 + 4, x1, y0 + lane - 4], fill=tuple(v // 4 for v in c), outline=c)
        a = analyses.get(tr["path"])
        if a is not None and a.get("energy"):
            try:
                out_t, src_t = time_map(plan, i, a)
                e = np.asarray(a["energy"], dtype=np.float64)
                ts = (np.arange(len(e)) + 0.5) * a.get("energy_hop", 0.5)
                keep = (ts >= src_t[0]) & (ts <= src_t[-1])
                ot = np.interp(ts[keep], src_t, out_t)
                lev = np.clip((e[keep] + 60) / 60, 0, 1)
                for t, v in zip(ot, lev):
                    h = (lane - 10) * v / 2
                    d.line([(x(t), y0 + lane / 2 - h), (x(t), y0 + lane / 2 + h)], fill=c)
            except (KeyError, ValueError, IndexError):  # a lane without an energy curve is still a lane
                pass
        label = f"{i + 1}. {tr['name']}  {tr['bpm']:.1f} bpm{' x' + str(tr['beat_multiplier']) if tr['beat_multiplier'] != 1 else ''}  {tr['camelot']}"
        d.text((x0 + 4, y0 + 6), label, fill=(240, 240, 240))
    return img
