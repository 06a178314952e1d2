import numpy as np
import pytest

from latentstudio.beatbox.drumsynth import render_drumsynth
from latentstudio.beatbox.evaluate import spectral_centroid
from latentstudio.errors import ParameterError

KICK = """[General]
Tuning=0
Stretch=100
Level=0
Filter=0
[Tone]
On=1
Level=128
F1=200
F2=50
Droop=40
Phase=0
Envelope=0,100 2000,80 12000,0
[Noise]
On=0
"""
HAT = """[General]
Stretch=100
Filter=1
HighPass=1
FilterEnv=0,70 10000,70
[NoiseBand]
On=1
Level=128
F=8000
dF=40
Envelope=0,100 1200,20 3000,0
"""


def test_drumsynth_renders_a_kick_low_and_a_hat_high(tmp_path):
    (tmp_path / "k.ds").write_text(KICK)
    (tmp_path / "h.ds").write_text(HAT)
    kick = render_drumsynth(tmp_path / "k.ds", sr=16000)
    hat = render_drumsynth(tmp_path / "h.ds", sr=16000)
    assert kick.dtype == np.float32 and np.max(np.abs(kick)) == pytest.approx(1.0)
    assert len(kick) == pytest.approx(12000 / 44100 * 16000, abs=2)  # the envelope's length
    assert len(hat) < len(kick)
    pad = lambda y: np.pad(y, (0, 8000))[None, :8000]  # noqa: E731
    assert spectral_centroid(pad(kick))[0] < 300 < 3000 < spectral_centroid(pad(hat))[0]


def test_drumsynth_bad_presets(tmp_path):
    (tmp_path / "x.ds").write_text("just text")
    with pytest.raises(ParameterError, match="x.ds"):
        render_drumsynth(tmp_path / "x.ds")
    (tmp_path / "off.ds").write_text("[General]\nStretch=100\n[Tone]\nOn=0\n")
    assert not np.any(render_drumsynth(tmp_path / "off.ds"))
