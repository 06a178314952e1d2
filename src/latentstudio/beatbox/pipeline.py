"""The Neural Beatbox's end-to-end runs, each returning a dataclass; the CLI and the web only parse, call,
save and show.

* :func:`segment_recording` -> :class:`Segmented`: a recording cut into its sounds (:meth:`Segmented.save`
  writes them as numbered WAV files);
* :func:`calibrate` — a classifier adapted to a visitor from recordings of their own sounds per drum;
* :func:`classify_recording` -> :class:`Classified`: a recording's sounds, each named as a drum;
* :func:`jam_recordings` -> :class:`~latentstudio.beatbox.jam.JamResult`: recordings become a kit playing an
  evolving generated beat; :func:`save_beat` writes its audio and MIDI with provenance -> :class:`BeatFiles`;
* :func:`generate` -> :class:`Generated`: a walk through the rhythm VAE's latent space (no voices), as
  patterns and General MIDI;
* :func:`train_drum_classifier`, :func:`train_onset_network`, :func:`train_rhythm_model` ->
  :class:`TrainedModel`: a training run from the installed data, written with the command that reproduces it;
* the booth turn of the installation is :func:`latentstudio.beatbox.session.take_turn`.

Models default to the shipped ones (:func:`~latentstudio.beatbox.classifier.load_classifier`,
:func:`~latentstudio.beatbox.rhythm_vae.load_rhythm_vae`); pass loaded ones to reuse them.

Example
-------
>>> from latentstudio.beatbox.pipeline import generate, jam_recordings, save_beat     # doctest: +SKIP
>>> generate(bars=8, density={"kick": 0.25}, seed=0).save("groove.mid")            # doctest: +SKIP
>>> save_beat(jam_recordings(["voice.wav"], bars=8), "beat.wav", "beat.mid")         # doctest: +SKIP
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latentstudio.beatbox.defaults import ONSET_DILATIONS, ONSET_HALLS, ONSET_PCEN, ONSET_WINDOWS
from latentstudio.core.fileio import check_suffix
from latentstudio.errors import ParameterError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
MIDI_SUFFIXES = (".mid", ".midi")
#: Models a rendered beat is made with (recorded in its provenance).
BEAT_MODELS = ["beatbox_classifier", "beatbox_rhythm"]


def _load(recording):
    """A :class:`~latentstudio.beatbox.segment.Voice` as is; a path loaded (:func:`~.segment.load_voice`)."""
    from latentstudio.beatbox.segment import Voice, load_voice

    return recording if isinstance(recording, Voice) else load_voice(recording)


# --------------------------------------------------------------------------------------------- segment
@dataclass
class Segmented:
    """A recording's sounds (:class:`~latentstudio.beatbox.segment.Segment`: time, end, peak, audio)."""

    sounds: list                     #: in time order
    sr: int
    notes: list[str] = field(default_factory=list)   #: what loading the recording noticed (clipping, length)
    source: str = ""                 #: the recording's path

    def rows(self) -> list[dict]:
        """The sounds as JSON-ready dicts (time, end, peak_db; rounded)."""
        return [{"time": round(s.time, 4), "end": round(s.end, 4), "peak_db": round(s.peak_db, 1)}
                for s in self.sounds]

    def save(self, out_dir: str | os.PathLike, *, command: str = "beatbox segment",
             params: dict | None = None) -> list[Path]:
        """Write each sound as ``out_dir/NNN.wav`` with a provenance sidecar (the recording, its times and
        peak); returns the paths in time order."""
        from latentstudio.core.audio import save
        from latentstudio.provenance import write_sidecar

        out = Path(out_dir)
        paths = []
        for i, (s, row) in enumerate(zip(self.sounds, self.rows())):
            path = save(out / f"{i:03d}.wav", s.audio, self.sr)
            write_sidecar(path, command=command, params={"voice": self.source, **(params or {}), **row})
            paths.append(path)
        return paths


