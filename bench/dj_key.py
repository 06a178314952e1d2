"""Key detection on rendered music with known keys: the shipped profiles vs Krumhansl-Kessler's, same chroma.

Renders ``--tracks`` random pieces (``dj.music.random_spec``: all styles, weak or no drums, Hydrogen kits;
seed 1000 by default, disjoint from the seed 9100 stream the profiles were chosen on) and names each key
with ``core.key.detect_key`` and, as the plain baseline on the same chromagram, with the classic
Krumhansl-Kessler probe-tone profiles. Reports the share of exact keys and of Camelot-compatible answers
(exact, relative major/minor, or a fifth away: what matters for harmonic mixing), and the kinds of error.

Run:  nice -n 10 .venv/bin/python bench/dj_key.py [--tracks 60] [--seed 1000]
``--real``: on the real test compositions instead (:func:`run_real`; keys from MMA songs and music21 scores),
with librosa's chroma as a second baseline and the cue points checked against true downbeats.
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


def _parse_key(text: str) -> tuple[int, bool]:
    from latentstudio.core.key import PITCH_NAMES

    name, mode = text.split()
    alias = {"C#": "C#", "Db": "C#", "D#": "Eb", "Gb": "F#", "G#": "Ab", "A#": "Bb", "Cb": "B", "Fb": "E",
             "E#": "F", "B#": "C"}
    return PITCH_NAMES.index(alias.get(name, name)), mode == "minor"


def run_real(*, split: str = "test", records: bool = False, max_seconds: float = 60.0) -> dict:
    """Keys and cue points on the real pieces of ``split`` (:mod:`latentstudio.dj.realmusic`) whose source names
    the key (every MMA song; music21 scores that carry a key with its mode): the project's detector, the
    Krumhansl-Kessler profiles on the same chroma, and librosa's chroma with Krumhansl-Kessler profiles.
    Cue points: whether the analysis' ``cue_in`` and ``cue_out`` fall on a true downbeat (within 70 ms)."""
    import librosa
    import torch

    from latentstudio.core.key import chroma, detect_key
    from latentstudio.dj import realmusic
    from latentstudio.dj.analysis import analyze_audio

    torch.set_num_threads(1)
    ps = [p for p in realmusic.pieces(split) if p.key]
    exs = list(realmusic.examples(split, pieces_=ps, seed=4242, max_seconds=max_seconds,
                                  strength=1.0 if records else 0.0, effects=records))
    counts = {m: collections.Counter() for m in ("project", "krumhansl_kessler", "librosa_chroma_kk")}
    cue_in_ok, cue_out_ok = [], []
    for ex in exs:
        tt, tm = _parse_key(ex.key)
        C = chroma(ex.audio, sr=ex.sr)
        k = detect_key(C=C)
        counts["project"][relation(k.tonic, k.minor, tt, tm)] += 1
        kk = detect_key(C=C, profiles=(_KK_MAJOR, _KK_MINOR))
        counts["krumhansl_kessler"][relation(kk.tonic, kk.minor, tt, tm)] += 1
        Cl = librosa.feature.chroma_stft(y=ex.audio, sr=ex.sr)
        lk = detect_key(C=Cl, profiles=(_KK_MAJOR, _KK_MINOR))
        counts["librosa_chroma_kk"][relation(lk.tonic, lk.minor, tt, tm)] += 1
        try:
            a = analyze_audio(ex.audio, sr=ex.sr)
        except Exception:  # no steady beat: counted as a miss
            cue_in_ok.append(False)
            cue_out_ok.append(False)
            continue
        d = np.asarray(ex.downbeats)
        near = lambda t: bool(len(d) and np.min(np.abs(d - t)) <= 0.07)  # noqa: E731
        cue_in_ok.append(near(a["cue_in"]))
        cue_out_ok.append(near(a["cue_out"]))
    n = len(exs)
    out = {"split": split, "records": records, "pieces_with_key": n,
           "origins": dict(collections.Counter(e.origin.split(":")[0] for e in exs)), "methods": {}}
    for name, c in counts.items():
        out["methods"][name] = {"exact": round(c["exact"] / n, 4),
                                "camelot_compatible": round((c["exact"] + c["relative"] + c["fifth"]) / n, 4),
                                "errors": {k: v for k, v in c.items() if k != "exact"}}
    out["cues_on_true_downbeat"] = {"cue_in": round(float(np.mean(cue_in_ok)), 4),
                                    "cue_out": round(float(np.mean(cue_out_ok)), 4)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--bars", type=int, default=16)
    ap.add_argument("--real", action="store_true", help="real compositions of the test split (dj.realmusic)")
    ap.add_argument("--records", action="store_true", help="with --real: record effects and performance variation")
    a = ap.parse_args()
    if a.real:
        print(json.dumps(run_real(records=a.records), indent=2))
        return
    print(json.dumps(run(tracks=a.tracks, seed=a.seed, bars=a.bars), indent=2))


if __name__ == "__main__":
    main()
