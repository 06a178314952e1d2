"""The DJ's end-to-end runs at the library level (``latentstudio.dj.pipeline``), on the tiny library."""

import json

import numpy as np
import pytest
import soundfile as sf

from latentstudio.dj.pipeline import (BackToBack, Library, analyse_folder, beats_of_file, make_library,
                                      mix_library)
from latentstudio.errors import ParameterError

ROCK, HALFTIME, HOUSE = "02-rock-123bpm-Em", "03-halftime-62bpm-C", "01-house-120bpm-Am"


def test_back_to_back_alternates_and_never_repeats(dj_analyses):
    game = BackToBack(dj_analyses, transition_bars=4, seed=0)
    with pytest.raises(ParameterError, match="human opens"):
        game.ai()
    me, answer = game.exchange(ROCK)
    assert (me.by, answer.by) == ("human", "ai") and me.name == f"{ROCK}.wav"
    assert answer.path != me.path and answer.reasons["picked_by"] == "ai"
    # heard at the human's tempo: a 120 bpm track as is, or the 62 bpm one doubled (the meter breaks the tie)
    assert answer.reasons["tempo"]["within_limit"] and answer.heard_bpm == pytest.approx(123, rel=0.03)
    with pytest.raises(ParameterError, match="human's turn"):
        game.ai()
    with pytest.raises(ParameterError, match="already been played"):
        game.human(answer.name)
    last = game.left()
    assert len(last) == 1 and last[0] not in (me.name, answer.name)
    mine, none = game.exchange(last[0])
    assert none is None and game.over
    assert mine.reasons["picked_by"] == "human" and "tempo" in mine.reasons   # scored against the last track
    assert len({t.path for t in game.turns}) == 3 == len(game.turns)
    assert [t.by for t in game.turns] == ["human", "ai", "human"]
    with pytest.raises(ParameterError, match="every track"):
        game.ai()


def test_back_to_back_refuses_two_human_turns_and_unknown_tracks(dj_analyses):
    game = BackToBack(dj_analyses, seed=0)
    with pytest.raises(ParameterError, match="no turns"):
        game.plan()
    with pytest.raises(ParameterError, match="not in the library"):
        game.human("nope")
    game.human(HOUSE)
    with pytest.raises(ParameterError, match="AI's turn"):
        game.human(ROCK)


def test_back_to_back_mix_renders_the_turns(dj_analyses, tmp_path):
    game = BackToBack(dj_analyses, transition_bars=4, seed=0)
    game.exchange(ROCK)
    res = game.mix(sr=22050)
    assert [t["reasons"]["picked_by"] for t in res.plan["tracks"]] == ["human", "ai"]
    assert [t["path"] for t in res.plan["tracks"]] == [t.path for t in game.turns]
    assert res.checks["plan"]["ok"] and res.audio.shape[0] == 2
    assert res.audio.shape[1] / res.sr == pytest.approx(res.duration, abs=0.01)


def test_mix_library_transitions_align_when_retracked(dj_analyses, tmp_path):
    res = mix_library(dj_analyses, n_tracks=3, transition_bars=4, sr=22050, seed=1)
    plan = res.plan
    assert len(plan["tracks"]) == 3 and len({t["path"] for t in plan["tracks"]}) == 3
    assert len(plan["transitions"]) == 2 and plan["realtime_factor"] > 0
    # the grids meet in the plan, and the beats tracked again on the rendered stems agree with each other
    assert res.checks["plan"]["ok"]
    assert all(r["max_offset_ms"] < 1.0 for r in res.checks["plan"]["transitions"])
    audio = res.checks["audio"]["transitions"]
    assert res.checks["audio"]["ok"] and len(audio) == 2
    assert all(r["p90_offset_ms"] < 15 and r["tempo_error"] < 0.005 for r in audio)
    out = res.save(tmp_path / "m.wav", command="test", params={"n": 3}, seed=1)
    y, sr = sf.read(out)
    assert sr == 22050 and y.shape == (res.audio.shape[1], 2) and out.with_suffix(".png").exists()
    side = json.loads(out.with_suffix(".json").read_text())
    assert side["plan"]["tracks"][0]["path"] == plan["tracks"][0]["path"] and side["params"] == {"n": 3}
    assert side["artefacts"] == [str(out), str(out.with_suffix(".png"))]


def test_mix_library_warns_for_one_track_and_refuses_unknown_start(dj_analyses):
    one = mix_library(dj_analyses[:1], n_tracks=3, sr=22050, verify=False)
    assert len(one.plan["tracks"]) == 1 and "checks" not in one.plan
    assert any("only one track" in w for w in one.warnings)
    with pytest.raises(ParameterError, match="not in the library"):
        mix_library(dj_analyses, start="zzz")


def test_analyse_folder_keeps_failures(dj_library, tmp_path):
    folder, truth = dj_library
    lib = analyse_folder(folder, catalog=tmp_path / "cat", workers=1)
    assert not lib.failures and len(lib.tracks()) == 3
    rows = {r.path: r for r in lib.summary()}
    assert abs(rows[truth[0]["path"]].bpm - 120) < 2 and rows[truth[0]["path"]].beats_per_bar == 4
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.wav").write_bytes(b"not audio at all")
    lib = analyse_folder(bad, catalog=tmp_path / "cat", workers=1)
    assert lib.files == 1 and lib.failures[0][0].endswith("broken.wav")
    with pytest.raises(ParameterError, match="none of its 1 files"):
        lib.tracks()
    with pytest.raises(ParameterError, match="none of its"):
        mix_library(lib)
    with pytest.raises(ParameterError, match="none of its"):
        BackToBack(Library(folder="x", analyses=[], failures=[("x/a.wav", "bad")]))


def test_beats_of_file_and_make_library_refuse_bad_input(dj_library, tmp_path):
    _, truth = dj_library
    res = beats_of_file(truth[0]["path"], backend="flux")
    assert abs(res.bpm - 120) < 2
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(22050, np.float32), 22050)
    with pytest.raises(ParameterError, match="silent"):
        beats_of_file(silent)
    with pytest.raises(ParameterError, match="count"):
        make_library(tmp_path / "lib", seed=1, count=0)
    with pytest.raises(ParameterError, match="sr"):
        make_library(tmp_path / "lib", sr=100)