def segment_recording(path: str | os.PathLike, *, min_db: float = -45.0, kind: str = "voice") -> Segmented:
    """Cut a recording into its sounds: :func:`~latentstudio.beatbox.segment.load_voice` (long files capped,
    clipping noted), then :func:`~latentstudio.beatbox.segment.segment_sounds` (``kind`` "voice": a
    consonant and its vowel are one sound; "drums": the onset network). Sounds quieter than ``min_db``
    dBFS are dropped.

    Raises
    ------
    ParameterError : ``min_db`` outside -200..0, an unknown ``kind``, an unreadable recording, or no sound
    in it
    """
    from latentstudio.beatbox.segment import KINDS, load_voice, segment_sounds

    if not -200 <= min_db <= 0:
        raise ParameterError(f"min_db={min_db} must be a level in dBFS between -200 and 0")
    if kind not in KINDS:
        raise ParameterError(f"kind={kind!r} must be one of {', '.join(KINDS)}")
    voice = load_voice(path)
    sounds = segment_sounds(voice.y, sr=voice.sr, min_db=min_db, kind=kind)
    if not sounds:
        raise ParameterError(f"no sounds found in {str(path)!r} (nothing louder than {min_db:.0f} dBFS with "
                             "an onset)")
    return Segmented(sounds=sounds, sr=voice.sr, notes=list(voice.notes), source=str(path))


# -------------------------------------------------------------------------------------------- classify
def _classifier(classifier):
    """A loaded classifier as is; a checkpoint folder or None (the shipped one) loaded."""
    from latentstudio.beatbox.classifier import load_classifier

    return classifier if classifier is not None and not isinstance(classifier, (str, os.PathLike)) \
        else load_classifier(classifier)


def calibrate(classifier, examples: Sequence[tuple[str, str | os.PathLike]]):
    """Adapt ``classifier`` to a visitor: every sound found in each ``(label, recording)`` is an example of
    ``label``; returns ``(calibrated classifier, {label: examples})``. No examples: the classifier as is.

    Raises
    ------
    ParameterError : a recording that cannot be read or holds no sound
    """
    from latentstudio.beatbox.segment import load_voice, segment_sounds

    if not examples:
        return classifier, {}
    sounds: dict[str, list] = {}
    sr = None
    for label, path in examples:
        voice = load_voice(Path(path))
        sr = voice.sr
        segs = segment_sounds(voice.y, sr=voice.sr)
        if not segs:
            raise ParameterError(f"calibration {label}={path}: no sounds found in {str(path)!r}")
        sounds.setdefault(label.strip(), []).extend(s.audio for s in segs)
    return classifier.calibrate(sounds, sr=sr), {k: len(v) for k, v in sounds.items()}


@dataclass
class Classified:
    """A recording's sounds named as drums, what loading it noticed, and the calibration used."""

    hits: list                       #: :class:`~latentstudio.beatbox.jam.DetectedHit`, in time order
    notes: list[str] = field(default_factory=list)
    calibrated: dict[str, int] = field(default_factory=dict)   #: examples per label

    def rows(self) -> list[dict]:
        """The hits as JSON-ready dicts (time, end, label, confidence)."""
        return [{k: v for k, v in h.to_dict().items() if k != "source"} for h in self.hits]


def classify_recording(path, *, classifier=None, calibration: Sequence[tuple[str, str | os.PathLike]] = (),
                       kind: str = "voice") -> Classified:
    """Segment a recording (``kind``: "voice" or "drums") and name the drum each sound is like.

    ``path``: a sound file, or a :class:`~latentstudio.beatbox.segment.Voice` already in memory
    (:func:`~latentstudio.beatbox.segment.check_voice`); ``classifier``: a
    :class:`~latentstudio.beatbox.classifier.DrumClassifier`, a checkpoint folder, or None for the shipped
    one; ``calibration``: ``(label, recording)`` examples (:func:`calibrate`).

    Raises
    ------
    ParameterError : unreadable recording, or no sound in it
    """
    from latentstudio.beatbox.jam import detect_hits

    clf, counts = calibrate(_classifier(classifier), calibration)
    voice = _load(path)
    hits = detect_hits([voice], clf, kind=kind)
    if not hits:
        raise ParameterError(f"no sounds found in {voice.name!r}")
    return Classified(hits=hits, notes=list(voice.notes), calibrated=counts)


