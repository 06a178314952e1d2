"""Record-style effects: each changes what it should and keeps time and length."""

import numpy as np
import pytest

from latentstudio.core import effects as E
from latentstudio.errors import ParameterError

SR = 16000


def _tone(freq, seconds=1.0, amp=0.3):
    t = np.arange(int(SR * seconds)) / SR
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_equalize_shelves_boost_and_cut_their_band():
    low, high = _tone(80), _tone(5000)
    boosted = E.equalize(low, sr=SR, bands=[("low", 200.0, 12.0)])
    cut = E.equalize(high, sr=SR, bands=[("high", 2000.0, -12.0)])
    rms = lambda x: float(np.sqrt(np.mean(x[SR // 4:] ** 2)))  # noqa: E731
    assert rms(boosted) > 3.0 * rms(low)
    assert rms(cut) < 0.4 * rms(high)
    with pytest.raises(ParameterError):
        E.equalize(low, sr=SR, bands=[("notch", 100.0, 3.0)])


def test_compress_narrows_the_dynamic_range_and_limits():
    y = np.concatenate([_tone(440, 0.5, 0.02), _tone(440, 0.5, 0.9)])
    out = E.compress(y, sr=SR, threshold_db=-30.0, ratio=8.0)
    quiet, loud = np.abs(out[2000:7000]).max(), np.abs(out[10000:]).max()
    assert loud / quiet < 0.5 * (0.9 / 0.02)
    assert out.shape == y.shape and np.abs(out).max() <= 1.0


def test_noise_has_the_asked_snr():
    rng = np.random.default_rng(0)
    y = _tone(440)
    out = E.add_noise(y, snr_db=20.0, rng=rng)
    snr = 10 * np.log10(np.mean(y ** 2) / np.mean((out - y) ** 2))
    assert abs(snr - 20.0) < 0.5


@pytest.mark.parametrize("codec", ["ogg", "mp3"])
def test_lossy_codec_keeps_length_and_time(codec):
    y = np.zeros(SR, dtype=np.float32)
    y[8000:8040] = 0.8                                   # a click at 0.5 s
    out = E.lossy(y, sr=SR, codec=codec, quality=0.2)
    assert out.shape == y.shape
    assert abs(int(np.argmax(np.abs(out))) - 8020) < 0.01 * SR      # not moved by more than 10 ms


def test_record_chain_is_seeded_and_keeps_length():
    y = _tone(220, 2.0)
    a, ca = E.record_chain(y, sr=SR, rng=np.random.default_rng(5), strength=2.0)
    b, cb = E.record_chain(y, sr=SR, rng=np.random.default_rng(5), strength=2.0)
    assert ca == cb and np.array_equal(a, b) and a.shape == y.shape and np.isfinite(a).all()
    assert len(ca) >= 2


@pytest.mark.parametrize("rt", [0.4, 1.5])
def test_fdn_reverb_decays_in_its_reverberation_time(rt):
    sr = 16000
    x = np.zeros(4 * sr)
    x[0] = 1.0
    w = E.fdn_reverb(x, rt=rt, damping=0.0, seed=3, sr=sr)
    assert w.shape == x.shape and w.dtype == np.float32 and np.isfinite(w).all()
    w = w.astype(np.float64)
    edc = 10 * np.log10(np.cumsum(w[::-1] ** 2)[::-1] / np.sum(w ** 2) + 1e-30)   # Schroeder's backward integral
    t20 = 3 * (np.argmax(edc < -25) - np.argmax(edc < -5)) / sr                     # -5..-25 dB, times 3
    assert abs(t20 - rt) < 0.1 * rt


def test_fdn_reverb_damping_darkens_and_predelay_waits():
    sr = 16000
    x = np.random.default_rng(0).standard_normal(sr // 10)
    x = np.concatenate([x, np.zeros(sr)])
    bright = E.fdn_reverb(x, rt=1.0, damping=0.0, seed=1, sr=sr)
    dark = E.fdn_reverb(x, rt=1.0, damping=0.6, seed=1, sr=sr)

    def high_share(y):
        spec = np.abs(np.fft.rfft(y[sr // 5:])) ** 2
        return spec[len(spec) // 4:].sum() / spec.sum()

    assert high_share(dark) < 0.5 * high_share(bright)
    late = E.fdn_reverb(x, rt=1.0, damping=0.0, predelay=0.15, seed=1, sr=sr)
    first = int(np.argmax(np.abs(late) > 1e-6))
    assert first >= int(0.15 * sr) + int(0.028 * sr)                 # the predelay, then the shortest line
    np.testing.assert_allclose(late[first: first + 2000], bright[first - int(0.15 * sr): first - int(0.15 * sr) + 2000],
                               atol=1e-6)
    for bad in ({"rt": 0.0}, {"rt": 1.0, "damping": 1.0}, {"rt": 1.0, "predelay": -0.1}, {"rt": 1.0, "lines": 6}):
        with pytest.raises(ParameterError):
            E.fdn_reverb(x, **bad)
