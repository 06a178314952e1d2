"""Installation mode: a folder that keeps the kit and the latest pattern so each recording joins the piece.

Layout of a session folder::

    state.json      tempo, kit, latent to continue from, beats made, recordings processed, sounds
    kit/NNNN_<label>.wav   every visitor sound that joined the kit (22.05 kHz)
    inbox/          drop recordings here; ``latentstudio beatbox session DIR`` takes the new ones
    beats/beat_NNNN.wav/.mid   each rendered continuation

Sounds accumulate (the newest few per drum play), and each beat starts from the latent where the
last one ended, so successive visitors' sounds play in one evolving piece. :func:`take_turn` is one
visitor's turn, end to end (the CLI's ``beatbox session`` and the booth page call it).

Example
-------
>>> turn = take_turn("booth/", ["visitor3.wav"], bars=8, seed=0)      # doctest: +SKIP
>>> turn.number, turn.files.output, len(turn.state.sounds)             # doctest: +SKIP
(3, PosixPath('booth/beats/beat_0003.wav'), 12)
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from latentstudio.core.fileio import atomic_write_text
from latentstudio.errors import ParameterError

STATE = "state.json"
#: Sounds kept per drum class in the session's kit (the newest).
KEEP_PER_CLASS = 4


@dataclass
class SessionState:
    """What a session folder remembers between recordings."""

    bpm: float = 100.0
    kit: str = "GMRockKit"
    latent: list[float] | None = None
    beats: int = 0
    processed: list[str] = field(default_factory=list)
    sounds: list[dict] = field(default_factory=list)


def open_session(directory: str | os.PathLike, *, bpm: float | None = None, kit: str | None = None) -> SessionState:
    """Read (or start) the session in ``directory``; ``bpm``/``kit`` only apply to a new session."""
    d = Path(directory)
    if d.exists() and not d.is_dir():
        raise ParameterError(f"session folder {str(d)!r} is a file")
    if bpm is not None and not (isinstance(bpm, (int, float)) and not isinstance(bpm, bool) and 40 <= bpm <= 300):
        raise ParameterError(f"bpm={bpm!r} must be a tempo from 40 to 300")   # 0 had become 100 silently
    for sub in ("kit", "inbox", "beats"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    path = d / STATE
    if not path.exists():
        return SessionState(bpm=100.0 if bpm is None else float(bpm), kit=kit or "GMRockKit")
    try:
        raw = json.loads(path.read_text())
        return SessionState(**{k: raw[k] for k in SessionState.__dataclass_fields__ if k in raw})
    except (json.JSONDecodeError, TypeError, UnicodeDecodeError) as exc:
        raise ParameterError(f"session state {str(path)!r} is corrupt ({exc}); move it away to start afresh") from None


def inbox_recordings(directory: str | os.PathLike, state: SessionState) -> list[Path]:
    """Recordings in ``DIR/inbox`` not yet processed, oldest first."""
    from latentstudio.core.audio import AUDIO_EXTENSIONS

    inbox = Path(directory) / "inbox"
    files = [f for f in inbox.iterdir() if f.suffix.lower() in AUDIO_EXTENSIONS and f.name not in state.processed]
    return sorted(files, key=lambda f: (f.stat().st_mtime, f.name))


def session_sounds(directory: str | os.PathLike, state: SessionState, *, sr: int) -> list[tuple[str, np.ndarray, str]]:
    """The kit sounds gathered so far: ``(label, audio, source)``, oldest first."""
    from latentstudio.core.audio import load

    out = []
    kit = (Path(directory) / "kit").resolve()
    for s in state.sounds:
        f = (Path(directory) / str(s.get("file", ""))).resolve()
        if not f.is_relative_to(kit):
            raise ParameterError(f"session state names the sound {s.get('file')!r}, which is outside "
                                 f"{str(kit)!r}; move state.json away to start afresh")
        if f.exists():
            y, _ = load(f, sr=sr)
            out.append((s["label"], y, s.get("source", s["file"])))
    return out


def record_beat(directory: str | os.PathLike, state: SessionState, *, new_sounds: list[tuple[str, np.ndarray, str]],
                sr: int, recordings: list[str], latent: np.ndarray) -> SessionState:
    """Store the new sounds in ``kit/``, keep the newest per class, remember the latent; write state.json."""
    from latentstudio.core.audio import save

    d = Path(directory)
    sounds = list(state.sounds)
    for label, audio, source in new_sounds:
        name = f"kit/{len(sounds) + state.beats * 1000:05d}_{label}.wav"
        save(d / name, audio, sr)
        sounds.append({"file": name, "label": label, "source": source})
    kept: list[dict] = []
    for s in reversed(sounds):
        if sum(k["label"] == s["label"] for k in kept) < KEEP_PER_CLASS:
            kept.append(s)
    kept.reverse()
    new = SessionState(bpm=state.bpm, kit=state.kit, latent=[float(x) for x in np.asarray(latent).ravel()],
                       beats=state.beats + 1, processed=state.processed + [Path(r).name for r in recordings],
                       sounds=kept)
    atomic_write_text(d / STATE, json.dumps(asdict(new), indent=2) + "\n")
    return new


@dataclass
class SessionTurn:
    """One visitor's turn: the beat rendered, the files written, the new sounds and the session after it."""

    number: int                      #: the turn (1 for the first beat of the session)
    beat: object                     #: the :class:`~latentstudio.beatbox.jam.JamResult`
    files: object                    #: the :class:`~latentstudio.beatbox.pipeline.BeatFiles` (audio and MIDI)
    hits: list                       #: the new recordings' sounds (:class:`~latentstudio.beatbox.jam.DetectedHit`)
    recordings: list[Path]
    state: SessionState

    def to_dict(self) -> dict:
        """JSON-ready: the beat's files and record, the turn and how many voice sounds the kit holds."""
        return {**self.files.to_dict(), "turn": self.number, "kit_sounds": len(self.state.sounds)}


