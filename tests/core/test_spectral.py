"""core.spectral matches librosa (stft, mel, log_mel) and Griffin-Lim converges."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch

from latentstudio.core import spectral
from latentstudio.errors import ParameterError

DB_1E4 = 1e-4  # dB
PARAMS = [  # sr, n_fft, hop_length, n_mels, fmin, fmax, win_length
    (22050, 2048, 512, 128, 0.0, None, None),
    (16000, 1024, 256, 64, 20.0, 8000.0, None),
    (44100, 512, 128, 40, 0.0, None, 400),
    (8000, 256, 100, 32, 50.0, 3000.0, None),
]


def _signals(n=22050):
    rng = np.random.default_rng(0)
    t = np.arange(n) / 22050
    noise = (0.1 * rng.standard_normal(n)).astype(np.float32)
    chirp = (0.5 * np.sin(2 * np.pi * (200 + 2000 * t) * t) + 0.01 * rng.standard_normal(n)).astype(np.float32)
    return [noise, chirp]


@pytest.mark.parametrize("sr,n_fft,hop,n_mels,fmin,fmax,win", PARAMS)
def test_matches_librosa(sr, n_fft, hop, n_mels, fmin, fmax, win):
    for y in _signals():
        ours = spectral.stft(y, n_fft=n_fft, hop_length=hop, win_length=win).numpy()
        ref = librosa.stft(y, n_fft=n_fft, hop_length=hop, win_length=win, pad_mode="constant")
        assert ours.shape == ref.shape
        assert np.abs(ours - ref).max() <= 1e-4 * np.abs(ref).max()

        ours = spectral.mel(y, sr=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels, fmin=fmin, fmax=fmax).numpy()
        ref = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels, fmin=fmin,
                                             fmax=fmax, pad_mode="constant")
        assert np.abs(ours - ref).max() <= 1e-4 * np.abs(ref).max()

        ours = spectral.log_mel(y, sr=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels, fmin=fmin,
                                fmax=fmax).numpy()
        assert np.abs(ours - librosa.power_to_db(ref)).max() <= DB_1E4


@pytest.mark.parametrize("sr,n_fft,hop,n_mels,fmin,fmax,win", PARAMS)
def test_float64_matches_librosa_to_1e4_db(sr, n_fft, hop, n_mels, fmin, fmax, win):
    for y in _signals():
        y = y.astype(np.float64)
        ours = spectral.log_mel(y, sr=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels, fmin=fmin,
                                fmax=fmax).numpy()
        ref = librosa.power_to_db(librosa.feature.melspectrogram(
            y=y, sr=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels, fmin=fmin, fmax=fmax, pad_mode="constant"))
        assert ours.dtype == np.float64
        assert np.abs(ours - ref).max() <= 1e-4


def test_uncentred_and_precomputed_spectrogram():
    y = _signals()[1]
    ours = spectral.stft(y, n_fft=1024, hop_length=256, center=False).numpy()
    ref = librosa.stft(y, n_fft=1024, hop_length=256, center=False)
    assert ours.shape == ref.shape and np.abs(ours - ref).max() <= 1e-4 * np.abs(ref).max()
    power = spectral.stft(y, n_fft=1024, hop_length=256).abs() ** 2
    a = spectral.log_mel(sr=22050, S=power, n_fft=1024, n_mels=64)
    b = spectral.log_mel(y, sr=22050, n_fft=1024, hop_length=256, n_mels=64)
    torch.testing.assert_close(a, b)


def test_batched_equals_one_by_one():
    rng = np.random.default_rng(1)
    batch = (0.2 * rng.standard_normal((2, 3, 8000))).astype(np.float32)
    batch[1, 2] *= 0.001  # a quiet item: top_db must apply per item, as librosa does per call
    out = spectral.log_mel(torch.from_numpy(batch), sr=16000, n_fft=512, hop_length=128, n_mels=48)
    assert tuple(out.shape) == (2, 3, 48, 63)
    for i in range(2):
        for j in range(3):
            ref = librosa.power_to_db(librosa.feature.melspectrogram(
                y=batch[i, j], sr=16000, n_fft=512, hop_length=128, n_mels=48, pad_mode="constant"))
            assert np.abs(out[i, j].numpy() - ref).max() <= DB_1E4


def _spectral_convergence(mag: torch.Tensor, y: torch.Tensor, n_fft: int, hop: int) -> float:
    rebuilt = spectral.stft(y, n_fft=n_fft, hop_length=hop).abs()
    return float(torch.linalg.norm(mag - rebuilt) / torch.linalg.norm(mag))


def test_griffin_lim_converges():
    y = _signals(8192)[1]
    n_fft, hop = 512, 128
    mag = spectral.stft(y, n_fft=n_fft, hop_length=hop).abs()
    sc = {}
    for n_iter in (1, 8, 32):
        out = spectral.griffin_lim(mag, n_fft=n_fft, hop_length=hop, n_iter=n_iter, length=len(y))
        assert tuple(out.shape) == (len(y),)
        sc[n_iter] = _spectral_convergence(mag, out, n_fft, hop)
    assert sc[32] < sc[8] < sc[1], sc
    assert sc[32] < 0.15, sc
    # as good as librosa's own Griffin-Lim at the same settings (give or take)
    ref = librosa.griffinlim(mag.numpy(), n_iter=32, hop_length=hop, n_fft=n_fft, length=len(y),
                             random_state=0)
    assert sc[32] < 1.5 * _spectral_convergence(mag, torch.from_numpy(ref), n_fft, hop) + 0.01


def test_griffin_lim_batched_and_seeded():
    ys = np.stack(_signals(8192))
    mag = spectral.stft(ys, n_fft=256, hop_length=64).abs()
    a = spectral.griffin_lim(mag, n_iter=4, seed=3)
    calls = []
    b = spectral.griffin_lim(mag, n_iter=4, seed=3, progress=lambda done, total: calls.append((done, total)))
    assert a.shape[0] == 2 and torch.equal(a, b)
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]            # after each iteration; same sound as without
    with pytest.raises(ParameterError, match="n_fft=100"):
        spectral.griffin_lim(mag, n_fft=100)


@pytest.mark.parametrize("kwargs,match", [({"n_fft": 0}, "n_fft=0"), ({"hop_length": -1}, "hop_length=-1"),
                                          ({"n_fft": 256, "win_length": 512}, "win_length=512")])
def test_bad_parameters(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        spectral.stft(np.zeros(1000, dtype=np.float32), **kwargs)


def test_bad_signals():
    with pytest.raises(ParameterError, match="NaN"):
        spectral.stft(np.array([0.0, np.nan] * 600, dtype=np.float32))
    with pytest.raises(ParameterError, match="empty"):
        spectral.log_mel(np.zeros(0, dtype=np.float32), sr=16000)
    with pytest.raises(ParameterError, match="floating"):
        spectral.stft(np.zeros(1000, dtype=np.int16))
    with pytest.raises(ParameterError, match="y= .* or S="):
        spectral.mel(sr=16000)


def test_power_to_db_of_a_spectrum_and_of_a_scalar():
    S = torch.tensor([1.0, 1e-3, 1e-12])
    db = spectral.power_to_db(S, top_db=80.0)
    assert torch.allclose(db, torch.tensor([0.0, -30.0, -80.0]), atol=1e-4)    # 1-D: range over its one axis
    with pytest.raises(ParameterError, match="scalar"):
        spectral.power_to_db(torch.tensor(1.0))


def test_pcen_matches_librosa_and_sinks_a_decaying_tail_under_a_new_hit():
    """Same values as librosa.pcen (which starts its low-pass at 1: the first frame here is 1); a decaying
    tail sits below a steady band, a soft hit in it rises above it, and the level of the whole hardly
    matters (each band against its own recent energy)."""
    rng = np.random.default_rng(0)
    S = np.abs(rng.normal(size=(2, 16, 300))) ** 2 * 1e6
    S[..., 0] = 1.0
    want = librosa.pcen(S, sr=16000, hop_length=160)
    got = spectral.pcen(torch.from_numpy(S), sr=16000, hop_length=160)
    assert got.dtype == torch.float64 and np.allclose(got.numpy(), want, rtol=1e-9, atol=1e-9)
    tail = 1e9 * np.exp(-np.arange(300) / 60.0) + 1e3            # a loud hit at frame 0, decaying
    hit = tail.copy()
    hit[150:156] += 0.3 * tail[150]                              # a soft hit at frame 150, 2.3 dB over the tail
    steady = np.full(300, 1e9)
    x = torch.tensor(np.stack([tail, hit, steady, 100 * hit]))[:, None]
    out = spectral.pcen(x, sr=16000, hop_length=160)[:, 0].numpy()
    assert out[0, 150] < 0.5 * out[2, 150]                       # the tail sinks
    assert out[1, 150] > 1.2 * out[0, 150]                       # the hit stands out of it
    assert np.allclose(out[3], out[1], rtol=0.1)                 # 40 dB louder: within 10 %
    assert float(out[2].max() - out[2].min()) < 1e-9             # started at the first frame: steady from it


@pytest.mark.parametrize("kwargs", [{"time_constant": 0}, {"gain": -1}, {"bias": float("nan")}, {"power": True}])
def test_pcen_refuses_bad_parameters_and_negative_input(kwargs):
    with pytest.raises(ParameterError):
        spectral.pcen(torch.ones(2, 10), sr=16000, hop_length=160, **kwargs)
    with pytest.raises(ParameterError, match="non-negative"):
        spectral.pcen(-torch.ones(2, 10), sr=16000, hop_length=160)
    with pytest.raises(ParameterError, match="empty"):
        spectral.pcen(torch.ones(0, 10), sr=16000, hop_length=160)
