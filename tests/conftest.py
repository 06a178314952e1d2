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


@pytest.fixture(scope="module")
def ray_local():
    """A local Ray on 127.0.0.1 (2 CPUs, no dashboard) for one test module; skipped where Ray is not installed
    (``pip install 'latentstudio[cluster]'``; ``make test`` installs it). Shut down after the module, so the
    other tests' process pools never fork a process that holds Ray's threads."""
    ray = pytest.importorskip("ray")
    import ray.cloudpickle

    _jobs = jobs_module()
    ray.cloudpickle.register_pickle_by_value(_jobs)     # test modules are not importable in Ray's workers
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
                 logging_level="WARNING")
    yield ray
    if started:
        ray.shutdown()


def jobs_module():
    """``tests/catalog/_jobs.py``: the batch jobs the execution-layer tests run."""
    import sys

    here = str(Path(__file__).parent / "catalog")
    if here not in sys.path:
        sys.path.insert(0, here)
    import _jobs

    return _jobs


def _catalog_rows(db) -> list[tuple]:
    """:meth:`Catalog.contents` of the catalog at ``db`` (a folder or a .sqlite)."""
    from latentstudio.catalog import Catalog

    with Catalog(db) as cat:
        return cat.contents()


@pytest.fixture(scope="session")
def catalog_rows():
    """``catalog_rows(folder or .sqlite)`` -> the catalog's rows without timestamps (``Catalog.contents``)."""
    return _catalog_rows
