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


def _ir(room, **kw):
    try:
        return M.fluidsynth_reverb_ir(room, **kw)
    except AssetMissingError as exc:
        pytest.skip(str(exc))


def test_fluidsynth_reverb_ir_is_a_late_decaying_hall():
    """FluidSynth's hall answers a click after a pre-delay, and a larger room keeps more of its energy late."""
    sr = 16000
    small, large = _ir(0.2, sr=sr, seconds=2.0), _ir(1.0, sr=sr, seconds=2.0)
    assert small.shape == (2 * sr,) and small.dtype == np.float32 and np.isfinite(small).all()
    for ir in (small, large):
        e = ir.astype(np.float64) ** 2
        assert e[: int(0.05 * sr)].sum() < 1e-6 * e.sum()         # nothing at the click itself: the dry part is gone
        assert e.sum() > 0
    late = [float((ir[int(0.8 * sr):].astype(np.float64) ** 2).sum() / (ir.astype(np.float64) ** 2).sum())
            for ir in (small, large)]
    assert late[1] > 2 * late[0]
    longer = _ir(1.0, sr=sr, seconds=3.0, damp=0.0)               # the render is not cut before the tail ends
    assert float(np.abs(longer[-sr // 10:]).max()) > 1e-3 * float(np.abs(longer).max())
    np.testing.assert_allclose(longer[: sr // 2], _ir(1.0, sr=sr, seconds=0.5, damp=0.0), atol=1e-6)


@pytest.mark.parametrize("kw", [dict(room=0.0), dict(room=1.5), dict(room=0.5, damp=-0.1), dict(room=0.5, seconds=0),
                                dict(room=0.5, offset=-1)])
def test_fluidsynth_reverb_ir_refuses_bad_settings(kw):
    with pytest.raises(ParameterError):
        M.fluidsynth_reverb_ir(**kw)
