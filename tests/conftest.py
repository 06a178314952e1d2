"""Test-wide settings.

Torch runs on one thread: the fast tier's small forwards gain nothing from more, and on a busy
2-core machine a second OpenMP thread waiting for a core makes each pass many times slower.
Artefact caches go to a per-session temporary folder so tests never depend on a user's cache.
"""

import os
import struct
import zlib
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def pytest_configure(config):
    os.environ.setdefault("LATENTSTUDIO_QUIET", "1")


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (the pixel data is a stub)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))


def _half(path: Path, out: Path) -> Path:
    """Write the first half of ``path`` to ``out`` (a truncated file)."""
    data = path.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    return out


@pytest.fixture(scope="session")
def make_bad():
    """Makers of broken files shared by the failure and fuzz suites: ``png_header(w, h)``, ``half(src, out)``."""
    return SimpleNamespace(png_header=_png_header, half=_half)
