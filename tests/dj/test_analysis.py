"""DJ analysis on rendered tracks with exact beats, and on bad files."""

import mir_eval
import numpy as np
import pytest

from latentstudio.dj.analysis import analyze_audio, analyze_library, cue_points, library_files
from latentstudio.errors import ParameterError


def test_analysis_finds_tempo_beats_and_cues(dj_library, dj_analyses):
    _, truth = dj_library
    by_path = {a["path"]: a for a in dj_analyses}
    for t in truth:
        a = by_path[t["path"]]
        ratio = a["bpm"] / t["bpm"]
        assert min(abs(ratio - m) for m in (0.5, 1.0, 2.0)) < 0.02 * max(1, ratio)
        if abs(ratio - 1) < 0.02:
            assert mir_eval.beat.f_measure(np.array(t["beats"]), np.array(a["beats"])) >= 0.9
        assert a["cue_in"] < a["cue_out"] <= a["duration"]
        assert len(a["embedding"]) > 10 and abs(np.linalg.norm(a["embedding"]) - 1) < 1e-4
        assert a["camelot"][-1] in "AB" and -40 < a["lufs"] < 0


def test_cue_points_from_energy():
    e = np.array([-40, -40, -10, -10, -10, -10, -10, -40, -40, -80], dtype=float)
    d = np.arange(0.0, 5.0, 1.0)
    c = cue_points(e, d, duration=5.0, hop=0.5)
    assert c["intro_end"] == 1.0 and c["outro_start"] == 3.0 and c["cue_in"] == 0.0 and c["cue_out"] == 4.0


def test_bad_files_are_reported_not_fatal(formats_library):
    analyses, failures = analyze_library(library_files(formats_library), workers=2)
    ok = sorted(a["path"].rsplit("/", 1)[-1] for a in analyses)
    bad = sorted(p.rsplit("/", 1)[-1] for p, _ in failures)
    assert ok == ["mono48k.wav", "s24.wav", "stereo48k.flac", "u8.wav"]
    assert bad == ["corrupt.wav", "empty.wav", "silent.wav"]
    assert all(("silent" in why) or ("corrupt" in why) or ("cannot be read" in why) or ("empty" in why)
               for _, why in failures)
    bpms = [a["bpm"] for a in analyses]
    assert max(bpms) - min(bpms) < 0.5                     # the same music in every format


def test_bad_input(tmp_path):
    with pytest.raises(ParameterError, match="silent"):
        analyze_audio(np.zeros(22050 * 5, dtype=np.float32), sr=22050)
    with pytest.raises(ParameterError, match="at least 4 s"):
        analyze_audio(np.ones(22050, dtype=np.float32) * 0.1, sr=22050)
    with pytest.raises(ParameterError, match="no audio files"):
        library_files(tmp_path)
    with pytest.raises(ParameterError, match="nope.* does not exist"):
        library_files(tmp_path / "nope")
