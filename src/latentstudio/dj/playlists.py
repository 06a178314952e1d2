"""Reading the user's playlists and set lists: M3U/M3U8, plain text (one path per line) and JSON lists.

Each entry is matched to a file of the library: an absolute path, a path relative to the playlist's
folder or to the library folder, or (set lists often hold only names) a file name with or without its
extension. Entries that match nothing are reported as missing, never fatal on their own.

Example
-------
>>> from latentstudio.dj.playlists import read_playlist                       # doctest: +SKIP
>>> pl = read_playlist("sets/friday.m3u", library=["music/a.wav", "music/b.wav"])   # doctest: +SKIP
>>> pl.tracks, pl.missing                                                     # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from latentstudio.errors import ParameterError

PLAYLIST_EXTENSIONS = (".m3u", ".m3u8", ".txt", ".json")


@dataclass
class Playlist:
    """A parsed playlist: ``tracks`` (resolved library paths, in order), ``missing`` (unmatched entries)."""

    path: str
    tracks: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    entries: int = 0


def playlist_entries(path: str | os.PathLike) -> list[str]:
    """The raw entries of a playlist file, in order (comments and blank lines dropped).

    M3U/M3U8 and text: one entry per line, ``#`` lines are comments (``#EXTINF`` included). JSON: a list
    of strings or of objects with a ``"path"``, or an object whose ``"tracks"`` is such a list.
    """
    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"playlist {str(p)!r} does not exist")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = p.read_text(encoding="latin-1")      # classic .m3u files are often Latin-1
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text) if text.strip() else []
        except json.JSONDecodeError as exc:
            raise ParameterError(f"playlist {str(p)!r} is not valid JSON ({exc})") from None
        if isinstance(data, dict):
            data = data.get("tracks")
        if not isinstance(data, list):
            raise ParameterError(f"playlist {str(p)!r} must hold a JSON list of paths (or {{'tracks': [...]}})")
        out = []
        for item in data:
            if isinstance(item, dict):
                item = item.get("path")
            if not isinstance(item, str):
                raise ParameterError(f"playlist {str(p)!r}: entry {item!r} is not a path string")
            if item.strip():
                out.append(item.strip())
        return out
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def _index(library: list[str]) -> tuple[dict[str, str], dict[str, list[str]]]:
    exact = {os.path.normcase(str(Path(f).resolve())): str(f) for f in library}
    names: dict[str, list[str]] = {}
    for f in library:
        p = Path(f)
        for key in {p.name.lower(), p.stem.lower()}:
            names.setdefault(key, []).append(str(f))
    return exact, names


def resolve_entries(entries: list[str], *, base: str | os.PathLike, library: list[str],
                    library_dir: str | os.PathLike | None = None) -> tuple[list[str], list[str]]:
    """Match ``entries`` to ``library`` paths; returns ``(tracks, missing)``.

    Tried in turn: the entry as an absolute path, relative to ``base`` (the playlist's folder), relative to
    ``library_dir``, then a unique file name or stem in the library.
    """
    exact, names = _index(library)
    tracks, missing = [], []
    for e in entries:
        raw = e[7:] if e.startswith("file://") else e
        raw = raw.replace("\\", "/")
        found = None
        roots = [None, Path(base)] + ([Path(library_dir)] if library_dir is not None else [])
        for root in roots:
            cand = Path(raw) if root is None else root / raw
            if root is None and not cand.is_absolute():
                continue
            key = os.path.normcase(str(cand.resolve()))
            if key in exact:
                found = exact[key]
                break
        if found is None:
            hits = names.get(Path(raw).name.lower(), [])
            if len(hits) == 1:
                found = hits[0]
        if found is None:
            missing.append(e)
        else:
            tracks.append(found)
    return tracks, missing


def read_playlist(path: str | os.PathLike, *, library: list[str],
                  library_dir: str | os.PathLike | None = None) -> Playlist:
    """Parse a playlist and match its entries to ``library`` (a list of audio file paths).

    Raises ParameterError when the playlist is missing, unreadable, empty, or none of its entries is
    in the library.
    """
    p = Path(path)
    if p.suffix.lower() not in PLAYLIST_EXTENSIONS:
        raise ParameterError(f"playlist {str(p)!r} must end with one of {', '.join(PLAYLIST_EXTENSIONS)}")
    entries = playlist_entries(p)
    if not entries:
        raise ParameterError(f"playlist {str(p)!r} is empty: no track entries")
    tracks, missing = resolve_entries(entries, base=p.resolve().parent, library=library, library_dir=library_dir)
    if not tracks:
        raise ParameterError(f"playlist {str(p)!r}: none of its {len(entries)} entries is a track of the library "
                             f"(first: {entries[0]!r})")
    return Playlist(path=str(p), tracks=tracks, missing=missing, entries=len(entries))
