"""Test-wide settings.

Torch runs on one thread: the fast tier's small forwards gain nothing from more, and on a busy
2-core machine a second OpenMP thread waiting for a core makes each pass many times slower.
Artefact caches go to a per-session temporary folder so tests never depend on a user's cache.
"""

import os

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
