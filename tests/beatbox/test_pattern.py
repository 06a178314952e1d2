import numpy as np
import pytest

from latentstudio.beatbox.grammar import STYLES, grammar_patterns, style_pattern
from latentstudio.beatbox.pattern import (N_VOICES, STEPS, VOICES, DrumPattern, h2song_patterns, midi_to_patterns,
                                          patterns_to_midi, voice_of)
from latentstudio.errors import ParameterError


def test_midi_round_trip_keeps_hits_velocities_and_timing():
    pats = grammar_patterns(4, seed=1)
    pats[0].offset[0] = np.maximum(pats[0].offset[0], 0)  # nothing can sound before time 0
    pm = patterns_to_midi(pats, bpm=97)
    back = midi_to_patterns(pm, hop_bars=2, min_hits=1)
    assert len(back) == 4
    for a, b in zip(pats, back):
        assert np.array_equal(a.hits, b.hits)
        assert np.allclose(a.velocity, b.velocity, atol=1 / 127)
        assert np.allclose(a.offset, b.offset, atol=0.02)


def test_midi_file_reader(tmp_path):
    from latentstudio.core.midi import write_midi

    p = write_midi(tmp_path / "d.mid", patterns_to_midi(grammar_patterns(3, seed=2), bpm=120))
    assert len(midi_to_patterns(p)) == 5  # 6 bars, windows of two bars stepping one bar
    bad = tmp_path / "bad.mid"
    bad.write_text("nope")
    with pytest.raises(ParameterError):
        midi_to_patterns(bad)


def test_hydrogen_song_reader(tmp_path):
    song = tmp_path / "s.h2song"
    song.write_text("""<song><instrumentList>
      <instrument><id>0</id><name>Kick</name></instrument>
      <instrument><id>1</id><name>Snare</name></instrument>
      <instrument><id>2</id><name>Hat Closed</name></instrument></instrumentList>
      <patternList><pattern><size>192</size><noteList>
      <note><position>0</position><velocity>0.9</velocity><instrument>0</instrument></note>
      <note><position>48</position><velocity>0.8</velocity><instrument>1</instrument></note>
      <note><position>24</position><velocity>0.5</velocity><instrument>2</instrument></note>
      <note><position>120</position><velocity>0.8</velocity><instrument>0</instrument></note>
      </noteList></pattern></patternList></song>""")
    (p,) = h2song_patterns(song, min_hits=1)
    assert p.hits[[0, 16], 0].tolist() == [1, 1]  # one bar repeated
    assert p.hits[4, 1] == 1 and p.hits[2, 2] == 1 and p.hits[10, 0] == 1
    assert p.velocity[0, 0] == pytest.approx(0.9)


def test_grammar_styles_are_distinct_and_valid():
    rng = np.random.default_rng(0)
    for style in STYLES:
        p = style_pattern(style, rng)
        assert p.hits.shape == (STEPS, N_VOICES)
        assert not np.any((p.hits[:, 2] > 0) & (p.hits[:, 3] > 0))
    house = np.mean([style_pattern("house", rng).hits[::4, 0].mean() for _ in range(20)])
    reggae = np.mean([style_pattern("reggae", rng).hits[::4, 0].mean() for _ in range(20)])
    assert house > 0.9 > reggae
    with pytest.raises(ParameterError):
        style_pattern("polka", rng)


def test_pattern_validation_and_voice_names():
    with pytest.raises(ParameterError):
        DrumPattern(np.zeros((16, 9)), np.zeros((16, 9)), np.zeros((16, 9)))
    assert VOICES[voice_of("Floor Tom")] == "low_tom"
    assert VOICES[voice_of("Tom 1")] == "high_tom"
    assert VOICES[voice_of("Ride Bell")] == "ride"
    assert VOICES[voice_of("Hand Clap")] == "snare"
    assert voice_of("Cowbell") is None
    with pytest.raises(ParameterError):
        patterns_to_midi([DrumPattern.empty()], bpm=0)
