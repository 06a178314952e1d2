"""Real compositions for the DJ's beat network: music people wrote, with beats and downbeats from its meter.

Sources (each piece carries its *origin*, the unit the splits are made of):

- **MMA grooves** (Debian ``mma``): the human-written accompaniment library, 119 style files (swing, bossa,
  waltz, funk, rock, ballads, marches...) with intro, fill and ending variants and their own humanised
  timing. A song is a chord progression in a random key played through one style's grooves
  (intro, main, ending). Origin: the style family (``blues``, ``blues68`` and ``blues128`` are one family).
- **The music21 corpus** (PyPI ``music21``): chorales, fiddle tunes, folk songs, quartets, rags, piano
  pieces, with their meters and pickups. Origin: the collection or composer.
- **Any folder of MIDI files** a user points at (``dj train-beats --midi-folder``): origin is the file.

Truth comes from the score: every beat of every bar at the meter's beat unit (a dotted quarter in 6/8),
pickups counted back from the first bar line, converted to seconds through the MIDI tempo map.
MMA songs take their bars from the style's ``Time`` (:func:`mma_grid`), not the signature MMA writes.
:func:`vary_midi` then changes the performance the way records differ (tempo, ramps, rubato, push/pull,
instruments, drumless breakdowns) and warps the truth with it, and :func:`render` plays it through one
of several synthesisers. :data:`SPLITS` keeps origins and renderers apart: the test split's pieces come
from collections and style families the network never trains on, played by a soundfont it never hears.

Example
-------
>>> from latentstudio.dj import realmusic
>>> pieces = realmusic.pieces("test", limit=4, seed=0)                 # doctest: +SKIP
>>> ex = realmusic.render(pieces[0], renderer="csound", seed=0)        # doctest: +SKIP
>>> ex.audio.shape, ex.beats[:4]                                       # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latentstudio.core.midi import SYNTHS
from latentstudio.errors import AssetMissingError, ParameterError

MMA_LIB = Path("/usr/share/mma/lib/stdlib")
#: MMA style families that are not music (a click track, an empty groove).
MMA_SKIP = frozenset({"metronome", "none"})

#: What each split is made of. ``music21``: corpus collections (first folder under the corpus);
#: ``mma``: style families; ``renderers``: the synthesisers it is played with. MMA families not named
#: under validation or test are training families. Collections were chosen by kind, never by score:
#: each held-out split has fiddle/folk tunes, classical pieces and grooves of families absent from training.
SPLITS: dict[str, dict] = {
    "train": {"music21": ("bach", "ryansMammoth", "essenFolksong", "monteverdi", "trecento", "beethoven",
                          "schumann_robert", "miscFolk"),
              "renderers": ("fluidr3", "opl3")},
    "validation": {"music21": ("airdsAirs", "haydn", "schumann_clara", "corelli", "handel", "weber"),
                   "mma": ("bossanova", "waltz", "rhumba", "swing", "countryswing", "softrock", "bigband",
                           "march", "hillcountry", "dixie", "jazzwaltz", "slowblues", "shuffleboggie"),
                   "renderers": ("freepats",)},
    "test": {"music21": ("oneills1850", "joplin", "mozart", "chopin", "schubert", "johnson_j_r", "beach",
                         "cpebach", "verdi", "liliuokalani"),
             "mma": ("rock-", "samba", "ballad", "blues", "bvfunk", "polka", "ska", "tango", "foxtrot",
                     "popballad", "jive", "bolero", "srock", "lfusion", "modernjazz", "calypso"),
             "renderers": ("csound",)},
}

_PITCHES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
#: Chord progressions as (semitones above the tonic, chord suffix) per bar; major and minor songs.
_PROGRESSIONS = {
    "major": [[(0, ""), (7, ""), (9, "m"), (5, "")], [(0, ""), (5, ""), (7, "7"), (0, "")],
              [(2, "m7"), (7, "7"), (0, "maj7"), (0, "maj7")], [(0, ""), (9, "m"), (5, ""), (7, "")],
              [(0, "7"), (5, "7"), (0, "7"), (0, "7"), (5, "7"), (5, "7"), (0, "7"), (0, "7"), (7, "7"), (5, "7"),
               (0, "7"), (7, "7")],
              [(0, ""), (0, ""), (5, ""), (7, "")], [(0, "6"), (9, "m7"), (2, "m7"), (7, "7")]],
    "minor": [[(0, "m"), (8, ""), (3, ""), (10, "")], [(0, "m"), (5, "m"), (7, "7"), (0, "m")],
              [(0, "m7"), (5, "m7"), (0, "m7"), (7, "7")], [(0, "m"), (10, ""), (8, ""), (7, "")]],
}


@dataclass
class Piece:
    """One composition: its MIDI and its metrical truth in seconds (before any variation)."""

    name: str
    origin: str                        # e.g. "music21:bach", "mma:bossanova", "folder:song.mid"
    midi: bytes
    beats: np.ndarray
    downbeats: np.ndarray
    key: str | None = None              # "A minor" etc. when the source says so
    meta: dict = field(default_factory=dict)

    def pretty_midi(self):
        import pretty_midi

        return pretty_midi.PrettyMIDI(io.BytesIO(self.midi))


@dataclass
class Example:
    """A rendered, varied excerpt of a piece: mono audio and its beats/downbeats (seconds)."""

    name: str
    origin: str
    renderer: str
    audio: np.ndarray
    sr: int
    beats: np.ndarray
    downbeats: np.ndarray
    key: str | None
    variation: dict


def family(style_file: str) -> str:
    """MMA style family of a groove file's stem: digits dropped (``blues128`` -> ``blues``)."""
    return re.sub(r"\d+", "", Path(style_file).stem.lower())


