"""Atomic file writing: write to a temporary sibling, then rename over the target."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from latentstudio.errors import ParameterError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    """Flush a file's (or a folder's) contents to disk; folders that cannot be opened are skipped."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except (IsADirectoryError, PermissionError):
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a folder
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is untouched, so a reader
    never sees a half-written artefact.

    Example
    -------
    >>> with atomic_path("out.txt") as tmp:          # doctest: +SKIP
    ...     tmp.write_text("hello")
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    sfx = suffix if suffix is not None else target.suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".part{sfx}", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():  # mkstemp makes 0600 files; give the artefact the usual mode
            os.chmod(tmp_path, 0o666 & ~_umask())
            _fsync(tmp_path)  # the data is on disk before the name points at it
        os.replace(tmp_path, target)
        _fsync(target.parent)  # and the rename itself survives a crash
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically and return the path."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def check_suffix(path: str | os.PathLike, suffixes: tuple[str, ...], name: str) -> Path:
    """``path`` as a Path when its extension (any case) is one of ``suffixes``; else ParameterError naming
    the parameter ``name`` and the value."""
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise ParameterError(f"{name}={str(p)!r} must end with one of {', '.join(suffixes)}")
    return p


def files_under(folder: str | os.PathLike, suffixes, *, what: str = "folder", kind: str = "files",
                allow_empty: bool = False) -> list[Path]:
    """The files under ``folder`` (recursive, sorted) whose suffix is one of ``suffixes`` (any case); hidden
    files (``.name``, e.g. macOS's ``._take.wav`` forks) are left out.

    Raises
    ------
    ParameterError : ``folder`` does not exist or is not a folder, or (unless ``allow_empty``) holds no such
        files; the message names it as ``what`` and the files as ``kind``
    """
    root = Path(folder).expanduser()
    if not root.exists():
        raise ParameterError(f"{what} {str(root)!r} does not exist")
    if not root.is_dir():
        raise ParameterError(f"{what} {str(root)!r} is not a folder")
    wanted = {s.lower() for s in suffixes}
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in wanted and not p.name.startswith(".")
                   and p.is_file())
    if not files and not allow_empty:
        raise ParameterError(f"{what} {str(root)!r} holds no {kind} ({', '.join(suffixes)})")
    return files
