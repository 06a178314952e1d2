"""Provenance sidecars: every artefact ``X.ext`` gets ``X.json`` saying how it was made.

Two artefacts of one stem (``beat.wav`` and ``beat.mid``) never share a sidecar, and a sidecar never
replaces a file it does not describe: when ``X.json`` is taken — by another artefact's sidecar, by a file
that is no sidecar, or by the artefact itself (``X.json``) — the sidecar is ``X.ext.json``
(:func:`sidecar_path`). A companion written beside an artefact with no sidecar of its own (a mix's
timeline ``X.png``, a drawing's ``X.svg``) is described by ``X.json``, its artefact's.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from latentstudio.core.fileio import atomic_write_text

_PACKAGES = ("latentstudio", "torch", "numpy", "librosa", "scipy", "faiss-cpu", "Pillow")


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Versions of latentstudio and its main dependencies (missing ones are omitted)."""
    out: dict[str, str] = {}
    for name in _PACKAGES + tuple(extra):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    out["python"] = platform.python_version()
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "item"):
        try:
            return value.item()
        except (ValueError, TypeError):
            pass
    if hasattr(value, "tolist"):
        return value.tolist()
    return repr(value)


def provenance(*, command: str, params: dict[str, Any] | None = None, seed: int | None = None,
               models: list[str] | dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """Build a provenance record (JSON-ready dict)."""
    record = {
        "command": command,
        "argv": list(sys.argv),
        "params": _jsonable(params or {}),
        "seed": seed,
        "models": _jsonable(models or []),
        "versions": package_versions(),
        "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    record.update(_jsonable(extra))
    return record


def _describes(sidecar: Path, artifact: Path) -> bool:
    """Whether ``sidecar`` is a provenance record of ``artifact`` (same file name)."""
    try:
        record = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and Path(str(record.get("artifact", ""))).name == artifact.name


def sidecar_path(artifact: str | os.PathLike) -> Path:
    """The provenance sidecar of ``artifact``: ``out/x.png`` -> ``out/x.json``, or ``out/x.png.json`` when
    ``out/x.json`` is taken.

    ``x.json`` is taken when it exists and is not the sidecar of ``artifact`` (the sidecar of ``x.wav``
    beside ``x.mid``, or a file of the user's), or when the artefact is itself ``x.json``. Once
    ``x.png.json`` exists it stays the sidecar of ``x.png``, so a rerun finds and rewrites the same file.

    Example
    -------
    >>> sidecar_path("no-such-folder/beat.wav").name
    'beat.json'
    """
    art = Path(artifact)
    plain, qualified = art.with_suffix(".json"), art.with_name(art.name + ".json")
    if plain == art or qualified.exists():
        return qualified
    if plain.exists() and not _describes(plain, art):
        return qualified
    return plain


def write_sidecar(artifact: str | os.PathLike, record: dict[str, Any] | None = None, **kwargs: Any) -> Path:
    """Write the provenance sidecar of ``artifact`` atomically and return its path.

    Either pass a ready ``record`` (from :func:`provenance`) or the keyword arguments of
    :func:`provenance`. Extra keys in ``record`` (a plan, a report) are kept.
    """
    rec = dict(record) if record is not None else provenance(**kwargs)
    rec.setdefault("artifact", os.fspath(artifact))
    path = sidecar_path(artifact)
    atomic_write_text(path, json.dumps(_jsonable(rec), indent=2, sort_keys=False) + "\n")
    return path
