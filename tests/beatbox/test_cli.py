import json

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from latentstudio.cli.main import app

SR = 22050
runner = CliRunner()


def _voice(tmp_path, voice_like, name="voice.wav"):
    y, _ = voice_like
    p = tmp_path / name
    sf.write(p, y, SR)
    return p


def test_segment_and_classify_json(tmp_path, voice_like):
    p = _voice(tmp_path, voice_like)
    r = runner.invoke(app, ["beatbox", "segment", str(p), "--json", "--out-dir", str(tmp_path / "segs")])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert len(rows) == 5 and (tmp_path / "segs" / "000.wav").exists() and (tmp_path / "segs" / "000.json").exists()
    r = runner.invoke(app, ["beatbox", "classify", str(p), "--json"])
    assert r.exit_code == 0, r.output
    hits = json.loads(r.stdout)
    assert set(hits[0]) == {"time", "end", "label", "confidence"} and hits[0]["label"] == "kick"
    cal = runner.invoke(app, ["beatbox", "classify", str(p), "--calibrate", f"snare={p}", "--json"])
    assert cal.exit_code == 0, cal.output


def test_jam_writes_audio_midi_and_provenance(tmp_path, voice_like):
    p = _voice(tmp_path, voice_like)
    out, mid = tmp_path / "beat.wav", tmp_path / "beat.mid"
    r = runner.invoke(app, ["beatbox", "jam", str(p), "-o", str(out), "--bars", "4", "--bpm", "110",
                            "--midi", str(mid), "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    y, sr = sf.read(out)
    assert sr == SR and len(y) / sr == pytest.approx(info["seconds"], abs=0.01) and info["seconds"] > 8
    assert mid.exists() and info["midi"] == str(mid)
    # one sidecar each: the audio's (with the hits) is beat.json, the MIDI's beat.mid.json
    assert json.loads((tmp_path / "beat.json").read_text())["artifact"] == str(out)
    assert json.loads((tmp_path / "beat.mid.json").read_text())["artifact"] == str(mid)


def test_session_accumulates(tmp_path, voice_like):
    p = _voice(tmp_path, voice_like)
    d = tmp_path / "booth"
    (d / "inbox").mkdir(parents=True)
    sf.write(d / "inbox" / "visitor1.wav", sf.read(p)[0], SR)
    r1 = runner.invoke(app, ["beatbox", "session", str(d), "--bars", "2", "--json"])
    assert r1.exit_code == 0, r1.output
    r2 = runner.invoke(app, ["beatbox", "session", str(d), str(p), "--bars", "2", "--json"])
    assert r2.exit_code == 0, r2.output
    state = json.loads((d / "state.json").read_text())
    assert state["beats"] == 2 and state["processed"] == ["visitor1.wav", "voice.wav"]
    assert (d / "beats" / "beat_0002.wav").exists()
    r3 = runner.invoke(app, ["beatbox", "session", str(d)])
    assert r3.exit_code == 2 and "no new recordings" in r3.output


def test_generate(tmp_path):
    r = runner.invoke(app, ["beatbox", "generate", "-o", str(tmp_path / "g.mid"), "--bars", "4",
                            "--density", "kick=0.25,closed_hat=1.0", "--json"])
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.stdout)["patterns"]) == 2


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    silent = tmp_path / "silence.wav"
    sf.write(silent, np.zeros(SR, np.float32), SR)
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all")
    for args in (["beatbox", "jam", str(silent), "-o", str(tmp_path / "b.wav")],
                 ["beatbox", "classify", str(silent)],
                 ["beatbox", "segment", str(text)],
                 ["beatbox", "jam", str(tmp_path / "missing.wav"), "-o", str(tmp_path / "b.wav")],
                 ["beatbox", "generate", "-o", str(tmp_path / "g.mid"), "--density", "cowbell=1"]):
        r = runner.invoke(app, args)
        assert r.exit_code == 2, (args, r.output)
        assert r.output.strip().count("\n") == 0 and r.output.startswith("error:")
    r = runner.invoke(app, ["beatbox", "jam", str(silent), "-o", str(tmp_path / "b.wav")])
    assert "no sounds found" in r.output


def test_bad_settings_are_refused_before_anything_is_made(tmp_path, voice_like):
    p = _voice(tmp_path, voice_like)
    r = runner.invoke(app, ["beatbox", "jam", str(p), "-o", str(tmp_path / "j" / "b.wav"), "--seed", "-1"])
    assert r.exit_code == 2 and "--seed" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["beatbox", "jam", str(tmp_path / "missing.wav"), "-o", str(tmp_path / "j" / "b.wav")])
    assert r.exit_code == 2 and not (tmp_path / "j").exists()            # no folder for a refused run
    for bpm in ("0", "500"):
        r = runner.invoke(app, ["beatbox", "session", str(tmp_path / f"s{bpm}"), "--bpm", bpm])
        assert r.exit_code == 2 and "bpm" in r.output and "40 to 300" in r.output
        assert not (tmp_path / f"s{bpm}").exists()


def test_temperature_is_checked_against_its_help(tmp_path):
    r = runner.invoke(app, ["beatbox", "generate", "-o", str(tmp_path / "g.mid"), "--temperature", "5"])
    assert r.exit_code == 2 and "--temperature" in r.output and not (tmp_path / "g.mid").exists()