def split_of(origin: str) -> str:
    """The split an origin belongs to (``music21:<collection>``, ``mma:<family>``; anything else: train)."""
    kind, _, name = origin.partition(":")
    for split in ("validation", "test"):
        if name in SPLITS[split].get(kind, ()):
            return split
    return "train"


# ------------------------------------------------------------------------------------------------ MMA
def mma_binary() -> str:
    exe = shutil.which("mma")
    if exe is None or not MMA_LIB.is_dir():
        raise AssetMissingError("the MMA groove library is missing; install it: apt-get install mma (make data)")
    return exe


def mma_grooves() -> dict[str, list[str]]:
    """``{style file stem: [groove names]}`` of the installed MMA standard library."""
    mma_binary()
    out: dict[str, list[str]] = {}
    for f in sorted(MMA_LIB.glob("*.mma")):
        names = re.findall(r"^\s*defgroove\s+(\S+)", f.read_text(errors="replace"), flags=re.I | re.M)
        if names:
            out[f.stem] = names
    return out


def mma_time(stem: str) -> int:
    """MMA's ``Time`` of a style file: its beats per bar, each a quarter note of the MIDI it writes (4 when unset)."""
    m = re.search(r"^\s*time\s+(\d+)", (MMA_LIB / f"{stem}.mma").read_text(errors="replace"), flags=re.I | re.M)
    return int(m.group(1)) if m else 4


def mma_grid(pm, time: int) -> tuple[np.ndarray, np.ndarray]:
    """Beats and downbeats (seconds) of a song MMA wrote with ``Time time``.

    MMA bars hold ``time`` quarter notes of MIDI ticks whatever time signature it writes, so a 6/8 style
    is either 2 ticked quarters a bar that each sound as a dotted-quarter beat (``68march``: ``Time 2``,
    ``Timesig 6 8``), or 6 that each sound as an eighth (``68swing``: ``Time 6``; its beat is 3 of them).
    Where the signature's bar matches ``time`` quarters (``afro-cuban``: ``Time 3``, 6/8), the signature
    is right and its beats (dotted quarters) are kept; otherwise the beat is one ticked quarter, or three
    when the style counts the eighths of a compound meter.
    """
    ts = pm.time_signature_changes[0] if pm.time_signature_changes else None
    num, den = (ts.numerator, ts.denominator) if ts is not None else (4, 4)
    if abs(num * 4.0 / den - time) < 1e-6:
        return pm.get_beats(), pm.get_downbeats()
    step = 3 if (den == 8 and num % 3 == 0 and time == num) else 1
    end_tick = pm.time_to_tick(pm.get_end_time())
    q = pm.resolution
    beats = np.array([pm.tick_to_time(int(t)) for t in np.arange(0, end_tick + 1, step * q)])
    downs = np.array([pm.tick_to_time(int(t)) for t in np.arange(0, end_tick + 1, time * q)])
    return beats, downs


