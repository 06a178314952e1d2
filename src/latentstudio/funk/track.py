"""A short drum & bass track made only of samples the networks synthesised (NeuralFunk's idea).

The kit is dreamt per drum class (:func:`latentstudio.funk.pipeline.dream`); toms are one dreamt tom played at
three speeds, and the bass is a dreamt tom two octaves down, sampler-style. The rhythm comes from the
beatbox: a drum & bass pattern of its style grammar gives the per-drum densities, its rhythm VAE walks its
latent space at those densities (:func:`latentstudio.beatbox.pipeline.generate`), and its sequencer plays the
kit (:func:`latentstudio.beatbox.render.render_patterns`). Arrangement: 4 bars of hats, the groove, a
breakdown without kick and snare, the groove again, with the bass following the kick.

Example
-------
>>> vae, info = load_sample_vae("out/funk-vae")                       # doctest: +SKIP
>>> tr = make_track(vae, info, bpm=170, bars=24, seed=0)              # doctest: +SKIP
>>> tr.save("track.wav")                                               # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latentstudio.errors import ParameterError
from latentstudio.funk.features import SR

#: beatbox voice <- dreamt drum class (and playback speed)
VOICE_SOURCES = {"kick": ("kick", 1.0), "snare": ("snare", 1.0), "closed_hat": ("closed_hat", 1.0),
                 "open_hat": ("open_hat", 1.0), "low_tom": ("tom", 0.8), "mid_tom": ("tom", 1.0),
                 "high_tom": ("tom", 1.25), "crash": ("cymbal", 1.0), "ride": ("cymbal", 1.5)}


@dataclass
class FunkTrack:
    audio: np.ndarray
    sr: int
    bpm: float
    bars: int
    sections: list[tuple[str, int, int]]
    kit: dict[str, list[str]] = field(default_factory=dict)
    how: dict = field(default_factory=dict)

    def save(self, path: str | os.PathLike, *, command: str = "latentstudio funk track") -> Path:
        from latentstudio.core.audio import save
        from latentstudio.provenance import write_sidecar

        p = save(path, self.audio, self.sr)
        write_sidecar(p, command=command, params=self.how, seed=self.how.get("seed"),
                      models=self.how.get("models", []), sections=self.sections, kit=self.kit)
        return p


def make_track(vae, info: dict, *, bpm: float = 170.0, bars: int = 24, seed: int = 0, wavenet=None,
               progress: Callable[[int, int], None] | None = None) -> FunkTrack:
    """Dream a kit, generate the rhythm and render the arrangement.

    ``progress(done, total)`` is called with increasing counts: the decoding steps of each drum class's
    dreams in turn (see :func:`latentstudio.funk.pipeline.decode`), then one step for the arrangement, so
    ``done == total`` once the track is rendered.

    Raises
    ------
    ParameterError : bars not a multiple of 8 within 8..128, bpm outside 60..220
    """
    from latentstudio.beatbox.grammar import style_pattern
    from latentstudio.beatbox.kit import Kit, pitch
    from latentstudio.beatbox.pattern import N_VOICES, VOICES, DrumPattern
    from latentstudio.beatbox.pipeline import generate
    from latentstudio.beatbox.render import render_patterns
    from latentstudio.funk.pipeline import dream

    if not isinstance(bars, (int, np.integer)) or bars % 8 or not 8 <= bars <= 128:
        raise ParameterError(f"bars={bars!r} must be a multiple of 8 from 8 to 128")
    if not np.isfinite(bpm) or not 60 <= bpm <= 220:
        raise ParameterError(f"bpm={bpm} must be within 60..220")
    classes = sorted({c for c, _ in VOICE_SOURCES.values()})
    per_dream = [0]                                        # decoding steps of one dream (the same for each)

    def dreaming(k: int):
        if progress is None:
            return None

        def report(done: int, total: int) -> None:
            per_dream[0] = total
            progress(k * total + done, len(classes) * total + 1)

        return report

    dreams = {c: dream(vae, info, n=2, drum=c, seed=seed + k, wavenet=wavenet, progress=dreaming(k))
              for k, c in enumerate(classes)}
    sounds, sources = [], []
    for v in VOICES:
        cls, speed = VOICE_SOURCES[v]
        d = dreams[cls]
        sounds.append([pitch(y, speed, sr=SR) for y in d.audio])
        sources.append([f"dream:{n}@{speed:g}x" for n in d.names])
    kit = Kit(sr=SR, sounds=sounds, sources=sources, name="dreamt")
    rng = np.random.default_rng(seed)
    density = style_pattern("dnb", rng).density()
    groove = generate(bars=bars, bpm=bpm, density=density, temperature=0.4, seed=seed).patterns
    n = bars // 2                                          # a pattern is two bars
    sections = [("intro", 0, n // 4), ("groove", n // 4, n // 2), ("breakdown", n // 2, 5 * n // 8),
                ("groove", 5 * n // 8, n)]
    keep = {"intro": ("closed_hat", "open_hat", "ride"), "breakdown": ("closed_hat", "open_hat", "ride", "crash",
                                                                       "low_tom", "mid_tom", "high_tom")}
    patterns = []
    for name, a, b in sections:
        for i in range(a, b):
            p = groove[i % len(groove)]
            hits, vel, off = p.hits.copy(), p.velocity.copy(), p.offset.copy()
            if name in keep:
                mask = np.array([VOICES[v] in keep[name] for v in range(N_VOICES)], dtype=np.float32)
                hits, vel, off = hits * mask, vel * mask, off * mask
            if i == a and name == "groove":
                c = VOICES.index("crash")
                hits[0, c], vel[0, c] = 1.0, 0.9
            patterns.append(DrumPattern(hits, vel, off))
    drums = render_patterns(patterns, kit, bpm=bpm)
    bass_kit = Kit(sr=SR, sounds=[[pitch(dreams["tom"].audio[0], 0.25, sr=SR)] if v == 0 else [np.zeros(8, np.float32)]
                                  for v in range(N_VOICES)], name="dreamt bass")
    silent = np.zeros_like(patterns[0].hits)
    bass_on = [name == "groove" for name, a, b in sections for _ in range(a, b)]
    bass_patterns = [DrumPattern(p.hits * (np.arange(N_VOICES) == 0), p.velocity, p.offset) if on
                     else DrumPattern(silent, silent, silent) for p, on in zip(patterns, bass_on)]
    if any(bp.hits.any() for bp in bass_patterns):
        bass = render_patterns(bass_patterns, bass_kit, bpm=bpm)
        n = min(len(drums), len(bass))
        mix = drums[:n] + 0.6 * bass[:n]
    else:
        mix = drums
    mix = (mix / max(float(np.abs(mix).max()), 1e-9) * 0.9).astype(np.float32)
    if progress is not None:
        steps = len(classes) * per_dream[0] + 1
        progress(steps, steps)
    return FunkTrack(mix, SR, float(bpm), bars, [(n, 2 * a, 2 * b) for n, a, b in sections],
                     {VOICES[v]: sources[v] for v in range(N_VOICES)},
                     {"op": "track", "bpm": bpm, "bars": bars, "seed": seed,
                      "models": [info.get("path", "funk_sample_vae"), "beatbox_rhythm"]})
