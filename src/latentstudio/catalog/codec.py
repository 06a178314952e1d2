"""What the catalog stores as bytes and text: content hashes, vector blobs, JSON that may hold arrays."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from latentstudio.errors import ParameterError

_SPACE_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_CHUNK = 1 << 20


def hash_file(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, as 64 hex digits.

    Example
    -------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"; _ = p.write_bytes(b"abc")
    >>> hash_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def check_space(space: Any) -> str:
    """A vector space's name: 1-64 letters, digits, ``_ . -`` (it names the FAISS file too)."""
    if not isinstance(space, str) or not _SPACE_NAME.match(space):
        raise ParameterError(f"space={space!r} must be 1-64 letters, digits, '_', '.' or '-'")
    return space


def as_vector(value: Any, *, space: str, dim: int | None = None) -> np.ndarray:
    """One vector as contiguous float32 ``(dim,)``; ParameterError naming the space and dims when wrong."""
    try:
        vec = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise ParameterError(f"vectors[{space!r}] is not numeric ({type(value).__name__})") from None
    if vec.ndim == 2 and vec.shape[0] == 1:
        vec = vec[0]
    if vec.ndim != 1 or vec.shape[0] == 0:
        raise ParameterError(f"vectors[{space!r}] must be one 1-D vector, got shape {vec.shape}")
    if dim is not None and vec.shape[0] != dim:
        raise ParameterError(f"vectors[{space!r}] has {vec.shape[0]} dims but space {space!r} holds "
                             f"{dim}-dim vectors")
    if not np.all(np.isfinite(vec)):
        raise ParameterError(f"vectors[{space!r}] contains NaN or infinite values")
    return np.ascontiguousarray(vec)


def as_queries(value: Any, *, space: str, dim: int) -> np.ndarray:
    """Query vectors ``(d,)`` or ``(m, d)`` as float32 ``(m, d)``; ParameterError naming dims when wrong."""
    try:
        q = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise ParameterError(f"query_vectors for space {space!r} are not numeric") from None
    if q.ndim == 1:
        q = q[None]
    if q.ndim != 2 or q.shape[0] == 0:
        raise ParameterError(f"query_vectors must have shape (d,) or (m, d), got {q.shape}")
    if q.shape[1] != dim:
        raise ParameterError(f"query_vectors have {q.shape[1]} dims but space {space!r} holds {dim}-dim vectors")
    if not np.all(np.isfinite(q)):
        raise ParameterError("query_vectors contain NaN or infinite values")
    return np.ascontiguousarray(q)


def vector_to_blob(vec: np.ndarray) -> bytes:
    return np.asarray(vec, dtype="<f4").tobytes()


def blob_to_vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


def _encode(value: Any, where: str) -> Any:
    if isinstance(value, np.ndarray):
        buf = io.BytesIO()
        np.save(buf, value, allow_pickle=False)
        return {"__ndarray__": base64.b64encode(buf.getvalue()).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): _encode(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise ParameterError(f"{where}={value} is not finite; the catalog stores JSON")
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise ParameterError(f"{where} of type {type(value).__name__} cannot be stored (JSON values and numpy arrays)")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__ndarray__"}:
            return np.load(io.BytesIO(base64.b64decode(value["__ndarray__"])), allow_pickle=False)
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def dumps(value: Any, *, name: str = "value") -> str:
    """JSON text of ``value``; numpy arrays inside survive the round trip (as ``.npy`` in base64)."""
    return json.dumps(_encode(value, name), separators=(",", ":"), allow_nan=False)


def loads(text: str) -> Any:
    """Inverse of :func:`dumps`."""
    return _decode(json.loads(text))


def file_stat(path: Path) -> tuple[int, int]:
    """(size in bytes, modification time in ns) — the cheap "unchanged?" check before hashing."""
    st = path.stat()
    return st.st_size, st.st_mtime_ns
