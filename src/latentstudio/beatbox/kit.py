"""The sounding kit: one or more samples per voice, from a Hydrogen kit and from the visitors' voices.

Classifier classes map onto the nine pattern voices: kick, snare, closed and open hat directly; a
clap and rim join the snare; a tom plays the three toms (pitched 0.84x, 1x, 1.19x); a cymbal plays
crash and ride. ``replace`` puts a visitor's sounds in place of the kit's, ``layer`` mixes them in.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from latentstudio.beatbox.pattern import N_VOICES, VOICES, voice_of
from latentstudio.errors import ParameterError

DEFAULT_KIT = "GMRockKit"
#: voices that stand in for a missing one, in order of preference
_FALLBACK = {0: [4], 1: [2], 2: [3, 8], 3: [2, 7], 4: [5, 6, 0], 5: [4, 6], 6: [5, 4], 7: [8, 3], 8: [7, 2]}
#: classifier class -> (voice, pitch factor)
CLASS_VOICES: dict[str, list[tuple[int, float]]] = {
    "kick": [(0, 1.0)], "snare": [(1, 1.0)], "clap": [(1, 1.0)], "rim": [(1, 1.0)], "closed_hat": [(2, 1.0)],
    "open_hat": [(3, 1.0)], "tom": [(4, 0.84), (5, 1.0), (6, 1.19)], "cymbal": [(7, 1.0), (8, 1.0)],
}
MAX_PER_VOICE = 4


@dataclass
class Kit:
    """``sounds[v]`` is a list of mono float32 samples for voice ``v`` (played round-robin)."""

    sr: int
    sounds: list[list[np.ndarray]]
    sources: list[list[str]] = field(default_factory=lambda: [[] for _ in range(N_VOICES)])
    name: str = ""

    def summary(self) -> dict[str, list[str]]:
        return {VOICES[v]: list(self.sources[v]) for v in range(N_VOICES)}


def pitch(y: np.ndarray, factor: float, *, sr: int) -> np.ndarray:
    """Play ``y`` ``factor`` times faster (higher and shorter), like a sampler."""
    from latentstudio.core.audio import resample

    if abs(factor - 1.0) < 1e-3:
        return y
    return resample(y, orig_sr=int(round(sr * factor)), target_sr=sr)


def hydrogen_kit(name: str = DEFAULT_KIT, *, sr: int = 22050) -> Kit:
    """A :class:`Kit` from an installed Hydrogen kit: per voice the loudest layer of its first instrument.

    Loaded once per process (a copy is returned each time).

    Raises ParameterError (unknown kit) or AssetMissingError (no kits installed).
    """
    k = _hydrogen_kit(name, sr)
    return Kit(sr=k.sr, sounds=[list(s) for s in k.sounds], sources=[list(s) for s in k.sources], name=k.name)


@functools.lru_cache(maxsize=4)
def _hydrogen_kit(name: str, sr: int) -> Kit:
    from latentstudio.assets import drumkit
    from latentstudio.beatbox.oneshots import load_sample

    kit = drumkit(name)
    chosen: dict[int, tuple[str, object]] = {}
    for inst in sorted(kit.instruments, key=lambda i: i.drum_class in ("clap", "rim")):  # a real snare first
        v = voice_of(inst.name)
        if v is not None and v not in chosen:
            chosen[v] = (inst.name, inst.files)
    sounds: list[list[np.ndarray]] = [[] for _ in range(N_VOICES)]
    sources: list[list[str]] = [[] for _ in range(N_VOICES)]
    for v, (iname, files) in chosen.items():
        best, best_rms = None, -1.0
        for f in files[-3:]:  # Hydrogen lists layers from soft to loud
            try:
                y = load_sample(f, sr=sr, n=int(1.5 * sr))
            except ParameterError:
                continue
            rms = float(np.sqrt(np.mean(y[: sr // 10] ** 2)))
            if rms > best_rms:
                best, best_rms = y, rms
        if best is not None:
            nz = np.flatnonzero(np.abs(best) > 1e-4)
            sounds[v] = [best[: nz[-1] + 1] if nz.size else best]
            sources[v] = [f"{kit.name}: {iname}"]
    if not any(sounds):
        raise ParameterError(f"drum kit {kit.name!r} has no usable kick/snare/hat/tom/cymbal samples")
    for v in range(N_VOICES):  # fill gaps from neighbouring voices
        if not sounds[v]:
            for alt in _FALLBACK[v]:
                if sounds[alt]:
                    sounds[v] = list(sounds[alt])
                    sources[v] = [f"{s} (standing in)" for s in sources[alt]]
                    break
    for v in range(N_VOICES):
        if not sounds[v]:
            first = next(i for i in range(N_VOICES) if sounds[i])
            sounds[v], sources[v] = list(sounds[first]), [f"{s} (standing in)" for s in sources[first]]
    return Kit(sr=sr, sounds=sounds, sources=sources, name=kit.name)


def add_sounds(kit: Kit, sounds: list[tuple[str, np.ndarray, str]], *, mode: str = "replace",
               max_per_voice: int = MAX_PER_VOICE) -> Kit:
    """A new kit with classified sounds ``(label, audio at kit.sr, source)`` joined in.

    ``replace``: a voice that receives sounds plays only them (the newest ``max_per_voice``);
    ``layer``: each received sound is mixed 50/50 with the kit's own sample.
    """
    if mode not in ("replace", "layer"):
        raise ParameterError(f"mode={mode!r} must be 'replace' or 'layer'")
    new = [[] for _ in range(N_VOICES)]
    src = [[] for _ in range(N_VOICES)]
    for label, audio, source in sounds:
        if label not in CLASS_VOICES:
            raise ParameterError(f"label {label!r} is not a drum class; choose from {', '.join(CLASS_VOICES)}")
        for v, f in CLASS_VOICES[label]:
            y = pitch(np.asarray(audio, dtype=np.float32), f, sr=kit.sr)
            if mode == "layer":
                base = kit.sounds[v][0]
                n = max(len(base), len(y))
                y = 0.5 * np.pad(base, (0, n - len(base))) + 0.5 * np.pad(y, (0, n - len(y)))
            new[v].append(y.astype(np.float32))
            src[v].append(source)
    sounds_out = [list(kit.sounds[v]) for v in range(N_VOICES)]
    sources_out = [list(kit.sources[v]) for v in range(N_VOICES)]
    for v in range(N_VOICES):
        if new[v]:
            sounds_out[v] = new[v][-max_per_voice:]
            sources_out[v] = src[v][-max_per_voice:]
    return Kit(sr=kit.sr, sounds=sounds_out, sources=sources_out, name=kit.name)
