"""Installation mode: a folder that keeps the kit and the latest pattern so each recording joins the piece.

Layout of a session folder::

    state.json      tempo, kit, latent to continue from, beats made, recordings processed, sounds
    kit/NNNN_<label>.wav   every visitor sound that joined the kit (22.05 kHz)
    inbox/          drop recordings here; ``latentstudio beatbox session DIR`` takes the new ones
    beats/beat_NNNN.wav/.mid   each rendered continuation

Sounds accumulate (the newest few per drum play), and each beat starts from the latent where the
last one ended, so successive visitors' sounds play in one evolving piece.
"""

from __future__ import annotations

import json
import os
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
    for sub in ("kit", "inbox", "beats"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    path = d / STATE
    if not path.exists():
        return SessionState(bpm=float(bpm or 100.0), kit=kit or "GMRockKit")
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
