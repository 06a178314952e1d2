import numpy as np
import pytest

from latentstudio.core.onsets import frame_energy, onset_detect, onset_envelope
from latentstudio.errors import ParameterError

SR = 22050


def bursts(times, *, attack=0.0, seed=0, n=3000):
    rng = np.random.default_rng(seed)
    y = np.zeros(int((max(times) + 0.5) * SR), np.float32)
    env = np.exp(-np.arange(n) / 400.0)
    if attack:
        a = int(attack * SR)
        env[:a] *= np.linspace(0, 1, a)
    for t in times:
        i = int(round(t * SR))
        y[i:i + n] += (rng.standard_normal(n) * env * 0.5).astype(np.float32)
    return y


def test_finds_known_onsets_within_10ms():
    times = [0.2, 0.45, 0.61, 1.0, 1.37, 1.5]
    y = bursts(times)
    for backtrack in (False, True):
        est = onset_detect(y, sr=SR, backtrack=backtrack)
        assert len(est) == len(times)
        assert np.max(np.abs(est - times)) < 0.012


@pytest.mark.parametrize("attack", [0.04, 0.08])
def test_backtracking_finds_the_start_of_a_slow_attack(attack):
    times = [0.3, 0.9]
    y = bursts(times, attack=attack)
    back = onset_detect(y, sr=SR, backtrack=True)
    assert len(back) == 2
    assert np.max(np.abs(back - times)) < 0.015


def test_units_agree():
    y = bursts([0.25, 0.75])
    t = onset_detect(y, sr=SR, units="time")
    s = onset_detect(y, sr=SR, units="samples")
    f = onset_detect(y, sr=SR, units="frames", hop_length=256)
    assert np.allclose(t, s / SR)
    assert np.allclose(f * 256 / SR, t, atol=256 / SR)


def test_silence_has_no_onsets():
    y = np.zeros(SR, np.float32)
    assert onset_envelope(y, sr=SR).max() == 0.0
    assert onset_detect(y, sr=SR).size == 0


def test_envelope_from_spectrogram_equals_from_audio():
    from latentstudio.core.spectral import log_mel

    y = bursts([0.2, 0.6])
    S = log_mel(y, sr=SR, n_fft=1024, hop_length=256, n_mels=128).numpy()
    assert np.allclose(onset_envelope(S=S, sr=SR, hop_length=256), onset_envelope(y, sr=SR, hop_length=256), atol=1e-4)
    env = onset_envelope(y, sr=SR)
    assert env.shape == frame_energy(y).shape
    assert np.argmax(env) in range(int(0.2 * SR / 256) - 2, int(0.2 * SR / 256) + 4)


@pytest.mark.parametrize("kwargs", [dict(units="beats"), dict(delta=1.5), dict(hop_length=0), dict(wait=-1.0)])
def test_bad_parameters(kwargs):
    with pytest.raises(ParameterError):
        onset_detect(bursts([0.2]), sr=SR, **kwargs)


def test_needs_exactly_one_input():
    with pytest.raises(ParameterError):
        onset_envelope(sr=SR)
    with pytest.raises(ParameterError):
        onset_envelope(np.zeros(100, np.float32), sr=SR, S=np.zeros((4, 4)))
    with pytest.raises(ParameterError):
        onset_detect(sr=SR)
    with pytest.raises(ParameterError):
        onset_detect(np.array([0.0, np.nan], np.float32), sr=SR)
