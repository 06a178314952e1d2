"""core.audio: load/save round trips across formats, bit depths, channel counts and rates."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from latentstudio.core.audio import is_silent, load, resample, save, valid_audio
from latentstudio.errors import ParameterError

SR = 22050


def _tone(seconds=0.5, sr=SR, freq=440.0, channels=1) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    y = np.stack([0.5 * np.sin(2 * np.pi * freq * (c + 1) * t) for c in range(channels)]).astype(np.float32)
    return y[0] if channels == 1 else y


# (extension, subtype, tolerance of the round trip)
FORMATS = [(".wav", "PCM_U8", 2 / 2 ** 8), (".wav", "PCM_16", 2 / 2 ** 16), (".wav", "PCM_24", 2 / 2 ** 24),
           (".wav", "FLOAT", 1e-7), (".flac", "PCM_S8", 2 / 2 ** 8), (".flac", "PCM_16", 2 / 2 ** 16),
           (".flac", "PCM_24", 2 / 2 ** 24)]


@pytest.mark.parametrize("ext,subtype,tol", FORMATS)
@pytest.mark.parametrize("channels", [1, 2])
def test_lossless_round_trip(tmp_path, ext, subtype, tol, channels):
    y = _tone(channels=channels)
    path = save(tmp_path / f"x{ext}", y, SR, subtype=subtype)
    assert sf.info(str(path)).subtype == subtype
    back, sr = load(path, mono=False)
    assert sr == SR and back.dtype == np.float32
    assert back.shape == (channels, y.shape[-1]) if channels > 1 else back.shape == (1, y.shape[-1])
    np.testing.assert_allclose(back.reshape(y.shape), y, atol=tol)


@pytest.mark.parametrize("channels", [1, 2])
def test_ogg_vorbis_round_trip(tmp_path, channels):
    y = _tone(seconds=1.0, channels=channels)
    path = save(tmp_path / "x.ogg", y, SR)
    back, sr = load(path, mono=False)
    assert sr == SR and back.shape[0] == channels
    n = min(back.shape[-1], y.shape[-1])
    err = np.sqrt(np.mean((back[..., :n].reshape(channels, n) - y.reshape(channels, -1)[:, :n]) ** 2))
    assert err < 0.02  # lossy, but the same tone


def test_mono_mix_and_resample(tmp_path):
    stereo = np.stack([_tone(freq=440), -_tone(freq=440) * 0.5])
    path = save(tmp_path / "s.wav", stereo, SR, subtype="FLOAT")
    mono, sr = load(path)
    assert mono.ndim == 1
    np.testing.assert_allclose(mono, stereo.mean(axis=0), atol=1e-6)
    down, sr = load(path, sr=16000)
    assert sr == 16000 and abs(down.shape[-1] - round(stereo.shape[-1] * 16000 / SR)) <= 1
    # the resampled tone keeps its frequency: the spectral peak stays at 440 Hz
    spec = np.abs(np.fft.rfft(down))
    assert abs(np.argmax(spec) * 16000 / len(down) - 440) < 5
    up, sr = load(path, sr=44100, mono=False)
    assert up.shape == (2, 2 * stereo.shape[-1])


def test_offset_and_duration(tmp_path):
    y = np.linspace(-1, 1, SR, dtype=np.float32)
    path = save(tmp_path / "ramp.wav", y, SR, subtype="FLOAT")
    part, _ = load(path, offset=0.25, duration=0.5)
    np.testing.assert_allclose(part, y[SR // 4: SR // 4 + SR // 2], atol=1e-7)


def test_resample_identity_and_bad_rates():
    y = _tone()
    assert resample(y, orig_sr=SR, target_sr=SR) is y
    with pytest.raises(ParameterError, match="orig_sr=0"):
        resample(y, orig_sr=0, target_sr=SR)


def test_valid_audio_and_silence():
    assert valid_audio(np.zeros(4, dtype=np.float64)).dtype == np.float32
    with pytest.raises(ParameterError, match="mine"):
        valid_audio(np.array([0.0, np.nan], dtype=np.float32), name="mine")
    with pytest.raises(ParameterError, match="dtype"):
        valid_audio(np.zeros(4, dtype=np.int16))
    with pytest.raises(ParameterError, match="mono"):
        valid_audio(np.zeros((2, 4), dtype=np.float32), mono=True)
    assert is_silent(np.full(100, 1e-4, dtype=np.float32)) and not is_silent(_tone())


def test_save_clips_and_checks(tmp_path):
    path = save(tmp_path / "loud.wav", np.array([2.0, -3.0, 0.5], dtype=np.float32), SR, subtype="FLOAT")
    back, _ = load(path)
    np.testing.assert_allclose(back, [1.0, -1.0, 0.5])
    with pytest.raises(ParameterError, match=".mp4"):
        save(tmp_path / "x.mp4", _tone(), SR)
    with pytest.raises(ParameterError, match="sr="):
        save(tmp_path / "x.wav", _tone(), 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loud.wav"]  # nothing half-written left


def test_long_stereo_ogg_is_written_in_blocks(tmp_path):
    # one 150 s stereo buffer crashes libsndfile's Vorbis encoder (segfault); save() writes blocks
    y = (np.random.default_rng(0).standard_normal((2, 22050 * 150)) * 0.1).astype(np.float32)
    path = save(tmp_path / "long.ogg", y, 22050)
    z, sr = load(path, mono=False)
    assert sr == 22050 and z.shape[0] == 2 and abs(z.shape[1] - y.shape[1]) < 2048


def test_pcm16_hash_matches_decoded_copies_and_nothing_else():
    from latentstudio.core.audio import pcm16_hash

    rng = np.random.default_rng(0)
    y = (0.5 * rng.standard_normal(4000)).clip(-1, 1).astype(np.float32)
    assert pcm16_hash(y) == pcm16_hash(y.astype(np.float64))                 # either precision
    assert pcm16_hash(y) != pcm16_hash(y * 0.9)
    loud = y.copy()
    loud[0] = 1.7                                                           # clipped, not wrapped round
    clipped = y.copy()
    clipped[0] = 1.0
    assert pcm16_hash(loud) == pcm16_hash(clipped)
    padded = np.concatenate([np.zeros(50, np.float32), y, np.zeros(9, np.float32)])
    assert pcm16_hash(padded) != pcm16_hash(y)
    assert pcm16_hash(padded, trim_zeros=True) == pcm16_hash(y, trim_zeros=True)


def test_check_sample_rate_takes_whole_rates_in_range_only():
    from latentstudio.core.audio import check_sample_rate

    assert check_sample_rate(44100) == 44100 and check_sample_rate(np.int64(8000)) == 8000
    assert check_sample_rate(400, lo=400) == 400
    for bad in (0, 1, 7999, 192001, 10**9, 44100.0, True, "44100", None):
        with pytest.raises(ParameterError, match="sample rate from 8000 to 192000"):
            check_sample_rate(bad)
