"""The beatbox's end-to-end runs at the library level (``latentstudio.beatbox.pipeline``)."""

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from latentstudio.beatbox.classifier import load_classifier
from latentstudio.beatbox.pattern import VOICES
from latentstudio.beatbox.pipeline import (calibrate, classify_recording, density_with, generate,
                                           jam_recordings, save_beat, segment_recording)
from latentstudio.beatbox.rhythm_vae import load_rhythm_vae, slerp
from latentstudio.errors import ParameterError

SR = 22050


@pytest.fixture(scope="module")
def models():
    return load_classifier(), load_rhythm_vae()


def _voice(tmp_path, voice_like, name="voice.wav"):
    p = tmp_path / name
    sf.write(p, voice_like[0], SR)
    return p


def test_generate_walks_the_latent_space(models):
    _, vae = models
    res = generate(bars=8, density={"kick": 0.5}, temperature=0.0, seed=3, vae=vae)
    assert res.bars == 8 and len(res.patterns) == 4 and res.latents.shape == (4, vae.latent_dim)
    # a slerp walk from one seeded random latent to another, in equal steps of t
    a, b = torch.randn(2, vae.latent_dim, generator=torch.Generator().manual_seed(3))
    expected = np.stack([slerp(a, b, t).numpy() for t in (0, 1 / 3, 2 / 3, 1)])
    assert np.allclose(res.latents, expected, atol=1e-6)
    assert len({round(float(np.linalg.norm(x - y)), 6) for x, y in zip(res.latents, res.latents[1:])}) == 3
    assert res.density[VOICES.index("kick")] == 0.5
    again = generate(bars=8, density={"kick": 0.5}, temperature=0.0, seed=3, vae=vae)
    assert np.array_equal(res.latents, again.latents)
    assert all(np.array_equal(a.hits, b.hits) for a, b in zip(res.patterns, again.patterns))
    other = generate(bars=8, density={"kick": 0.5}, temperature=0.0, seed=4, vae=vae)
    assert not np.array_equal(res.latents, other.latents)
    # more kick asked for, more kicks played
    sparse = generate(bars=8, density={"kick": 0.05}, temperature=0.0, seed=3, vae=vae)
    kicks = [sum(p.hits[:, VOICES.index("kick")].sum() for p in r.patterns) for r in (sparse, res)]
    assert kicks[1] > kicks[0]


def test_generate_saves_midi_with_provenance(models, tmp_path):
    import pretty_midi

    res = generate(bars=4, bpm=90, seed=0, vae=models[1])
    out = res.save(tmp_path / "g.mid")
    pm = pretty_midi.PrettyMIDI(str(out))
    assert pm.instruments[0].is_drum
    assert len(pm.instruments[0].notes) == sum(int(p.hits.sum()) for p in res.patterns)
    side = json.loads(out.with_suffix(".json").read_text())
    assert side["params"]["bars"] == 4 and side["params"]["bpm"] == 90
    assert side["models"] == ["beatbox_rhythm"]


def test_generate_and_density_refuse_bad_input(models):
    for kwargs in ({"bars": 3}, {"bars": 0}, {"bpm": 0}, {"bpm": float("nan")}, {"temperature": -1}):
        with pytest.raises(ParameterError):
            generate(vae=models[1], **kwargs)
    with pytest.raises(ParameterError, match="cowbell"):
        density_with({"cowbell": 1.0})
    with pytest.raises(ParameterError, match=r"\[0, 1\]"):
        density_with({"kick": 7.0})


def test_classify_recording_and_calibration(models, tmp_path, voice_like):
    clf, _ = models
    p = _voice(tmp_path, voice_like)
    res = classify_recording(p, classifier=clf)
    assert [h.label for h in res.hits][::2] == ["kick"] * 3 and res.calibrated == {}
    assert set(res.rows()[0]) == {"time", "end", "label", "confidence"}
    # the visitor calls their kick a snare and their hat a closed hat: those two are the classes left
    y = voice_like[0]
    kicks, hats = tmp_path / "my_kick.wav", tmp_path / "my_hat.wav"
    sf.write(kicks, y[: int(0.5 * SR)], SR)
    sf.write(hats, y[int(0.55 * SR): int(0.95 * SR)], SR)
    cal = classify_recording(p, classifier=clf, calibration=[(" snare", kicks), ("closed_hat", hats)])
    assert cal.calibrated == {"snare": 1, "closed_hat": 1}
    assert [h.label for h in cal.hits] == ["snare", "closed_hat", "snare", "closed_hat", "snare"]
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(SR, np.float32), SR)
    with pytest.raises(ParameterError, match="no sounds found"):
        classify_recording(silent, classifier=clf)
    with pytest.raises(ParameterError, match="no sounds found"):
        calibrate(clf, [("kick", silent)])


