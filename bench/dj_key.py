"""Key detection on rendered music with known keys: the shipped profiles vs Krumhansl-Kessler's, same chroma.

Renders ``--tracks`` random pieces (``dj.music.random_spec``: all styles, weak or no drums, Hydrogen kits;
seed 1000 by default, disjoint from the seed 9100 stream the profiles were chosen on) and names each key
with ``core.key.detect_key`` and, as the plain baseline on the same chromagram, with the classic
Krumhansl-Kessler probe-tone profiles. Reports the share of exact keys and of Camelot-compatible answers
(exact, relative major/minor, or a fifth away: what matters for harmonic mixing), and the kinds of error.

Run:  nice -n 10 .venv/bin/python bench/dj_key.py [--tracks 60] [--seed 1000]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import collections
import json

import numpy as np

_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def relation(tonic: int, minor: bool, true_tonic: int, true_minor: bool) -> str:
    """How a detected key relates to the true one: exact, relative, fifth, parallel or other."""
    if (tonic, minor) == (true_tonic, true_minor):
        return "exact"
    if minor != true_minor and tonic == ((true_tonic + 9) % 12 if not true_minor else (true_tonic + 3) % 12):
        return "relative"
    if minor == true_minor and (tonic - true_tonic) % 12 in (5, 7):
        return "fifth"
    if minor != true_minor and tonic == true_tonic:
        return "parallel"
    return "other"


def run(*, tracks: int = 60, seed: int = 1000, bars: int = 16) -> dict:
    from latentstudio import assets
    from latentstudio.core.key import chroma, detect_key
    from latentstudio.dj.music import random_spec, render_track

    try:
        kits = tuple(k.name for k in assets.drumkits())
    except Exception:
        kits = ()
    rng = np.random.default_rng(seed)
    counts = {"project": collections.Counter(), "krumhansl_kessler": collections.Counter()}
    for _ in range(tracks):
        spec = random_spec(rng, bars=bars, kits=kits)
        tr = render_track(spec, sr=22050)
        C = chroma(tr.audio, sr=tr.sr)
        k = detect_key(C=C)
        counts["project"][relation(k.tonic, k.minor, spec.tonic, spec.minor)] += 1
        kk = detect_key(C=C, profiles=(_KK_MAJOR, _KK_MINOR))
        counts["krumhansl_kessler"][relation(kk.tonic, kk.minor, spec.tonic, spec.minor)] += 1
    out = {"tracks": tracks, "seed": seed, "methods": {}}
    for name, c in counts.items():
        out["methods"][name] = {"exact": round(c["exact"] / tracks, 4),
                                "camelot_compatible": round((c["exact"] + c["relative"] + c["fifth"]) / tracks, 4),
                                "errors": {k: v for k, v in c.items() if k != "exact"}}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--bars", type=int, default=16)
    a = ap.parse_args()
    print(json.dumps(run(tracks=a.tracks, seed=a.seed, bars=a.bars), indent=2))


if __name__ == "__main__":
    main()