def take_turn(directory: str | os.PathLike, recordings: Sequence[str | os.PathLike] = (), *, bars: int = 8,
              bpm: float | None = None, kit: str | None = None, seed: int = 0, classifier=None,
              vae=None) -> SessionTurn:
    """One booth turn: the new recordings (default: the unprocessed files of ``DIR/inbox``) join the kit,
    and the piece continues from the latent where the last beat ended.

    Writes ``beats/beat_NNNN.wav`` and ``.mid`` (with provenance), the new sounds under ``kit/`` and
    ``state.json``. ``bpm`` and ``kit`` only apply to a new session; this turn's rhythm is seeded by
    ``seed`` plus the beats made so far.

    Raises
    ------
    ParameterError : no new recording, no sound in them, bad settings (bars, bpm, kit)
    """
    from latentstudio.beatbox.classifier import load_classifier
    from latentstudio.beatbox.jam import detect_hits, jam
    from latentstudio.beatbox.kit import hydrogen_kit
    from latentstudio.beatbox.pipeline import save_beat
    from latentstudio.beatbox.rhythm_vae import load_rhythm_vae
    from latentstudio.beatbox.segment import load_voice

    d = Path(directory)
    state = open_session(d, bpm=bpm, kit=kit)
    paths = [Path(p) for p in recordings] or inbox_recordings(d, state)
    if not paths:
        raise ParameterError(f"no new recordings: pass files or drop them in {str(d / 'inbox')!r}")
    clf = classifier if classifier is not None else load_classifier()
    vae = vae if vae is not None else load_rhythm_vae()
    base = hydrogen_kit(state.kit)
    older = session_sounds(d, state, sr=base.sr)
    loaded = [load_voice(p, sr=base.sr) for p in paths]
    hits = detect_hits(loaded, clf)
    if not hits:
        raise ParameterError(f"no sounds found in {', '.join(str(p) for p in paths)}")
    beat = jam(loaded, classifier=clf, vae=vae, kit=base, bars=bars, bpm=state.bpm, start_latent=state.latent,
               seed=seed + state.beats, hits=hits, earlier_sounds=older)
    n = state.beats + 1
    files = save_beat(beat, d / "beats" / f"beat_{n:04d}.wav", d / "beats" / f"beat_{n:04d}.mid",
                      command="beatbox session", seed=seed,
                      params={"session": str(d), "turn": n, "voices": [str(p) for p in paths]})
    new_sounds = [(h.label, h.audio, f"{Path(h.source).name} @ {h.time:.2f} s") for h in hits]
    state = record_beat(d, state, new_sounds=new_sounds, sr=base.sr, recordings=[str(p) for p in paths],
                        latent=beat.latents[-1])
    return SessionTurn(number=n, beat=beat, files=files, hits=hits, recordings=paths, state=state)
