import numpy as np
import pytest

from latentstudio.beatbox.classifier import load_classifier
from latentstudio.beatbox.jam import bars_seconds, detect_hits, jam
from latentstudio.beatbox.kit import add_sounds, hydrogen_kit
from latentstudio.beatbox.pattern import DrumPattern
from latentstudio.beatbox.render import render_patterns
from latentstudio.beatbox.rhythm_vae import load_rhythm_vae
from latentstudio.beatbox.segment import check_voice
from latentstudio.errors import ParameterError

SR = 22050


@pytest.fixture(scope="module")
def models():
    return load_classifier(), load_rhythm_vae()


def test_jam_renders_the_requested_bars_with_voice_sounds(models, voice_like):
    clf, vae = models
    y, times = voice_like
    res = jam([check_voice(y, sr=SR, name="v")], classifier=clf, vae=vae, bars=8, bpm=120, seed=0)
    assert len(res.patterns) == 4
    assert len(res.audio) == pytest.approx((bars_seconds(8, 120) + 1.0) * SR, abs=2)
    assert [round(h.time, 2) for h in res.hits] == pytest.approx(times, abs=0.015)
    voiced = [s for v in res.kit.sources for s in v if s.startswith("v @")]
    assert voiced  # some kit voices now play the recording's sounds
    assert np.max(np.abs(res.audio)) <= 0.951
    again = jam([check_voice(y, sr=SR, name="v")], classifier=clf, vae=vae, bars=8, bpm=120, seed=0)
    assert np.array_equal(res.audio, again.audio)


def test_jam_bad_input(models, voice_like):
    clf, vae = models
    with pytest.raises(ParameterError, match="no sounds found"):
        jam([check_voice(np.zeros(SR, np.float32), sr=SR)], classifier=clf, vae=vae)
    y, _ = voice_like
    one = jam([check_voice(y[: int(0.5 * SR)], sr=SR)], classifier=clf, vae=vae, bars=2)
    assert any("only one sound" in n for n in one.notes)
    with pytest.raises(ParameterError):
        jam([check_voice(y, sr=SR)], classifier=clf, vae=vae, bars=3)


def test_classifier_tells_kick_from_hat(models, voice_like):
    clf, _ = models
    y, _ = voice_like
    hits = detect_hits([check_voice(y, sr=SR)], clf)
    labels = [h.label for h in hits]
    assert labels[0] == labels[2] == labels[4] == "kick"
    assert labels[1] in ("closed_hat", "open_hat", "cymbal")


def test_calibration_pulls_towards_the_examples(models, voice_like):
    clf, _ = models
    y, _ = voice_like
    hits = detect_hits([check_voice(y, sr=SR)], clf)
    hat_sound = hits[1].audio
    cal = clf.calibrate({"snare": [hat_sound]}, sr=SR)
    assert cal.classify([hat_sound], sr=SR)[0].label == "snare"
    with pytest.raises(ParameterError):
        clf.calibrate({"cowbell": [hat_sound]}, sr=SR)


def test_render_and_kit():
    kit = hydrogen_kit("GMRockKit")
    assert all(kit.sounds)
    p = DrumPattern.empty()
    p.hits[0, 0] = p.velocity[0, 0] = 1
    y = render_patterns([p], kit, bpm=120)
    assert np.argmax(np.abs(y) > 0.01) < int(0.005 * kit.sr)
    mine = add_sounds(kit, [("tom", np.ones(100, np.float32), "me")])
    assert [len(mine.sounds[v][0]) for v in (4, 5, 6)] == sorted([len(mine.sounds[v][0]) for v in (4, 5, 6)], reverse=True)
    with pytest.raises(ParameterError):
        add_sounds(kit, [], mode="stack")


def test_calibration_with_two_classes_keeps_only_the_visitors_classes(models, voice_like):
    clf, _ = models
    y, _ = voice_like
    hits = detect_hits([check_voice(y, sr=SR)], clf)
    kicks, hats = [hits[0].audio, hits[2].audio], [hits[1].audio, hits[3].audio]
    cal = clf.calibrate({"kick": kicks, "closed_hat": hats}, sr=SR)
    res = cal.classify([hits[4].audio, hits[1].audio], sr=SR)
    assert [r.label for r in res] == ["kick", "closed_hat"]
    assert set(k for k, v in res[0].probabilities.items() if v > 1e-6) <= {"kick", "closed_hat"}


def test_calibration_examples_join_at_the_pitch_shifts(models, voice_like):
    from latentstudio.beatbox.classifier import CALIBRATION_SHIFTS, shift_pitch

    t = np.arange(SR // 2) / SR
    tone = np.sin(2 * np.pi * 440.0 * t).astype(np.float32)
    up = shift_pitch(tone, sr=SR, semitones=2.0)
    spectrum = np.abs(np.fft.rfft(up * np.hanning(len(up))))
    assert len(up) == len(tone)
    assert np.fft.rfftfreq(len(up), 1 / SR)[np.argmax(spectrum)] == pytest.approx(440.0 * 2 ** (2 / 12), abs=3.0)
    clf, _ = models
    y, _ = voice_like
    hits = detect_hits([check_voice(y, sr=SR)], clf)
    examples = {"kick": [hits[0].audio, hits[2].audio], "closed_hat": [hits[1].audio, hits[3].audio]}
    plain, shifted = clf.calibrate(examples, sr=SR, shifts=()), clf.calibrate(examples, sr=SR)
    assert len(plain.voice.examples) == 4 and len(shifted.voice.examples) == 4 * (1 + len(CALIBRATION_SHIFTS))
    assert [r.label for r in shifted.classify([hits[4].audio, hits[1].audio], sr=SR)] == ["kick", "closed_hat"]