def _mma_song(stem: str, names: list[str], rng: np.random.Generator) -> tuple[str, str, dict]:
    """The text of an MMA song in one style, its key and what was chosen."""
    lower = {n.lower(): n for n in names}
    mains = [n for n in names if not re.search(r"(intro|end|fill|break|sus)", n, re.I)] or names
    main = str(rng.choice(mains))
    intro = next((lower[k] for k in (main.lower() + "intro", stem.lower() + "intro") if k in lower), None)
    ending = next((lower[k] for k in (main.lower() + "end", stem.lower() + "end") if k in lower), None)
    variants = [n for n in names if n.lower().startswith(main.lower()) and n != main
                and not re.search(r"(intro|end)", n, re.I)]
    mode = "minor" if rng.random() < 0.35 else "major"
    tonic = int(rng.integers(12))
    prog = _PROGRESSIONS[mode][int(rng.integers(len(_PROGRESSIONS[mode])))]

    def bars(k: int) -> list[str]:
        return [_PITCHES[(tonic + prog[i % len(prog)][0]) % 12] + prog[i % len(prog)][1] for i in range(k)]

    bpm = float(np.exp(rng.uniform(np.log(70), np.log(180))))
    lines = [f"Tempo {bpm:.1f}"]
    if intro and rng.random() < 0.7:
        lines += [f"Groove {intro}"] + bars(4)
    body = int(rng.choice([8, 12, 16]))
    lines += [f"Groove {main}"] + bars(body)
    if variants and rng.random() < 0.6:
        lines += [f"Groove {str(rng.choice(variants))}"] + bars(len(prog) if len(prog) <= 8 else 4)
        lines += [f"Groove {main}"] + bars(8)
    if ending and rng.random() < 0.7:
        lines += [f"Groove {ending}"] + bars(2)
    key = f"{_PITCHES[tonic]} {mode}"
    return "\n".join(lines) + "\n", key, {"groove": main, "bpm": round(bpm, 1), "intro": intro, "ending": ending}


def mma_pieces(families: set[str] | None = None, *, songs_per_style: int = 3, seed: int = 0,
               exclude: set[str] | None = None) -> list[Piece]:
    """Songs rendered to MIDI by MMA, ``songs_per_style`` per style file of the given families (all when None)."""
    exe = mma_binary()
    import pretty_midi

    out = []
    with tempfile.TemporaryDirectory(prefix="ls-mma-") as td:
        for stem, names in mma_grooves().items():
            fam = family(stem)
            if fam in MMA_SKIP or (families is not None and fam not in families) or (exclude and fam in exclude):
                continue
            rng = np.random.default_rng([seed, zlib.crc32(stem.encode())])
            for k in range(songs_per_style):
                text, key, meta = _mma_song(stem, names, rng)
                src, mid = Path(td) / "song.mma", Path(td) / "song.mid"
                src.write_text(text)
                mid.unlink(missing_ok=True)
                proc = subprocess.run([exe, "-f", str(mid), str(src)], capture_output=True, text=True, timeout=60)
                if proc.returncode != 0 or not mid.is_file():
                    continue
                data = mid.read_bytes()
                pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
                if not any(i.notes for i in pm.instruments):
                    continue
                end = pm.get_end_time()
                beats, downs = mma_grid(pm, mma_time(stem))
                out.append(Piece(f"mma/{stem}/{k}", f"mma:{fam}", data, beats[beats < end - 0.05],
                                 downs[downs < end - 0.05], key, {**meta, "style": stem}))
    return out


# --------------------------------------------------------------------------------------------- music21
def _score_grid(score) -> tuple[np.ndarray, np.ndarray]:
    """Beats and downbeats of a music21 score in quarter lengths from its measures and time signatures."""
    from music21 import meter

    part = score.parts[0] if getattr(score, "parts", None) else score
    measures = list(part.getElementsByClass("Measure"))
    beats: list[float] = []
    downs: list[float] = []
    ts = None
    for i, m in enumerate(measures):
        if m.timeSignature is not None:
            ts = m.timeSignature
        if ts is None:
            ts = meter.TimeSignature("4/4")
        bq = float(ts.beatDuration.quarterLength)
        bar = float(ts.barDuration.quarterLength)
        start = float(m.offset)
        if bq <= 0:
            continue
        if i == 0 and float(m.paddingLeft or 0) > 0:        # anacrusis: counted back from the next bar line
            first_bar = start + bar - float(m.paddingLeft)
            k = 1
            while first_bar - k * bq >= start - 1e-6:
                beats.append(first_bar - k * bq)
                k += 1
            continue
        downs.append(start)
        n = max(1, int(round(min(bar, float(m.duration.quarterLength) or bar) / bq)))
        beats.extend(start + j * bq for j in range(n))
    return np.unique(np.round(beats, 6)), np.unique(np.round(downs, 6))


