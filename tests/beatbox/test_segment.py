import numpy as np
import pytest
import soundfile as sf

from latentstudio.beatbox.segment import check_voice, load_voice, segment_sounds
from latentstudio.errors import ParameterError

SR = 22050


def test_segments_start_at_each_sound(voice_like):
    y, times = voice_like
    segs = segment_sounds(y, sr=SR)
    assert [round(s.time, 2) for s in segs] == pytest.approx(times, abs=0.015)
    for s, nxt in zip(segs, segs[1:]):
        assert s.end <= nxt.time + 1e-9
        assert np.max(np.abs(s.audio)) == pytest.approx(0.9, abs=1e-3)
        assert abs(s.audio[-1]) < 0.05  # faded out


def test_silence_and_noise_floor_give_nothing():
    assert segment_sounds(np.zeros(SR, np.float32), sr=SR) == []
    quiet = (np.random.default_rng(0).standard_normal(SR) * 1e-4).astype(np.float32)
    assert segment_sounds(quiet, sr=SR) == []


def test_one_sound(voice_like):
    y, _ = voice_like
    segs = segment_sounds(y[: int(0.5 * SR)], sr=SR)
    assert len(segs) == 1


def test_long_file_is_capped_with_a_note(tmp_path):
    p = tmp_path / "long.wav"
    sf.write(p, np.zeros(8000 * 75, np.float32), 8000)
    v = load_voice(p)
    assert len(v.y) == 60 * v.sr
    assert any("only its first 60 s" in n for n in v.notes)


def test_clipping_is_noted(voice_like):
    y, _ = voice_like
    v = check_voice(np.clip(y * 20, -1, 1), sr=SR)
    assert any("clipped" in n for n in v.notes)
    assert segment_sounds(v.y, sr=SR)


def test_non_audio_is_refused(tmp_path):
    p = tmp_path / "notes.wav"
    p.write_text("this is not audio")
    with pytest.raises(ParameterError):
        load_voice(p)
    with pytest.raises(ParameterError):
        segment_sounds(np.array([np.nan, 0.0], np.float32), sr=SR)


def test_session_refuses_sound_paths_outside_its_kit_folder(tmp_path):
    import json

    from latentstudio.beatbox.session import open_session, session_sounds

    state = open_session(tmp_path, bpm=100)
    (tmp_path / "state.json").write_text(json.dumps({**state.__dict__, "sounds": [
        {"file": "../../etc/passwd", "label": "kick"}]}))
    with pytest.raises(ParameterError, match="outside"):
        session_sounds(tmp_path, open_session(tmp_path), sr=22050)
