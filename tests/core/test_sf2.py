import numpy as np
import pytest

from latentstudio.core.sf2 import write_sf2
from latentstudio.errors import AssetMissingError, ParameterError

pretty_midi = pytest.importorskip("pretty_midi")


def test_fluidsynth_plays_back_what_was_written(tmp_path):
    """Each sample is its own preset, played at its recorded pitch on key 60, at the note's time."""
    from latentstudio.core.midi import render_midi

    sr = 16000
    t = np.arange(sr // 4) / sr
    tones = [0.5 * np.sin(2 * np.pi * f * t) * np.exp(-t * 8) for f in (220.0, 330.0)]
    p = write_sf2(tmp_path / "two.sf2", tones, sr=sr, names=["low", "high"])
    assert p.read_bytes()[:4] == b"RIFF" and p.read_bytes()[8:12] == b"sfbk"
    for program, tone in enumerate(tones):
        pm = pretty_midi.PrettyMIDI(initial_tempo=120)
        inst = pretty_midi.Instrument(program)
        inst.notes.append(pretty_midi.Note(127, 60, 0.5, 0.75))
        pm.instruments.append(inst)
        try:
            y = render_midi(pm, sr=sr, soundfont=p, tail=0.1)
        except AssetMissingError as exc:
            pytest.skip(str(exc))
        ref = tone[: len(t) // 2]
        corr = [np.corrcoef(y[sr // 2 + lag: sr // 2 + lag + len(ref)], ref)[0, 1] for lag in range(0, 100)]
        lag = int(np.argmax(corr))
        assert lag <= 80 and corr[lag] > 0.98       # at the note's time (FluidSynth starts on its next 64-sample block)
        seg = y[sr // 2 + lag: sr // 2 + lag + len(ref)]
        f = np.fft.rfftfreq(len(seg), 1 / sr)[int(np.argmax(np.abs(np.fft.rfft(seg))))]
        assert abs(f - (220.0, 330.0)[program]) < 6               # the preset's own sample, unshifted


@pytest.mark.parametrize("bad", [[], [np.zeros(0)], [np.array([0.0, np.nan])], [np.zeros((2, 4))]])
def test_bad_samples_are_refused_and_nothing_is_written(tmp_path, bad):
    with pytest.raises(ParameterError):
        write_sf2(tmp_path / "x.sf2", bad, sr=16000)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("sr", [16000, 22050])
def test_fluidsynth_starts_notes_one_to_two_blocks_late(tmp_path, sr):
    """The lag render_midi documents (:data:`FLUIDSYNTH_LAG_BLOCKS`): a click sounds 1-2 blocks of 64 samples
    after its MIDI time, wherever the note falls."""
    from latentstudio.core.midi import FLUIDSYNTH_LAG_BLOCKS, render_midi

    click = np.zeros(256)
    click[64] = 1.0
    p = write_sf2(tmp_path / "click.sf2", [click], sr=sr)
    lo, hi = (64 * b for b in FLUIDSYNTH_LAG_BLOCKS)
    for t in (0.5, 0.5013, 0.777):
        pm = pretty_midi.PrettyMIDI(initial_tempo=120, resolution=960)
        inst = pretty_midi.Instrument(0)
        inst.notes.append(pretty_midi.Note(127, 60, t, t + 0.05))
        pm.instruments.append(inst)
        try:
            y = render_midi(pm, sr=sr, soundfont=p, tail=0.1)
        except AssetMissingError as exc:
            pytest.skip(str(exc))
        lag = int(np.argmax(np.abs(y))) - 64 - t * sr
        assert lo - 1 <= lag <= hi + 1, (t, lag)


def test_a_file_that_is_no_soundfont_is_refused_by_the_renderer(tmp_path):
    """FluidSynth renders silence for a file it cannot read, and exits 0: render_midi refuses it first."""
    from latentstudio.core.midi import render_midi

    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"RIFF\0\0\0\0junk")
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(0)
    inst.notes.append(pretty_midi.Note(100, 60, 0.0, 0.2))
    pm.instruments.append(inst)
    with pytest.raises(ParameterError, match="not a SoundFont"):
        render_midi(pm, sr=16000, soundfont=bad)


def test_bad_rate_and_names_are_refused(tmp_path):
    with pytest.raises(ParameterError, match="sr"):
        write_sf2(tmp_path / "x.sf2", [np.ones(4)], sr=0)
    with pytest.raises(ParameterError, match="names"):
        write_sf2(tmp_path / "x.sf2", [np.ones(4)], sr=16000, names=["a", "b"])