# ------------------------------------------------------------------------------------------------- jam
def jam_recordings(recordings: Sequence, *, classifier=None, vae=None,
                   calibration: Sequence[tuple[str, str | os.PathLike]] = (), kit: str = "GMRockKit",
                   bars: int = 16, bpm: float = 100.0, evolve_bars: int = 4, temperature: float = 0.5,
                   mode: str = "replace", density: np.ndarray | Mapping[str, float] | None = None,
                   seed: int = 0):
    """Voice recordings (sound files, or :class:`~latentstudio.beatbox.segment.Voice` objects in memory)
    become a kit (the Hydrogen kit ``kit``, samples replaced or layered per ``mode``) playing an evolving
    generated beat; see :func:`latentstudio.beatbox.jam.jam` for the settings.
    ``density``: 9 per-voice fractions, voice name -> fraction over the base (:func:`density_with`), or
    None to follow the drums the recordings voiced.

    Returns
    -------
    JamResult : audio, patterns, hits, kit, density, latents and notes (loading notes first)
    """
    from latentstudio.beatbox.jam import jam
    from latentstudio.beatbox.rhythm_vae import load_rhythm_vae

    vae = vae if vae is not None else load_rhythm_vae()
    clf, _ = calibrate(_classifier(classifier), calibration)
    if isinstance(density, Mapping):
        density = density_with(density)
    voices = [_load(p) for p in recordings]
    return jam(voices, classifier=clf, vae=vae, kit_name=kit, bars=bars, bpm=bpm, evolve_bars=evolve_bars,
               temperature=temperature, mode=mode, density=density, seed=seed)


@dataclass
class BeatFiles:
    """What :func:`save_beat` wrote, and the record kept in the beat's provenance."""

    output: Path
    seconds: float
    bpm: float
    patterns: int
    record: dict                     #: hits, kit, density, notes (as in the sidecar)
    midi: Path | None = None

    def to_dict(self) -> dict:
        """JSON-ready: output, seconds, bpm, patterns, hits, kit, density, notes[, midi]."""
        out = {"output": str(self.output), "seconds": self.seconds, "bpm": self.bpm,
               "patterns": self.patterns, **self.record}
        if self.midi is not None:
            out["midi"] = str(self.midi)
        return out


def save_beat(result, output: str | os.PathLike, midi: str | os.PathLike | None = None, *,
              command: str = "beatbox jam", params: dict | None = None, seed: int = 0) -> BeatFiles:
    """Write a :class:`~latentstudio.beatbox.jam.JamResult`'s audio to ``output`` (.wav/.flac/.ogg) and, with
    ``midi``, its patterns as General MIDI drums (.mid), each with a provenance sidecar."""
    from latentstudio.beatbox.pattern import patterns_to_midi
    from latentstudio.core.audio import save
    from latentstudio.core.midi import write_midi
    from latentstudio.provenance import write_sidecar

    output = check_suffix(output, AUDIO_SUFFIXES, "output")
    if midi is not None:
        midi = check_suffix(midi, MIDI_SUFFIXES, "midi")
    out = save(output, result.audio, result.sr)
    record = {"hits": [h.to_dict() for h in result.hits], "kit": result.kit.summary(),
              "density": [round(float(x), 4) for x in result.density], "notes": result.notes}
    write_sidecar(out, command=command, params=params, seed=seed, models=BEAT_MODELS, **record)
    files = BeatFiles(output=out, seconds=round(len(result.audio) / result.sr, 2), bpm=result.bpm,
                      patterns=len(result.patterns), record=record)
    if midi is not None:
        files.midi = write_midi(midi, patterns_to_midi(result.patterns, bpm=result.bpm))
        write_sidecar(files.midi, command=command, params=params, seed=seed, models=["beatbox_rhythm"])
    return files


