import numpy as np
import pytest

SR = 22050


def kick(rng, n=6000):
    t = np.arange(n) / SR
    f = 50 + 120 * np.exp(-t * 30)
    return (np.sin(2 * np.pi * np.cumsum(f) / SR) * np.exp(-t * 25)).astype(np.float32)


def hat(rng, n=2500):
    t = np.arange(n) / SR
    x = np.diff(rng.standard_normal(n + 1))
    return (0.5 * x * np.exp(-t * 60)).astype(np.float32)


@pytest.fixture
def voice_like():
    """A synthetic recording: kick, hat, kick, hat, kick at known times."""
    rng = np.random.default_rng(0)
    times = [0.2, 0.6, 1.0, 1.4, 1.8]
    y = np.zeros(int(2.4 * SR), np.float32)
    for i, t in enumerate(times):
        s = kick(rng) if i % 2 == 0 else hat(rng)
        a = int(t * SR)
        y[a:a + len(s)] += s
    return y, times
