"""Labelled drum one-shots from every drum sample source installed, split by origin.

Each *source* is where sounds come from — a Debian package or a user's folder — and inside it a *family*
(a kit, or a kit and its copies). The classifier is trained, chosen and judged on different sources:

====================  ==================================================  =============================
source                what                                                split (:data:`SPLITS`)
====================  ==================================================  =============================
hydrogen-data         Hydrogen's kits (instrument names in drumkit.xml)    train
hydrogen-drumkits     14 more Hydrogen kits                                train (Millo kits: validation)
sonic-pi-samples      Sonic Pi's drum one-shots (file names)               validation
lmms-common           LMMS's drum one-shots (file names), and its          train
                      DrumSynth presets (drum machines: TR-808/909/606,
                      CR-78, Linn...) rendered by :mod:`.drumsynth`
opl3-soundfont        the OPL3 FM bank's drum kit, rendered like the GM    train
                      kits below
csound-soundfont      csound's GM bank: 8 GS drum kits, every GM drum      validation
                      note at 5 velocities, rendered by FluidSynth
freepats              FreePats' drum set, rendered by TiMidity++           validation
fluid-soundfont-gm    FluidR3 GM's drum kits, every GM drum note rendered  test
                      at 5 velocities by FluidSynth
folder:NAME           any folder a user adds (sub-folder and file names)   train
====================  ==================================================  =============================

The two General MIDI banks in validation stand for what the test split is (and what a user's own GM synth
or sampler is): kits of a synthesiser the classifier never heard, one hit per note and velocity.

Every sound becomes mono 16 kHz audio, leading silence trimmed, peak 1, cut or padded to
:data:`STORE_SAMPLES`. Sounds are deduplicated by decoded-content hash (GMRockKit ships byte-identical
copies of The Black Pearl's samples), and a validation or test sound that is a near-copy of a sound in an
earlier split (log-mel fingerprint, cosine >= :data:`NEAR_COPY`) is dropped from the later split.

Example
-------
>>> data = load_split("validation")                               # doctest: +SKIP
>>> len(data), sorted(set(data.sources))                          # doctest: +SKIP
(150, ['hydrogen-drumkits', 'sonic-pi-samples'])
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latentstudio.assets import DRUM_CLASSES, LMMS_DRUMS_DIR, LMMS_DRUMSYNTH_DIR, SONIC_PI_DIR, drum_class
from latentstudio.beatbox.features import SR
from latentstudio.errors import AssetMissingError, ParameterError

STORE_SAMPLES = SR  # one second
CLASSES = DRUM_CLASSES
#: cosine similarity of log-mel fingerprints from which two sounds count as copies
NEAR_COPY = 0.995
#: kit -> family: kits that share samples or a maker are one origin
KIT_FAMILIES = {"gmrockkit": "black-pearl", "the black pearl 1.0": "black-pearl", "millo-drums_v.1": "millo",
                "millo_multilayered2": "millo", "millo_multilayered3": "millo"}
#: which (source, family) goes where; the first rule that matches wins, anything else trains
SPLITS: dict[str, tuple[tuple[str, str], ...]] = {
    "test": (("fluid-soundfont-gm", "*"),),
    "validation": (("sonic-pi-samples", "*"), ("hydrogen-drumkits", "millo"), ("csound-soundfont", "*"),
                   ("freepats", "*")),
    "train": (("*", "*"),),
}
SPLIT_NAMES = ("train", "validation", "test")

#: General MIDI drum notes -> class
GM_DRUM_NOTES: dict[int, str] = {
    35: "kick", 36: "kick", 37: "rim", 38: "snare", 39: "clap", 40: "snare", 41: "tom", 42: "closed_hat",
    43: "tom", 44: "closed_hat", 45: "tom", 46: "open_hat", 47: "tom", 48: "tom", 49: "cymbal", 50: "tom",
    51: "cymbal", 52: "cymbal", 53: "cymbal", 55: "cymbal", 57: "cymbal", 59: "cymbal"}
#: GS drum kit programs of a GM soundfont (standard, room, power, electronic, TR-808, jazz, brush, orchestra)
GM_KIT_PROGRAMS = (0, 8, 16, 24, 25, 32, 40, 48)
GM_VELOCITIES = (25, 50, 75, 100, 127)
#: MIDI synthesisers (:data:`latentstudio.core.midi.SYNTHS`) whose drum kits are sources -> source name
GM_SYNTH_SOURCES = {"fluidr3": "fluid-soundfont-gm", "csound": "csound-soundfont", "freepats": "freepats",
                    "opl3": "opl3-soundfont"}
#: their drum kit programs (FreePats and the OPL3 bank have one kit each)
GM_SYNTH_KITS = {"fluidr3": GM_KIT_PROGRAMS, "csound": GM_KIT_PROGRAMS, "freepats": (0,), "opl3": (0,)}
#: notes a GS kit program plays as something other than the GM drum map says: the Orchestra set (48) holds
#: timpani on 41-53 (F to f), where the map has toms, hi-hats and cymbals; such notes are not rendered
GS_NOT_DRUM_KIT: dict[int, frozenset[int]] = {48: frozenset(range(41, 54))}


@dataclass
class OneShots:
    """``audio`` (n, STORE_SAMPLES) float32 at 16 kHz, ``labels`` (n,) class indices, and per sound its
    ``kits`` (family), ``names``, ``sources`` (package or folder) and ``hashes`` (decoded content)."""

    audio: np.ndarray
    labels: np.ndarray
    kits: list[str]
    names: list[str]
    sources: list[str] | None = None
    hashes: list[str] | None = None

    def __post_init__(self):
        n = len(self.labels)
        self.sources = list(self.sources) if self.sources is not None else ["?"] * n
        self.hashes = list(self.hashes) if self.hashes is not None else [content_hash(a) for a in self.audio]

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, mask: np.ndarray) -> OneShots:
        idx = np.flatnonzero(mask) if np.asarray(mask).dtype == bool else np.asarray(mask, dtype=int)
        return OneShots(self.audio[idx], self.labels[idx], [self.kits[i] for i in idx],
                        [self.names[i] for i in idx], [self.sources[i] for i in idx], [self.hashes[i] for i in idx])

    @staticmethod
    def concat(parts: list[OneShots]) -> OneShots:
        parts = [p for p in parts if len(p)]
        if not parts:
            raise ParameterError("no drum one-shots to join")
        return OneShots(np.concatenate([p.audio for p in parts]), np.concatenate([p.labels for p in parts]),
                        sum((p.kits for p in parts), []), sum((p.names for p in parts), []),
                        sum((p.sources for p in parts), []), sum((p.hashes for p in parts), []))


def content_hash(y: np.ndarray) -> str:
    """Hash of a decoded sound (16-bit quantised so that codec round-off does not matter; silent ends trimmed)."""
    from latentstudio.core.audio import pcm16_hash

    return pcm16_hash(y, trim_zeros=True)[:16]


def trim_leading(y: np.ndarray, *, threshold_db: float = -40.0) -> np.ndarray:
    """Drop the samples before ``y`` first reaches ``threshold_db`` relative to its peak (less 2 ms)."""
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak == 0.0:
        return y
    first = int(np.argmax(np.abs(y) >= peak * 10 ** (threshold_db / 20)))
    return y[max(0, first - int(0.002 * SR)):]


def prepare(y: np.ndarray, *, n: int = STORE_SAMPLES) -> np.ndarray:
    """Leading silence trimmed, peak 1, cut or padded to ``n`` samples (16 kHz mono in, float32 out)."""
    y = trim_leading(np.asarray(y, dtype=np.float32))
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > 0:
        y = y / peak
    return (y[:n] if len(y) >= n else np.pad(y, (0, n - len(y)))).astype(np.float32)


def load_sample(path, *, sr: int = SR, n: int = STORE_SAMPLES) -> np.ndarray:
    """One drum sample: mono at ``sr``, leading silence trimmed, peak 1, cut or padded to ``n`` samples."""
    from latentstudio.core.audio import load

    y, _ = load(path, sr=sr, duration=3.0)
    return prepare(y, n=n)


def label_from_name(name: str) -> str | None:
    """A drum class from a sample's file or folder name (``hihat_opened01`` -> open_hat, ``bd_haus`` ->
    kick, ``drum_cymbal_closed`` -> closed_hat, ``sn_dub`` -> snare), or None for anything else."""
    text = re.sub(r"[_\-.]+", " ", Path(name).stem.lower())
    text = re.sub(r"(?<=[a-z])(?=\d)", " ", text)
    if re.search(r"cymbal (closed|pedal)", text):
        return "closed_hat"
    if re.search(r"cymbal open", text):
        return "open_hat"
    text = re.sub(r"(?<![a-z])(sn|snr|s)(?![a-z])|snr", " snare ", text)
    text = re.sub(r"^(k|kik)(?![a-z])|kik", " kick ", text)
    text = re.sub(r"^h(?![a-z])", "hat ", text)
    text = re.sub(r"(?<![a-z])(hat|hh) o(?![a-z])", "hat open", text)
    text = re.sub(r"(?<![a-z])clp(?![a-z])", "clap", text)
    text = re.sub(r"(?<![a-z])stk(?![a-z])", "stick", text)
    text = re.sub(r"(?<![a-z])cym(?![a-z])|cym(?=[a-z]*(long|short))", "cymbal ", text)
    text = re.sub(r"syntom", "syn tom", text)
    text = re.sub(r"bassdrum|(?<![a-z])drum bass", "bass drum", text)
    return drum_class(text)


def _family(kit_name: str) -> str:
    return KIT_FAMILIES.get(kit_name.lower(), kit_name.lower())


def split_of(source: str, family: str) -> str:
    """The split (:data:`SPLIT_NAMES`) a sound of ``source`` and kit ``family`` belongs to."""
    for split in SPLIT_NAMES[::-1]:
        for s, f in SPLITS[split]:
            if s in ("*", source) and f in ("*", family):
                return split
    return "train"


def _from_files(items: list[tuple[Path, str, str, str]]) -> OneShots:
    audio, labels, kits, names, sources = [], [], [], [], []
    for path, label, family, source in items:
        try:
            y = load_sample(path)
        except ParameterError:
            continue  # a broken sample in a package is skipped, not fatal
        if not np.any(y):
            continue
        audio.append(y)
        labels.append(CLASSES.index(label))
        kits.append(family)
        names.append(f"{family}/{path.name}")
        sources.append(source)
    if not audio:
        return OneShots(np.zeros((0, STORE_SAMPLES), np.float32), np.zeros(0, np.int64), [], [], [], [])
    return OneShots(np.stack(audio), np.array(labels, dtype=np.int64), kits, names, sources)


def hydrogen_oneshots(*, kits: list[str] | None = None, exclude: tuple[str, ...] = ()) -> OneShots:
    """Every classifiable one-shot of the installed Hydrogen kits (or of ``kits``), minus ``exclude``.

    Raises AssetMissingError without kits, ParameterError for an unknown kit name.
    """
    from latentstudio.assets import drumkits

    installed = drumkits()
    names = {k.name.lower(): k for k in installed} | {k.path.name.lower(): k for k in installed}
    chosen = installed if kits is None else []
    for name in kits or []:
        if name.lower() not in names:
            raise ParameterError(f"kit {name!r} is not installed; installed: {', '.join(k.name for k in installed)}")
        chosen.append(names[name.lower()])
    skip = {e.lower() for e in exclude}
    items = []
    for kit in chosen:
        if kit.name.lower() in skip or kit.path.name.lower() in skip:
            continue
        for inst in kit.instruments:
            if inst.drum_class in CLASSES:
                items += [(f, inst.drum_class, _family(kit.name), kit.package or "hydrogen") for f in inst.files]
    return _from_files(items)


def folder_oneshots(folder: str | os.PathLike, *, source: str | None = None) -> OneShots:
    """Drum one-shots of a folder tree (wav/flac/ogg/mp3/aiff), labelled from file names, else from the
    names of the folders above them (``kicks/001.wav``). Unlabelled files are left out.

    Raises ParameterError when the folder does not exist.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ParameterError(f"drum sample folder {str(root)!r} does not exist")
    items = []
    for f in sorted(root.rglob("*")):
        if f.suffix.lower() not in (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff") or not f.is_file():
            continue
        label = label_from_name(f.name)
        for parent in f.relative_to(root).parents:
            if label is None and parent.name:
                label = label_from_name(parent.name)
        if label is not None:
            items.append((f, label, f.parent.name.lower() or root.name.lower(), source or f"folder:{root.name}"))
    return _from_files(items)


def package_folder_oneshots() -> OneShots:
    """The one-shots of Sonic Pi's and LMMS's sample folders (when those packages are installed)."""
    parts = []
    for folder, source in ((SONIC_PI_DIR, "sonic-pi-samples"), (LMMS_DRUMS_DIR, "lmms-common")):
        if folder.is_dir():
            files = [f for f in sorted(folder.iterdir()) if not f.stem.startswith(("loop_", "drum_roll"))]
            items = [(f, lab, source, source) for f in files if (lab := label_from_name(f.name)) is not None]
            parts.append(_from_files(items))
    return OneShots.concat(parts) if any(len(p) for p in parts) else parts[0] if parts else _from_files([])


def drumsynth_oneshots(folder: str | os.PathLike = LMMS_DRUMSYNTH_DIR, *, source: str = "lmms-common") -> OneShots:
    """LMMS's DrumSynth presets whose names say a drum class, rendered at 16 kHz (family: the preset folder,
    e.g. ``tr808``)."""
    from latentstudio.beatbox.drumsynth import render_drumsynth

    audio, labels, kits, names = [], [], [], []
    for f in sorted(Path(folder).glob("*/*.ds")):
        label = label_from_name(f.name)
        if label is None:
            continue
        try:
            y = prepare(render_drumsynth(f, sr=SR))
        except ParameterError:
            continue
        if np.any(y):
            audio.append(y)
            labels.append(CLASSES.index(label))
            kits.append(f"drumsynth-{f.parent.name}")
            names.append(f"drumsynth-{f.parent.name}/{f.name}")
    if not audio:
        return _from_files([])
    return OneShots(np.stack(audio), np.array(labels, dtype=np.int64), kits, names, [source] * len(labels))


def gm_oneshots(*, synth: str = "fluidr3", programs: tuple[int, ...] | None = None,
                velocities: tuple[int, ...] = GM_VELOCITIES, gap: float = 3.0) -> OneShots:
    """Every GM drum note of every drum kit ``programs`` of a MIDI synthesiser (:data:`GM_SYNTH_SOURCES`;
    default: the kits it has, :data:`GM_SYNTH_KITS`), less the notes a kit plays as other instruments
    (:data:`GS_NOT_DRUM_KIT`), at each of ``velocities``, rendered dry (one hit every ``gap`` seconds, cut
    apart at the known note times). A hit whose 50 ms before the note still holds the last one's ring within
    40 dB of its own peak (a long tom or crash before a soft hat) is left out: an isolated hit is what it
    stands for.

    Raises AssetMissingError without the synthesiser or its sounds, ParameterError for an unknown one.
    """
    import pretty_midi

    from latentstudio.core.midi import render_synth

    if synth not in GM_SYNTH_SOURCES:
        raise ParameterError(f"synth={synth!r} must be one of {', '.join(GM_SYNTH_SOURCES)}")
    source, prefix = GM_SYNTH_SOURCES[synth], "gm" if synth == "fluidr3" else synth
    audio, labels, kits, names = [], [], [], []
    for prog in programs or GM_SYNTH_KITS[synth]:
        pm = pretty_midi.PrettyMIDI(initial_tempo=120)
        inst = pretty_midi.Instrument(program=prog, is_drum=True)
        skip = GS_NOT_DRUM_KIT.get(prog, frozenset())
        hits = [(note, vel) for note in sorted(GM_DRUM_NOTES) if note not in skip for vel in velocities]
        for i, (note, vel) in enumerate(hits):
            inst.notes.append(pretty_midi.Note(velocity=vel, pitch=note, start=0.2 + i * gap, end=0.3 + i * gap))
        pm.instruments.append(inst)
        y = render_synth(pm, synth, sr=SR, tail=gap, dry=True)
        for i, (note, vel) in enumerate(hits):
            a = int(round((0.2 + i * gap) * SR))
            seg = y[a: a + int(min(gap - 0.05, 1.5) * SR)]
            before = y[max(0, a - int(0.05 * SR)): a]
            peak = float(np.max(np.abs(seg))) if seg.size else 0.0
            if peak <= 1e-4 or (before.size and float(np.max(np.abs(before))) > peak * 10 ** (-40 / 20)):
                continue
            audio.append(prepare(seg))
            labels.append(CLASSES.index(GM_DRUM_NOTES[note]))
            kits.append(f"{prefix}-kit-{prog}")
            names.append(f"{prefix}-kit-{prog}/note{note}-v{vel}")
    if not audio:
        return _from_files([])
    return OneShots(np.stack(audio), np.array(labels, dtype=np.int64), kits, names, [source] * len(labels))


def fingerprints(audio: np.ndarray) -> np.ndarray:
    """Unit-norm, mean-removed 24-band log-mel fingerprints of the first 0.5 s of each sound, ``(n, d)``."""
    import torch

    from latentstudio.core.spectral import mel, power_to_db

    x = torch.from_numpy(np.ascontiguousarray(audio[:, : SR // 2]))
    db = power_to_db(mel(x, sr=SR, n_fft=1024, hop_length=320, n_mels=24) + 1e-10, top_db=None)
    db = torch.clamp(db - db.amax(dim=(-2, -1), keepdim=True), min=-60.0).flatten(1)
    db = db - db.mean(dim=1, keepdim=True)
    return torch.nn.functional.normalize(db, dim=1).numpy()


def dedupe(data: OneShots, split: list[str]) -> tuple[OneShots, list[str], dict[str, int]]:
    """Drop exact copies (decoded-content hash; the first one kept, earlier splits first) and sounds of
    validation/test that are near-copies of a sound of an earlier split. Returns the kept sounds, their
    splits and how many were dropped for each reason."""
    order = np.argsort([SPLIT_NAMES.index(s) for s in split], kind="stable")
    seen: set[str] = set()
    keep = []
    for i in order:
        if data.hashes[i] not in seen:
            seen.add(data.hashes[i])
            keep.append(int(i))
    dropped = {"exact": len(data) - len(keep), "near": 0}
    fp = fingerprints(data.audio[keep])
    spl = np.array([SPLIT_NAMES.index(split[i]) for i in keep])
    final = []
    for j, i in enumerate(keep):
        earlier = spl < spl[j]
        if earlier.any() and float((fp[earlier] @ fp[j]).max()) >= NEAR_COPY:
            dropped["near"] += 1
            continue
        final.append(i)
    final.sort()
    return data.subset(np.array(final, dtype=int)), [split[i] for i in final], dropped


@functools.lru_cache(maxsize=2)
def _all_sources(folders: tuple[str, ...]) -> tuple[OneShots, tuple[str, ...], tuple[tuple[str, int], ...]]:
    parts = [hydrogen_oneshots(), package_folder_oneshots(), drumsynth_oneshots()]
    parts += [folder_oneshots(f) for f in folders]
    for synth in GM_SYNTH_SOURCES:
        try:
            parts.append(gm_oneshots(synth=synth))
        except (AssetMissingError, ParameterError):  # not installed: that source is missing, said in load_split
            pass
    data = OneShots.concat(parts)
    split = [split_of(s, k) for s, k in zip(data.sources, data.kits)]
    data, split, dropped = dedupe(data, split)
    return data, tuple(split), tuple(dropped.items())


def load_splits(*, folders: tuple[str, ...] = ()) -> tuple[dict[str, OneShots], dict[str, int]]:
    """All installed sources (and the user's ``folders``, which train), deduplicated and split by origin:
    ``({"train": ..., "validation": ..., "test": ...}, dropped counts)``. Cached per process."""
    data, split, dropped = _all_sources(tuple(str(f) for f in folders))
    arr = np.array(split)
    out = {s: data.subset(arr == s) for s in SPLIT_NAMES}
    return out, dict(dropped)


def load_split(name: str, *, folders: tuple[str, ...] = ()) -> OneShots:
    """One split of :func:`load_splits`.

    Raises ParameterError for an unknown split name or an empty split (a source package missing).
    """
    if name not in SPLIT_NAMES:
        raise ParameterError(f"split={name!r} must be one of {', '.join(SPLIT_NAMES)}")
    data = load_splits(folders=folders)[0][name]
    if not len(data):
        raise ParameterError(f"the {name} split is empty: install its sources ({SPLITS[name]})")
    return data
