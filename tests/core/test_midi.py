import numpy as np
import pytest

from latentstudio.core import midi as M
from latentstudio.errors import AssetMissingError, ParameterError

pretty_midi = pytest.importorskip("pretty_midi")


def _one_kick(at: float = 0.5):
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    drums.notes.append(pretty_midi.Note(velocity=110, pitch=36, start=at, end=at + 0.1))
    pm.instruments.append(drums)
    return pm


def test_unknown_synth_is_refused():
    with pytest.raises(ParameterError, match="synth"):
        M.render_synth(_one_kick(), "no-such-synth")


@pytest.mark.parametrize("synth", sorted(M.SYNTHS))
def test_each_synth_puts_the_note_where_the_midi_says(synth):
    """Every synthesiser renders silence before the note and the hit right at its MIDI time (sample 0 is
    MIDI time 0), and the length is the MIDI's end plus the tail; skipped where it is not installed."""
    try:
        y = M.render_synth(_one_kick(0.5), synth, sr=16000, tail=0.4, dry=True)
    except AssetMissingError as exc:
        pytest.skip(str(exc))
    assert y.dtype == np.float32 and len(y) == int(round(1.0 * 16000))
    assert np.isfinite(y).all() and np.abs(y).max() > 1e-3
    first = int(np.argmax(np.abs(y) > np.abs(y).max() * 0.05)) / 16000
    assert 0.49 <= first <= 0.53, first