def _music21_piece(score, name: str, origin: str) -> Piece | None:
    import pretty_midi
    from music21 import midi as m21midi

    try:
        if not score.parts:
            return None
        try:   # MIDI export plays repeats: the grid must too
            score = score.expandRepeats()
        except Exception:  # malformed repeat marks: as written
            pass
        beats_ql, downs_ql = _score_grid(score)
        if len(beats_ql) < 8 or len(downs_ql) < 2:
            return None
        data = m21midi.translate.streamToMidiFile(score).writestr()
        pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    except Exception:  # a score music21 cannot convert: skipped
        return None
    if not any(i.notes for i in pm.instruments):
        return None
    end = pm.get_end_time()
    to_s = np.vectorize(lambda q: pm.tick_to_time(int(round(q * pm.resolution))))
    beats, downs = to_s(beats_ql), to_s(downs_ql)
    if abs(end - beats[-1]) > 4 * float(np.median(np.diff(beats))) + 3.0:
        return None      # the MIDI and the score's grid disagree in length: no trustworthy truth
    key = None
    try:
        k = next(iter(score.recurse().getElementsByClass("Key")), None)
        if k is not None and k.mode in ("major", "minor"):
            key = f"{k.tonic.name.replace('-', 'b')} {k.mode}"
    except Exception:
        key = None
    return Piece(name, origin, data, beats[beats < end - 0.05], downs[downs < end - 0.05], key)