# -------------------------------------------------------------------------------------------- generate
def density_with(overrides: Mapping[str, float] | None = None) -> np.ndarray:
    """Per-voice densities: :data:`~latentstudio.beatbox.jam.BASE_DENSITY` with ``overrides`` (voice name ->
    fraction of steps, e.g. ``{"kick": 0.25}``)."""
    from latentstudio.beatbox.jam import BASE_DENSITY
    from latentstudio.beatbox.pattern import VOICES

    d = BASE_DENSITY.copy()
    for name, value in (overrides or {}).items():
        if name not in VOICES:
            raise ParameterError(f"density voice {name!r} is not one of {', '.join(VOICES)}")
        if not 0 <= float(value) <= 1:
            raise ParameterError(f"density {name}={value!r}: fractions must be in [0, 1]")
        d[VOICES.index(name)] = float(value)
    return d


@dataclass
class Generated:
    """Patterns from a latent walk of the rhythm VAE."""

    patterns: list                   #: :class:`~latentstudio.beatbox.pattern.DrumPattern`, two bars each
    bpm: float
    density: np.ndarray
    temperature: float
    latents: np.ndarray = field(repr=False)   #: (patterns, latent_dim): the walk
    seed: int = 0

    @property
    def bars(self) -> int:
        return 2 * len(self.patterns)

    def midi(self):
        """The patterns as a General MIDI drum track (``PrettyMIDI``)."""
        from latentstudio.beatbox.pattern import patterns_to_midi

        return patterns_to_midi(self.patterns, bpm=self.bpm)

    def save(self, output: str | os.PathLike, *, command: str = "beatbox generate") -> Path:
        """Write the patterns as General MIDI (.mid) with a provenance sidecar; returns the path."""
        from latentstudio.core.midi import write_midi
        from latentstudio.provenance import write_sidecar

        out = write_midi(check_suffix(output, MIDI_SUFFIXES, "output"), self.midi())
        write_sidecar(out, command=command, params={"bars": self.bars, "bpm": self.bpm,
                                                    "density": self.density.tolist(),
                                                    "temperature": self.temperature},
                      seed=self.seed, models=["beatbox_rhythm"])
        return out


def generate(*, bars: int = 8, bpm: float = 100.0, density: np.ndarray | Mapping[str, float] | None = None,
             temperature: float = 0.5, seed: int = 0, vae=None) -> Generated:
    """Drum patterns from the rhythm VAE alone: a slerp walk between two random latents (seeded), decoded at
    ``density`` (9 per-voice fractions, or voice name -> fraction over the base) and ``temperature``.

    Raises
    ------
    ParameterError : bars not even within 2..MAX_BARS, bpm outside 20..400, bad density or temperature
    """
    import torch

    from latentstudio.beatbox.jam import MAX_BARS
    from latentstudio.beatbox.rhythm_vae import decode_patterns, load_rhythm_vae, slerp

    if not isinstance(bars, (int, np.integer)) or bars < 2 or bars % 2 or bars > MAX_BARS:
        raise ParameterError(f"bars={bars!r} must be an even integer from 2 to {MAX_BARS}")
    if not np.isfinite(bpm) or not 20 <= bpm <= 400:
        raise ParameterError(f"bpm={bpm} must be between 20 and 400")
    if density is None or isinstance(density, Mapping):
        d = density_with(density)
    else:
        d = np.asarray(density, dtype=np.float32)
    vae = vae if vae is not None else load_rhythm_vae()
    g = torch.Generator().manual_seed(int(seed))
    a, b = torch.randn(2, vae.latent_dim, generator=g)
    n = bars // 2
    z = torch.stack([slerp(a, b, i / max(1, n - 1)) for i in range(n)])
    pats = decode_patterns(vae, z, d, temperature=temperature, generator=g)
    return Generated(patterns=pats, bpm=float(bpm), density=d, temperature=temperature, latents=z.numpy(),
                     seed=int(seed))


