"""The studio's data folder: paths inside it only, upload checks, artefact names, the gallery.

Nothing here imports the web framework: these functions raise :class:`StudioInputError` (a
:class:`~latentstudio.errors.ParameterError` carrying an HTTP status) and the app turns that into a
JSON ``{"error": ...}`` answer.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path, PurePosixPath

from latentstudio.errors import ParameterError

#: Magic bytes -> kind of upload accepted: what a file *is*, whatever its name or declared type says.
IMAGE_MAGIC = ((b"\x89PNG\r\n\x1a\n", ".png"), (b"\xff\xd8\xff", ".jpg"), (b"GIF87a", ".gif"),
               (b"GIF89a", ".gif"), (b"BM", ".bmp"))
AUDIO_MAGIC = ((b"fLaC", ".flac"), (b"OggS", ".ogg"))
#: Names of folders under the data folder that are not artefacts (``.cache``: the sound index, the DJ's
#: analyses) and are neither listed in the gallery nor served. The DJ's record box (``dj/library``) and the
#: booth's session (``beatbox/session_*``) are made by the studio from offline material and are served.
HIDDEN_PREFIXES = (".",)


class StudioInputError(ParameterError):
    """Bad input from a page: ``status`` is the HTTP status to answer with (400, 404, 409, 413, 415)."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.status = status


def sniff(head: bytes, kind: str) -> str | None:
    """The suffix an upload's first bytes prove (``kind`` "image" or "audio"), or None."""
    if kind == "image":
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return ".webp"
        return next((sfx for magic, sfx in IMAGE_MAGIC if head.startswith(magic)), None)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return ".wav"
    return next((sfx for magic, sfx in AUDIO_MAGIC if head.startswith(magic)), None)


def check_upload(data: bytes, *, kind: str, max_bytes: int, name: str = "file") -> str:
    """Check an upload's size and type; returns the suffix its content proves.

    Raises
    ------
    StudioInputError : 400 empty, 413 over ``max_bytes``, 415 not an image / not WAV, FLAC or Ogg audio
    """
    if not data:
        raise StudioInputError(f"{name}: the upload is empty")
    if len(data) > max_bytes:
        raise StudioInputError(f"{name}: {len(data)} bytes is over the studio's upload limit of {max_bytes} bytes",
                               status=413)
    sfx = sniff(data[:16], kind)
    if sfx is None:
        want = "an image (PNG, JPEG, GIF, BMP or WebP)" if kind == "image" else "audio (WAV, FLAC or Ogg)"
        raise StudioInputError(f"{name}: the file is not {want}", status=415)
    return sfx


def inside(root: str | os.PathLike, rel: str, *, must_exist: bool = True) -> Path:
    """``root/rel`` resolved, refused unless it stays inside ``root`` (no absolute path, no ``..``, no link
    out, no hidden folder).

    Raises
    ------
    StudioInputError : 400 for a path that leaves the data folder or names a hidden one, 404 when missing
    """
    text = str(rel).replace("\\", "/")
    parts = PurePosixPath(text).parts
    if not text or text.startswith("/") or re.match(r"^[A-Za-z]:", text) or ".." in parts or "\x00" in text:
        raise StudioInputError(f"path {rel!r} is outside the studio's data folder")
    if any(p.startswith(HIDDEN_PREFIXES) for p in parts):
        raise StudioInputError(f"path {rel!r} names a hidden folder of the studio")
    base = Path(root).resolve()
    path = (base / text).resolve()
    if not path.is_relative_to(base):
        raise StudioInputError(f"path {rel!r} is outside the studio's data folder")
    if must_exist and not path.is_file():
        raise StudioInputError(f"no file {rel!r} in the studio's data folder", status=404)
    return path


def safe_stem(stem: str, default: str = "item") -> str:
    """``stem`` as a file name part: runs of anything but letters, digits, ``_`` and ``-`` become ``-``, at most
    40 characters (``default`` when nothing is left)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-")[:40] or default


def new_name(folder: Path, stem: str, suffix: str) -> Path:
    """A fresh artefact path ``folder/<stem>_<UTC time>_<n><suffix>`` that does not exist yet."""
    folder.mkdir(parents=True, exist_ok=True)
    clean = safe_stem(stem)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    n = 1
    while True:
        path = folder / f"{clean}_{stamp}_{n}{suffix}"
        if not path.exists() and not path.with_suffix(".json").exists():
            return path
        n += 1


def gallery(root: str | os.PathLike) -> list[dict]:
    """Every artefact of the data folder that has a provenance sidecar, newest first:
    ``{"path", "kind", "sidecar", "command", "time", "files"}`` (paths relative to the data folder)."""
    base = Path(root).resolve()
    items = []
    for side in base.rglob("*.json"):
        rel = side.relative_to(base)
        if any(p.startswith(HIDDEN_PREFIXES) for p in rel.parts):
            continue
        try:
            record = json.loads(side.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(record, dict) or "command" not in record:
            continue
        files = _described(side, record)
        if not files:
            continue
        main = next((f for f in files if f.suffix.lower() in (".png", ".jpg", ".jpeg", ".gif", ".mp4")), None) \
            or next((f for f in files if f.suffix.lower() in (".wav", ".flac", ".ogg")), files[0])
        items.append({"path": main.relative_to(base).as_posix(), "kind": kind_of(main),
                      "sidecar": rel.as_posix(), "command": record.get("command"), "time": record.get("time"),
                      "files": [f.relative_to(base).as_posix() for f in files],
                      "mtime": side.stat().st_mtime})
    items.sort(key=lambda i: i["mtime"], reverse=True)
    return items


def _described(side: Path, record: dict) -> list[Path]:
    """The files a sidecar describes (see :func:`latentstudio.provenance.sidecar_path`): ``x.png.json`` ->
    ``[x.png]``; ``x.json`` -> its ``artifact`` and the other ``x.*`` files that have no sidecar of their own."""
    if Path(side.stem).suffix and (side.parent / side.stem).is_file():         # x.mid.json
        return [side.parent / side.stem]
    files = [f for f in side.parent.glob(glob_escape(side.stem) + ".*")
             if f.suffix != ".json" and not f.name.startswith(".") and f.is_file()
             and not f.with_name(f.name + ".json").exists()]
    art = Path(str(record.get("artifact") or "")).name
    if art and (side.parent / art).is_file() and side.parent / art not in files:
        files.append(side.parent / art)
    return sorted(files)


def glob_escape(text: str) -> str:
    """``text`` with the glob metacharacters escaped."""
    import glob

    return glob.escape(text)


def kind_of(path: Path) -> str:
    """"image", "audio", "video", "midi", "svg" or "file" from the suffix."""
    sfx = path.suffix.lower()
    if sfx in (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"):
        return "image"
    if sfx in (".wav", ".flac", ".ogg", ".mp3"):
        return "audio"
    if sfx == ".mp4":
        return "video"
    if sfx in (".mid", ".midi"):
        return "midi"
    if sfx == ".svg":
        return "svg"
    return "file"
