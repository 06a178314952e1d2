"""The beat: visitors' voice sounds become a drum kit playing an ever-evolving generated rhythm.

:func:`detect_hits` segments and classifies recordings; :func:`jam` builds the kit (a Hydrogen kit
with the voice sounds replacing or layering its samples), asks the rhythm VAE for a new pattern
every ``evolve_bars`` bars and glides between them (slerp in the latent space), then renders audio
and MIDI. The densities the VAE is asked for lean towards the drums the visitors made.

Example
-------
>>> from latentstudio.beatbox.segment import load_voice               # doctest: +SKIP
>>> result = jam([load_voice("voice.wav")], bars=8, bpm=100, seed=0)   # doctest: +SKIP
>>> result.audio.shape, [h.label for h in result.hits][:3]             # doctest: +SKIP
((420000,), ['kick', 'closed_hat', 'snare'])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from latentstudio.beatbox.classifier import DrumClassifier
from latentstudio.beatbox.kit import CLASS_VOICES, DEFAULT_KIT, Kit, add_sounds, hydrogen_kit
from latentstudio.beatbox.pattern import N_VOICES, STEPS_PER_BAR, DrumPattern
from latentstudio.beatbox.render import render_patterns
from latentstudio.beatbox.rhythm_vae import RhythmVAE, decode_patterns, humanise, slerp
from latentstudio.beatbox.segment import Segment, Voice, segment_sounds
from latentstudio.errors import ParameterError

#: Per-voice densities asked for when no voice suggests otherwise (a relaxed backbeat).
BASE_DENSITY = np.array([0.19, 0.125, 0.5, 0.03, 0.0, 0.0, 0.0, 0.03, 0.0], dtype=np.float32)


@dataclass
class DetectedHit:
    """One sound of one recording, classified."""

    source: str
    time: float
    end: float
    label: str
    confidence: float
    audio: np.ndarray = field(repr=False)

    def to_dict(self) -> dict:
        return {"source": self.source, "time": round(self.time, 4), "end": round(self.end, 4),
                "label": self.label, "confidence": round(self.confidence, 4)}


@dataclass
class JamResult:
    """Audio, the patterns played, the hits heard, the kit used and anything worth telling."""

    audio: np.ndarray
    sr: int
    bpm: float
    patterns: list[DrumPattern]
    hits: list[DetectedHit]
    kit: Kit
    density: np.ndarray
    latents: np.ndarray
    notes: list[str] = field(default_factory=list)


def detect_hits(voices: list[Voice], classifier: DrumClassifier, *, kind: str = "voice") -> list[DetectedHit]:
    """Segment every recording (``kind``: "voice" or "drums", see ``segment_sounds``) and classify all
    its sounds (one batch)."""
    segs: list[tuple[str, Segment, int]] = []
    for voice in voices:
        for s in segment_sounds(voice.y, sr=voice.sr, kind=kind):
            segs.append((voice.name, s, voice.sr))
    if not segs:
        return []
    sr = segs[0][2]
    results = classifier.classify([s.audio for _, s, _ in segs], sr=sr)
    return [DetectedHit(name, s.time, s.end, r.label, r.confidence, s.audio) for (name, s, _), r in zip(segs, results)]


def requested_density(hits: list[DetectedHit], voices: list[Voice], *, bpm: float,
                      base: np.ndarray = BASE_DENSITY) -> np.ndarray:
    """Densities for the VAE: the base, raised towards how often each drum was voiced per 16th step."""
    seconds = sum(len(v.y) / v.sr for v in voices) or 1.0
    steps = seconds * bpm / 60 * 4
    d = np.array(base, dtype=np.float32).copy()
    for label, pairs in CLASS_VOICES.items():
        n = sum(h.label == label for h in hits)
        if n:
            for v, _ in pairs:
                d[v] = max(d[v], min(0.6, 0.5 * d[v] + 0.5 * n / steps * 4 / len(pairs)))
    return np.clip(d, 0.0, 1.0)


def jam(voices: list[Voice], *, classifier: DrumClassifier, vae: RhythmVAE, kit: Kit | None = None,
        kit_name: str = DEFAULT_KIT, bars: int = 16, bpm: float = 100.0, evolve_bars: int = 4,
        temperature: float = 0.5, mode: str = "replace", swing: float = 0.0, humanise_amount: float = 0.3,
        density: np.ndarray | None = None, start_latent: np.ndarray | None = None, seed: int = 0,
        hits: list[DetectedHit] | None = None,
        earlier_sounds: list[tuple[str, np.ndarray, str]] = ()) -> JamResult:
    """Turn recordings into a rendered, evolving beat.

    Parameters
    ----------
    voices : loaded recordings (:func:`latentstudio.beatbox.segment.load_voice`)
    classifier, vae : the drum classifier and the rhythm VAE
    kit : a kit to start from (default: the Hydrogen kit ``kit_name``)
    bars : bars to render (even, >= 2); bpm : tempo
    evolve_bars : a new latent target every this many bars; the patterns in between glide to it
    temperature : randomness of the hits drawn from the VAE (0 = most likely pattern)
    mode : ``replace`` or ``layer`` the kit's samples with the voice sounds
    density : per-voice densities to ask for (default: from the voices, :func:`requested_density`)
    start_latent : latent to start from (a session continues its piece); default random
    hits : already detected hits (skips segmentation and classification)
    earlier_sounds : ``(label, audio at the kit's rate, source)`` of earlier visitors, joined before
        this recording's sounds (a session's memory)

    Raises
    ------
    ParameterError : bad parameters, or no sounds found in any recording
    """
    if not isinstance(bars, (int, np.integer)) or bars < 2 or bars % 2 or bars > MAX_BARS:
        raise ParameterError(f"bars={bars!r} must be an even integer from 2 to {MAX_BARS} "
                             "(patterns are two bars long)")
    if not isinstance(evolve_bars, (int, np.integer)) or evolve_bars < 2 or evolve_bars % 2:
        raise ParameterError(f"evolve_bars={evolve_bars!r} must be an even integer >= 2")
    if not np.isfinite(bpm) or not 40 <= bpm <= 300:
        raise ParameterError(f"bpm={bpm} must be between 40 and 300")
    notes = [n for v in voices for n in v.notes]
    if hits is None:
        hits = detect_hits(voices, classifier)
    if not hits:
        names = ", ".join(v.name for v in voices) or "(no recordings)"
        peaks = ", ".join(f"{20 * np.log10(max(float(np.max(np.abs(v.y))), 1e-10)):.0f} dBFS" for v in voices)
        raise ParameterError(f"no sounds found in {names} (peak {peaks}); record a few short, loud sounds")
    if len(hits) == 1:
        notes.append(f"only one sound found; it plays the {hits[0].label}, the rest of the kit is unchanged")
    base = kit if kit is not None else hydrogen_kit(kit_name)
    sr = base.sr
    sounds = list(earlier_sounds)
    for h in sorted(hits, key=lambda h: h.confidence):  # the most confident sounds are kept last
        audio = h.audio
        src_sr = sr
        for v in voices:
            if v.name == h.source:
                src_sr = v.sr
        if src_sr != sr:
            from latentstudio.core.audio import resample

            audio = resample(audio, orig_sr=src_sr, target_sr=sr)
        sounds.append((h.label, audio, f"{h.source} @ {h.time:.2f} s ({h.label}, {h.confidence:.2f})"))
    full_kit = add_sounds(base, sounds, mode=mode)
    want = requested_density(hits, voices, bpm=bpm) if density is None else np.asarray(density, np.float32)
    if want.shape != (N_VOICES,):
        raise ParameterError(f"density must have {N_VOICES} values, got shape {want.shape}")
    g = torch.Generator().manual_seed(int(seed))
    n_pat, per_key = bars // 2, evolve_bars // 2
    n_keys = n_pat // per_key + 2
    keys = torch.randn(n_keys, vae.latent_dim, generator=g)
    if start_latent is not None:
        keys[0] = torch.as_tensor(np.asarray(start_latent, dtype=np.float32).reshape(-1)[: vae.latent_dim])
    z = torch.stack([slerp(keys[i // per_key], keys[i // per_key + 1], (i % per_key) / per_key)
                     for i in range(n_pat)])
    patterns = decode_patterns(vae, z, want, temperature=temperature, generator=g)
    patterns = [humanise(p, amount=humanise_amount, seed=int(seed) + i) for i, p in enumerate(patterns)]
    audio = render_patterns(patterns, full_kit, bpm=bpm, swing=swing)
    next_key = slerp(keys[n_pat // per_key], keys[n_pat // per_key + 1], (n_pat % per_key) / per_key)
    return JamResult(audio=audio, sr=sr, bpm=float(bpm), patterns=patterns, hits=hits, kit=full_kit,
                     density=want, latents=np.concatenate([z.numpy(), next_key[None].numpy()]), notes=notes)


#: Most bars one call renders (over an hour at 100 bpm); more would not fit in memory as one array.
MAX_BARS = 2048


def bars_seconds(bars: int, bpm: float) -> float:
    """Length of ``bars`` bars of 4/4 at ``bpm``."""
    return bars * STEPS_PER_BAR / 4 * 60.0 / bpm
