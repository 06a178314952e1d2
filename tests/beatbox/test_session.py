"""Installation mode: one booth turn after another (``latentstudio.beatbox.session.take_turn``)."""

import json

import numpy as np
import pytest
import soundfile as sf

from latentstudio.beatbox.classifier import load_classifier
from latentstudio.beatbox.rhythm_vae import load_rhythm_vae
from latentstudio.beatbox.session import open_session, take_turn
from latentstudio.errors import ParameterError

SR = 22050


@pytest.fixture(scope="module")
def models():
    return {"classifier": load_classifier(), "vae": load_rhythm_vae()}


def test_take_turn_adds_the_hits_to_the_kit(tmp_path, voice_like, models):
    d = tmp_path / "booth"
    (d / "inbox").mkdir(parents=True)
    sf.write(d / "inbox" / "visitor1.wav", voice_like[0], SR)
    first = take_turn(d, bars=2, bpm=120, kit="GMRockKit", seed=0, **models)
    assert first.number == 1 and [p.name for p in first.recordings] == ["visitor1.wav"]
    assert len(first.hits) == 5 and first.files.output == d / "beats" / "beat_0001.wav"
    assert first.files.output.exists() and first.files.midi.exists()
    kit_files = sorted((d / "kit").glob("*.wav"))
    labels = [s["label"] for s in first.state.sounds]
    assert len(kit_files) == len(first.state.sounds) == 5
    assert sorted(labels) == sorted(h.label for h in first.hits)
    assert first.state.bpm == 120 and first.state.processed == ["visitor1.wav"]
    # the next visitor's sounds join the earlier ones, and the piece continues from where it stopped
    second_voice = tmp_path / "visitor2.wav"
    sf.write(second_voice, voice_like[0], SR)
    second = take_turn(d, [second_voice], bars=2, bpm=60, seed=0, **models)
    assert second.number == 2 and second.state.bpm == 120              # bpm only applies to a new session
    assert len(second.state.sounds) > len(first.state.sounds)
    assert np.allclose(second.beat.latents[0], first.beat.latents[-1], atol=1e-6)
    saved = open_session(d)
    assert saved.beats == 2 and saved.processed == ["visitor1.wav", "visitor2.wav"]
    info = second.to_dict()
    assert info["turn"] == 2 and info["kit_sounds"] == len(saved.sounds)
    assert info["output"].endswith("beat_0002.wav")
    side = json.loads((d / "beats" / "beat_0002.json").read_text())
    assert side["command"] == "beatbox session" and side["params"]["turn"] == 2


def test_take_turn_refuses_an_empty_inbox_and_silence(tmp_path, models):
    d = tmp_path / "booth"
    with pytest.raises(ParameterError, match="no new recordings"):
        take_turn(d, **models)
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(SR, np.float32), SR)
    with pytest.raises(ParameterError, match="no sounds found"):
        take_turn(d, [silent], **models)
    assert open_session(d).beats == 0 and not list((d / "beats").iterdir())