def test_jam_recordings_and_save_beat(models, tmp_path, voice_like):
    clf, vae = models
    p = _voice(tmp_path, voice_like)
    res = jam_recordings([p], classifier=clf, vae=vae, bars=4, bpm=110, density={"kick": 0.3}, seed=1)
    assert len(res.patterns) == 2 and len(res.hits) == 5
    assert res.density[VOICES.index("kick")] == pytest.approx(0.3)
    files = save_beat(res, tmp_path / "out" / "beat.wav", params={"bars": 4}, seed=1)
    info = files.to_dict()
    y, sr = sf.read(files.output)
    assert sr == SR and len(y) / sr == pytest.approx(info["seconds"], abs=0.01) and "midi" not in info
    assert [h["label"] for h in info["hits"]][::2] == ["kick"] * 3 and info["patterns"] == 2
    side = json.loads((tmp_path / "out" / "beat.json").read_text())
    assert side["command"] == "beatbox jam" and side["hits"] == info["hits"] and side["params"] == {"bars": 4}
    with_midi = save_beat(res, tmp_path / "out" / "b.flac", tmp_path / "out" / "b.mid")
    assert with_midi.midi.exists() and with_midi.to_dict()["midi"] == str(with_midi.midi)
    # audio and MIDI of one stem keep their own sidecars: b.json (with the hits) and b.mid.json
    audio_side = json.loads((tmp_path / "out" / "b.json").read_text())
    midi_side = json.loads((tmp_path / "out" / "b.mid.json").read_text())
    assert audio_side["artifact"] == str(with_midi.output) and audio_side["hits"] == info["hits"]
    assert midi_side["artifact"] == str(with_midi.midi) and midi_side["models"] == ["beatbox_rhythm"]
    with pytest.raises(ParameterError, match="must end with"):
        save_beat(res, tmp_path / "beat.mp3")


def test_segment_recording_cuts_rows_and_saves(tmp_path, voice_like):
    y, times = voice_like
    p = _voice(tmp_path, voice_like)
    res = segment_recording(p)
    assert res.sr == SR and res.source == str(p) and res.notes == []
    assert [r["time"] for r in res.rows()] == pytest.approx(times, abs=0.015)
    assert set(res.rows()[0]) == {"time", "end", "peak_db"}
    paths = res.save(tmp_path / "segs", params={"take": 2})
    assert [q.name for q in paths] == [f"{i:03d}.wav" for i in range(len(times))]
    audio, sr = sf.read(paths[1])
    assert sr == SR and np.max(np.abs(audio)) == pytest.approx(0.9, abs=1e-3)
    side = json.loads((tmp_path / "segs" / "001.json").read_text())
    assert side["command"] == "beatbox segment"
    assert side["params"] == {"voice": str(p), "take": 2, **res.rows()[1]}
    # a threshold above every sound leaves nothing: an error, not an empty result
    quiet = tmp_path / "quiet.wav"
    sf.write(quiet, 0.001 * y, SR)
    with pytest.raises(ParameterError, match="no sounds found"):
        segment_recording(quiet)
    assert len(segment_recording(quiet, min_db=-80).sounds) == len(times)
    for kwargs in ({"min_db": float("nan")}, {"min_db": 3.0}, {"kind": "nonsense"}):
        with pytest.raises(ParameterError):
            segment_recording(p, **kwargs)


def test_recordings_in_memory_are_taken_as_files_are(models, tmp_path, voice_like):
    from latentstudio.beatbox.segment import check_voice, load_voice

    clf, vae = models
    p = _voice(tmp_path, voice_like)
    voice = check_voice(load_voice(p).y, sr=SR, name="booth take")      # the file's samples, in memory
    from_file, in_memory = classify_recording(p, classifier=clf), classify_recording(voice, classifier=clf)
    assert [(h.label, round(h.time, 3)) for h in in_memory.hits] == [(h.label, round(h.time, 3))
                                                                      for h in from_file.hits]
    assert {h.source for h in in_memory.hits} == {"booth take"}
    jam_file = jam_recordings([p], classifier=clf, vae=vae, bars=2, seed=0)
    jam_memory = jam_recordings([voice], classifier=clf, vae=vae, bars=2, seed=0)
    assert np.array_equal(jam_file.audio, jam_memory.audio)
    with pytest.raises(ParameterError, match="booth take"):
        classify_recording(check_voice(np.zeros(SR, np.float32), sr=SR, name="booth take"), classifier=clf)


def test_training_refuses_a_missing_folder_before_any_work(tmp_path):
    from latentstudio.beatbox.pipeline import train_drum_classifier

    with pytest.raises(ParameterError, match="not a folder"):
        train_drum_classifier(tmp_path / "model", steps=1, folders=[tmp_path / "no such samples"])
    assert not (tmp_path / "model").exists()