# ------------------------------------------------------------------------------------------- training
@dataclass
class TrainedModel:
    """A trained beatbox network written to ``output``, its report, and the meta saved beside its weights
    (the command that reproduces it, its settings, the torch threads used and :meth:`summary`)."""

    model: object
    report: object                   #: ClassifierReport, OnsetReport or RhythmReport
    output: Path
    meta: dict

    def summary(self) -> dict:
        """JSON-ready: the report without its loss curve, with the last loss (``final_loss``)."""
        return _summary(self.report)


def _summary(report) -> dict:
    out = {k: v for k, v in vars(report).items() if k != "losses"}
    out["final_loss"] = report.losses[-1] if report.losses else None
    return out


def _written(model, report, save, output, meta: dict) -> TrainedModel:
    """Save ``model`` to ``output`` with ``meta``, the threads used and the report's summary (under torchrun,
    rank 0 saves; the other ranks hold the same weights)."""
    import torch

    from latentstudio.train.distributed import launched_rank

    meta = {**meta, "threads": torch.get_num_threads(), "report": _summary(report)}
    if launched_rank() == 0:
        save(model, output, meta=meta)
    return TrainedModel(model=model, report=report, output=Path(output), meta=meta)


def train_drum_classifier(output: str | os.PathLike, *, steps: int = 1500, batch_size: int = 64,
                          augmented: int = 6, members: int = 3, timbre: bool = True,
                          folders: Sequence[str | os.PathLike] = (),
                          checkpoint_dir: str | os.PathLike | None = None, seed: int = 0,
                          progress=None) -> TrainedModel:
    """Train the drum classifier (:func:`~latentstudio.beatbox.classifier.train_classifier`: an ensemble of
    ``members`` networks on the train split of every installed drum source and the user's sample
    ``folders``, with a timbre head unless ``timbre`` is False, temperature fitted on the validation split)
    and write it to ``output``.

    ``progress(step, total, loss)``; ``checkpoint_dir``: periodic checkpoints, a rerun resumes.

    Raises
    ------
    ParameterError : a folder that is not one, bad settings (before any data is made)
    """
    from latentstudio.beatbox import classifier as C

    for f in folders:
        if not Path(f).is_dir():
            raise ParameterError(f"folders: {str(f)!r} is not a folder")
    folders = tuple(str(f) for f in folders)
    model, report = C.train_classifier(steps=steps, batch_size=batch_size, seed=seed, folders=folders,
                                       members=members, timbre=timbre, n_augmented=augmented,
                                       checkpoint_dir=checkpoint_dir, progress=progress)
    command = (f"latentstudio beatbox train-classifier --steps {steps} --batch-size {batch_size} "
               f"--augmented {augmented} --members {members} --seed {seed}" + ("" if timbre else " --no-timbre")
               + "".join(f" --folder {f}" for f in folders))
    return _written(model, report, C.save_classifier, output,
                    {"command": command, "steps": steps, "seed": seed, "batch_size": batch_size,
                     "augmented": augmented, "members": members, "timbre": timbre})


