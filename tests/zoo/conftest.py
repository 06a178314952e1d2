"""Zoo tests run torch on one thread: small forwards gain nothing from more, and on a busy
machine a second OpenMP thread waiting for a core makes each pass many times slower."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
