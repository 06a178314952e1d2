import numpy as np
import pytest
import soundfile as sf

from latentstudio.errors import ParameterError
from latentstudio.soundscape.features import MelSpec, load_sound, normalized_log_mel, sound_windows


def test_windows_cover_the_sound_and_are_deterministic():
    spec = MelSpec()
    y = np.random.default_rng(0).standard_normal(int(4.3 * spec.sr)).astype(np.float32)
    w = sound_windows(y, spec=spec)
    assert w.shape == (4, spec.window_samples)
    np.testing.assert_array_equal(w[-1], y[-spec.window_samples:])       # the tail is not lost
    np.testing.assert_array_equal(w, sound_windows(y, spec=spec))


def test_short_sound_is_padded_to_the_minimum():
    w = sound_windows(np.ones(100, np.float32), spec=MelSpec())
    assert w.shape == (1, 8000) and w[0, 99] == 1 and w[0, 100] == 0


def test_normalised_log_mel_is_level_invariant():
    spec = MelSpec()
    y = np.random.default_rng(1).standard_normal(spec.sr).astype(np.float32) * 0.5
    a, b = normalized_log_mel(y, spec=spec), normalized_log_mel(y * 0.01, spec=spec)
    assert float(a.max()) == pytest.approx(1.0)
    assert float((a - b).abs().max()) < 1e-3


def test_silent_and_corrupt_files_are_refused(tmp_path):
    spec = MelSpec()
    sf.write(tmp_path / "s.wav", np.zeros(8000, np.float32), 16000)
    with pytest.raises(ParameterError, match="silent"):
        load_sound(tmp_path / "s.wav", spec=spec)
    (tmp_path / "c.ogg").write_bytes(b"OggS not really")
    with pytest.raises(ParameterError, match="c.ogg"):
        load_sound(tmp_path / "c.ogg", spec=spec)


def test_bad_spec_values_are_named():
    with pytest.raises(ParameterError, match="hop_seconds"):
        MelSpec(hop_seconds=5.0)
    with pytest.raises(ParameterError, match="n_mels"):
        MelSpec(n_mels=0)