def train_onset_network(output: str | os.PathLike, *, steps: int = 2000, batch_size: int = 12,
                        checkpoint_dir: str | os.PathLike | None = None, seed: int = 0,
                        dilations: tuple[int, ...] = ONSET_DILATIONS, halls: float = ONSET_HALLS,
                        windows: tuple[int, ...] = ONSET_WINDOWS, pcen: bool = ONSET_PCEN,
                        progress=None) -> TrainedModel:
    """Train the onset network (:func:`~latentstudio.beatbox.onsetnet.train_onsets`: drum sequences made
    from the train split's one-shots, its threshold chosen on the validation split's) and write it to
    ``output``.

    Raises
    ------
    ParameterError : bad settings (before any data is made)
    """
    from latentstudio.beatbox import onsetnet as N

    model, report = N.train_onsets(steps=steps, batch_size=batch_size, seed=seed, checkpoint_dir=checkpoint_dir,
                                   progress=progress, dilations=tuple(dilations), halls=halls,
                                   windows=tuple(windows), pcen=bool(pcen))
    dil, win = (",".join(str(v) for v in values) for values in (dilations, windows))
    command = (f"latentstudio beatbox train-onsets --steps {steps} --batch-size {batch_size} --seed {seed}"
               f" --dilations {dil} --halls {halls} --windows {win} --{'' if pcen else 'no-'}pcen")
    return _written(model, report, N.save_onset_net, output,
                    {"command": command, "steps": steps, "seed": seed, "batch_size": batch_size,
                     "dilations": list(dilations), "halls": float(halls), "windows": list(windows),
                     "pcen": bool(pcen)})


def join_onset_networks(output: str | os.PathLike, members: Sequence[str | os.PathLike],
                        progress=None) -> TrainedModel:
    """Join trained onset networks (``train-onsets`` folders, e.g. three recipes or seeds) into one ensemble whose
    mean probability is thresholded (chosen on the validation sequences, :func:`~.onsetnet.join_onset_nets`) and
    write it to ``output`` (``load_onset_net(output)`` for ``detect_onsets``; written over the shipped folder,
    ``segment --kind drums`` uses it).

    Raises
    ------
    ParameterError : fewer than two networks
    ModelError : a member folder that holds no onset network
    """
    from latentstudio.beatbox import onsetnet as N
    from latentstudio.zoo.checkpoint import read_config

    model, report = N.join_onset_nets(members, progress=progress)
    names = " ".join(shlex.quote(str(m)) for m in members)
    member_meta = []
    for m in members:
        meta = read_config(Path(m)).get("meta", {})
        # an ensemble joined again: keep its members' own commands (its networks join one by one)
        member_meta += meta.get("members") or [{"path": str(m), "command": meta.get("command")}]
    return _written(model, report, N.save_onset_net, output,
                    {"command": f"latentstudio beatbox join-onsets {names} -o {shlex.quote(str(output))}",
                     "members": member_meta})


def train_rhythm_model(output: str | os.PathLike, *, steps: int = 1500, grammar: int = 6000,
                       midi: Sequence[str | os.PathLike] = (), checkpoint_dir: str | os.PathLike | None = None,
                       seed: int = 0, progress=None) -> TrainedModel:
    """Train the rhythm VAE (:func:`~latentstudio.beatbox.rhythm_vae.train_rhythm`: ``grammar`` patterns of
    the style grammar, the Hydrogen demo songs and the GM drum ``midi`` folders or files) and write it to
    ``output``.

    Raises
    ------
    ParameterError : bad settings (before any data is made)
    """
    from latentstudio.beatbox import rhythm_vae as R

    midi = [str(m) for m in midi]
    model, report = R.train_rhythm(steps=steps, seed=seed, n_grammar=grammar, midi_dirs=midi,
                                   checkpoint_dir=checkpoint_dir, progress=progress)
    command = (f"latentstudio beatbox train-rhythm --steps {steps} --grammar {grammar} --seed {seed}"
               + "".join(f" --midi {m}" for m in midi))
    return _written(model, report, R.save_rhythm_vae, output,
                    {"command": command, "steps": steps, "seed": seed, "grammar": grammar})


__all__ = ["Segmented", "segment_recording", "calibrate", "Classified", "classify_recording", "jam_recordings",
           "BeatFiles", "save_beat", "density_with", "Generated", "generate", "TrainedModel", "train_drum_classifier",
           "train_onset_network", "train_rhythm_model"]
