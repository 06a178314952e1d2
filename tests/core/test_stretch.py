"""core.stretch: the phase vocoder keeps pitch, follows its time map, and rejects bad maps."""

import numpy as np
import pytest

from latentstudio.core.stretch import stretch_map, time_stretch
from latentstudio.errors import ParameterError

SR = 22050


def test_rate_changes_length_not_pitch():
    y = np.sin(2 * np.pi * 440 * np.arange(2 * SR) / SR).astype(np.float32)
    for rate in (0.8, 1.1):
        z = time_stretch(y, sr=SR, rate=rate)
        assert abs(len(z) - round(len(y) / rate)) <= 1
        mid = z[4000:-4000]
        spec = np.abs(np.fft.rfft(mid * np.hanning(len(mid))))
        assert abs(np.argmax(spec) * SR / len(mid) - 440) < 3
        assert abs(np.sqrt(np.mean(mid ** 2)) - np.sqrt(0.5)) < 0.05


def test_clicks_land_where_the_map_says():
    y = np.zeros(4 * SR, dtype=np.float32)
    src = [0.5, 1.5, 2.5, 3.5]
    for t in src:
        y[int(t * SR): int(t * SR) + 200] = np.hanning(400)[200:]
    out_t, src_t = [0.0, 2.0, 4.4], [0.0, 2.0, 4.0]        # unchanged, then 10 % slower
    z = stretch_map(y, sr=SR, out_times=out_t, src_times=src_t)
    expect = np.interp(src, src_t, out_t)
    env = np.abs(z)
    for e in expect:
        k = int(e * SR)
        seg = env[k - 1000: k + 1000]
        assert abs((np.argmax(seg) - 1000) / SR) < 0.006


def test_bad_maps():
    y = np.zeros(SR, dtype=np.float32)
    with pytest.raises(ParameterError):
        stretch_map(y, sr=SR, out_times=[0, 1], src_times=[0])
    with pytest.raises(ParameterError):
        stretch_map(y, sr=SR, out_times=[1, 0], src_times=[0, 1])
    with pytest.raises(ParameterError):
        time_stretch(y, sr=SR, rate=0)
    with pytest.raises(ParameterError):
        stretch_map(y, sr=SR, out_times=[0, 1], src_times=[0, 1], n_fft=1000)