def music21_pieces(collections: tuple[str, ...] | list[str], *, per_collection: int = 60, seed: int = 0,
                   max_quarters: float = 240.0) -> list[Piece]:
    """Up to ``per_collection`` pieces of each music21 corpus collection (opus files give several tunes),
    chosen by a seeded shuffle; pieces longer than ``max_quarters`` quarter notes are cut to that many."""
    try:
        from music21 import corpus
    except ImportError:
        raise AssetMissingError("the music21 corpus is missing; install it: pip install music21 (make data)") from None
    paths = [Path(p) for p in corpus.getPaths()]
    out: list[Piece] = []
    for coll in collections:
        files = sorted(p for p in paths if f"/corpus/{coll}/" in p.as_posix())
        rng = np.random.default_rng([seed, zlib.crc32(coll.encode())])
        rng.shuffle(files)
        got = 0
        for f in files:
            if got >= per_collection:
                break
            try:
                parsed = corpus.parse(str(f))
            except Exception:  # unreadable score
                continue
            scores = list(parsed.scores) if hasattr(parsed, "scores") else [parsed]
            if len(scores) > 3:
                scores = [scores[i] for i in rng.choice(len(scores), size=3, replace=False)]
            for j, sc in enumerate(scores):
                if got >= per_collection:
                    break
                try:
                    if sc.highestTime > max_quarters:
                        sc = sc.measures(1, max(2, int(max_quarters // 4)))
                except Exception:
                    continue
                rel = f.as_posix().split("/corpus/", 1)[1]
                p = _music21_piece(sc, f"music21/{rel}#{j}", f"music21:{coll}")
                if p is not None:
                    out.append(p)
                    got += 1
    return out


def folder_pieces(folder: str | Path) -> list[Piece]:
    """Every readable MIDI file under ``folder``; beats from its tempo map and time signatures."""
    import pretty_midi

    d = Path(folder)
    if not d.is_dir():
        raise ParameterError(f"MIDI folder {str(d)!r} does not exist")
    out = []
    for f in sorted(list(d.rglob("*.mid")) + list(d.rglob("*.midi"))):
        try:
            data = f.read_bytes()
            pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
        except Exception:  # not a MIDI file we can read
            continue
        end = pm.get_end_time()
        if end <= 2:
            continue
        first = min(n.start for i in pm.instruments for n in i.notes)
        beats, downs = pm.get_beats(), pm.get_downbeats()
        keep = lambda t: t[(t >= first - 0.05) & (t < end - 0.05)]  # noqa: E731
        out.append(Piece(f"folder/{f.relative_to(d).as_posix()}", f"folder:{f.relative_to(d).as_posix()}",
                         data, keep(beats), keep(downs)))
    return out


def note_hash(piece: Piece) -> str:
    """Content hash of a piece's notes (pitch, quantised onset, drum flag): equal for the same composition
    stored twice."""
    pm = piece.pretty_midi()
    notes = sorted((int(i.is_drum), n.pitch, round(n.start, 2)) for i in pm.instruments for n in i.notes)
    return hashlib.sha1(repr(notes).encode()).hexdigest()


def dedupe(pieces: list[Piece]) -> list[Piece]:
    """Pieces with distinct note content (the first of each duplicate group kept)."""
    seen, out = set(), []
    for p in pieces:
        h = note_hash(p)
        if h not in seen:
            seen.add(h)
            out.append(p)
    return out


PIECES_VERSION = 2


def _cache_dir() -> Path:
    import os

    return Path(os.environ.get("LATENTSTUDIO_CACHE", Path.home() / ".cache" / "latentstudio")) / "dj_beats"


def pieces(split: str, *, seed: int = 0, per_collection: int | None = None, songs_per_style: int | None = None,
           limit: int | None = None, cache: bool = True) -> list[Piece]:
    """The deduplicated real pieces of a split (``train``, ``validation``, ``test``).

    Reading the music21 corpus takes minutes; the result is cached (JSON, no pickles) under
    ``~/.cache/latentstudio/dj_beats`` keyed by the arguments, :data:`SPLITS` and the installed versions."""
    import base64
    import json

    if split not in SPLITS:
        raise ParameterError(f"split={split!r} must be one of {sorted(SPLITS)}")
    try:
        from importlib.metadata import version

        m21 = version("music21")
    except Exception:
        m21 = None
    key = hashlib.sha1(json.dumps([split, seed, per_collection, songs_per_style, limit, SPLITS, PIECES_VERSION, m21,
                                   sorted(p.name for p in MMA_LIB.glob("*.mma")) if MMA_LIB.is_dir() else None],
                                  sort_keys=True, default=list).encode()).hexdigest()[:16]
    cfile = _cache_dir() / f"pieces-{split}-{key}.json"
    if cache and cfile.is_file():
        rows = json.loads(cfile.read_text())
        return [Piece(r["name"], r["origin"], base64.b64decode(r["midi"]), np.asarray(r["beats"]),
                      np.asarray(r["downbeats"]), r["key"], r["meta"]) for r in rows]
    out = _build_pieces(split, seed=seed, per_collection=per_collection, songs_per_style=songs_per_style,
                        limit=limit)
    if cache and out:
        from latentstudio.core.fileio import atomic_path

        cfile.parent.mkdir(parents=True, exist_ok=True)
        rows = [{"name": p.name, "origin": p.origin, "midi": base64.b64encode(p.midi).decode(),
                 "beats": p.beats.tolist(), "downbeats": p.downbeats.tolist(), "key": p.key, "meta": p.meta}
                for p in out]
        with atomic_path(cfile) as tmp:
            Path(tmp).write_text(json.dumps(rows))
    return out


def _build_pieces(split: str, *, seed: int, per_collection: int | None, songs_per_style: int | None,
                  limit: int | None) -> list[Piece]:
    spec = SPLITS[split]
    held = set(SPLITS["validation"]["mma"]) | set(SPLITS["test"]["mma"])
    pc = per_collection or (60 if split == "train" else 12)
    ss = songs_per_style or (3 if split == "train" else 2)
    if split == "train":
        mm = mma_pieces(None, songs_per_style=ss, seed=seed, exclude=held)
    else:
        mm = mma_pieces(set(spec["mma"]), songs_per_style=ss, seed=seed)
    m21 = music21_pieces(spec["music21"], per_collection=pc, seed=seed)
    out = dedupe(mm + m21)
    if limit is not None:
        rng = np.random.default_rng(seed)
        out = [out[i] for i in sorted(rng.permutation(len(out))[:limit])]
    return out


# ------------------------------------------------------------------------------------------- variation
def _warp(beats: np.ndarray, rng: np.random.Generator, *, target_bpm: float, ramp: float, rubato: float,
          end: float) -> tuple[np.ndarray, np.ndarray]:
    """Anchor times (old, new) of a time map that plays ``beats`` at ``target_bpm`` with a linear tempo ramp
    of ``ramp`` (relative change over the piece) and per-beat rubato of relative size ``rubato``."""
    b = np.asarray(beats, dtype=np.float64)
    ibi = np.diff(b)
    scale = (60.0 / target_bpm) / float(np.median(ibi))
    n = len(ibi)
    tempo_curve = 1.0 + ramp * np.linspace(-0.5, 0.5, n)
    jitter = rng.standard_normal(n) * rubato
    if n > 4:
        jitter = np.convolve(jitter, np.ones(3) / 3, mode="same") * np.sqrt(3)
    new_ibi = ibi * scale / tempo_curve * np.exp(jitter)
    new_b = b[0] * scale + np.concatenate([[0.0], np.cumsum(new_ibi)])
    # extend linearly from the first and last beat to time 0 and the end of the piece
    old = np.concatenate([[0.0], b, [max(end, b[-1] + 1e-3)]])
    new = np.concatenate([[0.0], new_b, [new_b[-1] + (max(end, b[-1] + 1e-3) - b[-1]) * new_ibi[-1] / ibi[-1]]])
    if b[0] <= 0:
        old, new = old[1:], new[1:]
    return old, new


def vary_midi(piece: Piece, rng: np.random.Generator, *, max_seconds: float = 45.0, strength: float = 1.0):
    """A varied performance of ``piece``: ``(pretty_midi, beats, downbeats, variation)``.

    Tempo (a target between 70 and 180 beats per minute, log-uniform), a tempo ramp (+-15 %) and rubato
    (per-beat 2-4 %), player push/pull (per-instrument offsets up to +-20 ms, note jitter), instrument
    changes within and across families, a drumless breakdown of a few bars or no drums at all, and an
    excerpt of at most ``max_seconds`` starting on a bar line. Truth is warped with the notes."""
    import pretty_midi

    pm = piece.pretty_midi()
    beats, downs = np.asarray(piece.beats, float), np.asarray(piece.downbeats, float)
    if len(beats) < 4:
        raise ParameterError(f"piece {piece.name!r} has fewer than 4 beats")
    p = min(1.0, 0.5 * strength)
    end = pm.get_end_time()
    var: dict = {}
    target = float(np.exp(rng.uniform(np.log(70), np.log(180))))
    ramp = float(rng.uniform(-0.15, 0.15)) if rng.random() < p * 0.6 else 0.0
    rubato = float(rng.uniform(0.01, 0.04)) if rng.random() < p * 0.6 else 0.0
    old, new = _warp(beats, rng, target_bpm=target, ramp=ramp, rubato=rubato, end=end)
    pm.adjust_times(old, new)
    beats, downs = np.interp(beats, old, new), np.interp(downs, old, new)
    var.update(bpm=round(target, 1), ramp=round(ramp, 3), rubato=round(rubato, 3))
    # instruments and players
    pitched = [i for i in pm.instruments if not i.is_drum]
    if rng.random() < p:
        for inst in pitched:
            inst.program = int(rng.integers(128)) if rng.random() < 0.5 else int(inst.program // 8 * 8
                                                                                   + rng.integers(8))
        var["programs"] = [int(i.program) for i in pitched]
    if rng.random() < p:
        for inst in pm.instruments:
            off = float(np.clip(rng.normal(0, 0.008), -0.02, 0.02))
            jit = float(rng.uniform(0, 0.006))
            vel = float(rng.uniform(0.6, 1.2))
            for n in inst.notes:
                d = off + rng.normal(0, jit) if jit > 0 else off
                n.start, n.end = max(0.0, n.start + d), max(0.0, n.end + d) + 1e-3
                n.velocity = int(np.clip(n.velocity * vel, 1, 127))
        var["push_pull"] = True
    drums = [i for i in pm.instruments if i.is_drum]
    if drums and len(downs) > 8 and rng.random() < p * 0.5:
        k = int(rng.integers(1, len(downs) - 4))
        lo, hi = downs[k], downs[min(len(downs) - 1, k + int(rng.integers(2, 5)))]
        for inst in drums:
            inst.notes = [n for n in inst.notes if not (lo <= n.start < hi)]
        var["breakdown"] = [round(lo, 2), round(hi, 2)]
    elif drums and rng.random() < p * 0.2:
        pm.instruments = [i for i in pm.instruments if not i.is_drum]
        var["drums"] = "none"
    # excerpt from a bar line
    start = 0.0
    total = pm.get_end_time()
    if total > max_seconds and len(downs) > 2:
        cands = downs[downs < total - max_seconds * 0.6]
        start = float(cands[int(rng.integers(len(cands)))]) if len(cands) else 0.0
        start = max(0.0, start - float(rng.uniform(0, 0.5)))      # a little lead-in before the bar
    stop = start + max_seconds
    out = pretty_midi.PrettyMIDI(resolution=pm.resolution, initial_tempo=120.0)
    for inst in pm.instruments:
        ni = pretty_midi.Instrument(program=inst.program, is_drum=inst.is_drum, name=inst.name)
        ni.notes = [pretty_midi.Note(n.velocity, n.pitch, n.start - start, min(n.end, stop) - start)
                    for n in inst.notes if start <= n.start < stop - 0.05]
        ni.control_changes = [c for c in inst.control_changes if start <= c.time < stop]
        for c in ni.control_changes:
            c.time -= start
        if ni.notes:
            out.instruments.append(ni)
    if not out.instruments:
        raise ParameterError(f"piece {piece.name!r}: the excerpt holds no notes")
    last = out.get_end_time()
    first = min(n.start for i in out.instruments for n in i.notes)
    sel = lambda t: t[(t >= first - 0.1) & (t <= last + 1e-3)]  # noqa: E731
    beats, downs = sel(beats - start), sel(downs - start)
    var["excerpt_start"] = round(start, 2)
    return out, beats, downs, var


def render(piece: Piece, *, renderer: str, seed: int = 0, sr: int = 16000, max_seconds: float = 45.0,
           strength: float = 1.0, effects: bool = True) -> Example:
    """A varied performance of ``piece`` played by ``renderer`` (:data:`latentstudio.core.midi.SYNTHS`), through
    a random record chain (:func:`latentstudio.core.effects.record_chain`) when ``effects``."""
    from latentstudio.core.effects import record_chain
    from latentstudio.core.midi import render_synth

    if renderer not in SYNTHS:
        raise ParameterError(f"renderer={renderer!r} must be one of {sorted(SYNTHS)}")
    rng = np.random.default_rng([seed, zlib.crc32(piece.name.encode())])
    pm, beats, downs, var = vary_midi(piece, rng, max_seconds=max_seconds, strength=strength)
    y = render_synth(pm, renderer, sr=sr, tail=0.5)
    if not np.isfinite(y).all() or np.abs(y).max() < 1e-5:
        raise ParameterError(f"piece {piece.name!r} rendered to silence with {renderer!r}")
    y = y / np.abs(y).max() * 0.8
    if effects:
        y, chain = record_chain(y, sr=sr, rng=rng, strength=strength)
        var["effects"] = [c[0] for c in chain]
    return Example(piece.name, piece.origin, renderer, y.astype(np.float32), sr, beats, downs, piece.key, var)


def audio_hash(y: np.ndarray) -> str:
    """Hash of decoded audio (16-bit rounding), for deduplication across splits (:func:`core.audio.pcm16_hash`)."""
    from latentstudio.core.audio import pcm16_hash

    return pcm16_hash(y)


def examples(split: str, *, count: int | None = None, seed: int = 0, renderers: tuple[str, ...] | None = None,
             max_seconds: float = 45.0, strength: float = 1.0, effects: bool = True, pieces_: list[Piece] | None = None,
             progress=None) -> Iterator[Example]:
    """Rendered examples of a split: each piece once (or ``count`` draws cycling over shuffled pieces), each
    with the split's renderers in turn. Renders that fail (silence, a synthesiser error) are skipped."""
    ps = pieces_ if pieces_ is not None else pieces(split, seed=seed)
    if not ps:
        raise AssetMissingError(f"no real pieces for split {split!r}: install mma and music21 (make data)")
    rs = renderers or SPLITS[split]["renderers"]
    rng = np.random.default_rng(seed)
    order = list(rng.permutation(len(ps)))
    n = count or len(ps)
    seen: set[str] = set()
    for i in range(n):
        piece = ps[order[i % len(ps)]]
        try:
            ex = render(piece, renderer=rs[i % len(rs)], seed=seed * 1000 + i // len(ps), max_seconds=max_seconds,
                        strength=strength, effects=effects)
        except ParameterError:
            continue
        h = audio_hash(ex.audio)
        if h in seen or len(ex.beats) < 4:
            continue
        seen.add(h)
        if progress is not None:
            progress(i + 1, n)
        yield ex
